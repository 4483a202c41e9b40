"""End to end on the synthetic market: the demo run (signal on, the whole graph including the experiments) passes
the sealed backtest and is promoted; the same market with the signal off fails the backtest and promotion is
refused by the blocking check."""

import json

import numpy as np
import pytest

from trader_assets import cli
from trader_assets.assets.experiments import EXPERIMENT_ASSETS
from trader_core import layout, release, runs
from trader_core.models.inference import InferenceEngine



@pytest.mark.slow
def test_signal_on_passes_and_is_promoted_signal_off_is_refused(homes, capsys):
    config = str(layout.PROJECT_ROOT / "configs" / "demo.json")
    assert cli.main(["run", "on", "--config", config]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    root = layout.run_root("on", homes)
    result = json.loads((root / "backtest/backtest_result.json").read_text())
    assert result["status"] == "PASS", result["status_reasons"]
    assert "check backtest_status_pass: passed" in out and "check release_bundle_hashes_match: passed" in out
    line = release.model_line(runs.load_spec("on", homes)).name
    champion = release.champion(homes, line)
    assert champion["version"] == "r0001-on"
    engine = InferenceEngine.from_bundle(homes / "releases" / champion["version"] / "model")
    assert engine.predict(np.zeros(41, np.float32))["DIRECTION"].shape == (1, 3)
    for split in ("validation_locked", "latest_stress"):
        assert (root / f"backtest/equity_{split}.png").stat().st_size > 1000
    # the whole graph ran: every experiment wrote its result (JSON last) and a summary
    for asset in EXPERIMENT_ASSETS:
        name = asset.key.path[-1]
        summary = json.loads((root / layout.ARTIFACT_PATHS[name]).read_text())
        assert summary["diagnostic_only"] and (root / summary["report"]).stat().st_size > 100, name
    assert "run on: succeeded" in out

    assert cli.main(["run", "off", "--config", config, "--signal", "0", "--no-experiments"]) == 1
    captured = capsys.readouterr()
    off = json.loads((layout.run_root("off", homes) / "backtest/backtest_result.json").read_text())
    assert off["status"] == "FAIL" and off["status_reasons"]
    assert "check backtest_status_pass: FAILED (blocking)" in captured.out
    assert "release: Dependencies for step release failed" in captured.err
    # the champion is untouched, and the signal-off market (another line) got none
    assert {name: p["version"] for name, p in release.champions(homes).items()} == {line: "r0001-on"}
    assert [r["version"] for r in release.list_releases(homes)] == ["r0001-on"]

"""Fixtures of the end-to-end tests: a temporary data root and Dagster home for CLI runs, and the promoted perp
home that the decision tests share."""

from pathlib import Path

import pytest

from trader_assets import cli
from trader_core import layout, release, runs

#: The run whose bundle is the champion of ``promoted_perp``.
DECIDE_RUN = "decide"


@pytest.fixture()
def homes(tmp_path, monkeypatch):
    """TRADER_HOME = <tmp>/home and DAGSTER_HOME = <tmp>/dagster; returns the data root."""
    monkeypatch.setenv("TRADER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    return tmp_path / "home"


@pytest.fixture(scope="session")
def promoted_perp(tmp_path_factory) -> Path:
    """A home whose one line's champion is a 6-day, one-symbol run of the demo plan (run ``decide``). A window this
    small cannot pass the sealed gate (tests/e2e/test_cli.py), so its bundle is promoted directly: decisions need a
    champion, not a good one. Tests that add releases work on a copy of its ``releases`` folder."""
    root = tmp_path_factory.mktemp("decide")
    home = root / "home"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRADER_HOME", str(home))
        env.setenv("DAGSTER_HOME", str(root / "dagster"))
        assert cli.main(["run", DECIDE_RUN, "--days", "6", "--symbols", "BTC-USDT-PERP", "--seed", "7",
                         "--no-experiments", "--config", str(layout.PROJECT_ROOT / "configs" / "demo.json")]) == 1
    spec = runs.load_spec(DECIDE_RUN, home)
    made = release.promote(release.release_files(spec, layout.run_root(DECIDE_RUN, home)), run_id=DECIDE_RUN,
                           spec_hash=spec.spec_hash, backtest={"status": "PASS", "status_reasons": []},
                           line=release.model_line(spec), home=home)
    assert made.version == f"r0001-{DECIDE_RUN}"
    return home

"""The butterfly strategy on the shared graph machinery: `trader run --strategy butterfly` trains, gates and promotes
(its own champion pointer, the perp champion untouched); the signal off is refused; landed daily months are
picked up by the same retraining sensor, which requests the butterfly job."""

import json

import dagster as dg
import pandas as pd
import pytest

from trader_assets import cli
from trader_assets.definitions import defs
from trader_assets.sensors import landed_month_sensor
from trader_core import layout, release, runs
from trader_core.butterfly_config import ButterflyConfig, SyntheticSection
from trader_core.butterfly.landing import land_butterfly_synthetic_months



def read(home, run_id: str, name: str) -> dict:
    return json.loads((layout.run_root(run_id, home) / layout.ARTIFACT_PATHS[name]).read_text())


@pytest.mark.slow
def test_butterfly_run_is_promoted_and_the_signal_off_is_refused(homes, capsys, tmp_path):
    # the signal-off market is another line unless named as one: a shared name makes it challenge "fly"'s champion
    one_line = tmp_path / "line.json"
    one_line.write_text(json.dumps({"release": {"line": "fly"}}))
    assert cli.main(["run", "fly", "--strategy", "butterfly", "--config", str(one_line)]) == 0, capsys.readouterr().err
    assert "release: r0001-fly" in capsys.readouterr().out
    model = read(homes, "fly", "butterfly_model")
    validation = model["metrics"]["validation_locked"]
    assert validation["macro_f1"] > validation["chance_macro_f1"] + 0.08  # the signal is found
    assert model["onnx_parity"]["passed"] and model["onnx_parity"]["max_tolerance_ratio"] <= 1.0
    assert model["onnx_parity_max_abs_diff"] <= 4 * 2.0**-23  # probabilities: 4 float32 eps (docs/models.md)
    assert read(homes, "fly", "butterfly_backtest")["status"] == "PASS"
    assert release.champion(homes, "fly")["version"] == "r0001-fly"
    assert list(release.champions(homes)) == ["fly"]  # no perp line was touched

    assert cli.main(["run", "flyoff", "--strategy", "butterfly", "--signal", "0", "--config", str(one_line)]) == 1
    assert "blocking checks failed: butterfly_backtest_pass" in capsys.readouterr().err
    off = read(homes, "flyoff", "butterfly_model")["metrics"]["validation_locked"]
    assert off["macro_f1"] < off["chance_macro_f1"] + 0.06  # at chance (documented band)
    shadow = read(homes, "flyoff", "butterfly_monitoring")
    assert shadow["status"] == "SCORED" and shadow["champion"] == "r0001-fly"  # predicted vs realized ROI
    assert shadow["shadow"]["all_rows"]["rows"] > 0
    assert [r["version"] for r in release.list_releases(homes)] == ["r0001-fly"]
    spec = json.loads((layout.run_root("flyoff", homes) / "run_spec.json").read_text())
    assert spec["strategy"] == "butterfly" and spec["butterfly"]["synthetic"]["signal"] == 0.0


@pytest.mark.slow
def test_landed_daily_months_trigger_the_butterfly_job(homes):
    config = ButterflyConfig(synthetic=SyntheticSection(trading_days=1008))
    last = pd.Timestamp("2024-11-01", tz="UTC")
    months = [p.strftime("%Y-%m") for p in pd.period_range("2021-01", "2024-11", freq="M")]
    land_butterfly_synthetic_months(months, config, homes)
    with dg.instance_for_test() as instance:
        result = landed_month_sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        assert len(result.run_requests) == len(months)
        request = result.run_requests[-1]
        assert (request.partition_key, request.job_name) == (f"retrain-butterfly-{last:%Y-%m}", "butterfly_job")
        for partitions in result.dynamic_partitions_requests:
            instance.add_dynamic_partitions(partitions.partitions_def_name, list(partitions.partition_keys))
        run = defs.resolve_job_def("butterfly_job").execute_in_process(instance=instance,
                                                                      partition_key=request.partition_key)
        assert run.success
    line = release.model_line(runs.load_spec(request.partition_key, homes)).name
    assert line.startswith("butterfly-landed-")
    assert release.champion(homes, line)["version"] == f"r0001-retrain-butterfly-{last:%Y-%m}"

"""Monthly retraining: landing a month creates one partition and one run request, exactly once."""

import json

import dagster as dg
import pandas as pd
import pytest

from trader_assets.definitions import defs
from trader_assets.sensors import landed_month_sensor, monthly_retrain_schedule
from trader_core import layout, runs
from trader_core.config import LabelConfig
from trader_core.errors import ConfigError
from trader_core.market.landing import MARKER, complete_months, land_synthetic_month, landing_root
from trader_core.market.sources import load_raw_market
from trader_core.market.synthetic import SyntheticMarketConfig

CONFIG = SyntheticMarketConfig(symbols=("BTC-USDT-PERP",), seed=3, depth_levels=2)


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADER_HOME", str(tmp_path))
    return tmp_path


def evaluate(instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    return landed_month_sensor(context)


def apply(instance, result):
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_each_landed_month_is_registered_and_requested_once(home):
    with dg.instance_for_test() as instance:
        assert isinstance(evaluate(instance), dg.SkipReason)
        land_synthetic_month("2026-01", CONFIG, home)
        first = evaluate(instance)
        assert [r.partition_key for r in first.run_requests] == ["retrain-2026-01"]
        assert [r.run_key for r in first.run_requests] == ["retrain-2026-01"]
        assert [list(r.partition_keys) for r in first.dynamic_partitions_requests] == [["retrain-2026-01"]]
        apply(instance, first)
        again = evaluate(instance, first.cursor)
        assert isinstance(again, dg.SkipReason)
        land_synthetic_month("2026-02", CONFIG, home)
        second = evaluate(instance, first.cursor)
        assert [r.partition_key for r in second.run_requests] == ["retrain-2026-02"]
        apply(instance, second)
        assert sorted(instance.get_dynamic_partitions("runs")) == ["retrain-2026-01", "retrain-2026-02"]
        spec = runs.load_spec("retrain-2026-02", home)
        assert (spec.source.kind, spec.start, spec.end) == ("landed", "2025-09-01", "2026-03-01")
        entry = json.loads((layout.PROJECT_ROOT / "configs" / "retrain.json").read_text())["labels"]["entry"]
        assert {k: getattr(spec.labels.entry, k) for k in entry} == entry  # the checkout's retrain plan ...
        assert (spec.labels.entry.target_bps, spec.labels.entry.stop_bps) != (
            LabelConfig().entry.target_bps, LabelConfig().entry.stop_bps)  # ... which is not the default plan
        raw = load_raw_market(spec)  # the trailing window reads both landed months as one series
        bars = raw["bars"]
        assert len(bars) == (31 + 28) * 1440 and bars["open_time"].is_monotonic_increasing
        assert bars["close"].iloc[31 * 1440 - 1] == pytest.approx(bars["open"].iloc[31 * 1440])


def test_schedule_requests_the_newest_unfinished_retrain(home):
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=pd.Timestamp("2026-03-02"))
        assert isinstance(monthly_retrain_schedule(context), dg.SkipReason)
        instance.add_dynamic_partitions("runs", ["retrain-2026-01", "retrain-2026-02", "demo"])
        request = monthly_retrain_schedule(context)
        assert request.partition_key == "retrain-2026-02" and request.run_key == "schedule-retrain-2026-02-2026-03-02"


def test_incomplete_months_are_ignored_and_bad_months_refused(home):
    land_synthetic_month("2026-01", CONFIG, home)
    (landing_root(home) / "synthetic" / "2026-01" / MARKER).unlink()
    assert complete_months(home) == []
    with pytest.raises(ConfigError, match="YYYY-MM"):
        land_synthetic_month("2026-13", CONFIG, home)
    with pytest.raises(ConfigError, match="series starts at"):
        land_synthetic_month("2025-12", CONFIG, home)


def test_definitions_resolve_every_job_sensor_and_schedule():
    for job in ("retrain_job", "market_job", "features_job", "labels_job", "models_job", "trading_job",
                "monitoring_job", "experiments_job", "everything_job", "butterfly_job"):
        assert defs.resolve_job_def(job).name == job
    assert defs.resolve_sensor_def("landed_month_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_schedule_def("monthly_retrain_schedule").default_status == dg.DefaultScheduleStatus.RUNNING


def test_a_landed_binance_vision_month_is_picked_up_like_synthetic_data(home, tmp_path, capsys):
    from tests.core.test_binance_vision import csv_text, klines, put
    from trader_assets import cli

    zips = tmp_path / "vision"
    for day in ("2024-02-01", "2024-02-02"):
        put(zips, "klines", day, csv_text(klines(day, 3)))
    assert cli.main(["land", "binance-vision", "--month", "2024-02", "--path", str(zips),
                     "--symbols", "BTC-USDT-PERP"]) == 0
    assert "landed binance-vision 2024-02" in capsys.readouterr().out
    with dg.instance_for_test() as instance:
        result = evaluate(instance)
        assert [r.partition_key for r in result.run_requests] == ["retrain-2024-02"]
        spec = runs.load_spec("retrain-2024-02", home)
        assert spec.source.kind == "landed" and spec.source.path.endswith("binance-vision")
        assert len(load_raw_market(spec)["bars"]) == 6
        apply(instance, result)
        assert isinstance(evaluate(instance, result.cursor), dg.SkipReason)


def test_trader_land_butterfly_months_are_registered_as_butterfly_retrains(home, tmp_path, capsys):
    from tests.core.test_butterfly_data import _write
    from trader_assets import cli
    from trader_core.butterfly.pipeline import generate_market
    from trader_core.butterfly_config import ButterflyConfig, SyntheticSection

    assert cli.main(["land", "butterfly", "--month", "2024-11"]) == 0
    assert capsys.readouterr().out.startswith("landed butterfly 2024-11 for SYN01, SYN02")
    market = generate_market(ButterflyConfig(synthetic=SyntheticSection(symbols=("SYN01", "SYN02"))))
    daily_csv, _ = _write(market, tmp_path, vix_rows=True)
    assert cli.main(["land", "butterfly", "--month", "2024-12", "--source", "csv"]) == 1
    assert capsys.readouterr().err == "trader: error: --source csv: needs --path (the daily-bar CSV) and takes no " \
                                      "--seed/--signal\n"
    assert cli.main(["land", "butterfly", "--month", "2024-12", "--source", "csv", "--path", str(daily_csv),
                     "--symbols", "SYN02"]) == 0
    assert "landed butterfly 2024-12 for SYN02: {'bars': 22, 'vix': 22}" in capsys.readouterr().out
    with dg.instance_for_test() as instance:
        result = evaluate(instance)
        assert [(r.partition_key, r.job_name) for r in result.run_requests] == [
            ("retrain-butterfly-2024-11", "butterfly_job"), ("retrain-butterfly-2024-12", "butterfly_job")]
        apply(instance, result)
        assert sorted(instance.get_dynamic_partitions("runs")) == ["retrain-butterfly-2024-11",
                                                                   "retrain-butterfly-2024-12"]
    synthetic, daily = runs.load_spec("retrain-butterfly-2024-11", home), runs.load_spec("retrain-butterfly-2024-12", home)
    assert (synthetic.strategy, synthetic.source.kind, synthetic.end) == ("butterfly", "landed", "2024-12-01")
    assert synthetic.source.path == str(landing_root(home) / "butterfly-synthetic")
    assert (daily.source.path, daily.symbols) == (str(landing_root(home) / "butterfly-csv"), ("SYN02",))
    landed = pd.read_parquet(landing_root(home) / "butterfly-csv" / "2024-12" / "bars.parquet")
    december = market["bars"][(market["bars"]["symbol"] == "SYN02")
                              & (market["bars"]["date"].dt.strftime("%Y-%m") == "2024-12")].reset_index(drop=True)
    pd.testing.assert_frame_equal(landed, december, check_dtype=False)

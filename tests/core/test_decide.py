"""The pieces of ``trader decide`` (docs/decide.md): the feature history a decision needs, the decision minute of
a run's source, the plan prices, the decision log and the deciders behind the strategy plug-ins."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from trader_core import decision_log, io, layout, release, runs
from trader_core.config import CostConfig, EntryLabelConfig, RunSpec
from trader_core.config_mapping import from_mapping
from trader_core.contracts.decisions import BUTTERFLY_DECISION_LOG, PERP_DECISION_LOG
from trader_core.contracts.features import FEATURE_COUNT, FEATURE_ORDER, FEATURES
from trader_core.contracts.models import ACTIVATION, MODEL_OUTPUTS, MODELS, TARGETS
from trader_core.decide import DECIDERS, DecisionRefused, DecisionRequest, decide, decider_of, parse_request
from trader_core.decide.perp_data import decision_minute
from trader_core.errors import ConfigError, DataContractError
from trader_core.features import HISTORY_ROWS, build_feature_frame
from trader_core.labels.plan_outcomes import _adverse_price, _favourable_price
from trader_core.labels.price_plan import build_price_plan, plan_prices
from trader_core.market.sources import load_raw_market
from trader_core.models.heads import LinearHead
from trader_core.models.inference import bundle_model_path
from trader_core.models.onnx_export import export_heads
from trader_core.pm.config import default_pm_config
from trader_core.replay import build_replay
from trader_core.strategies import STRATEGIES, strategy_named

SYMBOL = "BTC-USDT-PERP"


def synthetic_spec(**overrides) -> RunSpec:
    return from_mapping(RunSpec, {"run_id": "decide", "symbols": [SYMBOL], "start": "2026-01-01", "end": "2026-01-07",
                                  "source": {"kind": "synthetic", "seed": 5, "depth_levels": 5}} | overrides)


@pytest.fixture(scope="module")
def replay() -> pd.DataFrame:
    return build_replay(load_raw_market(synthetic_spec()))[0]


def last_features(rows: pd.DataFrame) -> np.ndarray:
    return build_feature_frame(rows.reset_index(drop=True))[list(FEATURE_ORDER)].iloc[-1].to_numpy("float64")


def test_history_rows_is_the_longest_feature_window(replay):
    """The last HISTORY_ROWS rows give the features of the whole history; one row fewer changes the 1454-row
    liquidation z-score (dense liquidations, so every row of its window counts)."""
    rng = np.random.default_rng(0)
    dense = replay.assign(liquidation_buy_notional_1m=rng.uniform(1e3, 1e5, len(replay)),
                          liquidation_sell_notional_1m=rng.uniform(1e3, 1e5, len(replay)), liquidation_available=1)
    full = last_features(dense)
    assert HISTORY_ROWS == max(f.window for f in FEATURES) == 1454
    np.testing.assert_allclose(last_features(dense.iloc[-HISTORY_ROWS:]), full, rtol=1e-6, atol=1e-6)
    fewer = last_features(dense.iloc[-(HISTORY_ROWS - 1):])
    changed = [FEATURE_ORDER[i] for i in np.flatnonzero(~np.isclose(fewer, full, rtol=1e-6, atol=1e-6))]
    assert changed == ["liquidation_notional_zscore_15m"]


def test_the_decision_minute_of_a_synthetic_run_is_its_window_end(replay):
    minute = decision_minute(synthetic_spec(), DecisionRequest())
    assert minute.decision_time == pd.Timestamp("2026-01-07", tz="UTC")
    row = minute.rows.iloc[0]
    assert len(minute.rows) == 1 and row["event_time"] == pd.Timestamp("2026-01-06T23:59", tz="UTC")
    assert row["sample_id"] == f"{SYMBOL}:{replay['open_time_ms'].iloc[-1]}" and row["data_quality_flag"] == "OK"
    assert row["close"] == replay["close"].iloc[-1]
    pipeline = build_feature_frame(replay)[list(FEATURE_ORDER)].iloc[-1].to_numpy("float64")
    np.testing.assert_allclose(row[list(FEATURE_ORDER)].to_numpy("float64"), pipeline, rtol=1e-6, atol=1e-6)


def test_a_decision_at_a_time_takes_the_newest_bar_closed_by_then():
    minute = decision_minute(synthetic_spec(), DecisionRequest(at=pd.Timestamp("2026-01-05T10:30:40", tz="UTC"),
                                                               max_age=pd.Timedelta(minutes=2)))
    assert minute.rows["event_time"].tolist() == [pd.Timestamp("2026-01-05T10:29", tz="UTC")]


@pytest.mark.parametrize("at, max_age, needle", [
    ("2026-01-07T00:06", "5min", "stale data: the newest BTC-USDT-PERP bar closed at 2026-01-07T00:00:00Z, 6 min "
                                 "before the decision time 2026-01-07T00:06:00Z (max age 5 min"),
    ("2026-01-07T00:06", None, "6 min before the decision time 2026-01-07T00:06:00Z (max age 5 min;"),  # default
    ("2026-01-09T03:00", "1d", "closed at 2026-01-07T00:00:00Z, 2 d 3 h before the decision time 2026-01-09T03:00:00Z "
                               "(max age 1 d;"),
    ("2026-01-01T23:00", "5min", "BTC-USDT-PERP: 1380 rows of history up to 2026-01-01T22:59:00Z"),
    ("2025-12-31T23:00", "5min", "no bar of BTC-USDT-PERP closed by the decision time 2025-12-31T23:00:00Z"),
])
def test_stale_data_and_short_history_are_refused(at, max_age, needle):
    with pytest.raises(DecisionRefused, match=re.escape(needle)) as refused:
        decision_minute(synthetic_spec(), parse_request(at=at, max_age=max_age))
    assert "\n" not in str(refused.value)


def test_a_bar_file_is_read_whole_and_decided_at_the_clock(tmp_path, replay):
    path = tmp_path / "bars.csv"
    bars = replay.iloc[-2000:]
    pd.DataFrame({"timestamp": bars["event_time"], **{k: bars[k] for k in ("open", "high", "low", "close", "volume")}}
                 ).to_csv(path, index=False)
    spec = synthetic_spec(source={"kind": "csv", "path": str(path)}, start="2026-01-01", end="2026-01-05")
    last_close = bars["event_time"].iloc[-1] + pd.Timedelta(minutes=1)
    minute = decision_minute(spec, DecisionRequest(now=last_close + pd.Timedelta(minutes=2)))
    assert minute.rows["event_time"].tolist() == [bars["event_time"].iloc[-1]]  # not the run's window: the newest
    assert minute.rows["data_quality_flag"].tolist() == ["PARTIAL_OPTIONAL"]
    with pytest.raises(DecisionRefused, match="stale data"):
        decision_minute(spec, DecisionRequest(now=last_close + pd.Timedelta(minutes=6)))


def promote_random_release(home: Path, spec: RunSpec) -> str:
    """A release of ``spec`` with four linear models of random weights and the default PM config."""
    runs.save_new_spec(spec, home)
    src = home / "bundle-src"
    rng = np.random.default_rng(0)
    for model in MODELS:
        heads = [LinearHead(h.name, ACTIVATION[h.kind], rng.normal(0.0, 0.2, (FEATURE_COUNT, len(h.fields))),
                            rng.normal(0.0, 1.0, len(h.fields))) for h in TARGETS[model].heads]
        export_heads(bundle_model_path(src, model), heads, FEATURE_COUNT, MODEL_OUTPUTS[model])
    documents = {"model/feature_order.json": list(FEATURE_ORDER), "model/model_train_manifest.json": {},
                 "pm/position_manager_config.json": {"config": default_pm_config().to_json()},
                 "label/price_plan_context.json": build_price_plan(spec.labels.entry, spec.costs).to_json(),
                 "backtest/backtest_result.json": {}}
    for rel, document in documents.items():
        io.write_json(src / rel, document)
    files = {rel: src / rel for rel in documents}
    files["run_spec.json"] = layout.run_root(spec.run_id, home) / layout.RUN_SPEC_FILE
    files |= {f"model/{m.lower()}/{m.lower()}.onnx": bundle_model_path(src, m) for m in MODELS}
    return release.promote(files, run_id=spec.run_id, spec_hash=spec.spec_hash, line=release.model_line(spec),
                           backtest={"status": "PASS", "status_reasons": []}, home=home).version


def test_a_minute_whose_window_spans_an_outage_is_not_scored(tmp_path, replay):
    """A bar file with 30 minutes missing 100 minutes before its end: the decision minute's windows span the gap
    (GAP_WINDOW), a row the models never train on, so it is logged as no trade blocked by its quality flag."""
    path = tmp_path / "bars.csv"
    bars = replay.iloc[-2000:].drop(index=replay.index[-130:-100])
    pd.DataFrame({"timestamp": bars["event_time"], **{k: bars[k] for k in ("open", "high", "low", "close", "volume")}}
                 ).to_csv(path, index=False)
    home = tmp_path / "home"
    version = promote_random_release(home, synthetic_spec(source={"kind": "csv", "path": str(path)}, start=None,
                                                          end=None))
    now = bars["event_time"].iloc[-1] + pd.Timedelta(minutes=1)
    decisions = decide(request=DecisionRequest(now=now), home=home)
    row = decisions.rows.iloc[0]
    assert (row["release"], row["data_time"], row["data_quality_flag"]) == (version, bars["event_time"].iloc[-1],
                                                                            "GAP_WINDOW")
    assert (row["side"], row["blocked_by"], row["failed_rules"]) == ("NONE", "data_quality_flag", "data_quality_flag")
    assert pd.isna(row["considered_side"]) and pd.isna(row["entry_prob"]) and row["planned_ratio"] == 0
    assert "  no trade: data_quality_flag GAP_WINDOW" in "\n".join(decisions.render())
    assert decision_log.read_decisions(decisions.log.path, PERP_DECISION_LOG)["decision_key"].tolist() == \
        decisions.rows["decision_key"].tolist()


def test_plan_prices_are_the_levels_the_labels_test():
    plan = dataclasses.replace(build_price_plan(EntryLabelConfig(), CostConfig()), target_bps=40.0, stop_bps=20.0,
                               second_target_bps=80.0, entry_plan_method="FIXED_TARGET_STOP_V1")
    entry, is_long = np.array([100.0, 250.0]), np.array([True, False])
    prices = plan_prices(entry, is_long, plan)
    assert prices["target_price"].tolist() == [_favourable_price(100.0, 40.0, True),
                                               _favourable_price(250.0, 40.0, False)]
    assert prices["stop_price"].tolist() == [_adverse_price(100.0, 20.0, True), _adverse_price(250.0, 20.0, False)]
    assert np.isnan(prices["second_target_price"]).all()
    dynamic = plan_prices(entry, is_long, dataclasses.replace(plan, entry_plan_method="DYNAMIC_TRAILING_V1"))
    assert dynamic["second_target_price"].tolist() == [_favourable_price(100.0, 80.0, True),
                                                      _favourable_price(250.0, 80.0, False)]


def log_rows(keys: list[str]) -> pd.DataFrame:
    n = len(keys)
    t = pd.Timestamp("2026-01-07", tz="UTC")
    strings = {c.name: "x" for c in PERP_DECISION_LOG.columns if c.kind == "str"}
    floats = {c.name: 0.5 for c in PERP_DECISION_LOG.columns if c.kind == "float"}
    rows = pd.DataFrame({**strings, **floats, "decision_key": keys, "decision_time": t, "data_time": t,
                         "side": "NONE", "considered_side": "LONG", "arm": "champion", "data_quality_flag": "OK",
                         "max_hold_minutes": np.int64(45)}, index=range(n))
    return rows[PERP_DECISION_LOG.names]


def test_the_decision_log_appends_new_keys_only(tmp_path):
    path = decision_log.log_path("line-a", tmp_path)
    assert path == tmp_path / "decisions" / "line-a.parquet"
    assert decision_log.read_decisions(path, PERP_DECISION_LOG).empty
    first = decision_log.append_decisions(path, log_rows(["k1", "k2"]), PERP_DECISION_LOG)
    again = decision_log.append_decisions(path, log_rows(["k2", "k3"]), PERP_DECISION_LOG)
    assert (first.added, first.already_logged, again.added, again.already_logged) == (2, 0, 1, 1)
    logged = decision_log.read_decisions(path, PERP_DECISION_LOG)
    assert logged["decision_key"].tolist() == ["k1", "k2", "k3"] and list(logged.columns) == PERP_DECISION_LOG.names
    assert sorted(p.name for p in path.parent.iterdir()) == ["line-a.parquet", "line-a.parquet.lock"]
    with pytest.raises(DataContractError, match="unexpected column"):
        decision_log.append_decisions(path, log_rows(["k4"]).assign(extra=1), PERP_DECISION_LOG)
    with pytest.raises(DataContractError, match="duplicate"):
        decision_log.append_decisions(path, log_rows(["k5", "k5"]), PERP_DECISION_LOG)
    assert len(decision_log.read_decisions(path, PERP_DECISION_LOG)) == 3


def test_every_plugin_names_its_decider():
    assert {name: s.decider for name, s in STRATEGIES.items()} == {"perp": "perp", "butterfly": "butterfly"}
    assert set(DECIDERS) == {s.decider for s in STRATEGIES.values()}
    assert decider_of(strategy_named("perp")).contract is PERP_DECISION_LOG
    assert decider_of(strategy_named("butterfly")).contract is BUTTERFLY_DECISION_LOG
    with pytest.raises(DecisionRefused, match="strategy-x decisions are not built yet"):
        decider_of(SimpleNamespace(name="strategy-x", decider=None))  # a plug-in without decisions


def test_the_request_flags_parse_or_name_the_flag():
    request = parse_request(at="2026-01-05T10:30", max_age="2h")
    assert request.at == pd.Timestamp("2026-01-05T10:30", tz="UTC") and request.max_age == pd.Timedelta(hours=2)
    assert parse_request().max_age is None  # each decider's default (perp: DEFAULT_MAX_AGE)
    with pytest.raises(ConfigError, match="--max-age: cannot parse"):
        parse_request(max_age="soon")
    with pytest.raises(ConfigError, match="--max-age: must be a positive duration"):
        parse_request(max_age="-5min")
    with pytest.raises(ConfigError, match="--at"):
        parse_request(at="yesterday-ish")

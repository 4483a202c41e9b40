"""Label builders: the worked acceptance cases (numbered ``test_case_<n>``) and the rules of docs/labels.md."""

import dataclasses

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader_core.config import (
    ContinueLabelConfig,
    CostConfig,
    DirectionLabelConfig,
    EntryLabelConfig,
    ExitLabelConfig,
    LabelConfig,
    RiskLabelConfig,
)
from trader_core.contracts.features import FEATURE_ORDER, sha256_json
from trader_core.contracts.labels import ENTRY_LABEL_COLUMNS, dataset_columns
from trader_core.contracts.price_plan import PricePlan
from trader_core.costs import CostModel, with_trade_costs
from trader_core.errors import ConfigError, DataContractError
from trader_core.io import parquet_bytes
from trader_core.labels.base import Gather, compute_label_path_stats, select_rows
from trader_core.contracts.invariants import path_stats_sane_rule, two_sides_rule, windows_inside_splits_rule
from trader_core.labels.datasets import build_train_dataset, direction_opportunity_dataset, entry_pivot, opportunity_labels
from trader_core.labels.direction import build_direction_labels
from trader_core.labels.entry import build_entry_labels
from trader_core.labels.position import build_position_labels, risk_thresholds
from trader_core.labels.price_plan import build_price_plan, plan_params

SYM = "BTC-USDT-PERP"
T0 = pd.Timestamp("2026-01-01", tz="UTC")


def make_replay(close, high=None, low=None, spread=None) -> pd.DataFrame:
    n = len(close)
    times = T0 + pd.to_timedelta(np.arange(n), unit="min")
    close = np.asarray(close, dtype=float)
    return pd.DataFrame({
        "symbol": SYM, "event_time": times,
        "open_time_ms": (times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta("1ms"),
        "open": close, "high": np.asarray(high if high is not None else close, dtype=float),
        "low": np.asarray(low if low is not None else close, dtype=float), "close": close,
        "spread_bps": np.asarray(spread if spread is not None else np.ones(n), dtype=float),
        # no book or funding table: the cost model charges the flat 6.5 bps (tests/core/test_costs.py prices data)
        "book_available": 0, "funding_bps": np.nan, "funding_available": 0,
        "next_funding_time": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ms, UTC]"),
    })


def make_features(replay: pd.DataFrame, **columns) -> pd.DataFrame:
    frame = pd.DataFrame({
        "sample_id": [f"{SYM}:{ms}" for ms in replay["open_time_ms"]], "symbol": SYM,
        "event_time": replay["event_time"], "open_time_ms": replay["open_time_ms"], "split_id": "fit_inner",
        "walk_forward_fold": "fold_01", "feature_version": "test", "data_quality_flag": "OK",
    })
    for name in FEATURE_ORDER:
        frame[name] = np.float32(columns.get(name, 0.0)) if np.isscalar(columns.get(name, 0.0)) else columns[name]
    return frame


def whole_window_manifest(replay: pd.DataFrame) -> dict:
    start = int(replay["open_time_ms"].iloc[0])
    return {"splits": [{"split_id": "fit_inner", "start_ms": start, "end_ms": start + 10 * 86_400_000}],
            "embargo": []}


def stats_for(replay: pd.DataFrame, plan: PricePlan, horizons: tuple[int, ...], manifest: dict | None = None) -> pd.DataFrame:
    stats = compute_label_path_stats(replay, manifest or whole_window_manifest(replay), plan_params(plan), horizons)
    return with_trade_costs(stats, CostModel.from_replay(replay, CostConfig()))


def entry_labels_for(method: str, **entry) -> pd.DataFrame:
    replay = make_replay([100] * 5, high=[100, 100.05, 100.19, 100.20, 100], low=[100, 99.99, 99.98, 99.97, 100])
    config = EntryLabelConfig(max_hold_minutes=3, target_bps=50, stop_bps=50, min_expected_net_edge_bps=3,
                              target_method=method, **entry)
    plan = build_price_plan(config, CostConfig())
    labels = build_entry_labels(make_features(replay), stats_for(replay, plan, (3,)), plan)
    return labels[labels["side"] == "LONG"].iloc[0]


def test_case_34_entry_label_uses_price_plan_outcome():
    row = entry_labels_for("PRICE_PLAN_OUTCOME_V1")
    assert row["target_hit"] == 0 and row["entry_target"] == 0
    assert row["label_method"] == "PRICE_PLAN_OUTCOME_V1"
    assert row["expected_net_edge_bps"] == pytest.approx(-6.5) == row["gross_edge_bps"] - row["cost_bps"]
    assert row["max_achievable_net_edge_bps"] == pytest.approx(row["mfe_bps"] - 6.5) == pytest.approx(13.5)


def test_case_35_opportunity_label_keeps_plan_outcome():
    row = entry_labels_for("OPPORTUNITY_MFE_V1")
    assert row["target_hit"] == 0 and row["entry_target"] == 1 and row["label_method"] == "OPPORTUNITY_MFE_V1"
    assert row["expected_net_edge_bps"] == pytest.approx(13.5)
    assert row["actual_plan_net_edge_bps"] == pytest.approx(-6.5)


def test_case_36_quality_label_rejects_untradable():
    row = entry_labels_for("OPPORTUNITY_QUALITY_V1", min_plan_net_edge_bps=0.0, max_entry_mae_bps=12.0)
    assert row["expected_net_edge_bps"] > 3 and row["actual_plan_net_edge_bps"] < 0 and row["entry_target"] == 0


def test_entry_labels_schema_and_two_rows_per_sample():
    replay = make_replay(100 + np.cumsum(np.random.default_rng(1).normal(0, 0.05, 200)))
    replay["high"] = replay["close"] + 0.03
    replay["low"] = replay["close"] - 0.03
    plan = build_price_plan(EntryLabelConfig(max_hold_minutes=10), CostConfig())
    labels = build_entry_labels(make_features(replay), stats_for(replay, plan, (10,)), plan)
    assert list(labels.columns) == list(ENTRY_LABEL_COLUMNS)
    assert len(labels) == 2 * (200 - 10)
    assert two_sides_rule(labels)[0]
    assert path_stats_sane_rule(labels, horizon=10)[0]
    assert labels["price_plan_id"].iloc[0] == plan.price_plan_id
    assert labels["price_plan_hash"].iloc[0] == plan.price_plan_config_hash
    pivot = entry_pivot(labels)
    assert len(pivot) == 190 and {"long_actual_plan_net_edge_bps", "short_mae_bps"} <= set(pivot.columns)


def test_label_frames_own_their_columns():
    """The label frames share unchanged columns copy-on-write: writing into one leaves the others intact."""
    position, entry = position_case_1(entry_too=True)
    exit_times, mfe = position["exit"]["open_time_ms"].copy(), entry["mfe_bps"].copy()
    actual = entry["actual_plan_net_edge_bps"].copy()
    assert entry["expected_net_edge_bps"].equals(actual)  # PRICE_PLAN_OUTCOME_V1 expects the plan's own edge
    position["continue"].loc[0, "open_time_ms"] = -1
    entry.loc[0, "max_achievable_gross_edge_bps"] = -1.0
    entry.loc[0, "expected_net_edge_bps"] = -1.0
    assert position["continue"]["open_time_ms"].iloc[0] == -1 and entry["max_achievable_gross_edge_bps"].iloc[0] == -1
    assert entry["expected_net_edge_bps"].iloc[0] == -1
    assert position["exit"]["open_time_ms"].equals(exit_times) and entry["mfe_bps"].equals(mfe)
    assert entry["actual_plan_net_edge_bps"].equals(actual)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), runs=st.sampled_from([1, 3, 200]),
       chunks=st.integers(1, 4))
def test_select_rows_is_loc_down_to_the_parquet_bytes(seed: int, n: int, runs: int, chunks: int):
    """Few runs (sliced) or many (filtered), over chunked string columns: the frame ``loc`` gives, chunk for
    chunk, so the stored bytes are the same."""
    rng = np.random.default_rng(seed)
    ids = [f"{SYM}:{i}" for i in range(n)]
    cuts = np.sort(rng.integers(0, n + 1, chunks - 1))
    parts = np.split(np.array(ids, dtype=object), cuts)
    strings = pa.chunked_array([pa.array(part, pa.large_string()) for part in parts], type=pa.large_string())
    frame = pd.DataFrame({"sample_id": pd.array(strings, dtype="str"), "open_time_ms": np.arange(n, dtype=np.int64),
                          "event_time": T0 + pd.to_timedelta(np.arange(n), unit="min"),
                          "ret_15m_bps": rng.normal(size=n).astype(np.float32)})
    keep = np.repeat(rng.random(runs) < 0.6, -(-n // runs))[:n] if n else np.zeros(0, dtype=bool)
    ours, expected = select_rows(frame, keep), frame.loc[keep].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, expected, check_exact=True)
    assert pa.chunked_array(pa.array(ours["sample_id"].array)).num_chunks == \
        pa.chunked_array(pa.array(expected["sample_id"].array)).num_chunks
    assert parquet_bytes(ours) == parquet_bytes(expected)


@settings(max_examples=80, deadline=None)
@given(rows=st.one_of(st.lists(st.integers(0, 99), max_size=60),
                      st.lists(st.tuples(st.integers(0, 90), st.integers(0, 10)), max_size=70).map(
                          lambda runs: [r for start, length in runs for r in range(start, start + length)])))
def test_gather_is_a_take_into_a_fresh_array(rows: list[int]):
    """Any rows, or runs of rows (up to and beyond the sliced limit): the values a take gives, never a view."""
    values = np.random.default_rng(len(rows)).normal(size=100)
    at = np.array(rows, dtype=np.int64)
    gathered = Gather(at)(values)
    np.testing.assert_array_equal(gathered, values[at])
    assert gathered.dtype == values.dtype and not np.shares_memory(gathered, values)


def test_gather_read_is_a_read_only_view_of_one_run_and_a_take_of_more():
    values = np.arange(100.0)
    one_run = Gather(np.arange(10, 20)).read(values)
    np.testing.assert_array_equal(one_run, values[10:20])
    assert np.shares_memory(one_run, values) and not one_run.flags.writeable
    two_runs = Gather(np.array([10, 11, 30, 31])).read(values)
    np.testing.assert_array_equal(two_runs, [10.0, 11.0, 30.0, 31.0])
    assert not np.shares_memory(two_runs, values)


def position_case_1(book: int = 0, entry_too: bool = False):
    replay = make_replay([100, 100.10, 100, 100, 100], high=[100, 100.30, 100, 100, 100],
                         low=[100, 100, 99.80, 100, 100], spread=[1.0, 1.1, 1.2, 1.3, 1.4])
    replay["book_available"] = book
    features = make_features(replay, spread_bps=1.0, spread_rank_24h_pct=0.1, realized_vol_15m_bps=2.0)
    labels = LabelConfig(continue_=ContinueLabelConfig(horizon_minutes=3, min_expected_continue_edge_bps=5.0),
                         exit=ExitLabelConfig(horizon_minutes=3), risk=RiskLabelConfig(horizon_minutes=3),
                         entry=EntryLabelConfig(target_bps=20, stop_bps=8, max_hold_minutes=3),
                         direction=DirectionLabelConfig(horizon_minutes=3))
    plan = build_price_plan(labels.entry, CostConfig())
    assert plan.cost_bps == 6.5 and plan.target_bps == 20
    stats = stats_for(replay, plan, (3,))
    position = build_position_labels(features, stats, labels, plan)
    return (position, build_entry_labels(features, stats, plan)) if entry_too else position


def test_case_1_continue_uses_first_price_plan_barrier_not_later_mae():
    out = position_case_1()["continue"].iloc[0]
    assert out["long_continue_target"] == 1
    assert out["long_expected_continue_edge_bps"] == pytest.approx(13.5)
    assert out["sample_id"] == f"{SYM}:{int(T0.value // 1_000_000)}"


def test_labels_charge_half_the_spread_of_the_entry_and_exit_rows_where_a_book_exists():
    position, entry = position_case_1(book=1, entry_too=True)
    # both sides of sample 0 leave on bar 1 (LONG at its target, SHORT at its stop): legs 1.0 / 2 + 1.1 / 2,
    # fee 4.0, and flat funding 0.5 (this replay has no funding table)
    first = entry[entry["open_time_ms"] == entry["open_time_ms"].min()].set_index("side")
    assert first["cost_bps"].tolist() == pytest.approx([5.55, 5.55])
    assert first["cost_spread_legs"].tolist() == [2, 2]
    assert first.loc["LONG", "actual_plan_net_edge_bps"] == pytest.approx(20 - 5.55)
    short = first.loc["SHORT"]  # stopped: its gross is the stop fill of docs/labels.md
    assert short["actual_plan_net_edge_bps"] == pytest.approx(short["gross_edge_bps"] - 5.55)
    assert position["continue"].iloc[0]["long_expected_continue_edge_bps"] == pytest.approx(20 - 5.55)


def test_labels_refuse_path_stats_without_costs():
    replay = make_replay(np.full(10, 100.0))
    plan = build_price_plan(EntryLabelConfig(max_hold_minutes=3), CostConfig())
    bare = compute_label_path_stats(replay, whole_window_manifest(replay), plan_params(plan), (3,))
    with pytest.raises(DataContractError, match="cost column"):
        build_entry_labels(make_features(replay), bare, plan)
    with pytest.raises(DataContractError, match="cost column"):
        build_position_labels(make_features(replay), bare, LabelConfig(), plan)


def test_case_3_default_risk_labels_match_design_thresholds():
    labels = LabelConfig()
    assert labels.continue_.horizon_minutes == 45
    t = risk_thresholds(labels.risk)
    assert (t.market_risk_threshold_bps, t.position_risk_threshold_bps, t.spike_threshold_bps,
            t.vol_expansion_ratio) == (60.0, 35.0, 80.0, 1.8)
    aliases = risk_thresholds({"market_path_risk_threshold_bps": 50, "spike_1m_threshold_bps": 70})
    assert (aliases.market_risk_threshold_bps, aliases.spike_threshold_bps, aliases.position_risk_threshold_bps) == (
        50.0, 70.0, 35.0)


def test_risk_and_exit_rules_on_case_1_data():
    labels = position_case_1()
    risk, exit_ = labels["risk"].iloc[0], labels["exit"].iloc[0]
    # LONG: mae = (100/99.80 - 1) * 1e4 = 20.04; SHORT: mae = (100.30/100 - 1) * 1e4 = 30
    assert risk["long_position_path_risk_bps"] == pytest.approx(20.0401, abs=1e-3)
    assert risk["market_path_risk_bps"] == pytest.approx(30.0)
    assert risk["market_drawdown_prob_label"] == 0  # market path risk 30 bps < the 60 bps threshold
    assert risk["spike_prob_label"] == 0  # the largest move (30 bps) < 80 bps
    # the window's realized vol exceeds 1.8 x the 2 bps current vol, so the market target is set by vol expansion
    assert risk["volatility_expansion_prob_label"] == 1 and risk["market_risk_target"] == 1
    assert risk["short_position_risk_target"] == 1  # short stopped out (stop 8 bps)
    assert risk["liquidity_deterioration_prob_label"] == 0  # rank 0.1 < 0.9
    assert exit_["long_adverse_move"] == 1 and exit_["short_adverse_move"] == 1  # mae >= 20 both sides
    assert exit_["stagnation"] == 1  # close-to-close 0 bps over the horizon
    assert exit_["long_exit_target"] == 1


def test_direction_thresholds_are_inclusive_and_windows_valid():
    closes = [100, 100, 100.05, 99.95, 100.0, 99.99]
    replay = make_replay(closes)
    stats = stats_for(replay, build_price_plan(EntryLabelConfig(), CostConfig()), (2,))
    labels = build_direction_labels(make_features(replay), stats, DirectionLabelConfig(horizon_minutes=2))
    assert len(labels) == 4  # the last two rows have no full window
    assert labels["future_return_bps"].round(4).tolist() == [5.0, -5.0, -4.9975, 4.0020]
    # +5 and -5 are inclusive even though the float returns are 4.9999999999994 and -4.9999999999994
    assert labels["direction_label"].tolist() == ["LONG", "SHORT", "NEUTRAL", "NEUTRAL"]
    assert (labels[["long_target", "short_target", "neutral_target"]].sum(axis=1) == 1).all()


def test_windows_inside_splits_check_detects_crossing():
    replay = make_replay(np.full(100, 100.0))
    start = int(replay["open_time_ms"].iloc[0])
    manifest = {"splits": [{"split_id": "fit_inner", "start_ms": start, "end_ms": start + 50 * 60_000},
                           {"split_id": "tune_inner", "start_ms": start + 60 * 60_000, "end_ms": start + 100 * 60_000}],
                "embargo": [{"start_ms": start + 50 * 60_000, "end_ms": start + 60 * 60_000}]}
    features = make_features(replay)
    from trader_core.splits import assign_split

    features["split_id"] = assign_split(features["open_time_ms"].to_numpy(), manifest)
    stats = stats_for(replay, build_price_plan(EntryLabelConfig(), CostConfig()), (5,), manifest)
    labels = build_direction_labels(features, stats, DirectionLabelConfig(horizon_minutes=5))
    assert windows_inside_splits_rule(labels, split_manifest=manifest, horizon=5)[0]
    assert set(labels["split_id"]) == {"fit_inner", "tune_inner"}
    assert labels["open_time_ms"].max() == start + 94 * 60_000  # last window ends at the last tune bar
    broken = labels.copy()
    broken.loc[0, "open_time_ms"] = start + 48 * 60_000
    assert not windows_inside_splits_rule(broken, split_manifest=manifest, horizon=5)[0]


def test_case_23_direction_opportunity_labels():
    long, short, neutral = opportunity_labels(np.array([45, 10, 45, 42, np.nan]), np.array([20, 50, 43, 48, 50.0]),
                                              40.0, 5.0)
    assert long.tolist() == [1, 0, 0, 0, 0]
    assert short.tolist() == [0, 1, 0, 1, 1]
    assert neutral.tolist() == [0, 0, 1, 0, 0]


def test_datasets_keep_trainable_rows_and_never_overwrite_direction():
    replay = make_replay(100 + np.cumsum(np.random.default_rng(2).normal(0, 0.05, 120)))
    replay["high"], replay["low"] = replay["close"] + 0.02, replay["close"] - 0.02
    features = make_features(replay)
    features.loc[:9, "data_quality_flag"] = "WARMUP"
    plan = build_price_plan(EntryLabelConfig(max_hold_minutes=5), CostConfig())
    stats = stats_for(replay, plan, (5,))
    direction = build_direction_labels(features, stats, DirectionLabelConfig(horizon_minutes=5))
    entry = build_entry_labels(features, stats, plan)
    d_train = build_train_dataset("direction", features, direction)
    e_train = build_train_dataset("entry", features, entry)
    assert list(d_train.columns) == list(dataset_columns("direction"))
    assert len(d_train) == len(e_train) == 120 - 10 - 5
    assert d_train[list(FEATURE_ORDER)].dtypes.eq(np.float32).all()
    before = d_train.copy()
    relabelled, result = direction_opportunity_dataset(d_train, e_train, opportunity_bps=1.0, min_advantage_bps=0.5)
    pd.testing.assert_frame_equal(d_train, before)
    assert result["row_count"] == len(d_train) and "long_max_achievable_net_edge_bps" in relabelled.columns
    with pytest.raises(DataContractError, match="no entry row"):
        direction_opportunity_dataset(d_train, e_train.iloc[1:])


def test_price_plan_is_stable_and_mirrored():
    plan = build_price_plan(EntryLabelConfig(), CostConfig())
    assert plan == build_price_plan(EntryLabelConfig(), CostConfig())
    assert plan.price_plan_id != build_price_plan(EntryLabelConfig(target_bps=13), CostConfig()).price_plan_id
    assert (plan.max_entry_mae_bps, plan.second_target_bps, plan.trailing_stop_bps) == (12.0, 24.0, 10.0)
    mirror = plan.to_frame()
    assert list(mirror.columns[:4]) == ["price_plan_id", "price_plan_config_hash", "target_bps", "stop_bps"]
    row = mirror.iloc[0]
    assert row["target_bps"] == 12.0 and row["partial_take_1_ratio"] == 0.5 and row["cost_bps"] == 6.5
    assert plan_params(plan).second_target_bps == 24.0


def test_price_plan_json_round_trip_and_its_hash():
    plan = build_price_plan(EntryLabelConfig(), CostConfig())
    stored = plan.to_json()
    assert PricePlan.from_json(stored) == plan
    assert (stored["targetDistanceBps"], stored["partialTake1Ratio"], stored["costBps"]) == (12.0, 0.5, 6.5)
    fields = {k: v for k, v in stored.items() if k not in ("pricePlanId", "pricePlanConfigHash")}
    assert stored["pricePlanConfigHash"] == sha256_json(fields)
    assert stored["pricePlanId"] == "plan-fixed-target-stop-v1-" + stored["pricePlanConfigHash"][:12]
    assert PricePlan.from_json(stored | {"maxHoldMinutes": 45.0, "costBps": 6.5}) == plan
    with pytest.raises(DataContractError, match="does not match its fields"):
        PricePlan.from_json(stored | {"targetDistanceBps": 13.0})  # edited by hand
    with pytest.raises(DataContractError, match="targetBps"):
        PricePlan.from_json(stored | {"targetBps": 12.0})


def test_unknown_target_method_and_a_negative_hold_are_refused():
    plan = build_price_plan(EntryLabelConfig(), CostConfig())
    with pytest.raises(ConfigError, match="MAX_FUTURE_EDGE_V1"):
        dataclasses.replace(plan, entry_target_method="MAX_FUTURE_EDGE_V1")
    with pytest.raises(ConfigError, match="maxHoldMinutes"):
        dataclasses.replace(plan, max_hold_minutes=-1)

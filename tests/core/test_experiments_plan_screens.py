"""Price-plan search, dynamic exit search, entry feature screen and condition-pair screen (docs/experiments.md,
"Rules"): the worked cases, the score formulas, and planted-signal vs pure-noise data."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from trader_core.config import CostConfig, EntryLabelConfig, LabelConfig
from trader_core.contracts.features import FEATURE_ORDER
from trader_core.errors import ConfigError, DataContractError
from trader_core.experiments.entry_screens import (
    FeatureScreenParams,
    PairScreenParams,
    feature_buckets,
    screen_edge_column,
    screen_entry_condition_pairs,
    screen_entry_features,
)
from trader_core.experiments.plan_search import (
    DynamicExitParams,
    PricePlanSearchParams,
    dynamic_plan_id,
    plan_summary,
    search_dynamic_exit_plans,
    search_price_plans,
)
from trader_core.experiments.toolkit import (
    DIAGNOSTIC_ONLY,
    bucket_edges,
    write_experiment,
)

SYM = "BTC-USDT-PERP"
T0_MS = int(pd.Timestamp("2026-01-01", tz="UTC").value // 1_000_000)
MIN = 60_000
SPLITS = ("fit_inner", "tune_inner", "validation_locked", "latest_stress")
CASE30_GRID = DynamicExitParams(horizons=(3,), targets_bps=(10,), stops_bps=(5,), trailing_stops_bps=(4,),
                                second_target_multipliers=(2,), take1_ratios=(0.5,), take2_ratios=(0.25,))


# ------------------------------------------------------------------------------------------ fixtures
def feature_frame(split_ids) -> pd.DataFrame:
    n = len(split_ids)
    ms = T0_MS + np.arange(n, dtype=np.int64) * MIN
    meta = pd.DataFrame({"sample_id": [f"{SYM}:{m}" for m in ms], "symbol": SYM,
                         "event_time": pd.to_datetime(ms, unit="ms", utc=True), "open_time_ms": ms,
                         "split_id": list(split_ids), "walk_forward_fold": "fold_01", "feature_version": "test",
                         "data_quality_flag": "OK"})
    return pd.concat([meta, pd.DataFrame(0.0, index=meta.index, columns=list(FEATURE_ORDER))], axis=1)


def replay_frame(close, high, low) -> pd.DataFrame:
    n = len(close)
    return pd.DataFrame({"symbol": SYM, "open_time_ms": T0_MS + np.arange(n, dtype=np.int64) * MIN,
                         "high": np.asarray(high, float), "low": np.asarray(low, float),
                         "close": np.asarray(close, float), "spread_bps": 1.0})


def case30_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    features = feature_frame(["tune_inner", "validation_locked", "latest_stress", "fit_inner"])
    replay = replay_frame([100, 100.10, 100.18, 100.20, 100.20, 100.20, 100.20],
                          [100, 100.12, 100.22, 100.24, 100.24, 100.24, 100.24], [100.0] * 7)
    return features, replay


def drift_market(drift_bps: float, n_per_split: int = 3000, seed: int = 7):
    """A random walk (3 bps/min) with a planted drift; four contiguous split blocks."""
    rng = np.random.default_rng(seed)
    n = 4 * n_per_split
    close = 100 * np.exp(np.cumsum((drift_bps + 3.0 * rng.standard_normal(n)) / 1e4))
    high = close * np.exp(np.abs(rng.standard_normal(n)) * 1.5e-4)
    low = close * np.exp(-np.abs(rng.standard_normal(n)) * 1.5e-4)
    split_ids = np.repeat(SPLITS, n_per_split)
    return feature_frame(split_ids), replay_frame(close, high, low), split_ids


def entry_dataset(n_per_split: int, features: np.ndarray, long_edge: np.ndarray, long_mae: np.ndarray,
                  short_edge: np.ndarray, short_mae: np.ndarray) -> pd.DataFrame:
    """An entry_train-like frame; the expected and max-achievable edges are deliberately high (+25 bps)."""
    ds = pd.DataFrame(features, columns=list(FEATURE_ORDER))
    ds.insert(0, "split_id", np.repeat(SPLITS, n_per_split))
    for side, edge, mae in (("long", long_edge, long_mae), ("short", short_edge, short_mae)):
        ds[f"{side}_entry_target"] = (edge >= 3.0).astype(np.int8)
        ds[f"{side}_actual_plan_net_edge_bps"] = edge
        ds[f"{side}_expected_net_edge_bps"] = 25.0
        ds[f"{side}_max_achievable_net_edge_bps"] = 25.0
        ds[f"{side}_mae_bps"] = mae
    return ds


def case27_dataset() -> pd.DataFrame:
    n = 1200
    x = np.tile(np.linspace(0, 0.999, n), 4)
    features = np.zeros((4 * n, len(FEATURE_ORDER)))
    features[:, FEATURE_ORDER.index("ret_1m_bps")] = x
    features[:, FEATURE_ORDER.index("ret_5m_bps")] = x
    good = x > 0.9
    return entry_dataset(n, features, np.where(good, 8.0, -6.0), np.where(good, 2.0, 15.0),
                         np.full(4 * n, -6.0), np.full(4 * n, 15.0))


def noise_dataset(n_per_split: int, seed: int = 3, planted: bool = False) -> pd.DataFrame:
    """Independent noise features; edges = -4 +- 12 bps with no relation (``planted``: ret_1m > 0.9 -> +8)."""
    rng = np.random.default_rng(seed)
    n = 4 * n_per_split
    features = rng.uniform(0, 1, (n, len(FEATURE_ORDER)))
    long_edge, short_edge = rng.normal(-4, 12, n), rng.normal(-4, 12, n)
    if planted:
        long_edge = np.where(features[:, FEATURE_ORDER.index("ret_1m_bps")] > 0.9, 8.0, long_edge)
    return entry_dataset(n_per_split, features, long_edge, np.abs(rng.normal(0, 10, n)), short_edge,
                         np.abs(rng.normal(0, 10, n)))


# ------------------------------------------------------------------------------------- dynamic exit
def test_case_30_dynamic_exit_search_writes_plan_diagnostics(tmp_path):
    features, replay = case30_inputs()
    labels = LabelConfig(entry=EntryLabelConfig(min_expected_net_edge_bps=3.0))
    out = search_dynamic_exit_plans(features, replay, labels=labels, params=CASE30_GRID, run_id="unit")
    result = out.result
    assert result["best_plan"]["plan_method"] == "DYNAMIC_TRAILING_V1"
    assert result["candidate_count"] == 1
    assert result["best_plan"]["plan_id"] == "dyn_h3_t10_s5_trail4_t2x2_p50_25"
    assert result["diagnostic_only"] is True and result["status"] == DIAGNOSTIC_ONLY
    assert result["cost_bps"] == 6.5 and result["min_expected_net_edge_bps"] == 3.0
    # one sample per split and side; the tune LONG row hits the first target at minute 1
    rows = out.tables["rows"]
    assert len(rows) == 8 and set(rows["rows"]) == {1}
    tune_long = rows[(rows["split_id"] == "tune_inner") & (rows["side"] == "LONG")].iloc[0]
    assert tune_long["target_hit_rate"] == 1.0 and tune_long["breakeven_rate"] == 1.0
    write_experiment(out, tmp_path)
    for name in ("dynamic_exit_search_result.json", "dynamic_exit_search_rows.csv",
                 "dynamic_exit_search_summary.csv", "dynamic_exit_search_report.md"):
        assert (tmp_path / name).is_file(), name
    written = json.loads((tmp_path / "dynamic_exit_search_result.json").read_text())
    assert written["best_plan"]["plan_method"] == "DYNAMIC_TRAILING_V1" and written["candidate_count"] == 1
    assert "dyn_h3_t10_s5_trail4_t2x2_p50_25" in (tmp_path / "dynamic_exit_search_report.md").read_text()


def test_dynamic_score_follows_the_documented_formula():
    features, replay = case30_inputs()
    summary = search_dynamic_exit_plans(features, replay, params=CASE30_GRID).tables["summary"]
    assert sorted(summary["side"]) == ["LONG", "SHORT"]  # one plan x two sides: the loop below checks both rows
    for _, s in summary.iterrows():
        gate = [s[f"avg_actual_net_edge_bps_{x}"] for x in SPLITS[1:]]
        assert s["avg_actual_edge_eval"] == pytest.approx(np.mean(gate))
        expected = (8 * np.mean(gate) + 4 * min(gate) + 20 * s["min_breakeven_rate_eval"]
                    + 20 * s["min_positive_label_rate_eval"] - 8 * s["max_stop_hit_rate_eval"])
        assert s["score"] == pytest.approx(expected)
    assert list(summary["score"]) == sorted(summary["score"], reverse=True)


def test_dynamic_plan_id_and_default_grid():
    assert dynamic_plan_id(3, 10.0, 5.0, 4.0, 2.0, 0.5, 0.25) == "dyn_h3_t10_s5_trail4_t2x2_p50_25"
    assert dynamic_plan_id(45, 12.5, 6.0, 0.0, 1.5, 0.333, 0.0) == "dyn_h45_t12.5_s6_trail0_t2x1.5_p33_0"
    with pytest.raises(ConfigError, match="trailing_stops_bps"):
        DynamicExitParams(trailing_stops_bps=())
    with pytest.raises(ConfigError, match="horizons"):
        DynamicExitParams(horizons=(0,))


def test_dynamic_exit_search_finds_robust_plan_only_when_planted():
    features, replay, split_ids = drift_market(0.6, n_per_split=2000)
    planted = search_dynamic_exit_plans(features, replay, replay_split_ids=split_ids)
    assert planted.result["candidate_count"] == 81
    assert planted.result["robust_candidate_found"] is True
    best = planted.result["best_plan"]
    assert best["side"] == "LONG" and best["robust"] is True and best["avg_actual_edge_eval"] > 0
    features, replay, split_ids = drift_market(0.0, n_per_split=2000)
    noise = search_dynamic_exit_plans(features, replay, replay_split_ids=split_ids)
    assert noise.result["robust_candidate_found"] is False
    assert noise.result["best_plan"]["robust_candidate_found"] is False  # best of all rows is still reported
    assert noise.result["best_plan"]["avg_actual_edge_eval"] < 0


# ------------------------------------------------------------------------------------ price plans
def test_price_plan_rows_margin_and_score():
    features, replay = case30_inputs()
    out = search_price_plans(features, replay, params=PricePlanSearchParams(targets_bps=(10,), stops_bps=(5,),
                                                                            horizon_minutes=3))
    rows = out.tables["rows"]
    tune_long = rows[(rows["split_id"] == "tune_inner") & (rows["side"] == "LONG")].iloc[0]
    assert tune_long["avg_price_plan_net_edge_bps"] == pytest.approx(10 - 6.5)  # target first
    assert tune_long["positive_label_rate"] == 1.0  # 3.5 >= min_expected 3.0
    assert (rows["target_rate_margin"] == rows["target_hit_rate"] - (5 + 6.5) / (10 + 5)).all()
    stopped = rows[(rows["split_id"] == "validation_locked") & (rows["side"] == "LONG")].iloc[0]
    assert stopped["avg_price_plan_net_edge_bps"] == pytest.approx(-5 - 6.5)
    # target > stop but every plan loses on the eval splits: no robust plan, no fallback pick
    assert out.result["verdict"] == "NO_ROBUST_PLAN" and out.result["best_plan"] is None
    assert "not a go-live decision" in out.report


def test_plan_summary_score_formula():
    rows = pd.DataFrame([
        {"plan_id": "p", "horizon_minutes": 45, "target_bps": 40.0, "stop_bps": 10.0, "split_id": split,
         "side": "LONG", "rows": 100, "target_hit_rate": 0.3, "stop_hit_rate": 0.5,
         "avg_price_plan_net_edge_bps": edge, "avg_edge": 20.0, "positive_label_rate": rate,
         "target_rate_margin": margin}
        for split, edge, rate, margin in (("fit_inner", 9.0, 0.5, 0.2), ("tune_inner", 2.0, 0.02, 0.1),
                                          ("validation_locked", 4.0, 0.6, 0.05), ("latest_stress", -0.5, 0.3, 0.02))])
    s = plan_summary(rows).iloc[0]
    assert s["avg_price_plan_edge_eval"] == pytest.approx(5.5 / 3)
    assert s["min_price_plan_edge_eval"] == -0.5 and s["min_margin_eval"] == 0.02
    penalty = (0.03 - 0.02) * 120 + (0.6 - 0.55) * 20
    assert s["penalty"] == pytest.approx(penalty)
    expected = 8 * 5.5 / 3 + 3 * -0.5 + 80 * 0.02 + 0.05 * 20.0 - penalty + math.log(1 + 30)
    assert s["score"] == pytest.approx(expected)


def test_price_plan_search_candidate_only_when_planted():
    features, replay, split_ids = drift_market(0.25)
    planted = search_price_plans(features, replay, replay_split_ids=split_ids)
    assert planted.result["verdict"] == "CANDIDATE_PLAN_FOUND"
    assert planted.result["candidate_count"] == 25
    best = planted.result["best_plan"]
    assert best["side"] == "LONG" and best["target_bps"] > best["stop_bps"]
    assert best["avg_price_plan_edge_eval"] > 0 and best["min_price_plan_edge_eval"] > -1
    assert 0.03 <= best["min_positive_label_rate_eval"] <= best["max_positive_label_rate_eval"] <= 0.55
    features, replay, split_ids = drift_market(0.0)
    noise = search_price_plans(features, replay, replay_split_ids=split_ids)
    assert noise.result["verdict"] == "NO_ROBUST_PLAN" and noise.result["best_plan"] is None


def test_split_ids_keep_windows_inside_one_split():
    features, replay, split_ids = drift_market(0.0, n_per_split=200)
    params = PricePlanSearchParams(targets_bps=(20,), stops_bps=(10,), horizon_minutes=45)
    inside = search_price_plans(features, replay, params=params, replay_split_ids=split_ids).tables["rows"]
    free = search_price_plans(features, replay, params=params).tables["rows"]
    assert set(inside["rows"]) == {200 - 45}
    assert free.set_index(["split_id", "side"])["rows"].to_dict()[("tune_inner", "LONG")] == 200


def test_plan_search_rejects_bad_inputs():
    with pytest.raises(ConfigError, match="targets_bps"):
        PricePlanSearchParams(targets_bps=())
    with pytest.raises(ConfigError, match="stops_bps"):
        PricePlanSearchParams(stops_bps=(-1.0,))
    features, replay = case30_inputs()
    with pytest.raises(DataContractError, match="trainable"):
        search_price_plans(features.assign(data_quality_flag="BAD"), replay)
    with pytest.raises(DataContractError, match="ret_1m_bps"):
        search_dynamic_exit_plans(features.drop(columns="ret_1m_bps"), replay, params=CASE30_GRID)
    with pytest.raises(DataContractError, match="no plan window"):  # every bar its own split: no window fits
        search_dynamic_exit_plans(features, replay, params=CASE30_GRID, replay_split_ids=np.arange(7))


def test_costs_move_the_edges():
    features, replay = case30_inputs()
    cheap = search_dynamic_exit_plans(features, replay, params=CASE30_GRID, costs=CostConfig(0.0, 0.0, 0.0))
    full = search_dynamic_exit_plans(features, replay, params=CASE30_GRID)
    diff = (cheap.tables["rows"]["avg_actual_net_edge_bps"] - full.tables["rows"]["avg_actual_net_edge_bps"])
    assert len(diff) == 8 and diff.notna().all()  # 4 splits x 2 sides, each with its one sample
    assert np.allclose(diff, 4.0 + 2.0 + 0.5)  # fee + slippage + funding of the default CostConfig


# ------------------------------------------------------------------------------------ entry screens
def test_case_18_entry_feature_screen_prefers_actual_plan_edge():
    ds = case27_dataset()
    assert screen_edge_column(ds, "long") == "long_actual_plan_net_edge_bps"
    assert screen_edge_column(ds, "SHORT") == "short_actual_plan_net_edge_bps"
    out = screen_entry_features(ds)
    assert out.result["edge_source_by_side"] == {"LONG": "long_actual_plan_net_edge_bps",
                                                 "SHORT": "short_actual_plan_net_edge_bps"}


def test_case_19_entry_feature_screen_requires_actual_plan_edge():
    ds = case27_dataset().drop(columns=["long_actual_plan_net_edge_bps", "short_actual_plan_net_edge_bps"])
    assert "long_expected_net_edge_bps" in ds.columns
    with pytest.raises(ValueError, match="long_actual_plan_net_edge_bps"):
        screen_edge_column(ds, "long")
    with pytest.raises(ValueError, match="missing 'long_actual_plan_net_edge_bps'"):
        screen_entry_features(ds)
    with pytest.raises(ValueError, match="missing 'long_actual_plan_net_edge_bps'"):
        screen_entry_condition_pairs(ds)


def test_case_26_entry_feature_screen_zero_inflated():
    values = np.concatenate([np.zeros(5000), np.linspace(1, 100, 500)])
    edges = bucket_edges(values)
    assert len(edges) >= 3 and edges[0] == -np.inf and edges[-1] == np.inf
    ds = pd.DataFrame({"split_id": "fit_inner", "funding_bps": values})
    (buckets,) = feature_buckets(ds, ["funding_bps"])
    assert np.array_equal(buckets.edges, edges)
    assert (buckets.codes[:5000] == 0).all() and (buckets.codes[5000:] > 0).all()


def test_entry_feature_screen_finds_planted_bucket():
    out = screen_entry_features(noise_dataset(4000, planted=True))
    cands = out.tables["candidates"]
    stable = cands[cands["stable_positive_edge"]]
    assert out.result["stable_candidate_count"] == len(stable) >= 1
    assert set(stable["feature"]) == {"ret_1m_bps"} and set(stable["side"]) == {"LONG"}
    best = out.result["best_candidate"]
    assert best["feature"] == "ret_1m_bps" and best["min_eval_edge_bps"] > 0
    assert (cands["rows_tune_inner"] >= 300).all() and out.result["min_bucket_rows"] == 300
    assert out.result["bucket_metric_count"] == len(out.tables["bucket_metrics"]) == 41 * 10 * 2 * 4


def test_entry_feature_screen_reports_no_stable_candidate_on_noise(tmp_path):
    out = screen_entry_features(noise_dataset(4000))
    assert out.result["candidate_count"] > 0  # tune lifts exist by chance ...
    assert out.result["stable_candidate_count"] == 0  # ... but none holds on the eval splits
    assert out.result["diagnostic_only"] is True
    write_experiment(out, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == set(out.file_names())


def test_screens_without_bucketable_features_report_nothing():
    ds = case27_dataset()
    ds[["ret_1m_bps", "ret_5m_bps"]] = 0.0
    features = screen_entry_features(ds)
    assert features.result["bucketed_feature_count"] == 0 and features.result["candidate_count"] == 0
    assert features.result["best_candidate"] is None
    pairs = screen_entry_condition_pairs(ds, PairScreenParams(50, 50, 8, 2))
    assert pairs.result["candidate_count"] == 0 and pairs.result["stable_candidate_count"] == 0
    assert pairs.result["best_candidate"] is None


def test_screen_params_are_validated():
    with pytest.raises(ConfigError, match="min_bucket_rows"):
        FeatureScreenParams(min_bucket_rows=0)
    with pytest.raises(ConfigError, match="max_buckets_per_feature"):
        PairScreenParams(max_buckets_per_feature=0)


# ------------------------------------------------------------------------------ condition pairs
def test_case_27_condition_pair_screen_finds_stable_pair(tmp_path):
    out = screen_entry_condition_pairs(case27_dataset(), PairScreenParams(50, 50, 8, 2))
    result, cands = out.result, out.tables["candidates"]
    assert result["stable_candidate_count"] > 0
    assert cands["usable_candidate"].any()
    assert result["best_candidate"]["side"] == "LONG"
    assert result["best_candidate"]["min_eval_edge_bps"] > 0
    assert {result["best_candidate"]["feature_a"], result["best_candidate"]["feature_b"]} == {"ret_1m_bps",
                                                                                            "ret_5m_bps"}
    assert list(cands["screen_score"]) == sorted(cands["screen_score"], reverse=True)
    seeds = out.tables["seeds"]
    assert (seeds.groupby(["side", "feature"]).size() <= 2).all()
    assert (seeds.groupby("side").size() <= 8).all() and (seeds["rows"] >= 50).all()
    write_experiment(out, tmp_path)
    for table in ("seeds", "metrics", "candidates"):
        assert (tmp_path / f"entry_condition_pair_screen_{table}.csv").is_file()
    assert (tmp_path / "entry_condition_pair_screen_result.json").is_file()


def test_condition_pair_screen_score_formula():
    cands = screen_entry_condition_pairs(case27_dataset(), PairScreenParams(50, 50, 8, 2)).tables["candidates"]
    assert len(cands) > 0 and cands["usable_candidate"].any() and not cands["usable_candidate"].all()
    edges = cands[[f"avg_edge_bps_{s}" for s in SPLITS[1:]]]
    expected = (edges.min(axis=1).fillna(-999) + 0.25 * edges.mean(axis=1).fillna(-999)
                + 2 * cands["stable_lift"] + cands["stable_enough_rows"])
    assert np.allclose(cands["screen_score"], expected)
    assert (cands["usable_candidate"] == (cands["stable_positive_edge"] & cands["stable_lift"]
                                          & (cands["min_eval_rows"] >= 50))).all()


def test_condition_pair_screen_reports_no_stable_candidate_on_noise():
    out = screen_entry_condition_pairs(noise_dataset(20000, seed=5))
    assert out.result["seed_count_by_side"] == {"LONG": 32, "SHORT": 32}
    assert out.result["candidate_count"] > 0  # pairs with >= 150 tune rows exist ...
    assert out.result["stable_candidate_count"] == 0  # ... but none has a stable positive edge
    assert not out.tables["candidates"]["usable_candidate"].any()

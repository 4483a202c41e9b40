"""Entry probes, nonlinear PM probe and good-trade structure (docs/experiments.md, "Rules"): the worked cases
(numbered ``test_case_<n>``), the verdicts written out, and planted-signal data."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.versions import EVAL_SPLITS, TRAINING_SPLITS
from trader_core.errors import ConfigError, DataContractError
from trader_core.experiments.entry_probes import (
    NOT_ENOUGH_TRAIN_ROWS,
    ONE_CLASS_TRAIN,
    SKIPPED_ONE_CLASS_TRAIN,
    ConditionalEntryParams,
    EntryMaeParams,
    diagnose_entry_mae_labels,
    mae_target_name,
    probe_conditional_entry_training,
)
from trader_core.experiments.good_trade import (
    NO_STABLE_TREE_STRUCTURE,
    NO_TOP10_ROWS,
    PROMISING_TREE_STRUCTURE,
    GoodTradeParams,
    diagnose_good_trade_structure,
    side_frame,
)
from trader_core.experiments.nonlinear_pm import (
    NO_EDGE,
    PROMISING,
    NonlinearPmParams,
    entry_fit_frame,
    exit_metrics,
    expanded_threshold_candidates,
    prediction_frame,
    probe_nonlinear_pm,
    probe_score,
    side_opportunity_mask,
    verdict,
)
from trader_core.experiments.toolkit import DIAGNOSTIC_ONLY, top_fraction_metrics, write_experiment
from trader_core.pm.config import THRESHOLD_KEYS


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """HGB's OpenMP threads thrash on the shared 2-core test machine (10x slower under load): use one."""
    with threadpool_limits(1):
        yield


def grid_dataset(rows: int) -> pd.DataFrame:
    """Four splits x ``rows`` rows; every feature 0 except ret_1m_bps = linspace(0, 0.999) (the entry-probe cases)."""
    frames = []
    for split in TRAINING_SPLITS:
        frame = pd.DataFrame(0.0, index=np.arange(rows), columns=list(FEATURE_ORDER))
        frame.insert(0, "sample_id", [f"{split}-{i}" for i in range(rows)])
        frame.insert(1, "split_id", split)
        frame["ret_1m_bps"] = np.linspace(0.0, 0.999, rows)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def noise_dataset(rows: int, seed: int) -> pd.DataFrame:
    """Pure-noise features; labels (good 15%: edge 9, mae 2, opportunity 18; else -6, 15, 2) independent of them."""
    rng = np.random.default_rng(seed)
    n = rows * len(TRAINING_SPLITS)
    data = pd.DataFrame(rng.normal(size=(n, len(FEATURE_ORDER))), columns=list(FEATURE_ORDER))
    data.insert(0, "sample_id", [f"s{i}" for i in range(n)])
    data.insert(1, "split_id", np.repeat(TRAINING_SPLITS, rows))
    for side in ("long", "short"):
        good = rng.random(n) < 0.15
        data[f"{side}_actual_plan_net_edge_bps"] = np.where(good, 9.0, -6.0)
        data[f"{side}_mae_bps"] = np.where(good, 2.0, 15.0)
        data[f"{side}_max_achievable_net_edge_bps"] = np.where(good, 18.0, 2.0)
    return data


# --- entry MAE diagnostic ---------------------------------------------------------------------------------------

def case_28_dataset() -> pd.DataFrame:
    data = grid_dataset(800)
    good = data["ret_1m_bps"] > 0.85
    data["long_entry_target"], data["short_entry_target"] = good.astype(int), 0
    data["long_actual_plan_net_edge_bps"] = np.where(good, 9.0, -6.0)
    data["short_actual_plan_net_edge_bps"] = -6.0
    data["long_max_achievable_net_edge_bps"] = np.where(good, 18.0, 2.0)
    data["short_max_achievable_net_edge_bps"] = 2.0
    data["long_mae_bps"] = np.where(good, 2.0, 15.0)
    data["short_mae_bps"] = 15.0
    return data


def test_case_28_entry_mae_diagnostic_finds_low_drawdown(tmp_path):
    params = EntryMaeParams(max_mae_bps=(4.0,), min_opportunity_bps=(12.0,), families=("linear",),
                            top_fractions=(0.10,))
    out = diagnose_entry_mae_labels(case_28_dataset(), params)
    assert out.result["positive_top_edge_candidate_count"] > 0
    best = out.tables["candidates"].iloc[0]
    assert best["side"] == "LONG" and bool(best["stable_top_edge_positive"])
    assert best["target_name"] == "long_mae_le_4_opp_ge_12"
    assert best["min_eval_top_edge_bps"] == pytest.approx(9.0)
    metrics = out.tables["metrics"]
    short = metrics[metrics["side"] == "SHORT"]
    assert short["status"].tolist() == [SKIPPED_ONE_CLASS_TRAIN]  # short target never true
    assert out.result["diagnostic_only"] is True and out.result["status"] == DIAGNOSTIC_ONLY
    files = write_experiment(out, tmp_path)
    assert set(files) == {"entry_mae_label_diagnostic_metrics.csv", "entry_mae_label_diagnostic_candidates.csv",
                          "entry_mae_label_diagnostic_report.md", "entry_mae_label_diagnostic_result.json"}


def test_entry_mae_target_name_and_defaults():
    assert mae_target_name("SHORT", 4.0, 12.5) == "short_mae_le_4_opp_ge_12.5"
    params = EntryMaeParams()
    assert (params.max_mae_bps, params.min_opportunity_bps, params.families, params.top_fractions) == (
        (4.0, 6.0, 8.0, 12.0), (6.0, 12.0, 20.0), ("linear",), (0.10,))
    with pytest.raises(ConfigError, match="top_fractions"):
        EntryMaeParams(top_fractions=(0.0,))
    with pytest.raises(ConfigError, match="families"):
        EntryMaeParams(families=("forest",))


def test_entry_mae_non_finite_feature_raises():
    data = case_28_dataset()
    data.loc[5, "ret_5m_bps"] = np.inf
    with pytest.raises(DataContractError, match="ret_5m_bps"):
        diagnose_entry_mae_labels(data, EntryMaeParams(max_mae_bps=(4.0,), min_opportunity_bps=(12.0,)))


def test_entry_mae_pure_noise_has_no_stable_candidate():
    params = EntryMaeParams(max_mae_bps=(4.0, 12.0), min_opportunity_bps=(12.0,), families=("linear", "tree"))
    out = diagnose_entry_mae_labels(noise_dataset(800, seed=5), params)
    assert out.result["candidate_count"] == 8
    assert out.result["positive_top_edge_candidate_count"] == 0


# --- conditional entry probe ------------------------------------------------------------------------------------

def case_29_dataset() -> pd.DataFrame:
    data = grid_dataset(900)
    good, opportunity = data["ret_1m_bps"] > 0.85, data["ret_1m_bps"] > 0.50
    data["long_actual_plan_net_edge_bps"] = np.where(good, 10.0, -6.0)
    data["short_actual_plan_net_edge_bps"] = -6.0
    data["long_max_achievable_net_edge_bps"] = np.where(opportunity, 40.0, 2.0)
    data["short_max_achievable_net_edge_bps"] = 2.0
    return data


def test_case_29_conditional_entry_probe_positive_subset():
    params = ConditionalEntryParams(condition_opportunity_bps=(20.0,), target_edge_bps=(0.0,), families=("linear",),
                                    top_fractions=(0.10,), min_train_rows=50, min_eval_rows=50)
    out = probe_conditional_entry_training(case_29_dataset(), params)
    assert out.result["stable_positive_count"] > 0
    first = out.tables["candidates"].iloc[0]
    assert bool(first["stable_positive"]) and first["min_top_edge_bps"] > 0.0
    assert "oracle future filter" in out.result["warning"]
    assert out.result["skipped"] == [{"side": "SHORT", "condition_opportunity_bps": 20.0,
                                      "reason": NOT_ENOUGH_TRAIN_ROWS, "train_rows": 0}]


def test_conditional_entry_probe_records_one_class_skip_and_defaults():
    params = ConditionalEntryParams(condition_opportunity_bps=(1.0,), target_edge_bps=(0.0,), families=("linear",),
                                    top_fractions=(0.10,), min_train_rows=50, min_eval_rows=50)
    out = probe_conditional_entry_training(case_29_dataset(), params)
    short = [s for s in out.result["skipped"] if s["side"] == "SHORT"]
    assert [s["reason"] for s in short] == [ONE_CLASS_TRAIN]  # short edge is always -6
    d = ConditionalEntryParams()
    assert (d.condition_opportunity_bps, d.target_edge_bps, d.families, d.top_fractions, d.min_train_rows,
            d.min_eval_rows) == ((6.0, 12.0, 20.0, 40.0, 60.0), (0.0, 3.0), ("linear", "tree"),
                                 (0.01, 0.02, 0.05, 0.10), 1000, 500)
    with pytest.raises(ConfigError, match="min_train_rows"):
        ConditionalEntryParams(min_train_rows=0)


def test_conditional_entry_probe_pure_noise_has_no_stable_candidate():
    params = ConditionalEntryParams(condition_opportunity_bps=(1.0,), target_edge_bps=(0.0,), top_fractions=(0.10,),
                                    min_train_rows=200, min_eval_rows=200)
    out = probe_conditional_entry_training(noise_dataset(800, seed=11), params)
    assert out.result["candidate_count"] == 4
    assert out.result["stable_positive_count"] == 0


# --- nonlinear PM probe -----------------------------------------------------------------------------------------

def test_case_15_expanded_threshold_candidates():
    candidates = expanded_threshold_candidates()
    assert len(candidates) == 17280
    assert all(list(c) == list(THRESHOLD_KEYS) for c in candidates[:3])
    for long_open in (0.2, 1.01):
        assert dict(zip(THRESHOLD_KEYS, (long_open, 0.2, 0.05, 0.45, -5.0, 0.0))) in candidates


def test_case_16_side_opportunity_fit_rows():
    direction = pd.DataFrame({"sample_id": ["s1", "s2", "s3", "s4"], "long_target": [1, 0, 0, 0],
                              "short_target": [0, 1, 0, 0]})
    entry = pd.DataFrame({"sample_id": ["s1", "s2", "s3", "s4"], "split_id": "fit_inner",
                          "long_max_achievable_net_edge_bps": [45.0, 10.0, 65.0, 39.0],
                          "short_max_achievable_net_edge_bps": [8.0, 41.0, 15.0, 70.0]})
    assert side_opportunity_mask(entry, "LONG", 40.0).tolist() == [True, False, True, False]
    params = NonlinearPmParams(entry_train_filter="side_opportunity", entry_opportunity_bps=40.0)
    assert entry_fit_frame(direction, entry, "long", params)["sample_id"].tolist() == ["s1", "s3"]
    assert entry_fit_frame(direction, entry, "short", params)["sample_id"].tolist() == ["s2", "s4"]
    by_label = NonlinearPmParams()
    assert entry_fit_frame(direction, entry, "long", by_label)["sample_id"].tolist() == ["s1"]
    assert entry_fit_frame(direction, entry, "short", by_label)["sample_id"].tolist() == ["s2"]


def test_case_17_exit_metrics():
    trades = pd.DataFrame({"target_hit": [1, 0, 0], "stop_hit": [0, 1, 0],
                           "time_to_exit_ms": [300_000, 600_000, 2_700_000]})
    metrics = exit_metrics(trades)
    for key in ("target_hit_rate", "stop_hit_rate", "timeout_exit_rate"):
        assert metrics[key] == pytest.approx(1 / 3)
    assert metrics["avg_time_to_exit_min"] == pytest.approx(20.0)
    assert metrics["p50_time_to_exit_min"] == pytest.approx(10.0)
    assert set(exit_metrics(trades.iloc[:0]).values()) == {0.0}


def test_probe_score_and_verdict_rule():
    assert probe_score({"trade_count": 0, "avg_weighted_edge_bps": 0.0, "total_weighted_edge_bps": 0.0,
                        "max_drawdown_bps": 0.0}) == -1e6
    m = {"trade_count": 20, "avg_weighted_edge_bps": 1.5, "total_weighted_edge_bps": 30.0, "max_drawdown_bps": 5.0}
    assert probe_score(m) == pytest.approx(1.5 * np.sqrt(20) + 0.9 - 1.0 - 120.0)

    def split(n, avg):
        return {"trade_count": n, "avg_weighted_edge_bps": avg}

    ok = {"tune_inner": split(80, 0.1), "validation_locked": split(40, 0.1), "latest_stress": split(10, -0.9)}
    assert verdict(ok)["status"] == PROMISING
    for name, bad in (("tune_inner", split(79, 0.1)), ("validation_locked", split(40, 0.0)),
                      ("latest_stress", split(10, -1.0)), ("latest_stress", split(9, 1.0))):
        assert verdict({**ok, name: bad})["status"] == NO_EDGE


def test_prediction_frame_row_loss_raises():
    pm = pd.DataFrame({"sample_id": ["a", "b"], "split_id": "tune_inner", "long_entry_prob": [0.1, 0.2]})
    with pytest.raises(DataContractError, match="every PM row needs tree outputs"):
        prediction_frame(pm, pd.DataFrame({"sample_id": ["a"], "long_entry_prob": [0.9]}))
    out = prediction_frame(pm, pd.DataFrame({"sample_id": ["b", "a"], "long_entry_prob": [0.8, 0.9]}))
    assert out.set_index("sample_id")["long_entry_prob"].to_dict() == {"a": 0.9, "b": 0.8}


@pytest.fixture(scope="module")
def small_run():
    """A small synthetic run without Dagster: datasets, linear model predictions, the PM frame and the price plan."""
    from tests.pipeline import run_pipeline
    from trader_core.config import CostConfig, LabelConfig
    from trader_core.contracts.models import DIRECTION, ENTRY, TARGETS
    from trader_core.labels.price_plan import build_price_plan
    from trader_core.models.training import train_model
    from trader_core.pm.frame import pm_frame

    run = run_pipeline(signal=2.0, days=6, seed=7, symbols=("BTC-USDT-PERP",))
    direction, entry = run.datasets["direction"], run.datasets["entry"]
    direction_pred = train_model(TARGETS[DIRECTION], direction).predictions
    entry_pred = train_model(TARGETS[ENTRY], entry).predictions
    risk_pred = direction_pred[["sample_id"]].assign(market_risk_prob=0.1, long_position_risk_prob=0.1,
                                                     short_position_risk_prob=0.1)  # the probe keeps risk as is
    plan = build_price_plan(LabelConfig().entry, CostConfig())
    frame, _ = pm_frame(direction_pred, entry_pred, risk_pred, entry, run.entry_labels, plan)
    return direction, entry, frame, plan


@pytest.mark.parametrize("mode", ["direction_entry_tree", "entry_tree_only"])
def test_nonlinear_pm_probe_runs_on_a_small_run(small_run, mode, tmp_path):
    direction, entry, frame, plan = small_run
    start = time.perf_counter()
    out = probe_nonlinear_pm(direction, entry, frame, plan, NonlinearPmParams(probe_mode=mode))
    elapsed = time.perf_counter() - start
    print(f"nonlinear PM probe ({mode}): {elapsed:.2f} s on {out.result['eval_rows']} eval rows")
    result = out.result
    assert result["candidate_count"] == 17280 and result["diagnostic_only"] is True
    assert set(result["split_metrics"]) == set(EVAL_SPLITS)
    candidates = out.tables["candidates"]
    assert len(candidates) == 200 and candidates["score"].is_monotonic_decreasing
    assert candidates["score"].iloc[0] > -1e6  # the low thresholds always let some trade through
    # the reported best thresholds are the top row of the search table (not merely some grid point)
    assert result["best_thresholds"] == {k: float(candidates.iloc[0][k]) for k in THRESHOLD_KEYS}
    trades = out.tables["best_trades_parquet"]
    for split in EVAL_SPLITS:  # every split's metrics are those of the best thresholds' trades on that split
        rows = trades[trades["eval_split"] == split]
        metrics = result["split_metrics"][split]
        assert metrics["trade_count"] == len(rows), split
        assert metrics["avg_weighted_edge_bps"] == pytest.approx(
            float(rows["weighted_edge_bps"].mean()) if len(rows) else 0.0, abs=1e-9), split
    # the verdict follows the documented rule (docs/experiments.md, "Nonlinear PM probe"), written out here
    tune, val, stress = (result["split_metrics"][s] for s in ("tune_inner", "validation_locked", "latest_stress"))
    promising = (tune["trade_count"] >= 80 and val["trade_count"] >= 40 and stress["trade_count"] >= 10
                 and tune["avg_weighted_edge_bps"] > 0 and val["avg_weighted_edge_bps"] > 0
                 and stress["avg_weighted_edge_bps"] > -1.0)
    assert result["verdict"]["status"] == (PROMISING if promising else NO_EDGE)
    assert len(out.tables["side_metrics"]) == 6
    stem = "nonlinear_pm_probe" if mode == "direction_entry_tree" else "nonlinear_pm_probe_entry_tree_only"
    assert set(write_experiment(out, tmp_path)) == {f"{stem}_{n}" for n in (
        "candidates.csv", "best_trades.parquet", "side_metrics.csv", "report.md", "result.json")}


def test_nonlinear_pm_probe_too_few_fit_rows_raise(small_run):
    direction, entry, frame, plan = small_run
    with pytest.raises(DataContractError, match="need 1000000"):
        probe_nonlinear_pm(direction, entry, frame, plan, NonlinearPmParams(min_fit_rows=1_000_000))
    with pytest.raises(ConfigError, match="probe_mode"):
        NonlinearPmParams(probe_mode="forest")


# --- good-trade structure ---------------------------------------------------------------------------------------

def test_case_25_good_trade_side_frame_and_top():
    dataset = pd.DataFrame({"sample_id": ["s1", "s2", "s3"], "split_id": "fit_inner",
                            "long_actual_plan_net_edge_bps": [4.0, -5.0, 1.0],
                            "short_actual_plan_net_edge_bps": [-5.0, 6.0, -1.0],
                            **{f: [0.1, 0.2, 0.3] for f in FEATURE_ORDER}})
    frame = side_frame(dataset, "LONG", min_good_edge_bps=3.0, bad_edge_bps=-3.0)
    assert frame["good_trade"].tolist() == [1, 0, 0] and frame["bad_trade"].tolist() == [0, 1, 0]
    metrics = top_fraction_metrics(frame, np.array([0.9, 0.1, 0.2]), 1 / 3, edge="actual_edge_bps", good="good_trade")
    assert (metrics["rows"], metrics["good_rate"], metrics["avg_edge"]) == (1, 1.0, 4.0)


def planted_good_trade_dataset(rows: int, seed: int) -> pd.DataFrame:
    """Noise features except ret_1m_bps, which is high on good LONG trades."""
    data = noise_dataset(rows, seed)
    rng = np.random.default_rng(seed + 1)
    good = data["ret_1m_bps"].to_numpy() > 1.0
    data["long_actual_plan_net_edge_bps"] = np.where(good, 9.0, -6.0) + rng.normal(0, 1, len(data))
    return data


def test_good_trade_planted_feature_is_stable_and_tree_promising(tmp_path):
    out = diagnose_good_trade_structure(planted_good_trade_dataset(1500, seed=3))
    features = out.tables["feature_candidates"]
    best = features.iloc[0]
    assert (best["side"], best["feature"], best["better_when"]) == ("LONG", "ret_1m_bps", "HIGH")
    assert bool(best["stable_auc"]) and bool(best["stable_positive_top_edge"])
    assert out.result["verdict"] == PROMISING_TREE_STRUCTURE
    assert out.result["tree_model_verdict"]["promising_sides"] == ["LONG"]
    names = set(write_experiment(out, tmp_path))
    assert "good_trade_structure_result.json" in names and "good_trade_structure_tree_model_top.csv" in names


def test_good_trade_pure_noise_has_no_stable_structure():
    out = diagnose_good_trade_structure(noise_dataset(3000, seed=9))
    assert out.result["feature_candidate_count"] == 2 * len(FEATURE_ORDER)
    assert out.result["stable_feature_count"] == 0
    assert out.result["verdict"] == NO_STABLE_TREE_STRUCTURE


def test_good_trade_verdict_degenerate_cases():
    data = noise_dataset(300, seed=2)
    no_top10 = diagnose_good_trade_structure(data, GoodTradeParams(top_fractions=(0.05,)))
    assert no_top10.result["verdict"] == NO_TOP10_ROWS
    data["long_actual_plan_net_edge_bps"] = data["short_actual_plan_net_edge_bps"] = -6.0
    out = diagnose_good_trade_structure(data)
    assert out.result["verdict"] == "NO_MODEL_ROWS" and out.result["feature_candidate_count"] == 0

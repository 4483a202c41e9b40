"""OFI experiment and state-aware Continue experiment (docs/experiments.md, "Rules"): the worked cases,
hand-computed OFI features, a planted OFI signal, and a state-continue run on a small synthetic market."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from trader_core.config import CostConfig, LabelConfig, SplitPlan
from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.models import DIRECTION, ENTRY, TARGETS
from trader_core.contracts.versions import TRAINING_SPLITS
from trader_core.errors import ConfigError, DataContractError
from trader_core.experiments import ofi, ofi_features
from trader_core.experiments.state_continue import (
    NOT_READY,
    PASS,
    StateContinueParams,
    run_state_continue_experiment,
    train_side_models,
    verdict,
)
from trader_core.experiments.state_continue_rows import STATE_FEATURES, state_rows_for_age
from trader_core.experiments.toolkit import DIAGNOSTIC_ONLY, write_experiment
from trader_core.features import build_feature_frame
from trader_core.costs import CostModel, with_trade_costs
from trader_core.labels.base import compute_label_path_stats, label_horizons
from trader_core.labels.datasets import build_train_dataset
from trader_core.labels.direction import build_direction_labels
from trader_core.labels.entry import build_entry_labels
from trader_core.contracts.price_plan import PricePlan
from trader_core.labels.price_plan import build_price_plan, plan_params
from trader_core.market.synthetic import SyntheticMarketConfig, generate_synthetic_market
from trader_core.models.onnx_export import export_heads
from trader_core.models.training import train_model
from trader_core.replay import build_replay
from trader_core.splits import assign_split, build_split_manifest

SYM = "BTC-USDT-PERP"
T0 = pd.Timestamp("2026-01-01", tz="UTC")


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """sklearn's lbfgs is ~50x slower with oversubscribed BLAS threads on a loaded 2-core machine."""
    with threadpool_limits(1):
        yield


def _small_run(depth_levels: int, seed: int, days: int = 8) -> dict:
    """Synthetic market -> replay -> features -> labels -> datasets, in process (2 symbols x ``days``)."""
    raw = generate_synthetic_market(SyntheticMarketConfig(symbols=(SYM, "ETH-USDT-PERP"), days=days, seed=seed,
                                                          signal=2.0, depth_levels=depth_levels))
    replay, _ = build_replay(raw)
    manifest = build_split_manifest(replay["open_time_ms"].to_numpy(), SplitPlan(), longest_label_horizon_minutes=45)
    features = build_feature_frame(replay, assign_split(replay["event_time"], manifest))
    labels = LabelConfig()
    plan = build_price_plan(labels.entry, CostConfig())
    stats = compute_label_path_stats(replay, manifest, plan_params(plan), label_horizons(labels))
    stats = with_trade_costs(stats, CostModel.from_replay(replay, CostConfig()))
    direction = build_direction_labels(features, stats, labels.direction)
    entry = build_entry_labels(features, stats, plan)
    return {"raw": raw, "replay": replay, "features": features, "plan": plan, "direction_labels": direction,
            "entry_labels": entry, "direction_train": build_train_dataset("direction", features, direction),
            "entry_train": build_train_dataset("entry", features, entry)}


# ============================================================================== 13.2 state continue: cases
def _state_input(**overrides) -> pd.DataFrame:
    row = {c: 0.0 for c in FEATURE_ORDER}
    row.update({"ret_1m_bps": 2.0, "ret_5m_bps": 3.0, "taker_imbalance_1m": 0.1, "taker_imbalance_5m": 0.2,
                "book_microprice_basis_bps": 4.0, "book_pressure_taker_1m": 5.0, "book_pressure_taker_5m": 6.0})
    row.update({"side": "LONG", "time_in_position_minutes": 5, "entry_price": 100.0, "current_price": 100.1,
                "high_since_entry": 100.2, "low_since_entry": 99.95, "gross_edge_bps": 12.0, "mae_bps": 20.0,
                "stop_hit": 0, "entry_predicted_edge_bps": 8.5, "entry_direction_prob": 0.64, "add_count": 0,
                "minutes_since_last_add": 9999, "current_sample_id": "s5", "current_event_time": T0,
                "current_open_time_ms": 300_000, "split_id": "fit_inner"})
    row.update(overrides)
    return pd.DataFrame([row])


def test_case_9_state_rows():
    out = state_rows_for_age(_state_input(), stop=8.0, target=12.0, cost=6.5, min_edge=5.0)
    r = out.iloc[0]
    assert all(c in out.columns for c in STATE_FEATURES) and len(STATE_FEATURES) == 22
    assert r["expected_continue_edge_bps"] == pytest.approx(5.5)
    assert r["continue_target"] == 1
    assert r["entry_predicted_edge_bps"] == pytest.approx(8.5)
    assert r["entry_direction_prob"] == pytest.approx(0.64)
    assert r["giveback_from_mfe_bps"] == pytest.approx(16.5, abs=1e-4)
    assert round(float(r["recovery_from_mae_bps"]), 4) == 8.5025
    assert r["path_efficiency"] > 0.13 and r["mfe_mae_ratio"] > 3.3
    for name, raw in (("ret_1m_bps", 2.0), ("ret_5m_bps", 3.0), ("taker_imbalance_1m", 0.1),
                      ("taker_imbalance_5m", 0.2), ("book_microprice_basis_bps", 4.0),
                      ("book_pressure_taker_1m", 5.0), ("book_pressure_taker_5m", 6.0)):
        assert r[f"side_{name}"] == pytest.approx(raw)
    assert r["add_count"] == 0 and r["minutes_since_last_add"] == 9999
    assert (r["sample_id"], r["open_time_ms"], r["position_side"]) == ("s5", 300_000, "LONG")
    assert out[list(STATE_FEATURES)].dtypes.eq(np.float32).all()


def test_state_rows_mirror_the_short_side_and_fail_the_target_on_a_stop():
    out = state_rows_for_age(_state_input(side="SHORT", current_price=99.9, high_since_entry=100.05,
                                          low_since_entry=99.8, stop_hit=1), stop=8.0, target=12.0, cost=6.5)
    r = out.iloc[0]
    unrealized = (100 / 99.9 - 1) * 1e4 - 6.5
    mfe, mae = (100 / 99.8 - 1) * 1e4, (100.05 / 100 - 1) * 1e4
    assert r["position_side_sign"] == -1
    assert r["unrealized_pnl_bps"] == pytest.approx(unrealized, rel=1e-6)
    assert r["mfe_since_entry_bps"] == pytest.approx(mfe, rel=1e-6)
    assert r["mae_since_entry_bps"] == pytest.approx(mae, rel=1e-6)
    assert r["distance_to_stop_bps"] == pytest.approx((100.08 / 99.9 - 1) * 1e4, rel=1e-6)
    assert r["distance_to_target_bps"] == pytest.approx((99.9 / 99.88 - 1) * 1e4, rel=1e-5)
    assert r["side_ret_1m_bps"] == -2.0 and r["side_book_pressure_taker_5m"] == -6.0
    assert r["continue_target"] == 0  # edge 5.5 >= 5 but the stop was hit


def _results(only_auc, only_ratio, plus_auc, plus_ratio, converged=True) -> dict:
    def side_set(aucs, ratios, ok):
        splits = {s: {"continue_auc": a, "edge_mae_vs_constant_ratio": r}
                  for s, a, r in zip(("validation_locked", "latest_stress"), aucs, ratios)}
        return {"regressor_converged": ok, "splits": splits}
    return {side: {"market_only": side_set(only_auc, only_ratio, True),
                   "market_plus_state": side_set(plus_auc, plus_ratio, converged)} for side in ("long", "short")}


def test_case_11_verdict_refuses_when_edge_mae_not_good_enough():
    v = verdict(_results((0.61, 0.62), (0.985, 0.984), (0.63, 0.64), (0.979, 0.978)))
    assert v["status"] == NOT_READY == "NOT_READY_FOR_FORMAL_CHAIN"
    assert any("above 0.97" in r for r in v["reasons"])
    assert "long validation_locked edge_mae_vs_constant_ratio above 0.97: 0.979" in v["reasons"]
    assert not any("continue_auc" in r for r in v["reasons"])
    # 2 sides x 2 sealed splits x 4 checks + 2 convergence checks = 18: 4 ratio checks fail, the other 14 pass
    assert len(v["reasons"]) == 4 and len(v["passed_checks"]) == 14
    assert "long validation_locked continue_auc >= 0.60: 0.63" in v["passed_checks"]
    assert "short latest_stress edge_mae_vs_constant_ratio better than market_only: 0.978 < 0.984" in v["passed_checks"]
    assert "short market_plus_state regressor converged" in v["passed_checks"]


def test_case_12_verdict_reports_not_beating_market_only():
    v = verdict(_results((0.64, 0.65), (0.965, 0.964), (0.63, 0.66), (0.975, 0.963)))
    assert v["status"] == NOT_READY
    assert any("continue_auc not better than market_only" in r for r in v["reasons"])
    assert any("edge_mae_vs_constant_ratio not better than market_only" in r for r in v["reasons"])
    assert "short validation_locked continue_auc not better than market_only: 0.63 <= 0.64" in v["reasons"]
    assert not any("latest_stress" in r for r in v["reasons"])


def test_verdict_passes_only_when_every_check_holds():
    good = _results((0.61, 0.62), (0.985, 0.984), (0.65, 0.66), (0.95, 0.95))
    assert verdict(good)["status"] == PASS == "PASS_TO_FORMAL_CHAIN"
    assert verdict(good)["reasons"] == []
    no_baseline = _results((None, None), (None, None), (0.65, 0.66), (0.95, 0.95))
    assert verdict(no_baseline)["status"] == PASS
    v = verdict(_results((0.61, 0.62), (0.985, 0.984), (0.65, 0.66), (0.95, 0.95), converged=False))
    assert v["status"] == NOT_READY
    assert v["reasons"] == ["long market_plus_state regressor did not converge",
                            "short market_plus_state regressor did not converge"]
    v = verdict(_results((0.61, 0.62), (0.985, 0.984), (0.59, 0.66), (0.95, 0.95)))
    assert "long validation_locked continue_auc below 0.60: 0.59" in v["reasons"]


def _eight_rows() -> pd.DataFrame:
    i = np.arange(8)
    target = i % 2
    return pd.DataFrame({"sample_id": [f"s{k}" for k in i], "split_id": np.repeat(TRAINING_SPLITS, 2),
                         "position_side": "LONG", "time_in_position_minutes": 5, "f": i.astype(float),
                         "continue_target": target, "expected_continue_edge_bps": np.where(target == 1, 6.0, -3.0)})


def test_case_13_train_side_models_ridge_and_huber():
    metrics, pred = train_side_models(_eight_rows(), "long", ["f"], "ridge", ridge_alpha=1.0, clip_bps=5.0)
    assert metrics["regressor_kind"] == "ridge" and metrics["ridge_alpha"] == 1.0
    assert metrics["regression_target_clip_bps"] == 5.0 and metrics["regressor_converged"] is True
    assert metrics["huber_alpha"] is None and metrics["huber_epsilon"] is None
    assert len(pred) == 8 and "time_in_position_minutes" in pred.columns
    assert {"continue_prob", "predicted_continue_edge_bps"} <= set(pred.columns)
    assert pred["predicted_continue_edge_bps"].abs().max() <= 5.0
    assert set(metrics["splits"]) == set(TRAINING_SPLITS)
    assert metrics["splits"]["validation_locked"]["row_count"] == 2

    metrics, pred = train_side_models(_eight_rows(), "long", ["f"], "huber", huber_alpha=0.002, huber_epsilon=1.10,
                                      huber_max_iter=100, clip_bps=4.0)
    assert (metrics["regressor_kind"], metrics["huber_alpha"], metrics["huber_epsilon"],
            metrics["regression_target_clip_bps"]) == ("huber", 0.002, 1.10, 4.0)
    assert metrics["ridge_alpha"] is None and metrics["regressor_max_iter"] == 100
    assert metrics["regressor_converged"] == (0 <= metrics["regressor_iterations"] < 100)
    assert len(pred) == 8 and pred["predicted_continue_edge_bps"].abs().max() <= 4.0
    with pytest.raises(ConfigError, match="regressor_kind"):
        train_side_models(_eight_rows(), "long", ["f"], "lasso")


def test_state_continue_params_are_validated():
    assert StateContinueParams(ages_minutes="30, 5,15,5").ages_minutes == (5, 15, 30)
    assert StateContinueParams().ages_minutes == (5, 15, 30)
    for bad in ("5,x", "0,5", "", "-5"):
        with pytest.raises(ConfigError, match="ages_minutes"):
            StateContinueParams(ages_minutes=bad)
    with pytest.raises(ConfigError, match="regressor_kind"):
        StateContinueParams(regressor_kind="tree")
    with pytest.raises(ConfigError, match="huber_epsilon"):
        StateContinueParams(huber_epsilon=1.0)


# ================================================================================= 13.2 state continue: run
@pytest.fixture(scope="module")
def state_run(tmp_path_factory):
    with threadpool_limits(1):
        run = _small_run(depth_levels=5, seed=3)
        folder = tmp_path_factory.mktemp("frozen")
        trained = {}
        for model in (DIRECTION, ENTRY):
            spec = TARGETS[model]
            trained[model] = train_model(spec, run[f"{spec.dataset}_train"])
            export_heads(folder / f"{model.lower()}.onnx", trained[model].heads, len(FEATURE_ORDER), fields=spec.fields)
        params = StateContinueParams(ages_minutes="15,5")
        out = run_state_continue_experiment(run["features"], run["entry_labels"], run["replay"], run["plan"],
                                            folder / "direction.onnx", folder / "entry.onnx", params)
    return run, trained, out, folder


def _expected_state_status(metrics: dict) -> str:
    """The acceptance rule (docs/experiments.md, "State-aware continue experiment") written out: on both sealed
    splits of both sides, market_plus_state has continue AUC >= 0.60 and above market_only's, edge MAE ratio
    <= 0.97 and below market_only's; its regressor converged."""
    ok = True
    for side in ("long", "short"):
        only, plus = metrics[side]["market_only"], metrics[side]["market_plus_state"]
        ok &= bool(plus["regressor_converged"])
        for split in ("validation_locked", "latest_stress"):
            o, p = only["splits"][split], plus["splits"][split]
            ok &= p["continue_auc"] is not None and p["continue_auc"] >= 0.60
            ok &= o["continue_auc"] is None or (p["continue_auc"] is not None and p["continue_auc"] > o["continue_auc"])
            ratio = p["edge_mae_vs_constant_ratio"]
            ok &= ratio is not None and ratio <= 0.97
            ok &= o["edge_mae_vs_constant_ratio"] is None or (ratio is not None
                                                                and ratio < o["edge_mae_vs_constant_ratio"])
    return PASS if ok else NOT_READY


def _first_touch_edge(replay: pd.DataFrame, symbol: str, start_ms: int, side: str, plan: PricePlan) -> tuple[float, int]:
    """Gross edge and stop flag of the fixed plan opened at the close of (symbol, start_ms), scanned by hand."""
    bars = replay[replay["symbol"] == symbol].set_index("open_time_ms")
    entry = bars.loc[start_ms, "close"]
    s = 1 if side == "LONG" else -1
    target, stop = plan.target_bps, plan.stop_bps
    for k in range(1, 46):
        bar = bars.loc[start_ms + k * 60_000]
        best = (bar["high"] / entry - 1) * 1e4 if s == 1 else (entry / bar["low"] - 1) * 1e4
        worst = (entry / bar["low"] - 1) * 1e4 if s == 1 else (bar["high"] / entry - 1) * 1e4
        if worst >= stop - 1e-9:
            return -stop, 1
        if best >= target - 1e-9:
            return target, 0
    exit_price = bars.loc[start_ms + 45 * 60_000, "close"]
    return ((exit_price / entry - 1) * 1e4 if s == 1 else (entry / exit_price - 1) * 1e4), 0


def test_state_continue_run_builds_checked_rows(state_run):
    run, trained, out, _ = state_run
    train, plan, replay = out.tables["train_parquet"], run["plan"], run["replay"]
    assert out.result["diagnostic_only"] is True and out.result["status"] == DIAGNOSTIC_ONLY
    assert out.result["verdict"]["status"] == _expected_state_status(out.result["metrics"])
    assert out.result["params"]["ages_minutes"] == [5, 15]
    assert [e["name"] for e in out.result["position_state_feature_schema"]] == list(STATE_FEATURES)
    assert len(train) > 1000 and set(train["time_in_position_minutes"]) == {5.0, 15.0}
    assert (train["split_id"] == train["entry_split_id"]).all()
    assert (train["open_time_ms"] - train["entry_open_time_ms"] == train["time_in_position_minutes"] * 60_000).all()
    assert np.isfinite(train[list(STATE_FEATURES)].to_numpy()).all()
    assert set(train["split_id"]) == set(TRAINING_SPLITS)

    entry_pred = trained[ENTRY].predictions.set_index("sample_id")
    direction_pred = trained[DIRECTION].predictions.set_index("sample_id")
    closes = replay.set_index(["symbol", "open_time_ms"])
    rng = np.random.default_rng(0)
    for i in rng.choice(len(train), size=6, replace=False):
        row = train.iloc[i]
        side, sym, age = row["position_side"], row["symbol"], int(row["time_in_position_minutes"])
        window = closes.loc[sym].loc[row["entry_open_time_ms"]:row["open_time_ms"]]
        assert len(window) == age + 1
        entry, cur = window["close"].iloc[0], window["close"].iloc[-1]
        s = 1 if side == "LONG" else -1
        unrealized = ((cur / entry - 1) if s == 1 else (entry / cur - 1)) * 1e4 - plan.cost_bps
        mfe = ((window["high"].max() / entry - 1) if s == 1 else (entry / window["low"].min() - 1)) * 1e4
        assert row["unrealized_pnl_bps"] == pytest.approx(unrealized, rel=1e-4, abs=1e-3)
        assert row["mfe_since_entry_bps"] == pytest.approx(max(mfe, 0.0), rel=1e-4, abs=1e-3)
        gross, stopped = _first_touch_edge(replay, sym, int(row["open_time_ms"]), side, plan)
        assert row["expected_continue_edge_bps"] == pytest.approx(gross - plan.cost_bps, abs=1e-6)
        assert row["continue_target"] == int(gross - plan.cost_bps >= 5.0 and stopped == 0)
        prefix = side.lower()
        assert row["entry_predicted_edge_bps"] == pytest.approx(
            entry_pred.loc[row["entry_sample_id"], f"{prefix}_expected_net_edge_bps"], rel=1e-3, abs=1e-3)
        assert row["entry_direction_prob"] == pytest.approx(
            direction_pred.loc[row["entry_sample_id"], f"{prefix}_prob"], abs=1e-4)
        assert row["side_ret_1m_bps"] == pytest.approx(s * row["ret_1m_bps"])


def test_state_continue_run_trains_both_sides_and_feature_sets(state_run, tmp_path):
    _, _, out, _ = state_run
    metrics, pred = out.result["metrics"], out.tables["predictions_parquet"]
    for side in ("long", "short"):
        assert metrics[side]["market_only"]["feature_count"] == len(FEATURE_ORDER)
        assert metrics[side]["market_plus_state"]["feature_count"] == len(FEATURE_ORDER) + 22
        rows = metrics[side]["market_plus_state"]["row_count"]
        assert rows == (out.tables["train_parquet"]["position_side"] == side.upper()).sum()
        assert ((pred["side"] == side) & (pred["feature_set"] == "market_plus_state")).sum() == rows
        for feature_set in ("market_only", "market_plus_state"):
            for split in ("validation_locked", "latest_stress"):
                rows = pred[(pred["side"] == side) & (pred["feature_set"] == feature_set) & (pred["split_id"] == split)]
                assert rows["continue_target"].nunique() == 2, (side, feature_set, split)
                auc = roc_auc_score(rows["continue_target"], rows["continue_prob"])
                assert metrics[side][feature_set]["splits"][split]["continue_auc"] == pytest.approx(auc, abs=1e-9)
    hashes = write_experiment(out, tmp_path)
    assert {"state_continue_train.parquet", "state_continue_predictions.parquet", "state_continue_report.md",
            "state_continue_result.json"} <= set(hashes)
    assert "Leakage policy" in out.report


def test_state_continue_refuses_a_missing_frozen_model(state_run, tmp_path):
    run, _, _, folder = state_run
    with pytest.raises(FileNotFoundError, match="direction.onnx"):
        run_state_continue_experiment(run["features"], run["entry_labels"], run["replay"], run["plan"],
                                      tmp_path / "direction.onnx", folder / "entry.onnx")


# ================================================================================================= 13.1 OFI
def test_case_31_ofi_entry_dataset_uses_actual_plan_edge():
    frame = pd.DataFrame({"sample_id": ["s1"], "split_id": ["fit_inner"]})
    entry_train = pd.DataFrame({"sample_id": ["s1"], "long_entry_target": [1], "short_entry_target": [0],
                                "long_expected_net_edge_bps": [99.0], "short_expected_net_edge_bps": [88.0],
                                "long_actual_plan_net_edge_bps": [4.0], "short_actual_plan_net_edge_bps": [-7.0]})
    data = ofi.entry_dataset(frame, entry_train)
    assert data["long_actual_plan_net_edge_bps"].iloc[0] == 4.0
    assert data["short_actual_plan_net_edge_bps"].iloc[0] == -7.0
    assert "long_expected_net_edge_bps" not in data.columns and "short_expected_net_edge_bps" not in data.columns
    with pytest.raises(DataContractError, match="long_actual_plan_net_edge_bps"):
        ofi.entry_dataset(frame, entry_train.drop(columns="long_actual_plan_net_edge_bps"))


def _snapshot(minute: int, second: int, l0: tuple, l1_sizes: tuple = (1.0, 1.0)) -> dict:
    """One 20-level snapshot: level 0 given, level 1 at 99/103 with the given sizes, levels 2+ fixed (size 1)."""
    row = {"symbol": SYM, "ts": T0 + pd.Timedelta(minutes=minute, seconds=second)}
    row.update(dict(zip(("bid_0_price", "bid_0_size", "ask_0_price", "ask_0_size"), l0)))
    row.update({"bid_1_price": 99.0, "bid_1_size": l1_sizes[0], "ask_1_price": 103.0, "ask_1_size": l1_sizes[1]})
    for i in range(2, 20):
        row.update({f"bid_{i}_price": 99.0 - i, f"bid_{i}_size": 1.0, f"ask_{i}_price": 103.0 + i,
                    f"ask_{i}_size": 1.0})
    return row


def _hand_book() -> pd.DataFrame:
    """Minutes 0-3 (level 0 = the L1 OFI example of test_replay.py), a gap at minute 4, minutes 5-6; plus decoys."""
    rows = [
        _snapshot(0, 10, (90.0, 9.0, 95.0, 9.0)),  # earlier in minute 0: superseded by the :59 snapshot
        _snapshot(0, 59, (100.0, 1.5, 102.0, 4.0), (1.0, 1.0)),
        _snapshot(1, 20, (101.0, 2.0, 102.0, 5.0), (2.0, 1.0)),
        _snapshot(1, 50, (101.0, np.nan, 102.0, 5.0)),  # last of minute 1 but without an L1 size: dropped
        _snapshot(2, 59, (101.0, 3.0, 101.5, 6.0), (2.0, 3.0)),
        _snapshot(3, 59, (100.5, 4.0, 102.5, 7.0), (1.0, 1.0)),
        _snapshot(5, 59, (100.0, 1.0, 101.0, 3.0)),
        _snapshot(6, 59, (100.0, 2.0, 101.0, 1.0)),
    ]
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1)  # unsorted input


def test_ofi_book_features_match_a_hand_computation():
    out = ofi_features.book_ofi_features(_hand_book()).set_index("open_time_ms")
    assert list(out.index) == [m * 60_000 + int(T0.value // 10**6) for m in (0, 1, 2, 3, 5, 6)]
    f = out.reset_index(drop=True)
    # level 0 OFI (the L1 example's parts): m1 202-102, m2 101-609, m3 -303+609; m6 (2-1)*100 - (1-3)*101
    ofi_l1 = [np.nan, 100.0, -508.0, 306.0, np.nan, 302.0]
    depth1 = [100 * 1.5 + 102 * 4, 101 * 2 + 102 * 5, 101 * 3 + 101.5 * 6, 100.5 * 4 + 102.5 * 7, 100 + 303, 200 + 101]
    # level 1 OFI: bid (2-1)*99, ask -(3-1)*103, then -(1-2)*99... -> m1 99, m2 -206, m3 -99+206; level 2+ unchanged
    level1 = [np.nan, 99.0, -206.0, 107.0, np.nan, 0.0]
    ml = np.add(ofi_l1, level1)
    depth_l1 = [99 * 1 + 103 * 1, 99 * 2 + 103 * 1, 99 * 2 + 103 * 3, 202, 202, 202]
    depth5 = np.add(depth1, depth_l1) + 3 * 202
    depth20 = depth5 + 15 * 202
    np.testing.assert_allclose(f["ofi_l1_1m"], np.divide(ofi_l1, depth1), rtol=1e-6)
    np.testing.assert_allclose(f["mlofi_l5_1m"], ml / depth5, rtol=1e-6)
    np.testing.assert_allclose(f["mlofi_l20_1m"], ml / depth20, rtol=1e-6)
    np.testing.assert_allclose(f["mlofi_l5_l20_gap_1m"], ml / depth5 - ml / depth20, rtol=1e-5, atol=1e-8)
    expected_3m = [np.nan] * 3 + [(100 - 508 + 306) / np.mean(depth1[1:4]), np.nan, np.nan]
    np.testing.assert_allclose(f["ofi_l1_3m"], expected_3m, rtol=1e-6)
    for name in ("ofi_l1_5m", "ofi_l1_15m", "mlofi_l5_5m", "mlofi_l20_5m", "microprice_basis_change_5m_bps",
                 "ofi_l1_5m_zscore_240m", "mlofi_l20_5m_zscore_240m"):
        assert f[name].isna().all(), name
    l0 = [(100, 1.5, 102, 4), (101, 2, 102, 5), (101, 3, 101.5, 6), (100.5, 4, 102.5, 7), (100, 1, 101, 3),
          (100, 2, 101, 1)]
    basis = [((a * bs + b * asz) / (bs + asz) / ((b + a) / 2) - 1) * 1e4 for b, bs, a, asz in l0]
    change = [np.nan, basis[1] - basis[0], basis[2] - basis[1], basis[3] - basis[2], np.nan, basis[5] - basis[4]]
    np.testing.assert_allclose(f["microprice_basis_change_1m_bps"], change, rtol=1e-5)
    assert f[list(ofi_features.BOOK_FEATURES)].dtypes.eq(np.float32).all()


def test_ofi_zscore_uses_240_rows_of_one_segment():
    rng = np.random.default_rng(5)
    n = 300
    bid0 = 100 + np.cumsum(rng.choice([-0.5, 0.0, 0.5], size=n))
    rows = [_snapshot(m, 59, (bid0[m], rng.uniform(1, 5), bid0[m] + 1, rng.uniform(1, 5)),
                      (rng.uniform(1, 3), rng.uniform(1, 3))) for m in range(n)]
    f = ofi_features.book_ofi_features(pd.DataFrame(rows))
    x = f["ofi_l1_5m"].to_numpy(dtype=np.float64)
    assert np.isnan(x[:5]).all() and np.isfinite(x[5:]).all()
    z = f["ofi_l1_5m_zscore_240m"].to_numpy()
    assert np.isnan(z[:244]).all() and np.isfinite(z[244:]).all()
    last = x[-240:]
    assert z[-1] == pytest.approx((last[-1] - last.mean()) / last.std(ddof=1), rel=1e-3)


def test_ofi_needs_twenty_book_levels():
    book = pd.DataFrame([_snapshot(0, 59, (100.0, 1.0, 101.0, 1.0))]).drop(columns=["bid_19_price"])
    with pytest.raises(DataContractError, match="20 levels"):
        ofi_features.book_ofi_features(book)


def test_ofi_params_are_validated():
    with pytest.raises(ConfigError, match="max_rows_per_split"):
        ofi.OfiParams(max_rows_per_split=-1)
    with pytest.raises(ConfigError, match="huber_epsilon"):
        ofi.OfiParams(huber_epsilon=0.5)


@pytest.fixture(scope="module")
def ofi_run():
    with threadpool_limits(1):
        return _small_run(depth_levels=20, seed=4)


def test_ofi_experiment_on_a_small_run(ofi_run, tmp_path):
    run = ofi_run
    out = ofi.run_ofi_experiment(run["features"], run["raw"]["book_depth"], run["direction_labels"],
                                 run["entry_train"], ofi.OfiParams(max_rows_per_split=2000))
    res, delta, pred = out.result, out.tables["feature_delta_parquet"], out.tables["predictions_parquet"]
    assert res["diagnostic_only"] is True and res["status"] == DIAGNOSTIC_ONLY
    assert res["ofi_method"] == "SNAPSHOT_DIFF_V1" and res["uses_event_stream_ofi"] is False
    assert [e["name"] for e in res["ofi_feature_schema"]] == list(ofi_features.OFI_FEATURES)
    assert [e["order"] for e in res["ofi_feature_schema"]] == list(range(1, 17))
    assert len(ofi_features.OFI_FEATURES) == 16 and not res["formal_model_contract_changed"]
    assert delta[list(ofi_features.OFI_FEATURES)].dtypes.eq(np.float32).all()
    assert np.isfinite(delta[list(ofi_features.OFI_FEATURES)].to_numpy()).all()
    assert max(res["split_counts"].values()) <= 2000 and res["delta_row_count"] == len(delta)
    assert res["verdict"]["status"] == _expected_ofi_status(res["metrics"])
    assert set(pred.groupby(["model", "feature_set"]).groups) == {
        (m, fs) for m in ("DIRECTION", "ENTRY") for fs in ("market_only", "market_plus_ofi")}
    assert "label_long_actual_plan_net_edge_bps" in pred.columns
    for fs, n in (("market_only", 41), ("market_plus_ofi", 57)):
        assert res["metrics"][fs]["feature_count"] == n
        assert set(res["metrics"][fs]["direction"]) == set(TRAINING_SPLITS)
    stats = {s["feature"]: s for s in res["feature_stats"]}
    # the rows before the NaN drop
    _, joined, _ = ofi_features.ofi_feature_frame(run["features"], run["raw"]["book_depth"])
    assert res["trainable_row_count"] == len(joined)
    for name in ofi_features.OFI_FEATURES:
        values = joined[name].to_numpy(dtype=np.float64)
        assert stats[name]["rows"] == len(values) and stats[name]["null_count"] == int(np.isnan(values).sum()), name
        assert stats[name]["p99"] == pytest.approx(np.nanquantile(values, 0.99), rel=1e-9, abs=1e-12), name
    assert stats["ofi_l1_5m_clipped"]["p99"] <= 5.0
    assert "p01" in out.report and "Leakage note" in out.report
    hashes = write_experiment(out, tmp_path)
    assert {"ofi_feature_delta.parquet", "ofi_predictions.parquet", "ofi_result.json"} <= set(hashes)


def _expected_ofi_status(metrics: dict) -> str:
    """The OFI rule (docs/experiments.md, "OFI experiment") written out: ADOPT iff on validation_locked and
    latest_stress market_plus_ofi has a lower Direction logloss and a higher mean (long, short) Entry AUC than
    market_only."""
    only, plus = metrics["market_only"], metrics["market_plus_ofi"]
    for split in ("validation_locked", "latest_stress"):
        if not plus["direction"][split]["logloss"] < only["direction"][split]["logloss"]:
            return ofi.NOT_ADOPTED
        auc = {fs: np.mean([m[f"{side}_entry_prob"][split]["auc"] for side in ("long", "short")])
               for fs, m in (("only", only), ("plus", plus))}
        if not auc["plus"] > auc["only"]:
            return ofi.NOT_ADOPTED
    return ofi.ADOPT


def test_planted_book_flow_signal_is_adopted(ofi_run):
    """Labels driven by the deep-book flow (invisible to FEATURE_ORDER): market_plus_ofi must win both splits."""
    run = ofi_run
    book = ofi_features.book_ofi_features(run["raw"]["book_depth"])
    base = run["direction_labels"][["sample_id", "symbol", "open_time_ms"]].merge(
        book[["symbol", "open_time_ms", "mlofi_l20_5m", "ofi_l1_15m"]], on=["symbol", "open_time_ms"])
    base = base.dropna().reset_index(drop=True)
    rng = np.random.default_rng(11)
    flow = base["mlofi_l20_5m"].to_numpy(dtype=float) + base["ofi_l1_15m"].to_numpy(dtype=float) / 3
    score = flow / flow.std() + rng.normal(0, 0.7, len(base))
    lo, hi = np.quantile(score, [0.33, 0.67])
    direction = base[["sample_id"]].assign(long_target=(score > hi).astype(np.int8),
                                           short_target=(score < lo).astype(np.int8),
                                           neutral_target=((score >= lo) & (score <= hi)).astype(np.int8),
                                           future_return_bps=score)
    entry = base[["sample_id"]].assign(long_entry_target=(score > 0).astype(np.int8),
                                       short_entry_target=(score < 0).astype(np.int8),
                                       long_actual_plan_net_edge_bps=6 * score,
                                       short_actual_plan_net_edge_bps=-6 * score)
    out = ofi.run_ofi_experiment(run["features"], run["raw"]["book_depth"], direction, entry)
    assert out.result["verdict"]["status"] == ofi.ADOPT, out.result["verdict"]
    checks = out.result["verdict"]["checks"]["validation_locked"]
    assert checks["entry_mean_auc_market_plus_ofi"] > checks["entry_mean_auc_market_only"] + 0.02


def _ofi_metrics(logloss: dict, auc: dict) -> dict:
    """metrics[feature_set] with the Direction logloss and both entry AUCs per sealed split."""
    return {fs: {"direction": {s: {"logloss": logloss[fs][i]} for i, s in enumerate(("validation_locked",
                                                                                     "latest_stress"))},
                 **{f"{side}_entry_prob": {s: {"auc": auc[fs][i]} for i, s in enumerate(("validation_locked",
                                                                                          "latest_stress"))}
                    for side in ("long", "short")}}
            for fs in ("market_only", "market_plus_ofi")}


def test_ofi_verdict_needs_both_models_better_on_both_sealed_splits():
    good = _ofi_metrics({"market_only": (0.95, 0.97), "market_plus_ofi": (0.94, 0.96)},
                        {"market_only": (0.60, 0.58), "market_plus_ofi": (0.62, 0.59)})
    assert ofi.ofi_verdict(good)["status"] == ofi.ADOPT and ofi.ofi_verdict(good)["reasons"] == []
    stress_worse = _ofi_metrics({"market_only": (0.95, 0.97), "market_plus_ofi": (0.94, 0.97)},
                                {"market_only": (0.60, 0.58), "market_plus_ofi": (0.62, 0.59)})
    v = ofi.ofi_verdict(stress_worse)
    assert v["status"] == ofi.NOT_ADOPTED
    assert v["reasons"] == ["latest_stress direction logloss not better than market_only: 0.97 >= 0.97"]
    no_auc = _ofi_metrics({"market_only": (0.95, 0.97), "market_plus_ofi": (0.94, 0.96)},
                          {"market_only": (0.60, 0.58), "market_plus_ofi": (None, 0.59)})
    assert ofi.ofi_verdict(no_auc)["status"] == ofi.NOT_ADOPTED


def test_ofi_missing_book_days_warn_and_drop_their_rows(ofi_run):
    run = ofi_run
    book = run["raw"]["book_depth"]
    day = pd.Timestamp("2026-01-05", tz="UTC")
    gone = (book["symbol"] == "ETH-USDT-PERP") & (book["ts"] >= day) & (book["ts"] < day + pd.Timedelta(days=1))
    frame, joined, warnings = ofi_features.ofi_feature_frame(run["features"], book[~gone])
    assert warnings == ["book_depth: no snapshot for ETH-USDT-PERP on 2026-01-05"]
    eth_day = (frame["symbol"] == "ETH-USDT-PERP") & (frame["event_time"] >= day) & (
        frame["event_time"] < day + pd.Timedelta(days=1, hours=4))
    assert not eth_day.any()  # the missing day and the 240-minute z-score warm-up after it
    assert joined[list(ofi_features.OFI_FEATURES)].isna().any(axis=1).sum() > 1440
    out = ofi.run_ofi_experiment(run["features"], book[~gone], run["direction_labels"], run["entry_train"],
                                 ofi.OfiParams(max_rows_per_split=2000))
    assert out.result["warnings"] == warnings
    stats = {s["feature"]: s for s in out.result["feature_stats"]}
    nulls = {name: int(joined[name].isna().sum()) for name in ofi_features.OFI_FEATURES}
    assert min(nulls.values()) > 0  # the missing day leaves a hole in every OFI feature
    assert {name: stats[name]["null_count"] for name in ofi_features.OFI_FEATURES} == nulls
    with pytest.raises(DataContractError, match="no snapshot for any feature symbol"):
        ofi_features.ofi_feature_frame(run["features"], book.assign(symbol="XRP-USDT-PERP"))

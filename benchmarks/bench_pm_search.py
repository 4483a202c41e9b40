"""Benchmark the 1536-candidate PM threshold search on 100,000 tune rows against the original approach, and the
batched candidate evaluator against the per-candidate loop on the 17,280-candidate expanded grid.

Data: 2 symbols x 50,000 one-minute rows with random but plausible predictions (softmax direction probs,
beta entry/risk probs, regression edges correlated with the entry prob, exits within 45 minutes).

The reference simulates each candidate the way the original code did: pandas boolean filtering of the whole
frame, pandas sizing, a Python loop for the overlap rule and pandas metrics. It is timed on an evenly
spaced subset of candidates and extrapolated linearly to 1536 (the printed line says so). Before timing,
the reference and ``search_thresholds`` are checked to agree on that subset.

The last line times the nonlinear PM probe's search over its 17,280-candidate expanded grid on ``--grid-rows``
rows (same generator): ``_search`` (``batch.candidate_metrics``, one numba pass) against the per-candidate loop it
replaced (``batch.reference_metrics``: ``select_trades`` + ``metrics_from_arrays`` per candidate, then the rows
with ``probe_score``), each on its own fresh ``PreparedFrame`` (cold mask caches), and checks the tables agree.

Run from the repository root: ``.venv/bin/python benchmarks/bench_pm_search.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trader_core.config import CostConfig, EntryLabelConfig
from trader_core.contracts.features import sha256_json
from trader_core.contracts.price_plan import PricePlan
from trader_core.experiments.nonlinear_pm import _search, expanded_threshold_candidates, probe_score
from trader_core.labels.price_plan import build_price_plan
from trader_core.pm import batch
from trader_core.pm.config import PMConfig, Sizing, pm_config_from_thresholds, threshold_candidates
from trader_core.pm.search import search_thresholds
from trader_core.pm.simulate import PreparedFrame

#: Target 20, stop 8, cost 6.5, max hold 45.
PLAN = build_price_plan(EntryLabelConfig(target_bps=20.0, stop_bps=8.0, max_hold_minutes=45), CostConfig())


def synthetic_frame(rows: int, seed: int = 11) -> pd.DataFrame:
    """A PM frame of ``rows`` rows over two symbols sharing one-minute timestamps."""
    rng = np.random.default_rng(seed)
    per_symbol = rows // 2
    logits = rng.normal(0.0, 1.0, (rows, 3)) + np.array([0.0, 0.0, 0.4])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    frame = pd.DataFrame({
        "sample_id": [f"s{i:06d}" for i in range(rows)],
        "symbol": np.repeat(["BTC-USDT-PERP", "ETH-USDT-PERP"], per_symbol),
        "event_time": np.tile(pd.date_range("2026-01-01", periods=per_symbol, freq="min", tz="UTC"), 2),
        "split_id": "tune_inner", "long_prob": probs[:, 0], "short_prob": probs[:, 1], "neutral_prob": probs[:, 2],
        "market_risk_prob": rng.beta(2.0, 4.0, rows)})
    for side in ("long", "short"):
        entry = rng.beta(2.5, 2.5, rows)
        frame[f"{side}_entry_prob"] = entry
        frame[f"pred_{side}_expected_net_edge_bps"] = 40.0 * (entry - 0.45) + rng.normal(0.0, 5.0, rows)
        hit = rng.random(rows) < 0.05 + 0.7 * entry
        frame[f"{side}_trade_net_edge_bps"] = np.where(hit, 13.5, -14.5) + rng.normal(0.0, 1.0, rows)
        frame[f"actual_{side}_plan_edge_bps"] = frame[f"{side}_trade_net_edge_bps"]
        frame[f"{side}_entry_target"] = hit.astype(int)
        frame[f"{side}_target_hit"] = hit.astype(int)
        frame[f"{side}_stop_hit"] = (~hit).astype(int)
        exit_ms = rng.integers(1, 46, rows) * 60_000
        frame[f"{side}_time_to_target_ms"] = np.where(hit, exit_ms, -1)
        frame[f"{side}_time_to_stop_ms"] = np.where(hit, -1, exit_ms)
        frame[f"{side}_time_to_exit_ms"] = exit_ms
    return frame


# --- reference: the original per-candidate pandas simulation --------------------------------------------

def reference_simulate(frame: pd.DataFrame, t: dict[str, float], config: PMConfig, plan: PricePlan) -> pd.DataFrame:
    margin = (frame["long_prob"] - frame["short_prob"]).abs()
    masks, scores = {}, {}
    for s in ("long", "short"):
        masks[s] = ((frame[f"{s}_prob"] > t[f"{s}_open_prob"]) & (margin > t["min_direction_margin"])
                    & (frame[f"{s}_entry_prob"] > t["min_entry_prob"])
                    & (frame["market_risk_prob"] < t["max_market_risk_prob"])
                    & (frame[f"pred_{s}_expected_net_edge_bps"] > t["min_expected_edge_bps"]))
        scores[s] = (frame[f"pred_{s}_expected_net_edge_bps"].clip(lower=0.0) * frame[f"{s}_prob"]
                     * frame[f"{s}_entry_prob"] * (1.0 - frame["market_risk_prob"].clip(lower=0.0, upper=1.0)))
    side = np.where(masks["long"] & (~masks["short"] | (scores["long"] >= scores["short"])), "LONG",
                    np.where(masks["short"], "SHORT", ""))
    trades = frame.loc[side != ""].copy().reset_index(drop=True)
    if trades.empty:
        return trades
    trades["side"] = side[side != ""]
    is_long = trades["side"].eq("LONG")
    for name, col in (("direction_prob", "{s}_prob"), ("entry_prob", "{s}_entry_prob"),
                      ("predicted_edge_bps", "pred_{s}_expected_net_edge_bps"),
                      ("actual_edge_bps", "{s}_trade_net_edge_bps"), ("time_to_exit_ms", "{s}_time_to_exit_ms")):
        trades[name] = np.where(is_long, trades[col.format(s="long")], trades[col.format(s="short")])
    hold = plan.max_hold_minutes * 60_000
    trades["time_to_exit_ms"] = np.where(trades["time_to_exit_ms"] > 0, trades["time_to_exit_ms"], hold)
    trades["planned_ratio"] = reference_ratio(trades, config.sizing, plan)
    trades = trades[trades["planned_ratio"] > 0].copy()
    if trades.empty:
        return trades
    trades["weighted_edge_bps"] = trades["actual_edge_bps"] * trades["planned_ratio"]
    trades["threshold_hash"] = sha256_json(t)[:16]
    return reference_overlap(trades, config.add.cooldown_minutes * 60_000, hold)


def reference_ratio(trades: pd.DataFrame, sizing: Sizing, plan: PricePlan) -> np.ndarray:
    edge = trades["predicted_edge_bps"].astype(float).clip(lower=0.0)
    budget = max(plan.stop_bps + plan.cost_bps, 1.0)
    raw = (sizing.base_ratio * (edge / budget) * trades["direction_prob"].clip(0.0, 1.0)
           * trades["entry_prob"].clip(0.0, 1.0) * (1.0 - trades["market_risk_prob"].clip(0.0, 1.0)))
    cap = min(sizing.max_single_leg_ratio, sizing.max_total_position_ratio, sizing.max_liquidity_usage_ratio,
              sizing.max_loss_per_trade_bps / budget)
    if cap < sizing.min_initial_ratio:
        return np.zeros(len(trades))
    return np.where(edge >= sizing.min_edge_bps, raw.clip(sizing.min_initial_ratio, cap), 0.0)


def reference_overlap(trades: pd.DataFrame, cooldown: int, hold: int) -> pd.DataFrame:
    keys = trades[["symbol", "event_time", "predicted_edge_bps", "time_to_exit_ms"]].sort_values(
        ["symbol", "event_time", "predicted_edge_bps"], ascending=[True, True, False])
    event_ns = pd.DatetimeIndex(keys["event_time"]).as_unit("ns").asi8
    next_available: dict[str, int] = {}
    keep = []
    for index, symbol, t_ns, delay in zip(keys.index, keys["symbol"].astype(str), event_ns, keys["time_to_exit_ms"]):
        if symbol in next_available and t_ns < next_available[symbol]:
            continue
        keep.append(index)
        delay = delay if np.isfinite(delay) and delay > 0 else hold
        next_available[symbol] = int(t_ns + (delay + cooldown) * 1_000_000)
    return trades.loc[keep].sort_values("event_time", kind="stable").reset_index(drop=True)


def reference_metrics(trades: pd.DataFrame) -> dict[str, float]:
    if trades.empty:
        return {"trade_count": 0, "total_weighted_edge_bps": 0.0, "max_drawdown_bps": 0.0}
    equity = trades["weighted_edge_bps"].cumsum()
    weighted = trades["weighted_edge_bps"]
    losses = ((weighted < 0) != (weighted < 0).shift()).cumsum()[weighted < 0]
    return {"trade_count": len(trades), "total_weighted_edge_bps": float(equity.iloc[-1]),
            "max_drawdown_bps": float((equity.cummax() - equity).max()),
            "win_rate": float((weighted > 0).mean()), "p50_planned_ratio": float(trades["planned_ratio"].median()),
            "max_consecutive_losses": int(losses.value_counts().max()) if len(losses) else 0}


def batched_vs_loop(rows: int) -> None:
    """Time the nonlinear PM probe's expanded-grid search (``_search``) against the per-candidate loop."""
    frame = synthetic_frame(rows)
    candidates = expanded_threshold_candidates()
    _search(PreparedFrame.build(frame.iloc[:500], PLAN), candidates[:4])  # JIT warm-up / cache load
    for_batched, for_loop = PreparedFrame.build(frame, PLAN), PreparedFrame.build(frame, PLAN)
    start = time.perf_counter()
    batched = _search(for_batched, candidates)
    batched_seconds = time.perf_counter() - start
    start = time.perf_counter()
    metrics = batch.reference_metrics(for_loop, candidates).to_dict("records")
    loop = pd.DataFrame([{**t, **m, "score": probe_score(m)} for t, m in zip(candidates, metrics, strict=True)])
    loop_seconds = time.perf_counter() - start
    pd.testing.assert_frame_equal(batched, loop, check_exact=False, rtol=1e-9, atol=0.0)
    print(f"nonlinear_pm_search_{len(candidates)}x{rows // 1000}k: batched {batched_seconds:.2f} s, per-candidate "
          f"loop {loop_seconds:.1f} s, ratio batched vs per-candidate loop {loop_seconds / batched_seconds:.1f} "
          f"(tables equal, {int(batched['trade_count'].sum())} trades)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reference-candidates", type=int, default=48)
    parser.add_argument("--grid-rows", type=int, default=30_000)
    args = parser.parse_args()
    frame = synthetic_frame(args.rows)
    candidates = threshold_candidates()
    subset = candidates[:: len(candidates) // args.reference_candidates][: args.reference_candidates]
    search_thresholds(frame.iloc[:500], PLAN, candidates=candidates[:4])  # JIT warm-up

    start = time.perf_counter()
    result = search_thresholds(frame, PLAN, candidates=candidates)
    ours = time.perf_counter() - start

    ours_by_key = result.candidates.set_index(list(candidates[0])).sort_index()
    start = time.perf_counter()
    reference = [reference_metrics(reference_simulate(frame, t, pm_config_from_thresholds(t), PLAN)) for t in subset]
    reference_seconds = (time.perf_counter() - start) * len(candidates) / len(subset)
    for t, metrics in zip(subset, reference):
        row = ours_by_key.loc[tuple(t.values())]
        assert row["trade_count"] == metrics["trade_count"], (t, row["trade_count"], metrics["trade_count"])
        for key, value in metrics.items():
            assert np.isclose(row[key], value, rtol=1e-9, atol=1e-9), (t, key, row[key], value)
    print(f"best: {result.best_thresholds} trades={result.best_metrics['trade_count']} "
          f"total_weighted={result.best_metrics['total_weighted_edge_bps']:.2f}")
    print(f"pm_search_1536x100k: ours {ours:.2f} s, reference {reference_seconds:.1f} s "
          f"(extrapolated from {len(subset)} candidates), ratio {reference_seconds / ours:.1f}")
    batched_vs_loop(args.grid_rows)


if __name__ == "__main__":
    main()

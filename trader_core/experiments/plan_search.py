"""Price-plan search and dynamic exit search (docs/experiments.md, "Price-plan search" and "Dynamic exit search"): grids of plans scored by path stats.

Both searches share one evaluation core: for each plan of the grid, the path stats of ``compute_path_stats``
(never re-implemented here) are joined to the trainable feature rows on (symbol, open_time_ms). Everything
but the plan outcomes depends only on the horizon: the path windows (``prepare_path_windows``: valid start
rows, excursions, spread and vol), the join and the (split_id, side) group of each joined row are computed
once per horizon, and each plan only adds its outcomes (``fill_path_stats``). Per (plan, split, side) the
outcomes are aggregated into a *rows* table (numpy on the cached group codes, equal to pandas' groupby mean
and quantile), pivoted to ``<metric>_<split>`` columns per (plan, side) in the *summary*, and scored over
the gate splits (tune_inner, validation_locked, latest_stress). One summary row is one (plan, side): a plan
may suit one side only, so ``candidate_count`` counts unique plan ids.

The evaluation core (path windows per horizon, the join, group statistics) is
``trader_core.experiments.plan_grid``.

Windows and splits: ``replay_split_ids`` (one split id per replay row, e.g.
``trader_core.splits.assign_split(replay["event_time"], split_manifest)``) keeps every window inside one
split, as the formal labels do; ``None`` reproduces the seed's ``_build_path_stats`` (no split restriction).

Decisions (docs/experiments.md, "Price-plan search"):

* default grid: targets (20, 30, 40, 60, 80) x stops (10, 15, 20, 30, 40) bps, FIXED_TARGET_STOP_V1, one
  horizon = the label config's entry ``max_hold_minutes``; plan ids ``fixed_h{h}_t{t:g}_s{s:g}``;
* ``target_rate_margin`` = target hit rate - break-even hit rate, the break-even rate being the hit rate at
  which ``p*T - (1-p)*S - cost = 0``: ``(S + cost) / (T + S)`` (timeouts counted as neither);
* a tie of target and stop on one bar is a stop (path stats' rule), flagged ``ambiguous``;
* a plan with a non-finite score term (a gate split without rows) scores ``toolkit.NAN_SCORE``;
* no plan passes the robust filter -> verdict ``NO_ROBUST_PLAN`` and ``best_plan`` None (no fallback pick);
  otherwise ``CANDIDATE_PLAN_FOUND`` - a candidate for the next experiment, never a go-live decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from trader_core.config import CostConfig, LabelConfig
from trader_core.contracts.labels import DYNAMIC_TRAILING, FIXED_TARGET_STOP
from trader_core.contracts.versions import EVAL_SPLITS
from trader_core.experiments.plan_grid import GridPlan, PlanOutcomes, grid_rows, pivot_by_split
from trader_core.experiments.plan_search_params import DynamicExitParams, PricePlanSearchParams
from trader_core.experiments.toolkit import DIAGNOSTIC_ONLY, NAN_SCORE, ExperimentOutput
from trader_core.labels.path_stats import PlanParams
from trader_core.report import jsonable, markdown_table

PRICE_PLAN_SEARCH = "price_plan_search"
DYNAMIC_EXIT_SEARCH = "dynamic_exit_search"
#: Splits scored by both searches (the seed's GATE_SPLITS); rows are reported for all four training splits.
GATE_SPLITS = EVAL_SPLITS

# ---------------------------------------------------------------------------------------------- plans
def dynamic_plan_id(h: int, t: float, s: float, tr: float, m: float, r1: float, r2: float) -> str:
    """``dyn_h{h}_t{t:g}_s{s:g}_trail{tr:g}_t2x{m:g}_p{round(r1*100)}_{round(r2*100)}``
    (docs/experiments.md, "Dynamic exit search")."""
    return f"dyn_h{h}_t{t:g}_s{s:g}_trail{tr:g}_t2x{m:g}_p{round(r1 * 100)}_{round(r2 * 100)}"


def _stop_fills(labels: LabelConfig) -> dict[str, float]:
    """The run's stop-fill rules (docs/labels.md, "Stop fills"): every searched plan fills stops like the labels."""
    return {"stop_fill_excess_share": labels.entry.stop_fill_excess_share,
            "stop_slippage_allowance_bps": labels.entry.stop_slippage_allowance_bps}


def _price_plans(params: PricePlanSearchParams, horizon: int, fills: dict[str, float]) -> list[GridPlan]:
    return [GridPlan(f"fixed_h{horizon}_t{t:g}_s{s:g}", horizon,
                     PlanParams(method=FIXED_TARGET_STOP, target_bps=t, stop_bps=s, **fills),
                     {"horizon_minutes": horizon, "target_bps": t, "stop_bps": s})
            for t in params.targets_bps for s in params.stops_bps]


def _dynamic_plans(params: DynamicExitParams, fills: dict[str, float]) -> list[GridPlan]:
    plans = []
    for h in params.horizons:
        for t in params.targets_bps:
            for s in params.stops_bps:
                for tr in params.trailing_stops_bps:
                    for m in params.second_target_multipliers:
                        for r1 in params.take1_ratios:
                            for r2 in params.take2_ratios:
                                plan = PlanParams(method=DYNAMIC_TRAILING, target_bps=t, stop_bps=s,
                                                  partial_take_1_ratio=r1, partial_take_2_ratio=r2,
                                                  second_target_bps=t * m, trailing_stop_bps=tr,
                                                  breakeven_after_first_target=True, **fills)
                                plans.append(GridPlan(dynamic_plan_id(h, t, s, tr, m, r1, r2), h, plan, {
                                    "horizon_minutes": h, "target_bps": t, "stop_bps": s, "trailing_stop_bps": tr,
                                    "second_target_multiplier": m, "second_target_bps": t * m,
                                    "take1_ratio": r1, "take2_ratio": r2}))
    return plans


def _over(frame: pd.DataFrame, metric: str, how: str, splits: Sequence[str] = GATE_SPLITS) -> pd.Series:
    """Row-wise min/mean/max of ``<metric>_<split>`` over ``splits``; NaN when any split is NaN."""
    values = frame[[f"{metric}_{s}" for s in splits]]
    return getattr(values, how)(axis=1, skipna=False)


#: Eval aggregates of the two summaries: output column -> (pivoted metric, row-wise min/mean/max).
_PRICE_AGGREGATES = {
    "avg_price_plan_edge_eval": ("avg_price_plan_net_edge_bps", "mean"),
    "min_price_plan_edge_eval": ("avg_price_plan_net_edge_bps", "min"),
    "min_margin_eval": ("target_rate_margin", "min"), "avg_edge_eval": ("avg_edge", "mean"),
    "min_positive_label_rate_eval": ("positive_label_rate", "min"),
    "max_positive_label_rate_eval": ("positive_label_rate", "max")}
_DYNAMIC_AGGREGATES = {
    "avg_actual_edge_eval": ("avg_actual_net_edge_bps", "mean"),
    "min_actual_edge_eval": ("avg_actual_net_edge_bps", "min"),
    "min_breakeven_rate_eval": ("breakeven_rate", "min"),
    "min_positive_label_rate_eval": ("positive_label_rate", "min"),
    "max_positive_label_rate_eval": ("positive_label_rate", "max"), "max_stop_hit_rate_eval": ("stop_hit_rate", "max")}


def _add_eval_aggregates(frame: pd.DataFrame, aggregates: dict[str, tuple[str, str]]) -> None:
    for column, (metric, how) in aggregates.items():
        frame[column] = _over(frame, metric, how)


def _ranked(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.sort_values(["score", "plan_id", "side"], ascending=[False, True, True],
                               kind="stable").reset_index(drop=True)


def _best_record(row: pd.Series) -> dict[str, Any]:
    return {k: jsonable(v) for k, v in row.to_dict().items()}


# ------------------------------------------------------------------------------ price plans (docs/experiments.md)
def price_plan_side_rows(outcomes: PlanOutcomes, plan: GridPlan, *, cost_bps: float,
                         min_expected_net_edge_bps: float) -> pd.DataFrame:
    """Price-plan rows per (split, side): hit rates, plan and expected edges, margin."""
    net = outcomes["gross_edge_bps"] - cost_bps
    out = outcomes.groups.means({
        "target_hit_rate": outcomes["target_hit"], "stop_hit_rate": outcomes["stop_hit"],
        "timeout_rate": outcomes["timeout_hit"], "ambiguous_rate": outcomes["ambiguous_hit"],
        "avg_price_plan_net_edge_bps": net, "avg_edge": outcomes["mfe_bps"] - cost_bps,
        "positive_label_rate": net >= min_expected_net_edge_bps})
    breakeven = (plan.params.stop_bps + cost_bps) / (plan.params.target_bps + plan.params.stop_bps)
    out["breakeven_target_rate"] = breakeven
    out["target_rate_margin"] = out["target_hit_rate"] - breakeven
    return out


_PRICE_METRICS = ("rows", "target_hit_rate", "stop_hit_rate", "avg_price_plan_net_edge_bps", "avg_edge",
                  "positive_label_rate", "target_rate_margin")


def plan_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Price-plan summary: per (plan, side) eval aggregates, penalty, spread bonus and score."""
    s = pivot_by_split(rows, ["plan_id", "horizon_minutes", "target_bps", "stop_bps", "side"], _PRICE_METRICS)
    _add_eval_aggregates(s, _PRICE_AGGREGATES)
    s["penalty"] = ((0.03 - s["min_positive_label_rate_eval"]).clip(lower=0) * 120
                    + (s["max_positive_label_rate_eval"] - 0.55).clip(lower=0) * 20)
    s["spread_bonus"] = np.log1p((s["target_bps"] - s["stop_bps"]).clip(lower=0))
    score = (8 * s["avg_price_plan_edge_eval"] + 3 * s["min_price_plan_edge_eval"] + 80 * s["min_margin_eval"]
             + 0.05 * s["avg_edge_eval"] - s["penalty"] + s["spread_bonus"])
    s["score"] = score.where(np.isfinite(score), NAN_SCORE)
    return _ranked(s)


def robust_price_plans(summary: pd.DataFrame) -> pd.Series:
    """The robust filter (docs/experiments.md, "Price-plan search") (NaN fails every comparison)."""
    return ((summary["min_positive_label_rate_eval"] >= 0.03) & (summary["max_positive_label_rate_eval"] <= 0.55)
            & (summary["avg_price_plan_edge_eval"] > 0) & (summary["min_price_plan_edge_eval"] > -1)
            & (summary["target_bps"] > summary["stop_bps"]))


def search_price_plans(features: pd.DataFrame, replay: pd.DataFrame, *, labels: LabelConfig | None = None,
                       costs: CostConfig | None = None, params: PricePlanSearchParams | None = None,
                       replay_split_ids: np.ndarray | None = None, run_id: str | None = None) -> ExperimentOutput:
    """Score FIXED_TARGET_STOP_V1 (target, stop) plans; the best robust plan is a candidate only."""
    labels, costs, params = labels or LabelConfig(), costs or CostConfig(), params or PricePlanSearchParams()
    horizon = params.horizon_minutes or labels.entry.max_hold_minutes
    cost, min_expected = costs.cost_bps, labels.entry.min_expected_net_edge_bps
    rows = grid_rows(features, replay, _price_plans(params, horizon, _stop_fills(labels)), replay_split_ids,
                     lambda o, p: price_plan_side_rows(o, p, cost_bps=cost, min_expected_net_edge_bps=min_expected))
    summary = plan_summary(rows)
    summary["robust"] = robust_price_plans(summary)
    robust = summary[summary["robust"]]
    best = None if robust.empty else _best_record(robust.iloc[0])
    verdict = "NO_ROBUST_PLAN" if best is None else "CANDIDATE_PLAN_FOUND"
    result = {
        "name": PRICE_PLAN_SEARCH, "status": DIAGNOSTIC_ONLY, "diagnostic_only": True, "run_id": run_id,
        "params": {"targets_bps": list(params.targets_bps), "stops_bps": list(params.stops_bps),
                   "horizon_minutes": horizon, "plan_method": FIXED_TARGET_STOP},
        "gate_splits": list(GATE_SPLITS),
        "cost_bps": cost, "min_expected_net_edge_bps": min_expected,
        "candidate_count": int(summary["plan_id"].nunique()), "robust_count": int(summary["robust"].sum()),
        "verdict": verdict, "best_plan": best,
        "selection_rule": "min_positive_label_rate_eval >= 0.03, max_positive_label_rate_eval <= 0.55, "
                          "avg_price_plan_edge_eval > 0, min_price_plan_edge_eval > -1, target > stop; top score",
        "target_rate_margin_definition": "target_hit_rate - (stop_bps + cost_bps) / (target_bps + stop_bps)",
    }
    columns = ["plan_id", "side", "target_bps", "stop_bps", "score", "avg_price_plan_edge_eval",
               "min_price_plan_edge_eval", "min_margin_eval", "min_positive_label_rate_eval",
               "max_positive_label_rate_eval", "robust"]
    best_text = ("No plan passes the robust filter: **no robust plan** (best_plan is None)." if best is None else
                 f"Best robust plan: `{best['plan_id']}` {best['side']} (score {best['score']:.3f}).")
    report = (f"# Price-plan search ({DIAGNOSTIC_ONLY})\n\n"
              f"Horizon {horizon} min, cost {cost:g} bps, positive = price-plan net edge >= {min_expected:g} bps; "
              f"scored on {', '.join(GATE_SPLITS)}.\n\n{best_text}\n\n"
              "This is a candidate for the next experiment, **not a go-live decision**.\n\n"
              "## Top 20 (plan, side) by score\n\n" + markdown_table(summary.head(20), columns))
    return ExperimentOutput(PRICE_PLAN_SEARCH, result, report, {"rows": rows, "summary": summary})


# --------------------------------------------------------------------------- dynamic exits (docs/experiments.md)
def dynamic_exit_side_rows(outcomes: PlanOutcomes, *, cost_bps: float,
                           min_expected_net_edge_bps: float) -> pd.DataFrame:
    """Dynamic-exit rows per (split, side) of one plan; actual net = gross - cost."""
    net = outcomes["gross_edge_bps"] - cost_bps
    out = outcomes.groups.means({
        "avg_actual_net_edge_bps": net, "positive_label_rate": net >= min_expected_net_edge_bps,
        "breakeven_rate": net >= 0, "target_hit_rate": outcomes["target_hit"], "stop_hit_rate": outcomes["stop_hit"],
        "timeout_rate": outcomes["timeout_hit"], "avg_time_to_exit_min": outcomes["time_to_exit_ms"] / 60_000.0,
        "avg_mfe_bps": outcomes["mfe_bps"], "avg_mae_bps": outcomes["mae_bps"]})
    q = outcomes.groups.quantiles(net, (0.5, 0.1, 0.9))
    for i, name in enumerate(("median", "p10", "p90")):
        out.insert(2 + i, f"{name}_actual_net_edge_bps", q[:, i])
    return out


_DYNAMIC_METRICS = ("rows", "avg_actual_net_edge_bps", "breakeven_rate", "positive_label_rate", "stop_hit_rate",
                    "target_hit_rate", "avg_time_to_exit_min")
_DYNAMIC_PLAN_COLUMNS = ("plan_id", "horizon_minutes", "target_bps", "stop_bps", "trailing_stop_bps",
                         "second_target_multiplier", "second_target_bps", "take1_ratio", "take2_ratio")


def dynamic_exit_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Dynamic-exit summary per (plan, side): gate-split aggregates, score and the robust flag."""
    s = pivot_by_split(rows, [*_DYNAMIC_PLAN_COLUMNS, "side"], _DYNAMIC_METRICS)
    _add_eval_aggregates(s, _DYNAMIC_AGGREGATES)
    s["score"] = (8 * s["avg_actual_edge_eval"].fillna(NAN_SCORE) + 4 * s["min_actual_edge_eval"].fillna(NAN_SCORE)
                  + 20 * s["min_breakeven_rate_eval"].fillna(0) + 20 * s["min_positive_label_rate_eval"].fillna(0)
                  - 8 * s["max_stop_hit_rate_eval"].fillna(1))
    s["robust"] = ((s["avg_actual_edge_eval"] > 0) & (s["min_actual_edge_eval"] > -1)
                   & (s["min_breakeven_rate_eval"] >= 0.45) & (s["min_positive_label_rate_eval"] >= 0.03)
                   & (s["max_positive_label_rate_eval"] <= 0.55))
    return _ranked(s)


def search_dynamic_exit_plans(features: pd.DataFrame, replay: pd.DataFrame, *, labels: LabelConfig | None = None,
                              costs: CostConfig | None = None, params: DynamicExitParams | None = None,
                              replay_split_ids: np.ndarray | None = None,
                              run_id: str | None = None) -> ExperimentOutput:
    """Score DYNAMIC_TRAILING_V1 plans (docs/experiments.md, "Dynamic exit search"); best = top score among robust rows, else among all rows."""
    labels, costs, params = labels or LabelConfig(), costs or CostConfig(), params or DynamicExitParams()
    cost, min_expected = costs.cost_bps, labels.entry.min_expected_net_edge_bps
    rows = grid_rows(features, replay, _dynamic_plans(params, _stop_fills(labels)), replay_split_ids,
                     lambda o, p: dynamic_exit_side_rows(o, cost_bps=cost, min_expected_net_edge_bps=min_expected))
    summary = dynamic_exit_summary(rows)
    robust_found = bool(summary["robust"].any())
    pool = summary[summary["robust"]] if robust_found else summary
    best = {**_best_record(pool.iloc[0]), "plan_method": DYNAMIC_TRAILING, "breakeven_after_first_target": True,
            "robust_candidate_found": robust_found}
    result = {
        "name": DYNAMIC_EXIT_SEARCH, "status": DIAGNOSTIC_ONLY, "diagnostic_only": True, "run_id": run_id,
        "params": {k: list(v) for k, v in asdict(params).items()}, "gate_splits": list(GATE_SPLITS),
        "cost_bps": cost, "min_expected_net_edge_bps": min_expected,
        "entry_label_method": labels.entry.target_method,
        "candidate_count": int(summary["plan_id"].nunique()), "robust_candidate_found": robust_found,
        "best_plan": best,
    }
    columns = ["plan_id", "side", "score", "avg_actual_edge_eval", "min_actual_edge_eval", "min_breakeven_rate_eval",
               "min_positive_label_rate_eval", "max_positive_label_rate_eval", "max_stop_hit_rate_eval", "robust"]
    pick = "robust" if robust_found else "no robust plan; best of all rows"
    report = (f"# Dynamic exit search ({DIAGNOSTIC_ONLY})\n\n"
              f"{len(summary['plan_id'].unique())} DYNAMIC_TRAILING_V1 plans (breakeven after the first target), "
              f"cost {cost:g} bps, positive = actual net edge >= {min_expected:g} bps; scored on "
              f"{', '.join(GATE_SPLITS)}.\n\nBest plan ({pick}): `{best['plan_id']}` {best['side']} "
              f"(score {best['score']:.3f}). A diagnostic candidate, not a change of the formal price plan.\n\n"
              "## Top 20 (plan, side) by score\n\n" + markdown_table(summary.head(20), columns))
    return ExperimentOutput(DYNAMIC_EXIT_SEARCH, result, report, {"rows": rows, "summary": summary})

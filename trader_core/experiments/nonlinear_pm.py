"""Nonlinear PM probe (docs/experiments.md): do tree models give the position manager a stable edge?

Gradient-boosted trees replace the linear model outputs in the run's PM frame, then the PM simulator
searches an expanded, low-probability threshold grid (17280 candidates) on tune_inner and re-simulates
the best thresholds on the three eval splits.

* Modes: ``direction_entry_tree`` replaces the Direction probabilities and the Entry outputs;
  ``entry_tree_only`` keeps the run's (linear) Direction probabilities.
* Trees (``toolkit``): Direction HGB classifier (160 iterations, random_state 41) on the argmax of
  long/short/neutral_target; Entry binary heads (180, rs 43 long / 47 short) on ``<side>_entry_target``;
  regression heads (180, rs 53 / 59) on ``<side>_actual_plan_net_edge_bps``. A head with fewer than
  ``min_fit_rows`` (1000) rows or one class raises. Entry heads train on fit_inner rows filtered by
  ``direction_label`` (the direction dataset's ``<side>_target`` == 1, inner-joined one-to-one on
  sample_id) or ``side_opportunity`` (``<side>_max_achievable_net_edge_bps`` >= entry_opportunity_bps).
  The five trees are fitted together (``fits.run_fits``).
* Prediction frame: the run's PM frame (``trader_core.pm.frame.pm_frame``) restricted to the eval splits,
  with the model columns inner-joined from the tree outputs; a row-count change raises. The PM edge is the
  tree **regression** edge (``pred_*`` and ``model_pred_*``), whatever edge mode built the frame.
* Search: one ``PreparedFrame`` per split, all candidates at once by ``pm.batch.candidate_table`` (a numba
  kernel equal to ``select_trades`` + array metrics per candidate, which the tests hold it to),
  ``probe_score`` = -1e6 without trades, else avg_weighted * sqrt(n) + 0.03 * total_weighted
  - 0.20 * max_drawdown - 2 * max(0, 80 - n). The best is the first candidate with the top score.
* Verdict ``PROMISING_DIAGNOSTIC_ONLY`` iff tune trades >= 80, validation >= 40, stress >= 10, tune and
  validation avg_weighted > 0 and stress avg_weighted > -1; else ``NO_STABLE_NONLINEAR_PM_EDGE``.

Decisions: a direction class absent from fit_inner gets probability 0; Direction predictions come from the
direction dataset and Entry predictions from the entry dataset (each on its own eval rows); features may
be NaN (trees accept it) but not infinite.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import EVAL_SPLITS, LATEST_STRESS_SPLIT, TUNE_SPLIT, VALIDATION_LOCKED_SPLIT
from trader_core.errors import DataContractError
from trader_core.experiments.nonlinear_pm_params import NonlinearPmParams
from trader_core.experiments.fits import FitJob, FitResult, run_fits
from trader_core.experiments.toolkit import (
    DIAGNOSTIC_ONLY,
    ExperimentOutput,
    eval_split_frames,
    finite_matrix,
    fit_rows,
    require_columns,
)
from trader_core.pm.batch import candidate_table
from trader_core.pm.config import THRESHOLD_KEYS, pm_config_from_thresholds
from trader_core.pm.metrics import trade_metrics
from trader_core.pm.simulate import PreparedFrame, simulate_trades
from trader_core.report import jsonable, markdown_table

PROMISING = "PROMISING_DIAGNOSTIC_ONLY"
NO_EDGE = "NO_STABLE_NONLINEAR_PM_EDGE"
MIN_VIABLE_TRADES = 80
NO_TRADE_SCORE = -1_000_000.0
DIRECTION_TREE = {"max_iter": 160, "random_state": 41}
ENTRY_TREES = {"long": {"classifier": 43, "regressor": 53}, "short": {"classifier": 47, "regressor": 59}}
ENTRY_TREE_MAX_ITER = 180
DIRECTION_COLUMNS = ("long_prob", "short_prob", "neutral_prob")
ENTRY_COLUMNS = ("long_entry_prob", "short_entry_prob", "pred_long_expected_net_edge_bps",
                 "pred_short_expected_net_edge_bps", "model_pred_long_expected_net_edge_bps",
                 "model_pred_short_expected_net_edge_bps")

#: Expanded grid values per threshold key; 1.01 disables a side.
EXPANDED_GRID: dict[str, tuple[float, ...]] = {
    "long_open_prob": (0.20, 0.30, 0.40, 0.50, 0.60, 1.01),
    "short_open_prob": (0.20, 0.30, 0.40, 0.50, 0.60, 1.01),
    "min_entry_prob": (0.05, 0.10, 0.20, 0.30, 0.40, 0.50),
    "max_market_risk_prob": (0.45, 0.65, 0.85, 1.00),
    "min_expected_edge_bps": (-5.0, 0.0, 3.0, 5.0, 8.0),
    "min_direction_margin": (0.00, 0.01, 0.02, 0.05),
}


def expanded_threshold_candidates() -> list[dict[str, float]]:
    """The 17280-candidate product of EXPANDED_GRID in THRESHOLD_KEYS order."""
    grids = [EXPANDED_GRID[key] for key in THRESHOLD_KEYS]
    return [dict(zip(THRESHOLD_KEYS, values)) for values in itertools.product(*grids)]


def side_opportunity_mask(entry: pd.DataFrame, side: str, opportunity_bps: float) -> np.ndarray:
    """``<side>_max_achievable_net_edge_bps >= opportunity_bps`` (NaN -> False)."""
    column = f"{side.lower()}_max_achievable_net_edge_bps"
    require_columns(entry, [column], "entry_train")
    return (pd.to_numeric(entry[column], errors="coerce") >= opportunity_bps).to_numpy(dtype=bool)


def entry_fit_frame(direction_train: pd.DataFrame, entry_train: pd.DataFrame, side: str,
                    params: NonlinearPmParams) -> pd.DataFrame:
    """fit_inner Entry rows of one side's heads after the entry train filter."""
    train = fit_rows(entry_train)
    if params.entry_train_filter == "side_opportunity":
        return train[side_opportunity_mask(train, side, params.entry_opportunity_bps)]
    label = f"{side.lower()}_target"
    require_columns(direction_train, ["sample_id", label], "direction_train")
    merged = train.merge(direction_train[["sample_id", label]], on="sample_id", how="inner", validate="one_to_one")
    return merged[pd.to_numeric(merged[label], errors="coerce").to_numpy() == 1]


def exit_metrics(trades: pd.DataFrame) -> dict[str, float]:
    """Target/stop/timeout rates and mean/median time to exit in minutes; zeros when empty."""
    keys = ("target_hit_rate", "stop_hit_rate", "timeout_exit_rate", "avg_time_to_exit_min", "p50_time_to_exit_min")
    if trades.empty:
        return dict.fromkeys(keys, 0.0)
    target = pd.to_numeric(trades["target_hit"], errors="coerce").fillna(0).to_numpy() == 1
    stop = pd.to_numeric(trades["stop_hit"], errors="coerce").fillna(0).to_numpy() == 1
    minutes = pd.to_numeric(trades["time_to_exit_ms"], errors="coerce").fillna(0.0).to_numpy(dtype=float) / 60_000.0
    return dict(zip(keys, (float(target.mean()), float(stop.mean()), float((~target & ~stop).mean()),
                           float(minutes.mean()), float(np.median(minutes)))))


def probe_score(metrics: Mapping[str, Any]) -> float:
    n = int(metrics["trade_count"])
    if n == 0:
        return NO_TRADE_SCORE
    return (float(metrics["avg_weighted_edge_bps"]) * math.sqrt(n) + 0.03 * float(metrics["total_weighted_edge_bps"])
            - 0.20 * float(metrics["max_drawdown_bps"]) - 2.0 * max(0, MIN_VIABLE_TRADES - n))


def verdict(split_metrics: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    tune, val, stress = (split_metrics[s] for s in (TUNE_SPLIT, VALIDATION_LOCKED_SPLIT, LATEST_STRESS_SPLIT))
    passed = (tune["trade_count"] >= MIN_VIABLE_TRADES and val["trade_count"] >= 40 and stress["trade_count"] >= 10
              and tune["avg_weighted_edge_bps"] > 0 and val["avg_weighted_edge_bps"] > 0
              and stress["avg_weighted_edge_bps"] > -1.0)
    return {"status": PROMISING if passed else NO_EDGE,
            "rule": "tune trades >= 80, validation >= 40, stress >= 10, tune and validation avg_weighted_edge > 0, "
                    "stress avg_weighted_edge > -1",
            "reason": "diagnostic only: says whether tree models are worth engineering, never a go-live decision"}


# --- trees ---------------------------------------------------------------------------------------------------

def _x(frame: pd.DataFrame, name: str) -> np.ndarray:
    return finite_matrix(frame, FEATURE_ORDER, name, allow_nan=True)


def _check_fit(y: np.ndarray, head: str, min_rows: int) -> None:
    if len(y) < min_rows:
        raise DataContractError(f"nonlinear PM probe: {len(y)} fit row(s) for tree head {head!r}, need {min_rows}")
    if np.unique(y).size < 2:
        raise DataContractError(f"nonlinear PM probe: tree head {head!r} has only one class in its fit rows")


def _direction_job(direction_train: pd.DataFrame, params: NonlinearPmParams) -> tuple[FitJob, pd.DataFrame]:
    """The Direction tree's job (predicting the eval rows) and those rows' sample ids."""
    targets = ["long_target", "short_target", "neutral_target"]
    require_columns(direction_train, ["sample_id", "split_id", *FEATURE_ORDER, *targets], "direction_train")
    train = fit_rows(direction_train)
    y = train[targets].to_numpy(dtype=float).argmax(axis=1)
    _check_fit(y, "direction", params.min_fit_rows)
    rows = direction_train[direction_train["split_id"].isin(EVAL_SPLITS)]
    job = FitJob("classifier", "tree", _x(train, "direction_train fit_inner"), y,
                 (_x(rows, "direction_train eval splits"),), DIRECTION_TREE)
    return job, rows[["sample_id"]].reset_index(drop=True)


def _direction_predictions(ids: pd.DataFrame, fitted: FitResult) -> pd.DataFrame:
    out = ids.copy()
    proba, classes = fitted.predictions[0], list(fitted.classes or ())
    for k, column in enumerate(DIRECTION_COLUMNS):
        out[column] = proba[:, classes.index(k)] if k in classes else 0.0
    return out


def _entry_jobs(direction_train: pd.DataFrame, entry_train: pd.DataFrame,
                params: NonlinearPmParams) -> tuple[list[FitJob], pd.DataFrame, dict[str, int]]:
    """Per side (ENTRY_TREES order) the classifier's and the edge regressor's jobs, predicting the eval rows;
    those rows' sample ids and the fit row counts."""
    require_columns(entry_train, ["sample_id", "split_id", *FEATURE_ORDER, "long_entry_target", "short_entry_target",
                                  "long_actual_plan_net_edge_bps", "short_actual_plan_net_edge_bps"], "entry_train")
    rows = entry_train[entry_train["split_id"].isin(EVAL_SPLITS)]
    x_eval = _x(rows, "entry_train eval splits")
    jobs, fit_counts = [], {}
    for side, seeds in ENTRY_TREES.items():
        train = entry_fit_frame(direction_train, entry_train, side, params)
        fit_counts[side] = len(train)
        x = _x(train, f"entry_train {side} fit rows")
        y = pd.to_numeric(train[f"{side}_entry_target"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
        _check_fit(y, f"{side}_entry_prob", params.min_fit_rows)
        edge = train[f"{side}_actual_plan_net_edge_bps"].to_numpy(dtype=float)
        if not np.isfinite(edge).all():
            raise DataContractError(f"entry_train: non-finite {side}_actual_plan_net_edge_bps in the {side} fit rows")
        jobs += [FitJob("classifier", "tree", x, y, (x_eval,),
                        {"random_state": seeds["classifier"], "max_iter": ENTRY_TREE_MAX_ITER}),
                 FitJob("regressor", "tree", x, edge, (x_eval,),
                        {"random_state": seeds["regressor"], "max_iter": ENTRY_TREE_MAX_ITER})]
    return jobs, rows[["sample_id"]].reset_index(drop=True), fit_counts


def _entry_predictions(ids: pd.DataFrame, fitted: Sequence[FitResult]) -> pd.DataFrame:
    out = ids.copy()
    for k, side in enumerate(ENTRY_TREES):
        classifier, regressor = fitted[2 * k], fitted[2 * k + 1]
        out[f"{side}_entry_prob"] = classifier.positive(0)
        out[f"pred_{side}_expected_net_edge_bps"] = regressor.predictions[0]
        out[f"model_pred_{side}_expected_net_edge_bps"] = out[f"pred_{side}_expected_net_edge_bps"]
    return out


def tree_predictions(direction_train: pd.DataFrame, entry_train: pd.DataFrame,
                     params: NonlinearPmParams) -> tuple[pd.DataFrame, dict[str, int]]:
    """The tree outputs replacing the PM frame's model columns (by sample_id) and the Entry fit row counts; the
    trees are fitted together (``fits.run_fits``)."""
    jobs, entry_ids, fit_counts = _entry_jobs(direction_train, entry_train, params)
    direction = _direction_job(direction_train, params) if params.probe_mode == "direction_entry_tree" else None
    fitted = run_fits(jobs + ([direction[0]] if direction else []))
    replacements = _entry_predictions(entry_ids, fitted[:len(jobs)])
    if direction:
        replacements = _direction_predictions(direction[1], fitted[-1]).merge(
            replacements, on="sample_id", how="inner", validate="one_to_one")
    return replacements, fit_counts


def prediction_frame(pm_frame: pd.DataFrame, replacements: pd.DataFrame) -> pd.DataFrame:
    """The PM frame's eval rows with the replacement columns inner-joined on sample_id; row loss raises."""
    require_columns(pm_frame, ["sample_id", "split_id", *[c for c in replacements.columns if c != "sample_id"]],
                    "pm frame")
    frame = pm_frame[pm_frame["split_id"].isin(EVAL_SPLITS)]
    out = frame.drop(columns=[c for c in replacements.columns if c != "sample_id"]).merge(
        replacements, on="sample_id", how="inner", validate="one_to_one")
    if len(out) != len(frame):
        raise DataContractError(f"nonlinear PM probe: the tree prediction frame has {len(out)} row(s), the PM frame "
                                f"{len(frame)} on {list(EVAL_SPLITS)}; every PM row needs tree outputs")
    return out.reset_index(drop=True)


# --- search --------------------------------------------------------------------------------------------------

def _search(prepared: PreparedFrame, candidates: list[dict[str, float]]) -> pd.DataFrame:
    return candidate_table(prepared, candidates, probe_score)


def side_metrics(trades: pd.DataFrame, split: str, side: str) -> dict[str, Any]:
    """Trade metrics plus exit metrics of one side's trades in one split."""
    part = trades[trades["side"] == side]
    return {"split_id": split, "side": side, **trade_metrics(part), **exit_metrics(part)}


def candidate_summary(table: pd.DataFrame) -> dict[str, Any]:
    viable = table[table["trade_count"] >= MIN_VIABLE_TRADES]

    def best(frame: pd.DataFrame, column: str) -> float:
        return float(frame[column].max()) if len(frame) else 0.0

    return {"positive_avg_weighted_candidates": int((table["avg_weighted_edge_bps"] > 0).sum()),
            "positive_total_weighted_candidates": int((table["total_weighted_edge_bps"] > 0).sum()),
            "best_avg_weighted_edge_bps": best(table, "avg_weighted_edge_bps"),
            "best_total_weighted_edge_bps": best(table, "total_weighted_edge_bps"),
            "min_viable_trade_count": MIN_VIABLE_TRADES,
            "positive_avg_weighted_viable_candidates": int((viable["avg_weighted_edge_bps"] > 0).sum()),
            "positive_total_weighted_viable_candidates": int((viable["total_weighted_edge_bps"] > 0).sum()),
            "best_viable_avg_weighted_edge_bps": best(viable, "avg_weighted_edge_bps"),
            "best_viable_total_weighted_edge_bps": best(viable, "total_weighted_edge_bps")}


def probe_nonlinear_pm(direction_train: pd.DataFrame, entry_train: pd.DataFrame, pm_frame: pd.DataFrame,
                       price_plan: PricePlan | None = None,
                       params: NonlinearPmParams = NonlinearPmParams()) -> ExperimentOutput:
    """Tree outputs in the run's PM frame, expanded threshold search on tune, best re-simulated per split."""
    replacements, fit_counts = tree_predictions(direction_train, entry_train, params)
    frames = eval_split_frames(prediction_frame(pm_frame, replacements))
    if frames[TUNE_SPLIT].empty:
        raise DataContractError("nonlinear PM probe: the PM frame has no tune_inner rows to search thresholds on")
    candidates = expanded_threshold_candidates()
    table = _search(PreparedFrame.build(frames[TUNE_SPLIT], price_plan), candidates)
    best = candidates[int(np.argmax(table["score"].to_numpy()))]
    config = pm_config_from_thresholds(best)
    trades = {s: simulate_trades(f, best, config, price_plan).assign(eval_split=s) for s, f in frames.items()}
    split_metrics = {s: trade_metrics(t) for s, t in trades.items()}
    side_rows = [side_metrics(t, s, side) for s, t in trades.items() for side in ("LONG", "SHORT")]
    ranked = table.sort_values("score", ascending=False, kind="mergesort").reset_index(drop=True)
    result = jsonable({
        "experiment": params.stem, "diagnostic_only": True, "status": DIAGNOSTIC_ONLY, "params": asdict(params),
        "model_family": "sklearn_hist_gradient_boosting", "edge_source": "TREE_REGRESSION",
        "entry_fit_rows": fit_counts, "eval_rows": {s: len(f) for s, f in frames.items()},
        "candidate_count": len(candidates), "candidate_summary": candidate_summary(table),
        "best_thresholds": best, "best_tune_metrics": split_metrics[TUNE_SPLIT], "split_metrics": split_metrics,
        "side_metrics": side_rows, "verdict": verdict(split_metrics),
    })
    best_trades = pd.concat(list(trades.values()), ignore_index=True)
    tables = {"candidates": ranked.head(200), "best_trades_parquet": best_trades,
              "side_metrics": pd.DataFrame(side_rows)}
    return ExperimentOutput(params.stem, result, _report(result, ranked.head(20), pd.DataFrame(side_rows)), tables)


def _report(result: dict[str, Any], top: pd.DataFrame, sides: pd.DataFrame) -> str:
    params = result["params"]
    mode = ("Direction and Entry outputs are replaced by trees." if params["probe_mode"] == "direction_entry_tree"
            else "Only the Entry outputs are replaced by trees; Direction keeps the run's model.")
    summary = result["candidate_summary"]
    splits = [{"split": s, **m} for s, m in result["split_metrics"].items()]
    lines = [
        "# Nonlinear PM probe", "",
        ("Diagnostic only, nothing is exported: without new features, can tree models let the PM pick a stable "
        "positive edge? The PM edge is the tree regression edge."), "",
        f"- mode: `{params['probe_mode']}` ({mode})",
        f"- entry train filter: `{params['entry_train_filter']}` (opportunity {params['entry_opportunity_bps']} bps)",
        f"- verdict: `{result['verdict']['status']}` ({result['verdict']['rule']})",
        (f"- candidates: `{result['candidate_count']}`, positive avg weighted: "
        f"`{summary['positive_avg_weighted_candidates']}`, with >= {MIN_VIABLE_TRADES} trades: "
        f"`{summary['positive_avg_weighted_viable_candidates']}`"),
        f"- best thresholds: `{result['best_thresholds']}`", "",
        "## Split metrics", "",
        markdown_table(splits, ["split", "trade_count", "win_rate", "avg_actual_edge_bps", "avg_weighted_edge_bps",
                                "total_weighted_edge_bps", "max_drawdown_bps", "profit_factor"]), "",
        "## Side breakdown", "",
        markdown_table(sides, ["split_id", "side", "trade_count", "win_rate", "avg_actual_edge_bps",
                               "avg_weighted_edge_bps", "target_hit_rate", "stop_hit_rate", "timeout_exit_rate",
                               "avg_time_to_exit_min"]), "",
        "## Top tune candidates", "",
        markdown_table(top, [*THRESHOLD_KEYS, "trade_count", "avg_weighted_edge_bps", "total_weighted_edge_bps",
                             "profit_factor", "score"]),
    ]
    return "\n".join(lines) + "\n"

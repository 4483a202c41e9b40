"""State-aware Continue experiment (docs/experiments.md, "State-aware continue experiment"): does the state of an open position help predict Continue?

Diagnostic only. The state rows (positions, their state, frozen scores and future stats) are built in
``trader_core.experiments.state_continue_rows``.

Per side and feature set (market_only = FEATURE_ORDER, market_plus_state = FEATURE_ORDER + STATE_FEATURES)
``train_side_models`` fits a StandardScaler + LogisticRegression and a Huber or Ridge regressor on fit_inner
(the experiment prepares the four pairs with ``side_models`` and fits them together, ``fits.run_fits``).
The edge MAE is measured against the raw edge; its constant baseline is the median of the (possibly clipped)
fit target. ``verdict`` applies the acceptance rule of docs/experiments.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER, sha256_json
from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import FIT_SPLIT, SEALED_SPLITS, TRAINING_SPLITS
from trader_core.errors import DataContractError
from trader_core.experiments.fits import FitJob, FitResult, run_fits
from trader_core.experiments.state_continue_params import StateContinueParams, check_regressor
from trader_core.experiments.state_continue_rows import EDGE, STATE_FEATURES, STATE_SCHEMA, TARGET, build_state_frame
from trader_core.experiments.toolkit import (
    DIAGNOSTIC_ONLY,
    ExperimentOutput,
    finite_matrix,
    require_columns,
)
from trader_core.models.metrics import safe_auc
from trader_core.report import fmt, jsonable, markdown_table

PASS, NOT_READY = "PASS_TO_FORMAL_CHAIN", "NOT_READY_FOR_FORMAL_CHAIN"
MIN_CONTINUE_AUC = 0.60
MAX_EDGE_MAE_RATIO = 0.97
FEATURE_SETS = {"market_only": FEATURE_ORDER, "market_plus_state": FEATURE_ORDER + STATE_FEATURES}
ACCEPTANCE_RULE = (f"for long and short on validation_locked and latest_stress: market_plus_state continue_auc >= "
                   f"{MIN_CONTINUE_AUC:.2f} and > market_only (passes when market_only has none), "
                   f"edge_mae_vs_constant_ratio <= {MAX_EDGE_MAE_RATIO:.2f} and < market_only, and the "
                   "market_plus_state regressor converged")


# --------------------------------------------------------------------------------------------- models
def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def _split_metrics(y: np.ndarray, prob: np.ndarray, edge: np.ndarray, pred: np.ndarray, rate: float,
                   median: float) -> dict[str, Any]:
    if len(y) == 0:
        return {"row_count": 0}
    brier, constant_brier = float(np.mean((y - prob) ** 2)), float(np.mean((y - rate) ** 2))
    mae, constant_mae = float(np.mean(np.abs(edge - pred))), float(np.mean(np.abs(edge - median)))
    return {"row_count": len(y), "positive_rate": float(y.mean()), "brier": brier, "constant_brier": constant_brier,
            "edge_mae": mae, "edge_constant_mae": constant_mae, "continue_auc": safe_auc(y, prob),
            "brier_vs_constant_ratio": _ratio(brier, constant_brier),
            "edge_mae_vs_constant_ratio": _ratio(mae, constant_mae)}


@dataclass(frozen=True)
class SideModels:
    """One side's rows and feature set, ready to fit: the continue classifier's and the regressor's jobs."""

    rows: pd.DataFrame
    cols: tuple[str, ...]
    regressor_kind: str
    ridge_alpha: float
    huber_alpha: float
    huber_epsilon: float
    huber_max_iter: int
    clip: float
    fit_target: np.ndarray
    jobs: tuple[FitJob, FitJob]


def side_models(frame: pd.DataFrame, side: str, cols: Sequence[str], regressor_kind: str, *,
                ridge_alpha: float = 10.0, huber_alpha: float = 0.001, huber_epsilon: float = 1.35,
                huber_max_iter: int = 1000, clip_bps: float = 0.0) -> SideModels:
    """The jobs of ``train_side_models``: a logistic regression on continue_target and a Huber or Ridge regression
    on the (clipped when ``clip_bps`` > 0) edge, fitted on fit_inner and predicting every row of the side."""
    check_regressor(regressor_kind)
    require_columns(frame, ["sample_id", "split_id", "position_side", "time_in_position_minutes", TARGET, EDGE],
                    "state_continue frame")
    rows = frame[(frame["position_side"].astype(str) == side.upper()).to_numpy()].reset_index(drop=True)
    name = f"state_continue {side.lower()}"
    x = finite_matrix(rows, cols, name)
    fit = rows["split_id"].to_numpy() == FIT_SPLIT
    y = rows[TARGET].to_numpy(dtype=np.float64)
    if np.unique(y[fit]).size < 2:
        raise DataContractError(f"{name}: {TARGET} needs both classes on fit_inner ({int(fit.sum())} row(s))")
    clip = float(clip_bps)
    edge = rows[EDGE].to_numpy(dtype=np.float64)
    fit_target = np.clip(edge, -clip, clip) if clip > 0 else edge
    x_fit = x[fit]
    classifier = FitJob("classifier", "linear", x_fit, y[fit], (x,), {"balanced": False, "max_iter": 500})
    regressor = FitJob("regressor", regressor_kind, x_fit, fit_target[fit], (x,),
                       {"alpha": ridge_alpha if regressor_kind == "ridge" else huber_alpha, "epsilon": huber_epsilon,
                        "max_iter": huber_max_iter})
    return SideModels(rows, tuple(cols), regressor_kind, ridge_alpha, huber_alpha, huber_epsilon, huber_max_iter, clip,
                      fit_target, (classifier, regressor))


def side_results(models: SideModels, classifier: FitResult,
                 regressor: FitResult) -> tuple[dict[str, Any], pd.DataFrame]:
    """(metrics, predictions on every row of the side) from the fitted jobs of ``models``."""
    rows, kind = models.rows, models.regressor_kind
    split = rows["split_id"].to_numpy()
    fit = split == FIT_SPLIT
    y = rows[TARGET].to_numpy(dtype=np.float64)
    edge = rows[EDGE].to_numpy(dtype=np.float64)
    prob, pred, clip = classifier.positive(0), regressor.predictions[0], models.clip
    if clip > 0:
        pred = np.clip(pred, -clip, clip)
    n_iter = regressor.n_iter
    max_iter = models.huber_max_iter if kind == "huber" else None
    rate, median = float(y[fit].mean()), float(np.median(models.fit_target[fit]))
    metrics = {
        "row_count": len(rows), "feature_count": len(models.cols), "feature_hash": sha256_json(list(models.cols)),
        "regressor_kind": kind, "ridge_alpha": models.ridge_alpha if kind == "ridge" else None,
        "huber_alpha": models.huber_alpha if kind == "huber" else None,
        "huber_epsilon": models.huber_epsilon if kind == "huber" else None,
        "regressor_iterations": int(n_iter) if n_iter is not None else 0, "regressor_max_iter": max_iter,
        "regressor_converged": True if n_iter is None else bool(0 <= int(n_iter) < (max_iter or math.inf)),
        "regression_target_clip_bps": clip if clip > 0 else None,
        "train_positive_rate": rate, "train_edge_median": median,
        "splits": {s: _split_metrics(y[split == s], prob[split == s], edge[split == s], pred[split == s], rate, median)
                   for s in TRAINING_SPLITS},
    }
    keys = [c for c in ("sample_id", "symbol", "event_time", "split_id", "position_side", "entry_sample_id")
            if c in rows.columns]
    predictions = rows[[*keys, "time_in_position_minutes", TARGET, EDGE]].copy()
    predictions["continue_prob"], predictions["predicted_continue_edge_bps"] = prob, pred
    return metrics, predictions


def train_side_models(frame: pd.DataFrame, side: str, cols: Sequence[str], regressor_kind: str, *,
                      ridge_alpha: float = 10.0, huber_alpha: float = 0.001, huber_epsilon: float = 1.35,
                      huber_max_iter: int = 1000, clip_bps: float = 0.0) -> tuple[dict[str, Any], pd.DataFrame]:
    """Continue classifier + edge regressor of one side on fit_inner; (metrics, predictions on every row)."""
    models = side_models(frame, side, cols, regressor_kind, ridge_alpha=ridge_alpha, huber_alpha=huber_alpha,
                         huber_epsilon=huber_epsilon, huber_max_iter=huber_max_iter, clip_bps=clip_bps)
    return side_results(models, *run_fits(models.jobs))


def verdict(results: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """The acceptance rule (``ACCEPTANCE_RULE``) over ``results[side][feature_set]`` of train_side_models."""
    reasons, passed = [], []
    for side in ("long", "short"):
        if side not in results or not {"market_only", "market_plus_state"} <= set(results[side]):
            reasons.append(f"{side} results missing")
            continue
        only, plus = results[side]["market_only"], results[side]["market_plus_state"]
        for split in SEALED_SPLITS:
            o, p = only["splits"].get(split, {}), plus["splits"].get(split, {})
            checks = _split_checks(f"{side} {split}", o.get("continue_auc"), p.get("continue_auc"),
                                   o.get("edge_mae_vs_constant_ratio"), p.get("edge_mae_vs_constant_ratio"))
            reasons += [c for ok, c in checks if not ok]
            passed += [c for ok, c in checks if ok]
        if plus.get("regressor_converged"):
            passed.append(f"{side} market_plus_state regressor converged")
        else:
            reasons.append(f"{side} market_plus_state regressor did not converge")
    return {"status": NOT_READY if reasons else PASS, "reasons": reasons, "acceptance_rule": ACCEPTANCE_RULE,
            "passed_checks": passed}


def _split_checks(label: str, auc_only: float | None, auc_plus: float | None, ratio_only: float | None,
                  ratio_plus: float | None) -> list[tuple[bool, str]]:
    """(ok, text) per check; the text is the failure reason or the passed check's description."""
    auc_ok = auc_plus is not None and auc_plus >= MIN_CONTINUE_AUC
    auc_better = auc_only is None or (auc_plus is not None and auc_plus > auc_only)
    ratio_ok = ratio_plus is not None and ratio_plus <= MAX_EDGE_MAE_RATIO
    ratio_better = ratio_only is None or (ratio_plus is not None and ratio_plus < ratio_only)
    return [
        (auc_ok, f"{label} continue_auc below 0.60: {fmt(auc_plus)}" if not auc_ok
         else f"{label} continue_auc >= 0.60: {fmt(auc_plus)}"),
        (auc_better, f"{label} continue_auc not better than market_only: {fmt(auc_plus)} <= {fmt(auc_only)}"
         if not auc_better else f"{label} continue_auc better than market_only: {fmt(auc_plus)} > {fmt(auc_only)}"),
        (ratio_ok, f"{label} edge_mae_vs_constant_ratio above 0.97: {fmt(ratio_plus)}" if not ratio_ok
         else f"{label} edge_mae_vs_constant_ratio <= 0.97: {fmt(ratio_plus)}"),
        (ratio_better, f"{label} edge_mae_vs_constant_ratio not better than market_only: {fmt(ratio_plus)} >= "
         f"{fmt(ratio_only)}" if not ratio_better
         else f"{label} edge_mae_vs_constant_ratio better than market_only: {fmt(ratio_plus)} < {fmt(ratio_only)}"),
    ]


# --------------------------------------------------------------------------------------------- runner
LEAKAGE_POLICY = {
    "state_features": "entry price, current price and high/low since entry use bars up to the current bar close only",
    "frozen_scores": "baseline ONNX evaluated on the entry row's features (in-sample on fit_inner rows)",
    "market_features": "FEATURE_ORDER of the current row (bar-close information)",
    "labels": "price-plan outcome of the next continue-horizon bars after the current bar close",
    "fitting": "StandardScaler, classifier and regressor fitted on fit_inner rows only",
    "splits": "a state row is kept only when its entry and current minute lie in the same split",
}


def run_state_continue_experiment(features: pd.DataFrame, entry_labels: pd.DataFrame, replay: pd.DataFrame,
                                  price_plan: PricePlan, direction_onnx: Path, entry_onnx: Path,
                                  params: StateContinueParams = StateContinueParams()) -> ExperimentOutput:
    """Build the state rows, train per side and feature set, apply the verdict."""
    frame, counts = build_state_frame(features, entry_labels, replay, price_plan, direction_onnx, entry_onnx, params)
    prepared = {(side, feature_set): side_models(
        frame, side, cols, params.regressor_kind, ridge_alpha=params.ridge_alpha, huber_alpha=params.huber_alpha,
        huber_epsilon=params.huber_epsilon, huber_max_iter=params.huber_max_iter,
        clip_bps=params.regression_target_clip_bps)
        for side in ("long", "short") for feature_set, cols in FEATURE_SETS.items()}
    fitted = run_fits([job for models in prepared.values() for job in models.jobs])
    results: dict[str, dict[str, Any]] = {"long": {}, "short": {}}
    predictions = []
    for k, ((side, feature_set), models) in enumerate(prepared.items()):
        metrics, pred = side_results(models, fitted[2 * k], fitted[2 * k + 1])
        results[side][feature_set] = metrics
        predictions.append(pred.assign(side=side, feature_set=feature_set))
    decision = verdict(results)
    result = {
        "experiment": "state_continue", "status": DIAGNOSTIC_ONLY, "diagnostic_only": True,
        "params": asdict(params), "verdict": decision,
        "price_plan": {"price_plan_id": price_plan.price_plan_id, "stop_bps": price_plan.stop_bps,
                       "target_bps": price_plan.target_bps, "cost_bps": price_plan.cost_bps},
        "leakage_policy": LEAKAGE_POLICY,
        "position_state_feature_order": list(STATE_FEATURES),
        "position_state_feature_schema": [{"name": n, "order": i + 1, "unit": u, "formula": f}
                                          for i, (n, (u, f)) in enumerate(STATE_SCHEMA.items())],
        "source_counts": counts, "row_count": len(frame),
        "split_counts": {s: int((frame["split_id"] == s).sum()) for s in TRAINING_SPLITS},
        "metrics": results,
    }
    return ExperimentOutput(name="state_continue", result=jsonable(result), report=_report(result),
                            tables={"train_parquet": frame,
                                    "predictions_parquet": pd.concat(predictions, ignore_index=True)})


def _report(result: dict[str, Any]) -> str:
    rows = [{"side": side, "feature_set": fs, "split": split, **{k: m["splits"][split].get(k) for k in (
        "row_count", "positive_rate", "continue_auc", "brier_vs_constant_ratio", "edge_mae_vs_constant_ratio")},
             "converged": m["regressor_converged"]}
            for side, sets in result["metrics"].items() for fs, m in sets.items() for split in TRAINING_SPLITS]
    v = result["verdict"]
    return "\n".join([
        "# State-aware Continue experiment (diagnostic only)\n",
        f"Status `{result['status']}`; {result['row_count']} state rows, split counts {result['split_counts']}.\n",
        "## Verdict\n", f"`{v['status']}` - rule: {v['acceptance_rule']}.\n", *(f"- {r}" for r in v["reasons"]), "",
        "## Metrics\n", markdown_table(rows),
        "## State rows per age\n", markdown_table(result["source_counts"]),
        "## Leakage policy\n", *(f"- {k}: {t}" for k, t in result["leakage_policy"].items()), "",
    ])

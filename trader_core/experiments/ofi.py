"""OFI experiment (docs/experiments.md, "OFI experiment"): do multi-level order-flow-imbalance features add to the market features?

Diagnostic only: nothing here changes FEATURE_ORDER, the labels, the models or the PM thresholds.

The book features (minute snapshots, segments, snapshot-diff OFI, the 16 features) are built in
``trader_core.experiments.ofi_features``.

Models (market_only = FEATURE_ORDER vs market_plus_ofi = FEATURE_ORDER + OFI_FEATURES), fitted on
fit_inner with a StandardScaler fitted there, metrics on all four splits: Direction LogisticRegression on
the argmax of the long/short/neutral targets; Entry binary LogisticRegression per side and HuberRegressor on
the ACTUAL plan net edge (never the expected edge). A feature set's five models are fitted together
(``fits.run_fits``).

Verdict ([inferred] definition of "beats"): market_plus_ofi beats market_only on a split when its Direction
logloss is lower AND its mean Entry AUC (long, short) is higher; OFI is adopted as a candidate only when it
beats market_only on both validation_locked and latest_stress.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER, sha256_json
from trader_core.contracts.versions import FIT_SPLIT, SEALED_SPLITS, TRAINING_SPLITS
from trader_core.errors import DataContractError
from trader_core.experiments.fits import FitJob, FitResult, run_fits
from trader_core.experiments.ofi_features import (
    NORMALIZATION,
    OFI_FEATURES,
    OFI_METHOD,
    ofi_feature_frame,
    ofi_feature_schema,
)
from trader_core.experiments.ofi_params import OfiParams
from trader_core.experiments.toolkit import DIAGNOSTIC_ONLY, ExperimentOutput, finite_matrix, require_columns
from trader_core.io import frame_hash
from trader_core.models.metrics import binary_metrics, multiclass_metrics, regression_metrics
from trader_core.report import fmt, jsonable, markdown_table

EXPERIMENT = "ofi_l1_microprice_diagnostic_v1"
ADOPT, NOT_ADOPTED = "ADOPT_OFI_CANDIDATE", "KEEP_MARKET_ONLY"
LEAKAGE_NOTE = ("Each feature row uses the last book snapshot with ts before its bar close (the minute floor of the "
                "snapshot time is the row's open_time) and earlier snapshots of the same gap-free segment only; "
                "labels start at that bar close. Warm-up and post-gap rows are dropped, never zero-filled. Scalers "
                "and models are fitted on fit_inner only; the entry regressors target the actual price-plan net "
                "edge.\n")

FEATURE_SETS = {"market_only": FEATURE_ORDER, "market_plus_ofi": FEATURE_ORDER + OFI_FEATURES}
DIRECTION_TARGETS = ("long_target", "short_target", "neutral_target")
ENTRY_COLUMNS = ("long_entry_target", "short_entry_target", "long_actual_plan_net_edge_bps",
                 "short_actual_plan_net_edge_bps")


# ---------------------------------------------------------------------------------------------- datasets
def direction_dataset(frame: pd.DataFrame, direction_labels: pd.DataFrame) -> pd.DataFrame:
    """OFI frame inner-joined with the direction targets and future_return_bps."""
    cols = [*DIRECTION_TARGETS, "future_return_bps"]
    require_columns(direction_labels, ["sample_id", *cols], "direction_labels")
    return frame.merge(direction_labels[["sample_id", *cols]], on="sample_id", how="inner", validate="one_to_one")


def entry_dataset(frame: pd.DataFrame, entry_train: pd.DataFrame) -> pd.DataFrame:
    """OFI frame inner-joined with the entry targets and the ACTUAL plan net edges (tests/core/test_experiments_ofi_state.py::test_case_31_ofi_entry_dataset_uses_actual_plan_edge)` or drop the parenthesis."""
    require_columns(entry_train, ["sample_id", *ENTRY_COLUMNS], "entry_train")
    return frame.merge(entry_train[["sample_id", *ENTRY_COLUMNS]], on="sample_id", how="inner", validate="one_to_one")


# ------------------------------------------------------------------------------------------------ models
def _split_metrics(split: np.ndarray, fn: Callable[..., dict], truth: np.ndarray, pred: np.ndarray,
                   baseline: Any) -> dict[str, Any]:
    """``fn(truth, pred, baseline)`` on the rows of each training split."""
    return {s: fn(truth[split == s], pred[split == s], baseline) for s in TRAINING_SPLITS}


def _direction_job(data: pd.DataFrame, cols: tuple[str, ...], params: OfiParams) -> FitJob:
    """Direction logistic regression on fit_inner (argmax of the targets), predicting every row."""
    x = finite_matrix(data, cols, "ofi direction dataset")
    fit = data["split_id"].to_numpy() == FIT_SPLIT
    y = data[list(DIRECTION_TARGETS)].to_numpy(dtype=np.float64)[fit].argmax(axis=1)
    return FitJob("classifier", "linear", x[fit], y, (x,), {"balanced": False, "max_iter": params.logistic_max_iter})


def _direction_result(data: pd.DataFrame, fitted: FitResult) -> tuple[dict, pd.DataFrame]:
    onehot = data[list(DIRECTION_TARGETS)].to_numpy(dtype=np.float64)
    split = data["split_id"].to_numpy()
    proba = np.zeros((len(data), 3))
    proba[:, list(fitted.classes or ())] = fitted.predictions[0]
    metrics = _split_metrics(split, multiclass_metrics, onehot, proba, onehot[split == FIT_SPLIT].mean(axis=0))
    pred = pd.DataFrame({f"{k}_prob": proba[:, i] for i, k in enumerate(("long", "short", "neutral"))})
    for c in (*DIRECTION_TARGETS, "future_return_bps"):
        pred[f"label_{c}"] = data[c].to_numpy()
    return metrics, pred


def _entry_jobs(data: pd.DataFrame, cols: tuple[str, ...], params: OfiParams) -> list[FitJob]:
    """Per side (long, short): the entry logistic regression and the Huber edge regression on fit_inner,
    predicting every row."""
    x = finite_matrix(data, cols, "ofi entry dataset")
    fit = data["split_id"].to_numpy() == FIT_SPLIT
    x_fit = x[fit]
    jobs = []
    for side in ("long", "short"):
        y = data[f"{side}_entry_target"].to_numpy(dtype=np.float64)
        if np.unique(y[fit]).size < 2:
            raise DataContractError(f"entry_train: {side}_entry_target has one class on the fit_inner rows")
        edge = data[f"{side}_actual_plan_net_edge_bps"].to_numpy(dtype=np.float64)
        if not np.isfinite(edge).all():
            raise DataContractError(f"entry_train: non-finite {side}_actual_plan_net_edge_bps")
        jobs += [FitJob("classifier", "linear", x_fit, y[fit], (x,),
                        {"balanced": False, "max_iter": params.logistic_max_iter}),
                 FitJob("regressor", "huber", x_fit, edge[fit], (x,),
                        {"alpha": params.huber_alpha, "epsilon": params.huber_epsilon,
                         "max_iter": params.huber_max_iter})]
    return jobs


def _entry_result(data: pd.DataFrame, fitted: Sequence[FitResult]) -> tuple[dict, pd.DataFrame]:
    split = data["split_id"].to_numpy()
    fit = split == FIT_SPLIT
    metrics, pred = {}, pd.DataFrame(index=range(len(data)))
    for k, side in enumerate(("long", "short")):
        y = data[f"{side}_entry_target"].to_numpy(dtype=np.float64)
        prob = fitted[2 * k].positive(0)
        metrics[f"{side}_entry_prob"] = _split_metrics(split, binary_metrics, y, prob, float(y[fit].mean()))
        edge = data[f"{side}_actual_plan_net_edge_bps"].to_numpy(dtype=np.float64)
        edge_pred = fitted[2 * k + 1].predictions[0]
        metrics[f"{side}_expected_net_edge_bps"] = _split_metrics(split, regression_metrics, edge, edge_pred,
                                                                  float(np.median(edge[fit])))
        pred[f"{side}_entry_prob"], pred[f"{side}_expected_net_edge_bps"] = prob, edge_pred
    for c in ENTRY_COLUMNS:
        pred[f"label_{c}"] = data[c].to_numpy()
    return metrics, pred


def compare_feature_sets(direction: pd.DataFrame, entry: pd.DataFrame,
                         params: OfiParams = OfiParams()) -> tuple[dict[str, Any], pd.DataFrame]:
    """Metrics per feature set (market_only, market_plus_ofi) and the stacked predictions of both models; a set's
    five models (Direction, and per side Entry and edge) are fitted together (``fits.run_fits``)."""
    metrics, frames = {}, []
    for feature_set, cols in FEATURE_SETS.items():
        fitted = run_fits([_direction_job(direction, cols, params), *_entry_jobs(entry, cols, params)])
        d_metrics, d_pred = _direction_result(direction, fitted[0])
        e_metrics, e_pred = _entry_result(entry, fitted[1:])
        metrics[feature_set] = {"feature_count": len(cols), "feature_hash": sha256_json(list(cols)),
                                "direction": d_metrics, **e_metrics}
        for model, data, pred in (("DIRECTION", direction, d_pred), ("ENTRY", entry, e_pred)):
            key = data[["sample_id", "symbol", "event_time", "split_id"]].reset_index(drop=True)
            frames.append(pd.concat([key.assign(model=model, feature_set=feature_set), pred], axis=1))
    return metrics, pd.concat(frames, ignore_index=True)


def _entry_auc(metrics: dict[str, Any], split: str) -> float | None:
    aucs = [metrics[f"{side}_entry_prob"][split].get("auc") for side in ("long", "short")]
    return None if any(a is None for a in aucs) else float(np.mean(aucs))


def ofi_verdict(metrics: dict[str, Any]) -> dict[str, Any]:
    """ADOPT only when market_plus_ofi has a lower Direction logloss and a higher mean Entry AUC than
    market_only on both validation_locked and latest_stress."""
    only, plus = metrics["market_only"], metrics["market_plus_ofi"]
    checks, reasons = {}, []
    for split in SEALED_SPLITS:
        ll_only, ll_plus = only["direction"][split].get("logloss"), plus["direction"][split].get("logloss")
        auc_only, auc_plus = _entry_auc(only, split), _entry_auc(plus, split)
        direction_ok = ll_only is not None and ll_plus is not None and ll_plus < ll_only
        entry_ok = auc_plus is not None and auc_only is not None and auc_plus > auc_only
        checks[split] = {"direction_logloss_market_only": ll_only, "direction_logloss_market_plus_ofi": ll_plus,
                         "entry_mean_auc_market_only": auc_only, "entry_mean_auc_market_plus_ofi": auc_plus,
                         "direction_better": direction_ok, "entry_better": entry_ok}
        if not direction_ok:
            reasons.append(f"{split} direction logloss not better than market_only: {fmt(ll_plus)} >= {fmt(ll_only)}")
        if not entry_ok:
            reasons.append(f"{split} entry mean AUC not better than market_only: {fmt(auc_plus)} <= {fmt(auc_only)}")
    return {"status": NOT_ADOPTED if reasons else ADOPT, "reasons": reasons, "checks": checks,
            "rule": "adopt OFI only if market_plus_ofi beats market_only on both validation_locked and latest_stress: "
                    "lower Direction logloss AND higher mean Entry AUC (long, short) on each"}


# ------------------------------------------------------------------------------------------------- runner
def run_ofi_experiment(features: pd.DataFrame, book_depth: pd.DataFrame, direction_labels: pd.DataFrame,
                       entry_train: pd.DataFrame, params: OfiParams = OfiParams()) -> ExperimentOutput:
    """The OFI experiment on in-memory frames: OFI features, the two datasets, the model comparison and the verdict."""
    frame, joined, warnings = ofi_feature_frame(features, book_depth, params.max_rows_per_split)
    direction, entry = direction_dataset(frame, direction_labels), entry_dataset(frame, entry_train)
    for name, data in (("direction", direction), ("entry", entry)):
        if not (data["split_id"] == FIT_SPLIT).any():
            raise DataContractError(f"ofi {name} dataset: no fit_inner rows after the OFI join")
    metrics, predictions = compare_feature_sets(direction, entry, params)
    verdict = ofi_verdict(metrics)
    delta = frame[["sample_id", "symbol", "event_time", "open_time_ms", "split_id", *OFI_FEATURES]]
    stats = _feature_stats(joined)
    result = {
        "experiment": EXPERIMENT, "status": DIAGNOSTIC_ONLY, "diagnostic_only": True, "params": asdict(params),
        "ofi_method": OFI_METHOD, "uses_event_stream_ofi": False, "normalization": NORMALIZATION,
        "new_features": list(OFI_FEATURES), "ofi_feature_schema": ofi_feature_schema(),
        "formal_model_contract_changed": False, "java_contract_changed": False, "label_changed": False,
        "pm_threshold_changed": False, "trainable_row_count": len(joined), "delta_row_count": len(delta),
        "split_counts": {s: int((delta["split_id"] == s).sum()) for s in TRAINING_SPLITS},
        "dataset_rows": {"direction": len(direction), "entry": len(entry)},
        "feature_delta_hash_sha256": frame_hash(delta),
        "ofi_feature_order_hash_sha256": sha256_json(list(OFI_FEATURES)),
        "feature_stats": stats, "metrics": metrics, "verdict": verdict, "warnings": warnings,
    }
    return ExperimentOutput(name="ofi", result=jsonable(result), report=_report(result),
                            tables={"feature_delta_parquet": delta, "predictions_parquet": predictions})


def _feature_stats(joined: pd.DataFrame) -> list[dict[str, Any]]:
    """p01/p50/p99 and null counts of each OFI feature over the joined trainable rows (before the drop)."""
    out = []
    for name in OFI_FEATURES:
        v = joined[name].to_numpy(dtype=np.float64)
        finite = v[np.isfinite(v)]
        q = np.quantile(finite, [0.01, 0.5, 0.99]) if finite.size else [None] * 3
        out.append({"feature": name, "rows": int(v.size), "null_count": int(np.isnan(v).sum()),
                    "p01": q[0], "p50": q[1], "p99": q[2]})
    return out


def _report(result: dict[str, Any]) -> str:
    verdict = result["verdict"]
    rows = []
    for feature_set, m in result["metrics"].items():
        for split in TRAINING_SPLITS:
            d = m["direction"][split]
            rows.append({"feature_set": feature_set, "split": split, "rows": d.get("row_count"),
                         "dir_logloss": d.get("logloss"), "dir_logloss_ratio": d.get("logloss_vs_constant_ratio"),
                         "long_entry_auc": m["long_entry_prob"][split].get("auc"),
                         "short_entry_auc": m["short_entry_prob"][split].get("auc"),
                         "long_edge_mae_ratio": m["long_expected_net_edge_bps"][split].get("mae_vs_constant_ratio"),
                         "short_edge_mae_ratio": m["short_expected_net_edge_bps"][split].get("mae_vs_constant_ratio")})
    parts = [
        "# OFI experiment (diagnostic only)\n",
        f"Status `{result['status']}`: nothing here changes FEATURE_ORDER, labels, models or PM thresholds.\n",
        (f"OFI method `{result['ofi_method']}` (book snapshot differences, not an event stream); normalization "
         f"`{result['normalization']}`. Trainable rows {result['trainable_row_count']}, rows with every OFI "
         f"feature {result['delta_row_count']}; split counts {result['split_counts']}.\n"),
        "## Verdict\n", f"`{verdict['status']}` - {verdict['rule']}.\n",
        *(f"- {r}" for r in verdict["reasons"]), "",
        "## Model comparison\n", markdown_table(rows),
        "## OFI feature distribution (trainable rows before the NaN drop)\n",
        markdown_table(result["feature_stats"], ["feature", "rows", "null_count", "p01", "p50", "p99"]),
        "## Leakage note\n",
        LEAKAGE_NOTE,
    ]
    if result["warnings"]:
        parts += ["## Warnings\n", *(f"- {w}" for w in result["warnings"]), ""]
    return "\n".join(parts)

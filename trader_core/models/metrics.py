"""Head metrics against constant baselines (docs/models.md, "Training").

* multiclass (0 = long, 1 = short, 2 = neutral): logloss and Brier against the train prior, one-vs-rest
  AUCs when a class has >= 200 positives and >= 200 negatives, hit rate of the top 10 % by max probability.
* binary: Brier against the train positive rate, AUC when both classes occur, mean target of the top 10 %.
* regression: MAE against the train median.
Ratios are None when the baseline is 0.
* AUC is ``binary_auc``: the Mann-Whitney form (average ranks for ties), equal to sklearn's trapezoidal
  ``roc_auc_score`` (the slow reference in the tests) at a fraction of its validation overhead; ``safe_auc``
  is None where the AUC is undefined (one class).
* calibration: ``reliability_table`` (equal-width probability bins: mean prediction vs observed rate) and
  its expected calibration error ``ECE = sum_b n_b/n |mean_p_b - rate_b|``.

The model heads, the experiments, shadow scoring and the butterfly model all score with these, so they live
at the bottom of the model layer (docs/monitoring.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MIN_AUC_CLASS_ROWS = 200
CLASS_NAMES = ("long", "short", "neutral")
CALIBRATION_BINS = 10


def binary_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of ``score`` for the larger of the two labels in ``y`` (ties count half)."""
    y, score = np.asarray(y), np.asarray(score, dtype=np.float64)
    if y.shape != score.shape or y.ndim != 1:
        raise ValueError(f"binary_auc: y {y.shape} and score {score.shape} must be equal-length vectors")
    if not np.isfinite(score).all():
        raise ValueError("binary_auc: score contains NaN or inf")
    classes = np.unique(y)
    if classes.size != 2:
        raise ValueError(f"binary_auc: y needs exactly two classes, got {classes.size}")
    order = np.argsort(score, kind="stable")
    sorted_score = score[order]
    # average 1-based rank of every tie group, spread back to its rows
    starts = np.flatnonzero(np.concatenate(([True], sorted_score[1:] != sorted_score[:-1])))
    ends = np.append(starts[1:], score.size)
    ranks = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    positive = y[order] == classes[1]
    n_pos = int(positive.sum())
    n_neg = score.size - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def safe_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """ROC AUC, or None when ``y`` has one class or fewer than two rows."""
    y = np.asarray(y)
    if len(y) < 2 or len(np.unique(y)) < 2:
        return None
    return binary_auc(y, score)


def reliability_table(prob: np.ndarray, outcome: np.ndarray, bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Equal-width probability bins: rows, mean prediction and observed rate (empty bins omitted)."""
    prob, outcome = np.asarray(prob, dtype="float64"), np.asarray(outcome, dtype="float64")
    idx = np.clip((prob * bins).astype(int), 0, bins - 1)
    frame = pd.DataFrame({"bin": idx, "prob": prob, "outcome": outcome})
    table = frame.groupby("bin").agg(rows=("prob", "size"), mean_prob=("prob", "mean"),
                                     observed_rate=("outcome", "mean")).reset_index()
    table["bin_low"] = table["bin"] / bins
    return table[["bin_low", "rows", "mean_prob", "observed_rate"]]


def expected_calibration_error(table: pd.DataFrame) -> float | None:
    """Row-weighted mean gap between mean prediction and observed rate of a ``reliability_table``."""
    n = table["rows"].sum()
    if n == 0:
        return None
    return float((table["rows"] * (table["mean_prob"] - table["observed_rate"]).abs()).sum() / n)


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def _top_rows(score: np.ndarray, fraction: float = 0.10) -> np.ndarray:
    k = max(1, int(len(score) * fraction))
    return np.argsort(-score, kind="stable")[:k]


def multiclass_metrics(onehot: np.ndarray, proba: np.ndarray, train_prior: np.ndarray) -> dict[str, Any]:
    onehot, proba = np.asarray(onehot, dtype=float), np.asarray(proba, dtype=float)
    n = len(onehot)
    if n == 0:
        return {"row_count": 0}
    y = onehot.argmax(axis=1)
    p = np.clip(proba, 1e-6, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    prior = np.asarray(train_prior, dtype=float)
    prior = prior / prior.sum() if prior.sum() > 0 else np.full(prior.shape, 1.0 / len(prior))
    prior_c = np.clip(prior, 1e-6, 1.0)
    prior_c = prior_c / prior_c.sum()
    logloss = float(-np.mean(np.log(p[np.arange(n), y])))
    constant_logloss = float(-np.mean(np.log(prior_c[y])))
    brier = float(np.mean(np.sum((onehot - proba) ** 2, axis=1)))
    constant_brier = float(np.mean(np.sum((onehot - prior) ** 2, axis=1)))
    top = _top_rows(proba.max(axis=1))
    out: dict[str, Any] = {
        "row_count": n, "accuracy": float(np.mean(proba.argmax(axis=1) == y)),
        "logloss": logloss, "constant_logloss": constant_logloss,
        "brier_multiclass": brier, "constant_brier_multiclass": constant_brier,
        "top10_hit_rate": float(np.mean(proba[top].argmax(axis=1) == y[top])),
        "all_hit_rate": float(np.mean(proba.argmax(axis=1) == y)),
        "logloss_vs_constant_ratio": _ratio(logloss, constant_logloss),
        "brier_vs_constant_ratio": _ratio(brier, constant_brier),
    }
    for k, name in enumerate(CLASS_NAMES[: onehot.shape[1]]):
        pos = int(onehot[:, k].sum())
        if pos >= MIN_AUC_CLASS_ROWS and n - pos >= MIN_AUC_CLASS_ROWS:
            out[f"{name}_auc"] = binary_auc(onehot[:, k], proba[:, k])
    return out


def binary_metrics(y: np.ndarray, proba: np.ndarray, train_rate: float) -> dict[str, Any]:
    y, proba = np.asarray(y, dtype=float), np.asarray(proba, dtype=float)
    if len(y) == 0:
        return {"row_count": 0}
    brier = float(np.mean((y - proba) ** 2))
    constant_brier = float(np.mean((y - train_rate) ** 2))
    top = _top_rows(proba)
    out: dict[str, Any] = {
        "row_count": int(len(y)), "positive_rate": float(y.mean()), "brier": brier,
        "constant_brier": constant_brier, "top10_hit_rate": float(y[top].mean()), "all_hit_rate": float(y.mean()),
        "brier_vs_constant_ratio": _ratio(brier, constant_brier),
    }
    if 0 < y.sum() < len(y):
        out["auc"] = binary_auc(y, proba)
    return out


def regression_metrics(y: np.ndarray, pred: np.ndarray, train_median: float) -> dict[str, Any]:
    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    if len(y) == 0:
        return {"row_count": 0}
    mae = float(np.mean(np.abs(y - pred)))
    constant_mae = float(np.mean(np.abs(y - train_median)))
    return {"row_count": int(len(y)), "mae": mae, "constant_mae": constant_mae,
            "mae_vs_constant_ratio": _ratio(mae, constant_mae), "train_target_median": float(train_median)}


def beats_baseline(metrics: dict[str, Any]) -> bool:
    """True when a head does better than its constant baseline on the metrics' split."""
    for key in ("logloss_vs_constant_ratio", "brier_vs_constant_ratio", "mae_vs_constant_ratio"):
        if metrics.get(key) is not None:
            return metrics[key] < 1.0
    return False

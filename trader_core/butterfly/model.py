"""The 4-class ROI model: training, class values, expected ROI, metrics and ONNX export (docs/butterfly.md, "Model").

* Multinomial logistic regression (lbfgs) with ``class_weight="balanced"`` on standardized features; the
  StandardScaler is fitted on fit_inner rows only and folded into raw-feature weights
  (``trader_core.models.training.fold_scaler``), so the exported head takes the raw 23 features. A class absent
  from the fit rows gets weight 0 and bias -30 (probability ~0), as in the perp heads. As there, the fit sees
  sklearn's float32 standardized features and everything after it is float64: the folded head and the
  probabilities, its float64 evaluation on the float32 features.
* Class values ``v_k`` = mean realized ROI of the fit_inner rows of class k (fallback: the contract's
  ``fallback_value`` when a class has no fit row). Expected ROI = ``sum_k p_k v_k``. The seed's fixed values
  (0, 0.05, 0.20, 0.40) contradict its own classes — class 0 is ROI < -10 % yet valued 0, class 3 is
  unbounded above yet valued 0.40 — so expected ROI could never be negative; the fitted values fix that.
  With balanced class weights the probabilities over-weight rare classes; the metrics report the resulting
  gap between mean expected and mean realized ROI per split (calibration of the decision input).
* Export: the project's exporter (``build_model``: MatMul -> Add -> Softmax in double, output ``prediction``
  float32 [batch, 4]) with the butterfly's feature-order hash, feature order, class values and versions in
  ``metadata_props`` (``contract_of`` reads them back); the exported model is scored only through the
  inference engine (``butterfly.inference``), which also checks its parity with the trained probabilities.
* Metrics per split: accuracy, macro F1 (and per class), the confusion matrix (rows = true class, columns =
  predicted), the label and prediction mix, the chance macro F1 of independent predictions with the same
  mixes (``mean_k 2 p_k q_k / (p_k + q_k)``), log loss against the fit prior, one-vs-rest reliability tables
  (10 equal-width bins) with their expected calibration error, and mean expected vs realized ROI.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.preprocessing import StandardScaler

from trader_core.butterfly_config import ModelSection
from trader_core.contracts.butterfly import (
    BUTTERFLY_FEATURE_ORDER,
    BUTTERFLY_FEATURE_VERSION,
    BUTTERFLY_LABEL_VERSION,
    BUTTERFLY_MODEL_VERSION,
    CLASS_COUNT,
    FEATURE_COUNT,
    HEAD_NAME,
    OUTPUT_FIELDS,
    ROI_CLASSES,
    STRATEGY,
    butterfly_feature_order_hash,
)
from trader_core.contracts.models import ONNX_INPUT_NAME
from trader_core.contracts.versions import FIT_SPLIT, TRAINING_SPLITS
from trader_core.errors import ArtifactError, DataContractError
from trader_core.io import atomic_write_bytes
from trader_core.models.heads import LinearHead
from trader_core.models.metrics import expected_calibration_error, reliability_table
from trader_core.models.inference import check_feature_order
from trader_core.models.onnx_export import build_model, input_width, metadata, model_bytes
from trader_core.models.training import ABSENT_CLASS_BIAS, fold_scaler

CLASSES = np.arange(CLASS_COUNT)
PREDICTION_COLUMNS = ("sample_id", "date", "symbol", "split_id", "label", "roi")


@dataclass
class TrainedButterfly:
    head: LinearHead
    class_values: np.ndarray  # float64 [4]
    scaler: StandardScaler
    estimator: LogisticRegression
    predictions: pd.DataFrame  # PREDICTION_COLUMNS + OUTPUT_FIELDS + expected_roi, every training split
    metrics: dict[str, dict[str, Any]]  # split -> metrics
    fit: dict[str, Any] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        return {"strategy": STRATEGY, "model_version": BUTTERFLY_MODEL_VERSION,
                "class_values": [float(v) for v in self.class_values], "fields": list(OUTPUT_FIELDS),
                "feature_order_hash": butterfly_feature_order_hash(), "fit": self.fit, "metrics": self.metrics}


def feature_matrix(frame: pd.DataFrame, source: str = "butterfly dataset") -> np.ndarray:
    """The 23 feature columns as float32; DataContractError on missing columns or non-finite values."""
    # Column by column into pandas' own layout (a [23, n] buffer, transposed): the same array as
    # ``frame[order].to_numpy()``, which the fit depends on, at a fraction of the cost of a one-row selection.
    x = np.empty((FEATURE_COUNT, len(frame)), dtype=np.float32)
    try:
        for i, column in enumerate(BUTTERFLY_FEATURE_ORDER):
            x[i] = frame[column].to_numpy(dtype=np.float32)
    except KeyError:
        missing = [c for c in BUTTERFLY_FEATURE_ORDER if c not in frame.columns]
        raise DataContractError(f"{source}: missing feature column(s) {missing}") from None
    x = x.T
    if not np.isfinite(x).all():
        col = BUTTERFLY_FEATURE_ORDER[int(np.argwhere(~np.isfinite(x))[0, 1])]
        raise DataContractError(f"{source}: non-finite values in feature {col!r}")
    return x


def expected_roi(proba: np.ndarray, class_values: np.ndarray) -> np.ndarray:
    return np.asarray(proba, dtype=np.float64) @ np.asarray(class_values, dtype=np.float64)


def class_values_from(labels: np.ndarray, roi: np.ndarray) -> np.ndarray:
    """Mean realized ROI per class (the contract's fallback for a class without rows)."""
    values = np.array([c.fallback_value for c in ROI_CLASSES], dtype=np.float64)
    for k in CLASSES:
        rows = labels == k
        if rows.any():
            values[k] = float(np.mean(roi[rows]))
    return values


def _fit_logistic(xs: np.ndarray, y: np.ndarray, config: ModelSection) -> tuple[LogisticRegression, np.ndarray,
                                                                                 np.ndarray, bool]:
    """Scaled weights [F, 4] and bias [4] with absent classes at weight 0 / bias -30; converged flag."""
    present = np.unique(y)
    if present.size < 2:
        raise DataContractError(f"butterfly training: the fit_inner rows hold only class(es) {present.tolist()}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf = LogisticRegression(C=config.logistic_c, max_iter=config.max_iter, class_weight="balanced").fit(xs, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    weight = np.zeros((xs.shape[1], CLASS_COUNT))
    bias = np.full(CLASS_COUNT, ABSENT_CLASS_BIAS)
    if present.size == 2:  # sklearn's binary form: p1 = sigmoid(z) = softmax([0, z])[1]
        bias[present[0]] = 0.0
        weight[:, present[1]], bias[present[1]] = clf.coef_[0], clf.intercept_[0]
    else:
        weight[:, present], bias[present] = clf.coef_.T, clf.intercept_
    return clf, weight, bias, converged


def train(dataset: pd.DataFrame, config: ModelSection = ModelSection()) -> TrainedButterfly:
    """Fit on fit_inner; predictions, expected ROI and metrics on every training split."""
    missing = [c for c in PREDICTION_COLUMNS if c not in dataset.columns]
    if missing:
        raise DataContractError(f"butterfly dataset: missing column(s) {missing}")
    data = dataset[dataset["split_id"].isin(TRAINING_SPLITS)].reset_index(drop=True)
    fit_rows = (data["split_id"] == FIT_SPLIT).to_numpy()
    if not fit_rows.any():
        raise DataContractError("butterfly dataset: no fit_inner rows to train on")
    x = feature_matrix(data)
    y = data["label"].to_numpy(dtype=np.int64)
    roi = data["roi"].to_numpy(dtype=np.float64)
    scaler = StandardScaler().fit(x[fit_rows])
    x_fit = scaler.transform(x[fit_rows]).astype(np.float64)
    clf, w_scaled, b_scaled, converged = _fit_logistic(x_fit, y[fit_rows], config)
    head = LinearHead(HEAD_NAME, "softmax", *fold_scaler(w_scaled, b_scaled, scaler))
    proba = head.predict(x)
    values = class_values_from(y[fit_rows], roi[fit_rows])
    predictions = data[list(PREDICTION_COLUMNS)].copy()
    for k, name in enumerate(OUTPUT_FIELDS):
        predictions[name] = proba[:, k]
    predictions["expected_roi"] = expected_roi(proba, values)
    prior = np.bincount(y[fit_rows], minlength=CLASS_COUNT) / fit_rows.sum()
    split = data["split_id"].to_numpy()
    metrics = {s: classification_metrics(y[split == s], proba[split == s], roi[split == s], values, prior)
               for s in TRAINING_SPLITS}
    fit = {"fit_rows": int(fit_rows.sum()), "converged": converged, "classes_present": np.unique(y[fit_rows]).tolist(),
           "logistic_c": config.logistic_c, "class_weight": "balanced"}
    return TrainedButterfly(head, values, scaler, clf, predictions, metrics, fit)


def chance_macro_f1(label_mix: np.ndarray, pred_mix: np.ndarray) -> float:
    """Expected macro F1 of predictions independent of the labels with the given class mixes."""
    den = label_mix + pred_mix
    return float(np.mean(np.where(den > 0, 2 * label_mix * pred_mix / np.where(den > 0, den, 1.0), 0.0)))


def classification_metrics(y: np.ndarray, proba: np.ndarray, roi: np.ndarray, class_values: np.ndarray,
                           prior: np.ndarray) -> dict[str, Any]:
    n = len(y)
    if n == 0:
        return {"row_count": 0}
    pred = proba.argmax(axis=1)
    label_mix = np.bincount(y, minlength=CLASS_COUNT) / n
    pred_mix = np.bincount(pred, minlength=CLASS_COUNT) / n
    p = np.clip(proba, 1e-12, 1.0)
    prior_c = np.clip(prior, 1e-12, 1.0)
    reliability = {c.name: reliability_table(proba[:, c.id], (y == c.id).astype(float)) for c in ROI_CLASSES}
    e_roi = expected_roi(proba, class_values)
    return {
        "row_count": int(n),
        "accuracy": float(np.mean(pred == y)),
        "macro_f1": float(f1_score(y, pred, labels=CLASSES, average="macro", zero_division=0)),
        "f1_per_class": [float(v) for v in f1_score(y, pred, labels=CLASSES, average=None, zero_division=0)],
        "chance_macro_f1": chance_macro_f1(label_mix, pred_mix),
        "label_mix": label_mix.tolist(), "prediction_mix": pred_mix.tolist(),
        "confusion_matrix": confusion_matrix(y, pred, labels=CLASSES).tolist(),
        "logloss": float(-np.mean(np.log(p[np.arange(n), y]))),
        "constant_logloss": float(-np.mean(np.log(prior_c[y]))),
        "reliability": {k: t.to_dict(orient="records") for k, t in reliability.items()},
        "ece": {k: expected_calibration_error(t) for k, t in reliability.items()},
        "mean_expected_roi": float(np.mean(e_roi)), "mean_realized_roi": float(np.mean(roi)),
    }


# ------------------------------------------------------------------------------------------------- ONNX
def onnx_model(trained: TrainedButterfly) -> onnx.ModelProto:
    """The exporter's model of the softmax head, with the butterfly's contract in ``metadata_props``."""
    model = build_model([trained.head], FEATURE_COUNT, OUTPUT_FIELDS)
    props = metadata(model) | {
        "feature_order_hash": butterfly_feature_order_hash(),
        "feature_order": json.dumps(list(BUTTERFLY_FEATURE_ORDER)),
        "strategy": STRATEGY, "model_version": BUTTERFLY_MODEL_VERSION,
        "feature_version": BUTTERFLY_FEATURE_VERSION, "label_version": BUTTERFLY_LABEL_VERSION,
        "class_values": json.dumps([float(v) for v in trained.class_values]),
    }
    onnx.helper.set_model_props(model, props)
    return model


def export(trained: TrainedButterfly, path: Path | str) -> str:
    """Write the ONNX model atomically; returns its sha256."""
    return atomic_write_bytes(Path(path), model_bytes(onnx_model(trained)))


def contract_of(model: onnx.ModelProto, source: str) -> dict[str, Any]:
    """Strategy, feature order, class values and version of an exported butterfly model: ArtifactError if it is
    not one or its metadata is malformed, DataContractError (naming the first differing position) if its feature
    order is not BUTTERFLY_FEATURE_ORDER."""
    props = metadata(model)
    if props.get("strategy") != STRATEGY:
        raise ArtifactError(f"{source}: not a butterfly model (metadata strategy={props.get('strategy')!r})")
    try:
        order = json.loads(props.get("feature_order", "[]"))
        values = np.asarray(json.loads(props["class_values"]), dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{source}: malformed butterfly metadata ({type(exc).__name__}: {exc})") from exc
    check_feature_order(order, source, expected=BUTTERFLY_FEATURE_ORDER, expected_name="BUTTERFLY_FEATURE_ORDER")
    if input_width(model) != FEATURE_COUNT:
        raise ArtifactError(f"{source}: ONNX input {ONNX_INPUT_NAME!r} has width {input_width(model)}, "
                            f"expected {FEATURE_COUNT}")
    if values.shape != (CLASS_COUNT,):
        raise ArtifactError(f"{source}: metadata class_values must hold {CLASS_COUNT} numbers")
    return {"feature_order": order, "class_values": values, "model_version": props.get("model_version")}

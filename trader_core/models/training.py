"""Head training (docs/models.md, "Training"): fit on fit_inner, metrics on tune_inner, scaler folded into raw weights.

* A StandardScaler is fitted on the fit_inner rows only; every head is trained on scaled features and
  exported with the scaling folded in (``W = W_s / scale``, ``b = b_s - (mean / scale) @ W_s``; zero scales
  count as 1), so the ONNX model takes raw FEATURE_ORDER values. The fit sees the standardized features as
  sklearn returns them for the float32 features (float32, widened to float64), so the fitted weights stay
  those of the float32 pipeline; a float64 standardization would move an ill-conditioned Huber fit within its
  optimizer tolerance for no gain (docs/models.md, "Training"). From the fitted weights on everything is
  float64, as in the double graph: the fold, the exported weights and bias, and the predictions.
* multiclass: LogisticRegression (multinomial, Newton-Cholesky: ``SOLVER``); a class absent from the fit
  rows gets weight 0 and bias -30 (probability ~0). binary: LogisticRegression; a one-class fit set gives a
  **constant head** (weights 0, bias logit(clip(prevalence, 1e-6, 1 - 1e-6))); the fit metadata of every head
  says whether it is constant (``constant_head``: all weights 0). regression: HuberRegressor's objective
  (``models.huber.FastHuberRegressor``, the same optimizer without per-iteration row copies).
* Conditional ENTRY fit rows: ``none`` (all rows), ``direction_label`` (rows whose direction
  label is the head's side) or ``side_opportunity`` (rows whose max achievable net edge on the head's side
  is >= the threshold); too few rows raise ValueError.
* Metrics are computed on the full tune_inner split (and, for reporting only, on the sealed splits).
* Predictions on every split are the float64 evaluation of the exported heads on the float32 features
  (``LinearHead.predict``), stored as float32 like the ONNX output: the graph differs from them only by its
  final cast and summation order, which is all the parity check allows (docs/models.md, "Checks").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from trader_core.config import ModelConfig
from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.models import ACTIVATION, BINARY, ENTRY, MULTICLASS, HeadSpec, ModelSpec
from trader_core.contracts.versions import FIT_SPLIT, SEALED_SPLITS, TRAINING_SPLITS, TUNE_SPLIT
from trader_core.errors import DataContractError
from trader_core.models.heads import LinearHead
from trader_core.models.huber import FastHuberRegressor
from trader_core.models.metrics import binary_metrics, multiclass_metrics, regression_metrics

PREDICTION_KEY = ("sample_id", "symbol", "event_time", "split_id")
ABSENT_CLASS_BIAS = -30.0
#: LogisticRegression(max_iter=500), solved by Newton-Cholesky: the same convex optimum as lbfgs in
#: 3-5 iterations instead of 35-45 (3-4x faster on the demo run, and closer to the optimum at default tolerances).
SOLVER = "newton-cholesky"


@dataclass
class TrainedModel:
    name: str
    heads: list[LinearHead]
    predictions: pd.DataFrame  # PREDICTION_KEY + the model's output fields, every split
    metrics: dict[str, dict[str, Any]]  # tune_inner metrics per head name
    sealed_metrics: dict[str, dict[str, dict[str, Any]]]  # split -> head -> metrics (reporting only)
    fit: dict[str, dict[str, Any]] = field(default_factory=dict)  # head -> fit filter, rows, convergence

    def manifest(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "sealed_metrics": self.sealed_metrics, "fit": self.fit,
                "heads": [{"name": h.name, "kind": h.kind, "width": h.width} for h in self.heads]}


def head_train_mask(model: str, head: HeadSpec, train: pd.DataFrame, config: ModelConfig) -> tuple[np.ndarray, str]:
    """Fit-row mask and filter name of a head (docs/models.md, "Training")."""
    source = config.conditional_entry_source
    side = next((s for s in ("long", "short") if head.name.startswith(f"{s}_")), None)
    if model != ENTRY or source == "none" or side is None:
        return np.ones(len(train), dtype=bool), "ALL_FIT_ROWS"
    if source == "direction_label":
        column, name = f"{side}_target", f"DIRECTION_LABEL_{side.upper()}_FIT_ROWS"
        if column not in train.columns:
            raise ValueError(f"conditional entry training needs column {column!r} (direction labels)")
        mask = train[column].fillna(0).to_numpy() == 1
    else:
        thr = config.conditional_entry_opportunity_bps
        column = f"{side}_max_achievable_net_edge_bps"
        if column not in train.columns:
            raise ValueError(f"conditional entry training needs column {column!r}")
        mask = (train[column].to_numpy(dtype=float) >= thr) & train[column].notna().to_numpy()
        name = f"SIDE_OPPORTUNITY_{side.upper()}_GE_{thr:g}_BPS_FIT_ROWS"
    if len(mask) != len(train):
        raise ValueError(f"fit mask has {len(mask)} rows for {len(train)} training rows")
    if int(mask.sum()) < config.conditional_entry_min_fit_rows:
        raise ValueError(f"{model}.{head.name} has too few fit rows after {name}: {int(mask.sum())} < "
                         f"{config.conditional_entry_min_fit_rows}")
    return mask, name


def fold_scaler(weight_scaled: np.ndarray, bias_scaled: np.ndarray, scaler: StandardScaler) -> tuple[np.ndarray, np.ndarray]:
    """Raw-feature weights equivalent to ``scaler.transform(x) @ W_s + b_s``."""
    scale = np.where(scaler.scale_ == 0, 1.0, scaler.scale_)
    weight = weight_scaled / scale[:, None]
    bias = bias_scaled - (scaler.mean_ / scale) @ weight_scaled
    return weight, bias


def prepare_dataset(model: ModelSpec, dataset: pd.DataFrame, config: ModelConfig,
                    direction_train: pd.DataFrame | None = None) -> pd.DataFrame:
    """Attach direction labels for conditional ENTRY training, apply max_rows, check the dataset."""
    if dataset.empty:
        raise DataContractError(f"{model.dataset}_train: the dataset is empty")
    missing = [c for c in (*PREDICTION_KEY, *FEATURE_ORDER) if c not in dataset.columns]
    if missing:
        raise DataContractError(f"{model.dataset}_train: missing column(s) {missing[:5]}")
    if model.name == ENTRY and config.conditional_entry_source == "direction_label":
        if direction_train is None:
            raise ValueError("conditional_entry_source=direction_label needs the direction dataset")
        merged = dataset.merge(direction_train[["sample_id", "long_target", "short_target"]], on="sample_id",
                               how="inner", validate="one_to_one")
        if len(merged) != len(dataset):
            raise DataContractError(f"entry_train: {len(dataset) - len(merged)} row(s) have no direction label")
        dataset = merged
    if config.max_rows > 0:
        dataset = dataset.sort_values("event_time", kind="mergesort").tail(config.max_rows)
    return dataset.reset_index(drop=True)


def train_model(model: ModelSpec, dataset: pd.DataFrame, config: ModelConfig = ModelConfig(),
                direction_train: pd.DataFrame | None = None) -> TrainedModel:
    """Train every head of ``model`` on fit_inner; metrics on tune_inner; predictions on every split."""
    data = prepare_dataset(model, dataset, config, direction_train)
    split = data["split_id"].to_numpy()
    train_rows = split == FIT_SPLIT
    if not train_rows.any():
        raise DataContractError(f"{model.dataset}_train: no fit_inner rows to train on")
    x = data[list(FEATURE_ORDER)].to_numpy(dtype=np.float32)
    if not np.isfinite(x).all():
        raise DataContractError(f"{model.dataset}_train: non-finite feature values")
    scaler = StandardScaler().fit(x[train_rows])
    x_fit = scaler.transform(x[train_rows]).astype(np.float64)
    train = data.loc[train_rows].reset_index(drop=True)
    predictions = data[list(PREDICTION_KEY)].copy()
    result = TrainedModel(model.name, [], predictions, {}, {s: {} for s in SEALED_SPLITS})
    for head in model.heads:
        mask, filter_name = head_train_mask(model.name, head, train, config)
        linear, train_stat, converged = _fit_head(head, x_fit[mask], train.loc[mask], config)
        exported = LinearHead(head.name, ACTIVATION[head.kind], *fold_scaler(linear[0], linear[1], scaler))
        result.heads.append(exported)
        proba = exported.predict(x)
        for k, name in enumerate(head.fields):
            predictions[name] = proba[:, k].astype(np.float32)
        targets = data[list(head.target)].to_numpy(dtype=float)
        result.metrics[head.name] = _metrics(head, targets[split == TUNE_SPLIT], proba[split == TUNE_SPLIT], train_stat)
        result.metrics[head.name]["target_source"] = ",".join(head.target)
        for sealed in SEALED_SPLITS:
            rows = split == sealed
            result.sealed_metrics[sealed][head.name] = _metrics(head, targets[rows], proba[rows], train_stat)
        result.fit[head.name] = {"fit_filter": filter_name, "fit_rows": int(mask.sum()),
                                 "fit_total_rows": int(len(mask)), "fit_row_ratio": float(mask.mean()),
                                 "converged": converged, "kind": head.kind,
                                 "constant_head": not bool(np.any(linear[0]))}
    result.predictions = predictions
    return result


def _fit_head(head: HeadSpec, x_fit: np.ndarray, fit: pd.DataFrame, config: ModelConfig):
    """(scaled weights [F,K], scaled bias [K]), the train statistic, converged."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if head.kind == MULTICLASS:
            out = _fit_multiclass(fit[list(head.target)].to_numpy(dtype=float), x_fit, config)
        elif head.kind == BINARY:
            out = _fit_binary(fit[head.target[0]].to_numpy(dtype=float), x_fit, config)
        else:
            out = _fit_regression(fit[head.target[0]].to_numpy(dtype=float), x_fit, config)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return (*out, converged)


def _fit_multiclass(onehot: np.ndarray, x_fit: np.ndarray, config: ModelConfig):
    prior = onehot.mean(axis=0)
    y = onehot.argmax(axis=1)
    classes = np.unique(y)
    k = onehot.shape[1]
    weight = np.zeros((x_fit.shape[1], k))
    bias = np.full(k, ABSENT_CLASS_BIAS)
    if len(classes) == 1:
        bias[classes[0]] = 0.0
    else:
        clf = LogisticRegression(C=config.logistic_c, max_iter=config.logistic_max_iter, solver=SOLVER).fit(x_fit, y)
        if len(classes) == 2:  # sklearn's binary form: p1 = sigmoid(z) = softmax([0, z])[1]
            bias[classes[0]] = 0.0
            weight[:, classes[1]], bias[classes[1]] = clf.coef_[0], clf.intercept_[0]
        else:
            weight[:, classes], bias[classes] = clf.coef_.T, clf.intercept_
    return (weight, bias), prior


def _fit_binary(y: np.ndarray, x_fit: np.ndarray, config: ModelConfig):
    rate = float(y.mean())
    if np.unique(y).size < 2:  # constant head at the clipped prevalence
        p = min(max(rate, 1e-6), 1 - 1e-6)
        return (np.zeros((x_fit.shape[1], 1)), np.array([np.log(p / (1 - p))])), rate
    clf = LogisticRegression(C=config.logistic_c, max_iter=config.logistic_max_iter, solver=SOLVER).fit(x_fit, y)
    return (clf.coef_.T.copy(), clf.intercept_.copy()), rate


def _fit_regression(y: np.ndarray, x_fit: np.ndarray, config: ModelConfig):
    reg = FastHuberRegressor(alpha=config.huber_alpha, epsilon=config.huber_epsilon,
                             max_iter=config.huber_max_iter).fit(x_fit, y)
    return (reg.coef_[:, None].copy(), np.array([reg.intercept_])), float(np.median(y))


def _metrics(head: HeadSpec, targets: np.ndarray, proba: np.ndarray, train_stat) -> dict[str, Any]:
    if head.kind == MULTICLASS:
        return multiclass_metrics(targets, proba, train_stat)
    if head.kind == BINARY:
        return binary_metrics(targets[:, 0], proba[:, 0], train_stat)
    return regression_metrics(targets[:, 0], proba[:, 0], train_stat)


def split_predictions(trained: TrainedModel) -> dict[str, pd.DataFrame]:
    """Predictions per training split (the files ``<split>_predictions.parquet``)."""
    split = trained.predictions["split_id"].to_numpy()
    return {s: trained.predictions.loc[split == s].reset_index(drop=True) for s in TRAINING_SPLITS}

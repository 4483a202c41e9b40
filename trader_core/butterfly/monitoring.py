"""Monitoring (docs/butterfly.md, "Monitoring"): predicted vs realized ROI on newly landed data.

``monitor(engine, dataset)`` scores newly labelled samples (features + realized ``roi``/``label``) with a model's
inference engine (``butterfly.inference``: the class values stored in the model's metadata), and reports for
all rows and for the rows the decision rule would have traded (the seed monitors its closed AI trades):

* rows, mean predicted ROI (E[ROI]) vs mean realized ROI and their absolute deviation;
* predicted success = E[ROI] > ``min_expected_roi`` (0.15), actual success = realized ROI > 0 (the seed's
  ``actual_pnl > 0``): counts and the accuracy of one against the other;
* class accuracy and macro F1 of the 4-class prediction (all rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from trader_core.butterfly.backtest import select_trades
from trader_core.butterfly_config import DecisionSection
from trader_core.contracts.butterfly import CLASS_COUNT
from trader_core.butterfly.inference import ButterflyEngine
from trader_core.errors import DataContractError


def _summary(predicted: np.ndarray, realized: np.ndarray, threshold: float) -> dict[str, Any]:
    n = len(realized)
    if n == 0:
        return {"rows": 0}
    predicted_success, actual_success = predicted > threshold, realized > 0
    return {"rows": int(n), "mean_predicted_roi": float(predicted.mean()), "mean_realized_roi": float(realized.mean()),
            "abs_deviation": float(abs(predicted.mean() - realized.mean())),
            "predicted_success": int(predicted_success.sum()), "actual_success": int(actual_success.sum()),
            "success_accuracy": float(np.mean(predicted_success == actual_success))}


def monitor(engine: ButterflyEngine, dataset: pd.DataFrame,
            decision: DecisionSection = DecisionSection()) -> dict[str, Any]:
    """Report of the engine's model on ``dataset`` (features, ``roi``, ``label``, ``date``, ``symbol``)."""
    for column in ("sample_id", "date", "symbol", "roi", "label"):
        if column not in dataset.columns:
            raise DataContractError(f"butterfly monitoring rows: missing column {column!r}")
    if dataset.empty:
        raise DataContractError("butterfly monitoring rows: no rows (nothing landed and labelled yet)")
    distribution = engine.predict_roi_distribution(dataset)
    scored = dataset[["sample_id", "date", "symbol", "roi", "label"]].assign(
        split_id="monitoring", expected_roi=distribution["expected_roi"].to_numpy())
    trades = select_trades(scored, decision)
    label, pred = scored["label"].to_numpy(dtype=np.int64), distribution["top_class"].to_numpy()
    return {
        "model_version": engine.model_version,
        "class_values": engine.class_values.tolist(),
        "threshold": decision.min_expected_roi,
        "all_rows": _summary(scored["expected_roi"].to_numpy(), scored["roi"].to_numpy(dtype=np.float64),
                             decision.min_expected_roi),
        "traded_rows": _summary(trades["expected_roi"].to_numpy(), trades["roi"].to_numpy(dtype=np.float64),
                                decision.min_expected_roi),
        "class_accuracy": float(np.mean(pred == label)),
        "macro_f1": float(f1_score(label, pred, labels=np.arange(CLASS_COUNT), average="macro", zero_division=0)),
    }

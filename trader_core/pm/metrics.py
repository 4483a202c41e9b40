"""Trade metrics (docs/trading.md, "Integrated backtest").

win_rate is the share of trades with weighted_edge_bps > 0 (planned_ratio is always > 0, so this equals the
share with actual_edge_bps > 0). Drawdown is the running peak of the cumulative weighted edge minus that
equity (no implicit zero starting point). profit_factor is inf when there are no losses;
``jsonable_metrics`` maps non-finite floats to strings for JSON writers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

METRIC_KEYS = ("trade_count", "win_rate", "avg_actual_edge_bps", "avg_weighted_edge_bps", "total_weighted_edge_bps",
               "max_drawdown_bps", "avg_planned_ratio", "min_planned_ratio", "p50_planned_ratio", "max_planned_ratio",
               "profit_factor", "max_consecutive_losses")


def trade_metrics(trades: pd.DataFrame) -> dict[str, Any]:
    """Metrics of a trade table in its row order (trades are sorted by event_time)."""
    return metrics_from_arrays(trades["actual_edge_bps"].to_numpy("float64"),
                               trades["weighted_edge_bps"].to_numpy("float64"),
                               trades["planned_ratio"].to_numpy("float64"))


def metrics_from_arrays(actual_edge: np.ndarray, weighted_edge: np.ndarray, ratio: np.ndarray) -> dict[str, Any]:
    """The trade metrics from per-trade arrays in trade order; all zeros when empty."""
    if len(weighted_edge) == 0:
        return {key: 0 if key in ("trade_count", "max_consecutive_losses") else 0.0 for key in METRIC_KEYS}
    equity = np.cumsum(weighted_edge)
    gains = float(weighted_edge[weighted_edge > 0].sum())
    losses = abs(float(weighted_edge[weighted_edge < 0].sum()))
    return {
        "trade_count": len(weighted_edge),
        "win_rate": float(np.mean(weighted_edge > 0)),
        "avg_actual_edge_bps": float(np.mean(actual_edge)),
        "avg_weighted_edge_bps": float(np.mean(weighted_edge)),
        "total_weighted_edge_bps": float(equity[-1]),
        "max_drawdown_bps": float(np.max(np.maximum.accumulate(equity) - equity)),
        "avg_planned_ratio": float(np.mean(ratio)),
        "min_planned_ratio": float(np.min(ratio)),
        "p50_planned_ratio": float(np.median(ratio)),
        "max_planned_ratio": float(np.max(ratio)),
        "profit_factor": gains / losses if losses > 0 else math.inf,
        "max_consecutive_losses": max_consecutive_losses(weighted_edge),
    }


def max_consecutive_losses(weighted_edge: np.ndarray) -> int:
    """Longest run of weighted_edge_bps < 0."""
    loss = np.concatenate(([False], np.asarray(weighted_edge) < 0, [False])).astype(np.int8)
    edges = np.diff(loss)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if len(starts) else 0


def jsonable_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Copy of the metrics with non-finite floats as the strings "inf", "-inf" or "nan"."""
    return {k: (str(v) if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}

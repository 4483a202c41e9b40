"""PM threshold search over the 1536-candidate grid (docs/trading.md, "Threshold search").

Score::

    score = total_weighted_edge_bps - 0.5 * max_drawdown_bps           if trade_count >= min_trades
                                                                        and avg_weighted_edge_bps > 0
    score = total_weighted_edge_bps - 0.5 * max_drawdown_bps - 1e9     otherwise

The 1e9 penalty ranks every non-qualifying candidate below every qualifying one while keeping an order among
them. The best candidate is the highest score; ties go to the lowest candidate index.

The frame is prepared once (sorted arrays, scores, per-side exit times and ratios); all candidates are then
evaluated in one batched numba pass (``trader_core.pm.batch.candidate_metrics``, equal to ``select_trades`` +
``metrics_from_arrays`` per candidate). Every candidate is simulated with ``pm_config_from_thresholds``; the best
trades are re-simulated with ``simulate_trades``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.price_plan import PricePlan
from trader_core.pm.batch import candidate_table
from trader_core.pm.config import PMConfig, pm_config_from_thresholds, threshold_candidates
from trader_core.pm.metrics import trade_metrics
from trader_core.pm.simulate import PreparedFrame, simulate_trades

NOT_QUALIFIED_PENALTY = 1e9
SCORE_FORMULA = (f"total_weighted_edge_bps - 0.5 * max_drawdown_bps, minus {NOT_QUALIFIED_PENALTY:g} unless "
                 "trade_count >= min_trades and avg_weighted_edge_bps > 0; ties -> lowest candidate index")


@dataclass(frozen=True)
class SearchResult:
    """Best thresholds with their config, trades and metrics, and one row per candidate."""

    best_thresholds: dict[str, float]
    best_config: PMConfig
    best_trades: pd.DataFrame
    best_metrics: dict[str, Any]
    candidates: pd.DataFrame
    score_formula: str


def score_thresholds(metrics: Mapping[str, Any], min_trades: int) -> float:
    """The search score of one candidate's metrics (see the module docstring)."""
    raw = float(metrics["total_weighted_edge_bps"]) - 0.5 * float(metrics["max_drawdown_bps"])
    qualified = metrics["trade_count"] >= min_trades and metrics["avg_weighted_edge_bps"] > 0
    return raw if qualified else raw - NOT_QUALIFIED_PENALTY


def search_thresholds(frame: pd.DataFrame, price_plan: PricePlan | None, *,
                      candidates: Sequence[Mapping[str, float]] | None = None,
                      min_trades: int = 20) -> SearchResult:
    """Simulate every candidate on the frame and keep the best by score."""
    candidates = list(candidates if candidates is not None else threshold_candidates())
    if not candidates:
        raise ValueError("search_thresholds needs at least one candidate")
    prepared = PreparedFrame.build(frame, price_plan)
    table = candidate_table(prepared, candidates, partial(score_thresholds, min_trades=min_trades))
    best_index = int(np.argmax(table["score"].to_numpy()))
    best = dict(candidates[best_index])
    config = pm_config_from_thresholds(best)
    trades = simulate_trades(frame, best, config, price_plan)
    return SearchResult(best, config, trades, trade_metrics(trades), table, SCORE_FORMULA)


"""The position manager's decision for each row on its own: what the backtest would open there, or the rule that
blocked it (docs/decide.md, docs/trading.md "Gates, sizing, overlap").

A row opens exactly when ``open_candidates`` (the step ``select_trades`` walks through the overlap rule) keeps
it, with its side and planned ratio; the backtest may still skip it while an earlier trade of the symbol is
open. A row that does not open is explained on one side: the side the PM chose when a gate passed (then only
sizing can have stopped it), else the side its score prefers (LONG on ties, as the side rule breaks them). Its
rules are checked in the order of docs/trading.md; ``blocked_by`` is the first that fails, with the value and
the threshold it failed, and ``failed_rules`` lists every failing one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from trader_core.contracts.price_plan import PricePlan
from trader_core.pm.config import PMConfig, Sizing
from trader_core.pm.simulate import PreparedFrame, hard_cap, open_candidates, side_gates

LONG, SHORT, NO_TRADE = "LONG", "SHORT", "NONE"
#: Sizing rules after the gates: the edge floor of the size, a hard cap below the smallest allowed ratio, and a
#: planned ratio of 0 for any other reason (``base_ratio`` 0 with ``min_initial_ratio`` 0).
MIN_SIZED_EDGE = "sizing.min_edge_bps"
HARD_CAP = "sizing.min_initial_ratio"
PLANNED_RATIO = "sizing.planned_ratio"
DECISION_COLUMNS = ("side", "considered_side", "direction_prob", "entry_prob", "expected_edge_bps", "planned_ratio",
                    "blocked_by", "blocked_value", "blocked_threshold", "failed_rules")


def entry_decisions(frame: pd.DataFrame, pm_config: PMConfig, price_plan: PricePlan | None) -> pd.DataFrame:
    """DECISION_COLUMNS for every row of a PM frame, in frame order (index of ``frame``)."""
    thresholds = pm_config.thresholds
    prepared = PreparedFrame.build(frame, price_plan)
    n = len(prepared.order)
    opened = open_candidates(prepared, thresholds, pm_config)
    gates = side_gates(prepared, thresholds)
    chosen_long = gates["long"] & (~gates["short"] | prepared.long_wins_tie)
    considered_long = np.where(gates["long"] | gates["short"], chosen_long, prepared.long_wins_tie)
    considered_long[opened.positions] = opened.is_long
    side = np.full(n, NO_TRADE, dtype=object)
    side[opened.positions] = np.where(opened.is_long, LONG, SHORT)
    ratio = np.zeros(n)
    ratio[opened.positions] = opened.planned_ratio
    pick = _picker(prepared, considered_long)
    names, values, limits, failing = _rules(prepared, thresholds, pm_config.sizing, price_plan, pick,
                                            considered_long)
    blocked = failing.any(axis=1)
    first = (np.arange(n), np.argmax(failing, axis=1))
    out = pd.DataFrame({
        "side": side, "considered_side": np.where(considered_long, LONG, SHORT),
        "direction_prob": pick("direction_prob"), "entry_prob": pick("entry_prob"),
        "expected_edge_bps": pick("predicted_edge_bps"), "planned_ratio": ratio,
        "blocked_by": np.where(blocked, names[first], ""),
        "blocked_value": np.where(blocked, values[first], np.nan),
        "blocked_threshold": np.where(blocked, limits[first], np.nan),
        "failed_rules": _joined(names, failing)})
    restored = np.empty(n, dtype=np.int64)
    restored[prepared.order] = np.arange(n)
    return out.iloc[restored].set_index(frame.index)[list(DECISION_COLUMNS)]


def _picker(prepared: PreparedFrame, is_long: np.ndarray) -> Callable[[str], np.ndarray]:
    """``name -> the considered side's <side>_<name> value`` per sorted row."""
    v = prepared.values
    return lambda name: np.where(is_long, v[f"long_{name}"], v[f"short_{name}"])


def _rules(prepared: PreparedFrame, thresholds: Mapping[str, float], sizing: Sizing,
           plan: PricePlan | None, pick: Callable[[str], np.ndarray], is_long: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rule name, value, threshold, fails) as [sorted row, rule] matrices for the considered side, rules in the
    order of docs/trading.md; the gate masks are ``PreparedFrame.passes``, the masks the backtest's gates use."""
    n = len(is_long)
    v, t = prepared.values, thresholds

    def gate(long_value: str, short_value: str, long_key: str, short_key: str) -> tuple:
        fails = ~np.where(is_long, prepared.passes(long_value, t[long_key]), prepared.passes(short_value, t[short_key]))
        return (np.where(is_long, long_key, short_key), np.where(is_long, v[long_value], v[short_value]),
                np.where(is_long, t[long_key], t[short_key]), fails)

    def sizing_rule(name: str, value: np.ndarray, threshold: float, fails: np.ndarray) -> tuple:
        return np.full(n, name), value, np.full(n, threshold), fails

    sized_edge = np.maximum(pick("predicted_edge_bps"), 0.0)
    min_edge = sizing.min_edge_bps
    cap = hard_cap(sizing, plan)
    min_ratio = sizing.min_initial_ratio
    capped = np.where(is_long, *prepared.ratios(sizing))
    rules = [
        gate("long_direction_prob", "short_direction_prob", "long_open_prob", "short_open_prob"),
        gate("margin", "margin", "min_direction_margin", "min_direction_margin"),
        gate("long_entry_prob", "short_entry_prob", "min_entry_prob", "min_entry_prob"),
        gate("market_risk_prob", "market_risk_prob", "max_market_risk_prob", "max_market_risk_prob"),
        gate("long_predicted_edge_bps", "short_predicted_edge_bps", "min_expected_edge_bps", "min_expected_edge_bps"),
        sizing_rule(MIN_SIZED_EDGE, sized_edge, min_edge, ~(sized_edge >= min_edge)),
        sizing_rule(HARD_CAP, np.full(n, cap), min_ratio, np.full(n, cap < min_ratio)),
        sizing_rule(PLANNED_RATIO, capped, 0.0, ~(capped > 0) & (cap >= min_ratio)),
    ]
    return tuple(np.column_stack([rule[k] for rule in rules]).astype(dtype)
                 for k, dtype in enumerate((object, "float64", "float64", bool)))


def _joined(names: np.ndarray, failing: np.ndarray) -> np.ndarray:
    """Comma-separated names of the failing rules per row ("" when none)."""
    parts = pd.DataFrame(np.where(failing, names + ",", ""))
    return parts.sum(axis=1).str.rstrip(",").to_numpy(dtype=object)

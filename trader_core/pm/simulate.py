"""Open-trade simulation: strict gates, side choice, time to exit, sizing, overlap blocking (docs/trading.md,
"Gates, sizing, overlap").

Rows are put once into (symbol, event_time) order (``PreparedFrame``); a threshold set then costs a few
boolean masks and one numba scan (``select_trades``), which the threshold search reuses per candidate.

Ordering (ties the rule leaves open): symbols sort as strings; trades with equal symbol,
event_time and predicted edge are walked in frame order; the kept trades are stably sorted by
event_time, so equal times keep the (symbol, predicted edge ↓) walk order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from trader_core.contracts.features import sha256_json
from trader_core.contracts.price_plan import PricePlan
from trader_core.errors import DataContractError
from trader_core.pm.config import (
    DEFAULT_BACKTEST_COST_BPS,
    DEFAULT_BACKTEST_MAX_HOLD_MINUTES,
    DEFAULT_BACKTEST_STOP_BPS,
    PMConfig,
    Sizing,
    check_thresholds,
    pm_config_from_thresholds,
)

TRADE_COLUMNS = ("sample_id", "symbol", "event_time", "split_id", "side", "direction_prob", "entry_prob",
                 "market_risk_prob", "predicted_edge_bps", "label_actual_plan_edge_bps", "actual_edge_bps",
                 "entry_target", "target_hit", "stop_hit", "time_to_exit_ms", "planned_ratio", "weighted_edge_bps",
                 "threshold_hash")
SIDE_FIELDS = {  # per-side output field -> frame column template
    "direction_prob": "{s}_prob", "entry_prob": "{s}_entry_prob", "predicted_edge_bps": "pred_{s}_expected_net_edge_bps",
    "actual_edge_bps": "{s}_trade_net_edge_bps", "label_actual_plan_edge_bps": "actual_{s}_plan_edge_bps",
    "target_hit": "{s}_target_hit", "stop_hit": "{s}_stop_hit"}
REQUIRED_COLUMNS = ("sample_id", "symbol", "event_time", "split_id", "market_risk_prob") + tuple(
    template.format(s=s) for template in (*SIDE_FIELDS.values(), "{s}_entry_target") for s in ("long", "short"))
EXIT_COLUMNS = ("long_time_to_exit_ms", "short_time_to_exit_ms")
HIT_TIME_COLUMNS = tuple(f"{s}_time_to_{k}_ms" for s in ("long", "short") for k in ("target", "stop"))
MINUTE_MS = 60_000


def max_hold_ms(price_plan: PricePlan | None) -> float:
    """The plan's max hold (without a plan DEFAULT_BACKTEST_MAX_HOLD_MINUTES) in ms."""
    minutes = DEFAULT_BACKTEST_MAX_HOLD_MINUTES if price_plan is None else price_plan.max_hold_minutes
    return float(minutes * MINUTE_MS)


def cooldown_ms(pm_config: PMConfig) -> float:
    """add.cooldown_minutes in ms."""
    return float(pm_config.add.cooldown_minutes * MINUTE_MS)


def stop_loss_budget(price_plan: PricePlan | None) -> float:
    """max(stop + cost, 1) of the plan (without a plan the DEFAULT_BACKTEST stop 35 and cost 4)."""
    if price_plan is None:
        return DEFAULT_BACKTEST_STOP_BPS + DEFAULT_BACKTEST_COST_BPS
    return max(price_plan.stop_bps + price_plan.cost_bps, 1.0)


def capped_ratio(edge: np.ndarray, direction_prob: np.ndarray, entry_prob: np.ndarray, market_risk: np.ndarray,
                 sizing: Sizing, price_plan: PricePlan | None) -> np.ndarray:
    """Sizing ratio before the min_edge_bps cut: clip(raw, min_initial_ratio, hard_cap), or 0 if the cap is too
    low."""
    budget = stop_loss_budget(price_plan)
    e = np.maximum(edge, 0.0)
    raw = (sizing.base_ratio * (e / budget) * np.clip(direction_prob, 0.0, 1.0)
           * np.clip(entry_prob, 0.0, 1.0) * (1.0 - np.clip(market_risk, 0.0, 1.0)))
    cap = hard_cap(sizing, price_plan)
    if cap < sizing.min_initial_ratio:
        return np.zeros(len(e), dtype="float64")
    return np.clip(raw, sizing.min_initial_ratio, cap)


def hard_cap(sizing: Sizing, price_plan: PricePlan | None) -> float:
    """min(max_single_leg_ratio, max_total_position_ratio, max_liquidity_usage_ratio, max_loss_per_trade_bps /
    stop-loss budget)."""
    return min(sizing.max_single_leg_ratio, sizing.max_total_position_ratio, sizing.max_liquidity_usage_ratio,
               sizing.max_loss_per_trade_bps / stop_loss_budget(price_plan))


def planned_ratio(edge: np.ndarray, direction_prob: np.ndarray, entry_prob: np.ndarray, market_risk: np.ndarray,
                  sizing: Sizing, price_plan: PricePlan | None) -> np.ndarray:
    """Planned ratio: the capped ratio, 0 where max(edge, 0) < sizing.min_edge_bps."""
    ratio = capped_ratio(edge, direction_prob, entry_prob, market_risk, sizing, price_plan)
    return np.where(np.maximum(edge, 0.0) >= sizing.min_edge_bps, ratio, 0.0)


_RATIO_FIELDS = tuple(f.name for f in dataclasses.fields(Sizing) if f.name != "min_edge_bps")


def ratio_key(sizing: Sizing) -> tuple[float, ...]:
    """What the capped ratios depend on: the sizing's terms but min_edge_bps (applied per selection)."""
    return tuple(getattr(sizing, name) for name in _RATIO_FIELDS)


@njit(cache=True)
def _visit(m: int, event_ns: np.ndarray, exit_ms: np.ndarray, max_hold: float, cooldown: float,
           has_next: bool, next_available: np.int64) -> tuple[bool, np.int64]:
    """(kept, next_available) after offering trade ``m`` to its symbol's walk."""
    if has_next and event_ns[m] < next_available:
        return False, next_available
    delay = exit_ms[m]
    if not (np.isfinite(delay) and delay > 0.0):
        delay = max_hold
    return True, event_ns[m] + np.int64((delay + cooldown) * 1_000_000.0)


@njit(cache=True)
def overlap_walk(symbol: np.ndarray, event_ns: np.ndarray, group: np.ndarray, predicted_edge: np.ndarray,
                 exit_ms: np.ndarray, max_hold: float, cooldown: float) -> np.ndarray:
    """Indices of kept trades in walk order (the overlap rule). Input is in (symbol, event_time) order; ``group``
    numbers equal (symbol, event_time) runs, which are walked by predicted edge descending (stable)."""
    n = symbol.shape[0]
    kept = np.empty(n, dtype=np.int64)
    count = 0
    has_next = False
    next_available = np.int64(0)
    i = 0
    while i < n:
        j = i + 1
        while j < n and group[j] == group[i]:
            j += 1
        if i == 0 or symbol[i] != symbol[i - 1]:
            has_next = False
        if j - i == 1:
            ok, next_available = _visit(i, event_ns, exit_ms, max_hold, cooldown, has_next, next_available)
            if ok:
                kept[count] = i
                count += 1
                has_next = True
        else:
            for m in np.argsort(-predicted_edge[i:j], kind="mergesort") + i:
                ok, next_available = _visit(m, event_ns, exit_ms, max_hold, cooldown, has_next, next_available)
                if ok:
                    kept[count] = m
                    count += 1
                    has_next = True
        i = j
    return kept[:count]


def _float(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy("float64", na_value=np.nan)


@dataclass
class PreparedFrame:
    """Per-row arrays of a PM frame in (symbol, event_time, frame position) order, computed once."""

    frame: pd.DataFrame
    price_plan: PricePlan | None
    order: np.ndarray
    symbol: np.ndarray
    event_ns: np.ndarray
    group: np.ndarray
    values: dict[str, np.ndarray]
    long_wins_tie: np.ndarray
    _masks: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)
    _ratios: dict[tuple[float, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def build(cls, frame: pd.DataFrame, price_plan: PricePlan | None) -> PreparedFrame:
        """Check columns, sort rows once and precompute every threshold-independent quantity."""
        _check_columns(frame)
        symbol_codes = pd.factorize(frame["symbol"].astype(str), sort=True)[0].astype(np.int64)
        event_ns = pd.DatetimeIndex(pd.to_datetime(frame["event_time"], utc=True)).as_unit("ns").asi8
        order = np.lexsort((event_ns, symbol_codes))
        symbol, event_ns = symbol_codes[order], event_ns[order]
        new_group = np.ones(len(order), dtype=bool)
        new_group[1:] = (symbol[1:] != symbol[:-1]) | (event_ns[1:] != event_ns[:-1])
        values = _side_values(frame, order, price_plan)
        margin = np.abs(values["long_direction_prob"] - values["short_direction_prob"])
        values["margin"] = margin
        scores = {s: (np.maximum(values[f"{s}_predicted_edge_bps"], 0.0) * values[f"{s}_direction_prob"]
                      * values[f"{s}_entry_prob"] * (1.0 - np.clip(values["market_risk_prob"], 0.0, 1.0)))
                  for s in ("long", "short")}
        return cls(frame, price_plan, order, symbol, event_ns, np.cumsum(new_group), values,
                   scores["long"] >= scores["short"])

    def passes(self, name: str, threshold: float) -> np.ndarray:
        """Cached strict gate ``values[name] > threshold`` (``< threshold`` for market risk); NaN fails."""
        key = (name, float(threshold))
        if key not in self._masks:
            v = self.values[name]
            self._masks[key] = v < threshold if name == "market_risk_prob" else v > threshold
        return self._masks[key]

    def ratios(self, sizing: Sizing) -> tuple[np.ndarray, np.ndarray]:
        """Cached (long, short) capped ratios for the sizing (min_edge_bps is applied per selection)."""
        key = ratio_key(sizing)
        if key not in self._ratios:
            v = self.values
            self._ratios[key] = tuple(capped_ratio(
                v[f"{s}_predicted_edge_bps"], v[f"{s}_direction_prob"], v[f"{s}_entry_prob"], v["market_risk_prob"],
                sizing, self.price_plan) for s in ("long", "short"))
        return self._ratios[key]


def _check_columns(frame: pd.DataFrame) -> None:
    has_exit = all(c in frame.columns for c in EXIT_COLUMNS)
    required = REQUIRED_COLUMNS + (() if has_exit else HIT_TIME_COLUMNS)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataContractError(f"PM frame is missing columns: {missing}")


def _side_values(frame: pd.DataFrame, order: np.ndarray, price_plan: PricePlan | None) -> dict[str, np.ndarray]:
    """Float arrays in sorted order: ``<side>_<field>`` for SIDE_FIELDS and time_to_exit_ms, plus market risk."""
    out = {"market_risk_prob": _float(frame, "market_risk_prob")[order]}
    hold = max_hold_ms(price_plan)
    has_exit = all(c in frame.columns for c in EXIT_COLUMNS)
    for s in ("long", "short"):
        for name, template in SIDE_FIELDS.items():
            out[f"{s}_{name}"] = _float(frame, template.format(s=s))[order]
        if has_exit:
            label_exit = _float(frame, f"{s}_time_to_exit_ms")[order]
            out[f"{s}_time_to_exit_ms"] = np.where(np.isfinite(label_exit) & (label_exit > 0), label_exit, hold)
        else:
            target_ms = _float(frame, f"{s}_time_to_target_ms")[order]
            stop_ms = _float(frame, f"{s}_time_to_stop_ms")[order]
            out[f"{s}_time_to_exit_ms"] = np.where(
                (out[f"{s}_target_hit"] == 1) & (target_ms >= 0), target_ms,
                np.where((out[f"{s}_stop_hit"] == 1) & (stop_ms >= 0), stop_ms, hold))
    return out


@dataclass(frozen=True)
class Selection:
    """Kept trades of one threshold set: sorted-row positions in output order, side and planned ratio."""

    positions: np.ndarray
    is_long: np.ndarray
    planned_ratio: np.ndarray

    def pick(self, prepared: PreparedFrame, name: str) -> np.ndarray:
        """The chosen side's ``<side>_<name>`` value per kept trade."""
        v = prepared.values
        return np.where(self.is_long, v[f"long_{name}"][self.positions], v[f"short_{name}"][self.positions])


def side_gates(prepared: PreparedFrame, thresholds: Mapping[str, float]) -> dict[str, np.ndarray]:
    """The strict LONG and SHORT gates per sorted row (docs/trading.md, "Gates, sizing, overlap")."""
    p, t = prepared, thresholds
    common = p.passes("margin", t["min_direction_margin"]) & p.passes("market_risk_prob", t["max_market_risk_prob"])
    return {s: (p.passes(f"{s}_direction_prob", t[f"{s}_open_prob"]) & p.passes(f"{s}_entry_prob", t["min_entry_prob"])
                & p.passes(f"{s}_predicted_edge_bps", t["min_expected_edge_bps"]) & common) for s in ("long", "short")}


def open_candidates(prepared: PreparedFrame, thresholds: Mapping[str, float],
                    pm_config: PMConfig) -> Selection:
    """Every row the PM would open on its own, before the overlap rule: gates, side choice, sizing, ratio > 0.

    ``select_trades`` walks these through the overlap rule; a live decision (``trader_core.pm.decision``) is
    this for the newest row, so the two cannot drift apart.
    """
    p = prepared
    gates = side_gates(p, thresholds)
    go_long = gates["long"] & (~gates["short"] | p.long_wins_tie)
    candidates = np.flatnonzero(go_long | gates["short"])
    is_long = go_long[candidates]
    sizing = pm_config.sizing
    ratio_long, ratio_short = p.ratios(sizing)
    edge = np.where(is_long, p.values["long_predicted_edge_bps"][candidates],
                    p.values["short_predicted_edge_bps"][candidates])
    ratio = np.where(is_long, ratio_long[candidates], ratio_short[candidates])
    ratio = np.where(np.maximum(edge, 0.0) >= sizing.min_edge_bps, ratio, 0.0)
    sized = ratio > 0
    return Selection(candidates[sized], is_long[sized], ratio[sized])


def select_trades(prepared: PreparedFrame, thresholds: Mapping[str, float],
                  pm_config: PMConfig) -> Selection:
    """Gates, side choice, sizing, ratio > 0 and overlap blocking for one threshold set."""
    p = prepared
    opened = open_candidates(p, thresholds, pm_config)
    candidates, is_long, ratio = opened.positions, opened.is_long, opened.planned_ratio
    edge = opened.pick(p, "predicted_edge_bps")
    exit_ms = np.where(is_long, p.values["long_time_to_exit_ms"][candidates],
                       p.values["short_time_to_exit_ms"][candidates])
    walk = overlap_walk(p.symbol[candidates], p.event_ns[candidates], p.group[candidates], edge, exit_ms,
                        max_hold_ms(p.price_plan), cooldown_ms(pm_config))
    walk = walk[np.argsort(p.event_ns[candidates][walk], kind="stable")]
    return Selection(candidates[walk], is_long[walk], ratio[walk])


def simulate_trades(frame: pd.DataFrame, thresholds: Mapping[str, float], pm_config: PMConfig | None = None,
                    price_plan: PricePlan | None = None) -> pd.DataFrame:
    """The kept open trades of one threshold set, sorted by event_time, with TRADE_COLUMNS; the config defaults to
    ``pm_config_from_thresholds(thresholds)``."""
    check_thresholds(thresholds)
    config = pm_config or pm_config_from_thresholds(thresholds)
    prepared = PreparedFrame.build(frame, price_plan)
    return trades_frame(prepared, select_trades(prepared, thresholds, config), sha256_json(thresholds)[:16])


def trades_frame(prepared: PreparedFrame, selection: Selection, threshold_hash: str) -> pd.DataFrame:
    """Build the trade table of a selection."""
    rows = prepared.order[selection.positions]
    frame = prepared.frame
    out = frame[["sample_id", "symbol", "event_time", "split_id"]].iloc[rows].reset_index(drop=True)
    out["side"] = np.where(selection.is_long, "LONG", "SHORT")
    for name in ("direction_prob", "entry_prob"):
        out[name] = selection.pick(prepared, name)
    out["market_risk_prob"] = prepared.values["market_risk_prob"][selection.positions]
    for name in ("predicted_edge_bps", "label_actual_plan_edge_bps", "actual_edge_bps"):
        out[name] = selection.pick(prepared, name)
    long_target = frame["long_entry_target"].to_numpy()[rows]
    out["entry_target"] = np.where(selection.is_long, long_target, frame["short_entry_target"].to_numpy()[rows])
    for name in ("target_hit", "stop_hit"):
        out[name] = np.nan_to_num(selection.pick(prepared, name)).astype(np.int64)
    out["time_to_exit_ms"] = selection.pick(prepared, "time_to_exit_ms")
    out["planned_ratio"] = selection.planned_ratio
    out["weighted_edge_bps"] = out["actual_edge_bps"].to_numpy() * selection.planned_ratio
    out["threshold_hash"] = threshold_hash
    return out[list(TRADE_COLUMNS)]

"""What a price plan does on one window: the plan (``PlanParams``) and its numba outcome kernels.

A trade is opened at ``close[t]`` and followed over the bars ``t+1 .. t+h`` of a window that
``trader_core.labels.path_stats`` has validated; the kernels write each window's hit flags, times, gross edge
and future return to its output row.

``FIXED_TARGET_STOP_V1``: the first bar whose high (LONG) / low (SHORT) reaches the target and the first
bar whose low / high reaches the stop decide the outcome; a stop wins a tie and ``ambiguous_hit`` marks
that both were first reached on the same bar. Gross edge is +T, the stop fill's return (-S for a fill at the
stop, never better than -S) or the timeout return.

``DYNAMIC_TRAILING_V1``: partial takes r1 at T and r2 at T2, the rest rides a trailing stop (trail bps
behind the previous bar's high/low-water mark, floored at entry when ``breakeven_after_first_target``);
inside a bar the stop is checked before the targets. ``stop_hit`` means stopped before the first
target; ``ambiguous_hit`` is always 0.

Stop fills (docs/labels.md "Stop fills"), for the fixed, trailing and break-even stop alike: a touched stop
fills at the worse of the stop price and the bar's open (a bar that opens beyond the stop gapped through
it), and when the bar's low (LONG) / high (SHORT) lies more than ``stop_slippage_allowance_bps`` beyond that
fill, the fill moves ``stop_fill_excess_share`` of the excess further. Targets fill at the target price,
never at a better open. A replay without an ``open`` column opens every bar at the previous close.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from trader_core.config import EntryLabelConfig
from trader_core.contracts.labels import PLAN_METHODS
from trader_core.contracts.replay import MINUTE_MS

_DEFAULT_ENTRY = EntryLabelConfig()


@dataclass(frozen=True)
class PlanParams:
    """A price plan. ``second_target_bps`` defaults to 2 x target, ``trailing_stop_bps`` to the stop.

    Ratios are clipped as in the seed: r1 to [0, 1], r2 to [0, 1 - r1]. Target, stop and second target
    must be finite and > 0, the trail and the stop slippage allowance finite and >= 0, the stop-fill excess
    share in [0, 1]; an unknown method raises ValueError. The stop-fill fields default to the label config's
    (conservative) defaults, so every plan built in code books gap risk like the labels do.
    """

    method: str
    target_bps: float
    stop_bps: float
    partial_take_1_ratio: float = 0.5
    partial_take_2_ratio: float = 0.25
    second_target_bps: float | None = None
    trailing_stop_bps: float | None = None
    breakeven_after_first_target: bool = True
    stop_fill_excess_share: float = _DEFAULT_ENTRY.stop_fill_excess_share
    stop_slippage_allowance_bps: float = _DEFAULT_ENTRY.stop_slippage_allowance_bps

    def __post_init__(self) -> None:
        if self.method not in PLAN_METHODS:
            raise ValueError(f"unsupported entry plan_method: {self.method!r} (expected one of {PLAN_METHODS})")
        values = {
            "target_bps": self.target_bps,
            "stop_bps": self.stop_bps,
            "second_target_bps": 2.0 * self.target_bps if self.second_target_bps is None else self.second_target_bps,
            "trailing_stop_bps": self.stop_bps if self.trailing_stop_bps is None else self.trailing_stop_bps,
            "partial_take_1_ratio": self.partial_take_1_ratio,
            "partial_take_2_ratio": self.partial_take_2_ratio,
            "stop_fill_excess_share": self.stop_fill_excess_share,
            "stop_slippage_allowance_bps": self.stop_slippage_allowance_bps,
        }
        for name, value in values.items():
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value}")
        for name in ("target_bps", "stop_bps", "second_target_bps"):
            if values[name] <= 0:
                raise ValueError(f"{name} must be > 0, got {values[name]}")
        for name in ("trailing_stop_bps", "stop_slippage_allowance_bps"):
            if values[name] < 0:
                raise ValueError(f"{name} must be >= 0, got {values[name]}")
        if not 0.0 <= values["stop_fill_excess_share"] <= 1.0:
            raise ValueError(f"stop_fill_excess_share must be in [0, 1], got {values['stop_fill_excess_share']}")
        values["partial_take_1_ratio"] = min(max(float(self.partial_take_1_ratio), 0.0), 1.0)
        values["partial_take_2_ratio"] = min(max(float(self.partial_take_2_ratio), 0.0),
                                             1.0 - values["partial_take_1_ratio"])
        for name, value in values.items():
            object.__setattr__(self, name, float(value))
        object.__setattr__(self, "breakeven_after_first_target", bool(self.breakeven_after_first_target))

    @classmethod
    def from_entry_config(cls, config: EntryLabelConfig, target_bps: float | None = None,
                          stop_bps: float | None = None) -> PlanParams:
        """The plan of the label-config ``entry`` section; ``target_bps`` / ``stop_bps`` override it.

        The second target and trail always come from the config (the seed read them from the merged
        ``entry`` section, which carries explicit defaults), even when the target or stop is overridden.
        """
        return cls(
            method=config.plan_method,
            target_bps=config.target_bps if target_bps is None else target_bps,
            stop_bps=config.stop_bps if stop_bps is None else stop_bps,
            partial_take_1_ratio=config.partial_take_1_ratio,
            partial_take_2_ratio=config.partial_take_2_ratio,
            second_target_bps=config.second_target_bps,
            trailing_stop_bps=config.trailing_stop_bps,
            breakeven_after_first_target=config.breakeven_after_first_target,
            stop_fill_excess_share=config.stop_fill_excess_share,
            stop_slippage_allowance_bps=config.stop_slippage_allowance_bps,
        )


@njit(cache=True, nogil=True, error_model="numpy")
def _favourable_price(entry: float, bps: float, is_long: bool) -> float:
    return entry * (1.0 + bps / 10000.0) if is_long else entry * (1.0 - bps / 10000.0)


@njit(cache=True, nogil=True, error_model="numpy")
def _adverse_price(entry: float, bps: float, is_long: bool) -> float:
    return entry * (1.0 - bps / 10000.0) if is_long else entry * (1.0 + bps / 10000.0)


@njit(cache=True, nogil=True, error_model="numpy")
def _reaches_favourable(high: float, low: float, price: float, is_long: bool) -> bool:
    return high >= price if is_long else low <= price


@njit(cache=True, nogil=True, error_model="numpy")
def _reaches_adverse(high: float, low: float, price: float, is_long: bool) -> bool:
    return low <= price if is_long else high >= price


@njit(cache=True, nogil=True, error_model="numpy")
def _return_bps(entry: float, price: float, is_long: bool) -> float:
    """Return of a position closed at ``price``: LONG ``(price/entry - 1)``, SHORT ``(entry/price - 1)`` x 1e4."""
    return (price / entry - 1.0) * 10000.0 if is_long else (entry / price - 1.0) * 10000.0


@njit(cache=True, nogil=True, error_model="numpy")
def _stop_fill(stop: float, bar_open: float, high: float, low: float, share: float, allowance_bps: float,
               is_long: bool) -> float:
    """Fill price of a stop touched in a bar, erring on the trader's loss (docs/labels.md "Stop fills").

    The worse of the stop and the open (a bar opening beyond the stop gapped through it), then ``share`` of
    the bar's low (LONG) / high (SHORT) beyond that fill by more than ``allowance_bps`` of it.
    With ``share = 0`` and an open that is not beyond the stop, this is exactly ``stop``.
    """
    if is_long:
        fill = min(stop, bar_open)
        return fill - share * max(fill * (1.0 - allowance_bps / 10000.0) - low, 0.0)
    fill = max(stop, bar_open)
    return fill + share * max(high - fill * (1.0 + allowance_bps / 10000.0), 0.0)


@njit(cache=True, nogil=True, error_model="numpy")
def fixed_outcomes(idx: np.ndarray, dest: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
                   close: np.ndarray, horizon: int, target_bps: float, stop_bps: float, share: float,
                   allowance_bps: float, is_long: bool, flags: np.ndarray, times: np.ndarray, gross: np.ndarray,
                   future_return: np.ndarray) -> None:
    """FIXED_TARGET_STOP_V1: scan to the first bar touching target or stop (stop wins a tie).

    A stop books -S for a fill at the stop price and the fill's return when the fill is worse, never
    better than -S (a short's return at its stop is slightly above -S). Row ``idx[i]`` is written to output
    row ``dest[i]`` of ``flags``, ``times``, ``gross`` and ``future_return``.
    """
    for i in range(idx.size):
        t = idx[i]
        target = _favourable_price(close[t], target_bps, is_long)
        stop = _adverse_price(close[t], stop_bps, is_long)
        k_exit, target_now, stop_now = horizon - 1, False, False
        for k in range(horizon):
            target_now = _reaches_favourable(high[t + 1 + k], low[t + 1 + k], target, is_long)
            stop_now = _reaches_adverse(high[t + 1 + k], low[t + 1 + k], stop, is_long)
            if target_now or stop_now:
                k_exit = k
                break
        target_hit = target_now and not stop_now
        exit_ms = (k_exit + 1) * MINUTE_MS
        j = dest[i]
        flags[0, j], flags[1, j] = target_hit, stop_now
        flags[2, j], flags[3, j] = not (target_now or stop_now), target_now and stop_now
        times[0, j] = exit_ms if target_hit else -1
        times[1, j] = exit_ms if stop_now else -1
        times[2, j] = exit_ms
        future_return[j] = _return_bps(close[t], close[t + horizon], is_long)
        if target_hit:
            gross[j] = target_bps
        elif stop_now:
            b = t + 1 + k_exit
            fill = _stop_fill(stop, open_[b], high[b], low[b], share, allowance_bps, is_long)
            gross[j] = -stop_bps if fill == stop else min(-stop_bps, _return_bps(close[t], fill, is_long))
        else:
            gross[j] = future_return[j]


@njit(cache=True, nogil=True, error_model="numpy")
def _dynamic_stop_price(entry: float, mark: float, first_done: bool, stop_bps: float, trail_bps: float,
                        breakeven: bool, is_long: bool) -> float:
    """Initial stop before the first target, then the trail behind the previous bar's water mark."""
    if not first_done:
        return _adverse_price(entry, stop_bps, is_long)
    if is_long:
        trailing = mark * (1.0 - trail_bps / 10000.0)
        return max(trailing, entry) if breakeven else trailing
    trailing = mark * (1.0 + trail_bps / 10000.0)
    return min(trailing, entry) if breakeven else trailing


@njit(cache=True, nogil=True, error_model="numpy")
def dynamic_outcomes(idx: np.ndarray, dest: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
                     close: np.ndarray, horizon: int, target_bps: float, stop_bps: float, share: float,
                     allowance_bps: float, second_target_bps: float, trail_bps: float, take1: float, take2: float,
                     breakeven: bool, is_long: bool, flags: np.ndarray, times: np.ndarray, gross: np.ndarray,
                     future_return: np.ndarray) -> None:
    """DYNAMIC_TRAILING_V1: per bar, stop check first, then the first and second partial takes.

    The rest of the position leaves at the stop fill (``_stop_fill``). Writes like ``fixed_outcomes``;
    ``ambiguous_hit`` keeps its preset 0.
    """
    for i in range(idx.size):
        t = idx[i]
        entry = close[t]
        target1 = _favourable_price(entry, target_bps, is_long)
        target2 = _favourable_price(entry, second_target_bps, is_long)
        mark, remaining, g = entry, 1.0, 0.0
        first_k, stop_k, second_done = -1, -1, False
        for k in range(horizon):
            hi, lo = high[t + 1 + k], low[t + 1 + k]
            stop = _dynamic_stop_price(entry, mark, first_k >= 0, stop_bps, trail_bps, breakeven, is_long)
            if _reaches_adverse(hi, lo, stop, is_long):
                fill = _stop_fill(stop, open_[t + 1 + k], hi, lo, share, allowance_bps, is_long)
                g += remaining * _return_bps(entry, fill, is_long)
                stop_k = k
                break
            if first_k < 0 and _reaches_favourable(hi, lo, target1, is_long):
                g += take1 * target_bps
                remaining -= take1
                first_k = k
            if first_k >= 0 and not second_done and _reaches_favourable(hi, lo, target2, is_long):
                g += take2 * second_target_bps
                remaining -= take2
                second_done = True
            mark = max(mark, hi) if is_long else min(mark, lo)
        stopped = stop_k >= 0
        j = dest[i]
        future_return[j] = _return_bps(entry, close[t + horizon], is_long)
        if not stopped:
            g += remaining * future_return[j]
        flags[0, j], flags[1, j], flags[2, j] = first_k >= 0, stopped and first_k < 0, not stopped
        times[0, j] = (first_k + 1) * MINUTE_MS if first_k >= 0 else -1
        times[1, j] = (stop_k + 1) * MINUTE_MS if stopped else -1
        times[2, j] = (stop_k + 1) * MINUTE_MS if stopped else horizon * MINUTE_MS
        gross[j] = g

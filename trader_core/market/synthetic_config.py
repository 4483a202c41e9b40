"""Configuration of the synthetic market (``trader_core.market.synthetic``), validated on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from trader_core.contracts.raw import MAX_BOOK_LEVELS
from trader_core.errors import ConfigError

MINUTES_PER_DAY = 1440
BPS = 1e-4


@dataclass(frozen=True)
class SyntheticMarketConfig:
    """Configuration of :func:`generate_synthetic_market` (validated on construction)."""

    symbols: tuple[str, ...] = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    start: str = "2026-01-01"  # UTC date, inclusive
    days: int = 60
    seed: int = 7
    signal: float = 1.0  # the signal knob s >= 0
    depth_levels: int = 10  # 1..20
    #: False: every regime has the same volatility (6 bps/min), so before the crash nothing about the size
    #: of future moves is predictable either (the "structure-free" market of the honesty tests).
    volatility_regimes: bool = True
    #: Signal schedule over time: ``((date, s), ...)``, each UTC date (strictly increasing) from which the signal is
    #: ``s`` instead of ``signal``. ``s`` may be negative: the same observables then predict the opposite
    #: direction (a regime in which the learned relation flips; docs/synthetic-market.md, "Signal schedule").
    signal_changes: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        symbols = self.symbols
        if isinstance(symbols, str) or not isinstance(symbols, (tuple, list)):
            raise ConfigError(f"symbols: expected a tuple of symbol names, got {type(symbols).__name__}")
        symbols = tuple(symbols)
        if not symbols:
            raise ConfigError("symbols: at least one symbol is required")
        bad = [s for s in symbols if not isinstance(s, str) or not s.strip()]
        if bad:
            raise ConfigError(f"symbols: every symbol must be a non-empty string, got {bad!r}")
        dup = sorted({s for s in symbols if symbols.count(s) > 1})
        if dup:
            raise ConfigError(f"symbols: duplicate symbol(s) {dup}")
        object.__setattr__(self, "symbols", symbols)
        _start_timestamp(self.start)
        _check_int("days", self.days, 1)
        _check_int("seed", self.seed, 0)
        _check_int("depth_levels", self.depth_levels, 1, MAX_BOOK_LEVELS)
        sig = self.signal
        if isinstance(sig, bool) or not isinstance(sig, (int, float, np.integer, np.floating)):
            raise ConfigError(f"signal: expected a number >= 0, got {sig!r}")
        if not math.isfinite(float(sig)) or float(sig) < 0:
            raise ConfigError(f"signal: must be a finite number >= 0, got {sig!r}")
        object.__setattr__(self, "signal", float(sig))
        if not isinstance(self.volatility_regimes, (bool, np.bool_)):
            raise ConfigError(f"volatility_regimes: expected true or false, got {self.volatility_regimes!r}")
        object.__setattr__(self, "signal_changes", _signal_changes(self.signal_changes))

    @property
    def minutes(self) -> int:
        return self.days * MINUTES_PER_DAY

    @property
    def start_ts(self) -> pd.Timestamp:
        return _start_timestamp(self.start)

    def signal_path(self, times: pd.DatetimeIndex) -> float | np.ndarray:
        """The signal ``s`` of each bar at ``times``: ``signal`` (a scalar) without a schedule."""
        if not self.signal_changes:
            return self.signal
        s = np.full(len(times), self.signal)
        for day, value in self.signal_changes:
            s[times >= _start_timestamp(day)] = value
        return s

    def as_dict(self) -> dict:
        return {f.name: (list(getattr(self, f.name)) if f.name == "symbols" else getattr(self, f.name))
                for f in fields(self)}


def _check_int(name: str, value: object, lo: int, hi: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise ConfigError(f"{name}: must be {rng}, got {value}")


def _signal_changes(changes: object) -> tuple[tuple[str, float], ...]:
    """The validated schedule as a tuple of (date, float); JSON lists of pairs are accepted."""
    if isinstance(changes, (str, bytes)) or not isinstance(changes, (tuple, list)):
        raise ConfigError(f"signal_changes: expected a list of [date, signal] pairs, got {changes!r}")
    out: list[tuple[str, float]] = []
    for pair in changes:
        if isinstance(pair, (str, bytes)) or not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ConfigError(f"signal_changes: expected [date, signal] pairs, got {pair!r}")
        day, value = pair
        _start_timestamp(day)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(value)):
            raise ConfigError(f"signal_changes: the signal from {day} must be a finite number, got {value!r}")
        if out and _start_timestamp(day) <= _start_timestamp(out[-1][0]):
            raise ConfigError(f"signal_changes: dates must be strictly increasing, got {out[-1][0]} then {day}")
        out.append((str(day), float(value)))
    return tuple(out)


def _start_timestamp(start: object) -> pd.Timestamp:
    if not isinstance(start, (str, pd.Timestamp)):
        raise ConfigError(f"start: expected a UTC date string like '2026-01-01', got {start!r}")
    try:
        ts = pd.Timestamp(start)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"start: not a parseable date: {start!r} ({exc})") from None
    if ts is pd.NaT or pd.isna(ts):
        raise ConfigError(f"start: not a parseable date: {start!r}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if ts != ts.normalize():
        raise ConfigError(f"start: must be a UTC date (00:00), got {start!r}")
    return ts


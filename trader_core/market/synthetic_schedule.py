"""The synthetic market's shared schedule: regimes, the crash minute and the per-minute volatility.

Shared by all symbols and a function of time only (never of prices); the equations are in the
``trader_core.market.synthetic`` docstring ("Regimes", "Crash").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trader_core.market.synthetic_config import BPS, SyntheticMarketConfig
from trader_core.market.synthetic_streams import M_FACTOR, M_REGIME, decay_after, ema, stream

REGIMES: tuple[str, ...] = ("calm", "trending", "volatile")
REGIME_SIGMA_BPS: dict[str, float] = {"calm": 4.0, "trending": 6.0, "volatile": 12.0}
SIGMA_CALM = REGIME_SIGMA_BPS["calm"] * BPS
FLAT_SIGMA_BPS = REGIME_SIGMA_BPS["trending"]  # every regime's level when volatility_regimes is False
_CALM, _TRENDING, _VOLATILE = 0, 1, 2
_FIRST_REGIME_P = np.array([0.5, 0.3, 0.2])
_TRANSITION_P = np.array([[0.0, 0.6, 0.4],
                          [0.6, 0.0, 0.4],
                          [0.7, 0.3, 0.0]])
SEGMENT_HOURS = (24, 96)
SIGMA_SMOOTH_MINUTES = 30.0

CRASH_WINDOW_FRACTION = 0.125
CRASH_VOLATILE_MINUTES = 1440
STRESS_SIGMA_BOOST, STRESS_SIGMA_TAU = 1.5, 240.0


# --------------------------------------------------------------------------------------------------------
# the shared market path


@dataclass(frozen=True)
class MarketPath:
    """The shared path of one market: regime, trend direction and volatility per minute, the crash minute."""

    regime: np.ndarray  # int codes per minute
    trend_dir: np.ndarray  # +-1 on trending minutes, 0 elsewhere
    sigma: np.ndarray  # per-minute return volatility (fraction)
    crash_minute: int
    factor: np.ndarray | None  # common market shock m_t


def market_path(config: SyntheticMarketConfig, with_factor: bool = True) -> MarketPath:
    n = config.minutes
    rng = stream(config.seed, 0, M_REGIME)
    max_segments = config.days + 2  # each segment lasts >= 1 day
    hours = rng.integers(SEGMENT_HOURS[0], SEGMENT_HOURS[1] + 1, size=max_segments)
    u = rng.random(max_segments)
    dirs = rng.choice(np.array([-1, 1]), size=max_segments)
    codes = np.empty(max_segments, dtype=np.int64)
    codes[0] = int(np.searchsorted(np.cumsum(_FIRST_REGIME_P), u[0], side="right"))
    for i in range(1, max_segments):  # a loop over segments (<= days + 2), not rows
        codes[i] = int(np.searchsorted(np.cumsum(_TRANSITION_P[codes[i - 1]]), u[i], side="right"))
    lengths = hours * 60
    regime = np.repeat(codes, lengths)[:n]
    trend_dir = np.repeat(np.where(codes == _TRENDING, dirs, 0), lengths)[:n]

    span = int(n * CRASH_WINDOW_FRACTION)  # n is a multiple of 1440, so this is exactly n / 8
    crash = int(rng.integers(n - span + span // 10, n - span // 2 + 1))
    regime = regime.copy()
    trend_dir = trend_dir.copy()
    after = slice(crash, min(n, crash + CRASH_VOLATILE_MINUTES))
    regime[after] = _VOLATILE
    trend_dir[after] = 0

    levels = np.array([REGIME_SIGMA_BPS[r] if config.volatility_regimes else FLAT_SIGMA_BPS for r in REGIMES]) * BPS
    sigma = ema(levels[regime], SIGMA_SMOOTH_MINUTES)
    sigma = sigma * (1.0 + STRESS_SIGMA_BOOST * decay_after(n, crash, STRESS_SIGMA_TAU))
    factor = stream(config.seed, 0, M_FACTOR).standard_normal(n) if with_factor else None
    return MarketPath(regime=regime, trend_dir=trend_dir, sigma=sigma, crash_minute=crash, factor=factor)


def regime_schedule(config: SyntheticMarketConfig) -> pd.DataFrame:
    """The shared regime path: one row per minute.

    Columns: ``minute`` (0..n-1), ``open_time`` (UTC), ``regime`` (calm/trending/volatile),
    ``sigma_bps`` (per-minute return volatility, after smoothing and crash stress), ``trend_direction``
    (+1/-1 on trending minutes: the drift direction at s > 0, else 0) and ``crash`` (True on the crash
    minute only). Not a raw table: for documentation and tests.
    """
    path = market_path(config, with_factor=False)
    n = config.minutes
    crash = np.zeros(n, dtype=bool)
    crash[path.crash_minute] = True
    return pd.DataFrame({
        "minute": np.arange(n, dtype=np.int64),
        "open_time": pd.date_range(config.start_ts, periods=n, freq="min"),
        "regime": np.array(REGIMES, dtype=object)[path.regime],
        "sigma_bps": path.sigma / BPS,
        "trend_direction": path.trend_dir.astype(np.int64),
        "crash": crash,
    })

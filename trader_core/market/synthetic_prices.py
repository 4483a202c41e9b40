"""One symbol's price process in the synthetic market: scales, latent state, returns, bars and taker flow.

The equations are in the ``trader_core.market.synthetic`` docstring ("Latent signal state", "Returns",
"Observables of z", "Tables: bars", "Per-symbol scales").
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trader_core.market.synthetic_config import SyntheticMarketConfig
from trader_core.market.synthetic_schedule import SIGMA_CALM, MarketPath
from trader_core.market.synthetic_streams import S_BARS, S_CRASH, S_EPS, S_TAKER, S_Z, ar1, decay_after, symbol_stream

Z_PERSISTENCE_MINUTES = 30.0
Z_PHI = math.exp(-1.0 / Z_PERSISTENCE_MINUTES)
BETA = 0.1
TREND_DRIFT = 0.015
MARKET_FACTOR_SHARE = 0.6  # correlation between symbols' return shocks

TAKER_Z_GAIN = 0.2
TAKER_RET_GAIN = 0.05
TAKER_NOISE = 0.08

CRASH_DROP = (0.05, 0.08)
CRASH_WICK = (0.2, 0.6)
CRASH_GAP = (0.3, 0.7)  # share of the crash jump that happens between bars (the crash bar's open)
CRASH_OI_DROP = (0.08, 0.18)
STRESS_VOLUME_BOOST, STRESS_VOLUME_TAU = 9.0, 30.0


# --------------------------------------------------------------------------------------------------------
# per-symbol scales


@dataclass(frozen=True)
class SymbolScales:
    """A symbol's initial price, tick and notional scales (module docstring of ``synthetic``)."""

    p0: float
    tick_exp: int  # tick = 10 ** tick_exp
    volume_notional: float
    trade_notional: float
    book_notional: float
    oi_notional: float
    liq_notional: float

    def to_ticks(self, price: np.ndarray) -> np.ndarray:
        return price * 10.0 ** (-self.tick_exp) if self.tick_exp < 0 else price / 10.0 ** self.tick_exp

    def from_ticks(self, k: np.ndarray) -> np.ndarray:
        # Dividing an integer by a power of ten gives the correctly rounded decimal price.
        return k / 10.0 ** (-self.tick_exp) if self.tick_exp < 0 else k * 10.0 ** self.tick_exp

    @property
    def tick(self) -> float:
        return 10.0 ** self.tick_exp


def symbol_scales(symbol: str) -> SymbolScales:
    base = symbol.upper().replace("/", "-").split("-")[0]
    if base in ("BTC", "XBT") or base.startswith("BTC"):
        p0, tier = 60000.0, (3e6, 2000.0, 4e5, 6e9, 5000.0)
    elif base.startswith("ETH"):
        p0, tier = 3000.0, (1.5e6, 1500.0, 2e5, 3e9, 3000.0)
    else:
        u = zlib.crc32(symbol.encode("utf-8")) / 2.0 ** 32
        p0, tier = round(100.0 * math.exp(0.5 * (u - 0.5)), 2), (1.5e5, 500.0, 2e4, 1e8, 1000.0)
    tick_exp = math.floor(math.log10(p0)) - 5
    return SymbolScales(p0, tick_exp, *tier)


@dataclass(frozen=True, eq=False)
class SymbolPath:
    """One symbol's latent state, returns and bar prices, and the crash's open-interest drop (drawn with the
    crash's other per-symbol draws): what the book, derivatives and liquidation tables are built from."""

    z: np.ndarray  # latent state during each bar
    r: np.ndarray  # 1-minute log returns
    close: np.ndarray
    high: np.ndarray
    low: np.ndarray
    oi_drop: float


def symbol_bars(config: SyntheticMarketConfig, symbol: str, *, path: MarketPath, scales: SymbolScales,
                times: pd.DatetimeIndex) -> tuple[pd.DataFrame, SymbolPath]:
    """The ``bars`` of ``symbol`` and its :class:`SymbolPath`."""
    n = config.minutes
    s = config.signal_path(times)
    seed = config.seed
    sc = scales
    sigma = path.sigma
    tc = path.crash_minute
    vol_ratio = sigma / SIGMA_CALM

    # latent state and returns --------------------------------------------------------------------------
    rng = symbol_stream(seed, symbol, S_Z)
    zz = ar1(rng.standard_normal(n + 1), Z_PHI)  # zz[0] is the state before the window
    z_prev, z = zz[:-1], zz[1:]
    rng = symbol_stream(seed, symbol, S_EPS)
    eps = math.sqrt(MARKET_FACTOR_SHARE) * path.factor + math.sqrt(1 - MARKET_FACTOR_SHARE) * rng.standard_normal(n)
    rng = symbol_stream(seed, symbol, S_CRASH)
    drop = rng.uniform(*CRASH_DROP)
    wick = rng.uniform(*CRASH_WICK)
    oi_drop = rng.uniform(*CRASH_OI_DROP)
    gap = rng.uniform(*CRASH_GAP)  # drawn last: the earlier draws of the stream stay as they were
    jump = math.log(1.0 - drop)

    r = sigma * eps + s * BETA * sigma * z_prev + np.abs(s) * TREND_DRIFT * sigma * path.trend_dir
    r[tc] += jump
    log_close = math.log(sc.p0) + np.cumsum(r)
    log_open = np.concatenate(([math.log(sc.p0)], log_close[:-1]))
    log_open[tc] += gap * jump
    close = np.exp(log_close)
    open_ = np.exp(log_open)

    # bars ----------------------------------------------------------------------------------------------
    rng = symbol_stream(seed, symbol, S_BARS)
    up = np.abs(rng.standard_normal(n))
    down = np.abs(rng.standard_normal(n))
    vol_noise = rng.standard_normal(n)
    count_noise = rng.standard_normal(n)
    log_low = np.minimum(log_open, log_close) - 0.7 * sigma * down
    log_low[tc] -= wick * abs(jump)
    high = np.exp(np.maximum(log_open, log_close) + 0.7 * sigma * up)
    low = np.exp(log_low)
    notional = (sc.volume_notional * vol_ratio * np.exp(0.35 * vol_noise - 0.35 ** 2 / 2)
                * (0.75 + 0.25 * np.abs(eps))
                * (1.0 + STRESS_VOLUME_BOOST * decay_after(n, tc, STRESS_VOLUME_TAU)))
    volume = notional / close
    trade_count = np.maximum(1.0, np.round(notional / sc.trade_notional * np.exp(0.2 * count_noise)))
    rng = symbol_stream(seed, symbol, S_TAKER)
    share = 0.5 + TAKER_Z_GAIN * np.tanh(z) + TAKER_RET_GAIN * np.clip(eps, -3, 3) + TAKER_NOISE * rng.standard_normal(n)
    share[tc] -= 0.3
    share = np.clip(share, 0.02, 0.98)
    buy = share * volume
    bars = pd.DataFrame({
        "symbol": symbol, "open_time": times, "open": open_, "high": high, "low": low, "close": close,
        "volume": volume, "taker_buy_volume": buy, "taker_sell_volume": volume - buy, "trade_count": trade_count,
    })
    return bars, SymbolPath(z=z, r=r, close=close, high=high, low=low, oi_drop=oi_drop)

"""One symbol's derivatives tables in the synthetic market: mark/index, funding, open interest, liquidations.

The equations are in the ``trader_core.market.synthetic`` docstring ("Crash", "Tables": ``mark_index``,
``funding``, ``open_interest``, ``liquidations``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from trader_core.market.synthetic_config import BPS, MINUTES_PER_DAY, SyntheticMarketConfig
from trader_core.market.synthetic_prices import SymbolPath, SymbolScales
from trader_core.market.synthetic_schedule import SIGMA_CALM, MarketPath
from trader_core.market.synthetic_streams import S_LIQ, S_MARK, S_OI, ar1, decay_after, ema, symbol_stream

CRASH_LIQ_RATE, CRASH_LIQ_TAU, CRASH_LIQ_SELL_P = 150.0, 20.0, 0.95
CRASH_OI_TAU = 15.0
CRASH_BASIS_KICK, CRASH_BASIS_TAU = -20 * BPS, 60.0

BASIS_MEAN, BASIS_SD, BASIS_TAU = 0.5 * BPS, 2.0 * BPS, 240.0
FUNDING_HOURS = 8
FUNDING_BASE, FUNDING_BASIS_GAIN, FUNDING_NOISE = 1e-4, 0.25, 1e-5
OI_SD, OI_TAU = 0.05, 2.0 * MINUTES_PER_DAY
OI_EVERY_MINUTES = 5


def mark_index_and_funding(config: SyntheticMarketConfig, symbol: str, *, path: MarketPath, prices: SymbolPath,
                           times: pd.DatetimeIndex, snap: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(mark_index, funding)`` of ``symbol`` from one basis process (with a burn-in before the window)."""
    n = config.minutes
    seed = config.seed
    tc = path.crash_minute
    close = prices.close

    rng = symbol_stream(seed, symbol, S_MARK)
    burn = FUNDING_HOURS * 60
    basis_phi = math.exp(-1.0 / BASIS_TAU)
    basis = BASIS_MEAN + BASIS_SD * ar1(rng.standard_normal(n + burn), basis_phi)
    basis[burn:] += CRASH_BASIS_KICK * decay_after(n, tc, CRASH_BASIS_TAU)
    index_noise = rng.standard_normal(n)
    index = close * np.exp(0.5 * BPS * index_noise)
    mark_index = pd.DataFrame({"symbol": symbol, "ts": snap, "mark_price": index * (1.0 + basis[burn:]),
                               "index_price": index})
    every = FUNDING_HOURS * 60
    f_minutes = np.arange(0, n, every)  # funding times relative to start (start is 00:00 UTC)
    csum = np.concatenate(([0.0], np.cumsum(basis)))
    # minutes [m - 480, m - 1] of the window are indices [m, m + 480) of the burn-in-extended basis.
    mean_basis = (csum[f_minutes + burn] - csum[f_minutes]) / burn
    rate = FUNDING_BASE + FUNDING_BASIS_GAIN * mean_basis + FUNDING_NOISE * rng.standard_normal(len(f_minutes))
    f_ts = times[f_minutes]
    funding = pd.DataFrame({"symbol": symbol, "ts": f_ts, "funding_rate": rate,
                            "next_funding_time": f_ts + pd.Timedelta(hours=FUNDING_HOURS)})
    return mark_index, funding


def open_interest_table(config: SyntheticMarketConfig, symbol: str, *, path: MarketPath, scales: SymbolScales,
                        prices: SymbolPath, times: pd.DatetimeIndex) -> pd.DataFrame:
    """``open_interest`` of ``symbol``: 5-minute snapshots of an AR(1) level minus the crash drop."""
    n = config.minutes
    seed = config.seed
    sc = scales
    tc = path.crash_minute
    oi_drop = prices.oi_drop

    rng = symbol_stream(seed, symbol, S_OI)
    # the drop is oi_drop * (1 - exp(-(t - t_c + 1)/tau)) from the crash minute on, 0 before
    crash_drop = oi_drop * (1.0 - decay_after(n, tc - 1, CRASH_OI_TAU)) * (np.arange(n) >= tc)
    log_oi = (math.log(sc.oi_notional / sc.p0) + OI_SD * ar1(rng.standard_normal(n), math.exp(-1.0 / OI_TAU))
              - crash_drop)
    ends = np.arange(OI_EVERY_MINUTES, n + 1, OI_EVERY_MINUTES)  # snapshot at start + end min holds minute end-1
    open_interest = pd.DataFrame({"symbol": symbol,
                                  "ts": times[0] + pd.to_timedelta(ends, unit="min"),
                                  "open_interest": np.exp(log_oi[ends - 1])})
    return open_interest


def liquidation_table(config: SyntheticMarketConfig, symbol: str, *, path: MarketPath, scales: SymbolScales,
                      prices: SymbolPath, times: pd.DatetimeIndex) -> pd.DataFrame:
    """``liquidations`` of ``symbol``: Poisson events driven by large returns and the crash burst."""
    n = config.minutes
    seed = config.seed
    sc = scales
    sigma = path.sigma
    tc = path.crash_minute
    vol_ratio = sigma / SIGMA_CALM
    r, high, low = prices.r, prices.high, prices.low

    rng = symbol_stream(seed, symbol, S_LIQ)
    x = r / sigma
    excite = ema(np.minimum(np.maximum(np.abs(x) - 2.5, 0.0), 10.0) ** 2, 10.0, initial=0.0)
    direction = ema(np.clip(x, -10.0, 10.0), 5.0, initial=0.0)
    lam_normal = 0.03 * vol_ratio + 0.8 * excite
    lam_crash = CRASH_LIQ_RATE * decay_after(n, tc, CRASH_LIQ_TAU)
    lam = lam_normal + lam_crash
    p_sell = (lam_normal / (1.0 + np.exp(2.0 * direction)) + lam_crash * CRASH_LIQ_SELL_P) / lam
    counts = rng.poisson(lam)
    minute = np.repeat(np.arange(n), counts)
    m = len(minute)
    offset_ms = rng.integers(0, 60_000, size=m)
    order = np.lexsort((offset_ms, minute))
    minute, offset_ms = minute[order], offset_ms[order]
    is_sell = rng.random(m) < p_sell[minute]
    where = rng.random(m)
    price = low[minute] + where * (high[minute] - low[minute])
    crash_share = lam_crash[minute] / lam[minute]
    liq_notional = sc.liq_notional * np.exp(1.3 * rng.standard_normal(m)) * (1.0 + 2.0 * crash_share)
    liquidations = pd.DataFrame({
        "symbol": pd.Series([symbol] * m, dtype="str"),
        "ts": times[minute] + pd.to_timedelta(offset_ms, unit="ms"),
        "side": pd.Series(np.where(is_sell, "SELL", "BUY").astype(object), dtype="str"),
        "price": price,
        "quantity": liq_notional / price,
    })
    return liquidations

"""One symbol's order book in the synthetic market: ``book_l1`` and ``book_depth`` snapshots per minute.

The equations are in the ``trader_core.market.synthetic`` docstring ("Tables": ``book_l1``, ``book_depth``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_core.market.synthetic_config import BPS, SyntheticMarketConfig
from trader_core.market.synthetic_prices import SymbolPath, SymbolScales
from trader_core.market.synthetic_schedule import SIGMA_CALM, MarketPath
from trader_core.market.synthetic_streams import S_BOOK, S_GAPS, decay_after, symbol_stream

BOOK_Z_GAIN = 0.3
BOOK_SIZE_NOISE = 0.25
STRESS_SPREAD_BOOST, STRESS_SPREAD_TAU = 4.0, 30.0


def book_tables(config: SyntheticMarketConfig, symbol: str, *, path: MarketPath, scales: SymbolScales,
                prices: SymbolPath, snap: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(book_l1, book_depth)`` of ``symbol``: level 0 of the depth snapshot is the L1 quote."""
    n = config.minutes
    seed = config.seed
    sc = scales
    tc = path.crash_minute
    vol_ratio = path.sigma / SIGMA_CALM
    close, z = prices.close, prices.z

    # books ---------------------------------------------------------------------------------------------
    # Level i's noise is drawn after level i-1's from its stream, so fewer levels are a prefix of more levels.
    levels = config.depth_levels
    rng = symbol_stream(seed, symbol, S_BOOK)
    spread_noise = rng.standard_normal(n)
    size_noise = np.empty((levels, 2, n))
    for i in range(levels):  # a loop over book levels, not rows
        size_noise[i] = rng.standard_normal((2, n))
    gap_rng = symbol_stream(seed, symbol, S_GAPS)
    gap_lambda = max(0.15 * BPS * sc.p0 / sc.tick - 1.0, 0.0)
    offsets = np.zeros((levels, 2, n))
    for i in range(1, levels):
        offsets[i] = offsets[i - 1] + 1.0 + gap_rng.poisson(gap_lambda, size=(2, n))
    spread_bps = (np.maximum(0.5 + 0.3 * vol_ratio + 0.1 * spread_noise, 0.2)
                  * (1.0 + STRESS_SPREAD_BOOST * decay_after(n, tc, STRESS_SPREAD_TAU)))
    half = spread_bps / 2e4
    k_bid = np.floor(sc.to_ticks(close * (1.0 - half)))
    k_ask = np.maximum(np.ceil(sc.to_ticks(close * (1.0 + half))), k_bid + 1)
    base_size = sc.book_notional / sc.p0
    tilt = BOOK_Z_GAIN * np.tanh(z)
    thin = np.sqrt(1.0 / vol_ratio)  # books thin out when volatility is high
    depth_cols: dict[str, object] = {"symbol": symbol, "ts": snap}
    for side, sign, k0 in (("bid", -1.0, k_bid), ("ask", 1.0, k_ask)):
        j = 0 if side == "bid" else 1
        for i in range(levels):
            depth_cols[f"{side}_{i}_price"] = sc.from_ticks(k0 + sign * offsets[i, j])
            noise = np.exp(BOOK_SIZE_NOISE * size_noise[i, j] - BOOK_SIZE_NOISE ** 2 / 2)
            depth_cols[f"{side}_{i}_size"] = base_size * (1.0 + 0.6 * i) * thin * noise * (1.0 - sign * tilt)
    book_depth = pd.DataFrame(depth_cols)
    book_l1 = pd.DataFrame({
        "symbol": symbol, "ts": snap, "bid_price": depth_cols["bid_0_price"], "bid_size": depth_cols["bid_0_size"],
        "ask_price": depth_cols["ask_0_price"], "ask_size": depth_cols["ask_0_size"],
    })
    return book_l1, book_depth

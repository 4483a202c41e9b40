"""The as-of daily table: per (symbol, date) trailing statistics that use only that symbol's rows up to the date.

Every statistic of row t is a function of the symbol's rows ``<= t`` only, computed window by window with
``numpy.lib.stride_tricks.sliding_window_view`` (no running sums), so a row's values are bit-for-bit
independent of any later row and of other symbols. Windows count trading rows of the symbol; a row without
enough history has NaN. The volatility index is joined as of the date (the last index value at or before it).
The market-level feature formulas are listed in ``trader_core.contracts.butterfly.FEATURES``; ``hv_price``
is the HV of the pricing window (the IV proxy's base, ``pricing.hv_window`` rows, default 20).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from trader_core.contracts.butterfly import TRADING_DAYS_PER_YEAR

SQRT_YEAR = np.sqrt(TRADING_DAYS_PER_YEAR)
MARKET_FEATURES = ("hv_10", "hv_20", "hv_60", "hv_ratio_10_60", "vix_level", "vix_change_5d", "vix_regime",
                   "hv_to_vix", "return_1d", "momentum_7d", "return_20d", "return_60d", "range_ratio_10",
                   "channel_position_20", "price_stability", "vol_concentration", "volume_ratio_5_60")


def _trailing(x: np.ndarray, n: int, fn) -> np.ndarray:
    """``fn`` over the trailing windows of length n (axis 1); NaN for the first n - 1 rows."""
    out = np.full(len(x), np.nan)
    if len(x) >= n:
        out[n - 1:] = fn(sliding_window_view(x, n), axis=1)
    return out


def _lag(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    out[n:] = x[:-n]
    return out


def _safe_ratio(num: np.ndarray, den: np.ndarray, default: float) -> np.ndarray:
    ok = np.isfinite(num) & np.isfinite(den) & (den != 0)
    out = np.where(ok, num / np.where(ok, den, 1.0), default)
    return np.where(np.isnan(num) | np.isnan(den), np.nan, out)


def _top5_share(volume: np.ndarray) -> np.ndarray:
    out = np.full(len(volume), np.nan)
    if len(volume) >= 20:
        windows = sliding_window_view(volume, 20)
        top = -np.sort(-windows, axis=1)[:, :5].sum(axis=1)
        out[19:] = _safe_ratio(top, windows.sum(axis=1), 0.25)
    return out


def _symbol_stats(close: np.ndarray, high: np.ndarray, low: np.ndarray, volume: np.ndarray,
                  hv_window: int) -> dict[str, np.ndarray]:
    logc = np.log(close)
    ret = np.concatenate(([np.nan], np.diff(logc)))

    def hv(n: int) -> np.ndarray:  # NaN until row n: the first row has no return
        return _trailing(ret, n, lambda w, axis: np.std(w, axis=axis, ddof=1)) * SQRT_YEAR

    hv10, hv20, hv60 = hv(10), hv(20), hv(60)
    daily_sd20 = hv20 / SQRT_YEAR
    hi20, lo20 = _trailing(high, 20, np.max), _trailing(low, 20, np.min)
    range20 = np.log(hi20 / lo20)
    mean5, mean60 = _trailing(volume, 5, np.mean), _trailing(volume, 60, np.mean)
    ok_volume = (mean5 > 0) & (mean60 > 0)
    return {
        "hv_price": hv(hv_window),
        "hv_10": hv10, "hv_20": hv20, "hv_60": hv60,
        "hv_ratio_10_60": _safe_ratio(hv10, hv60, 0.0),
        "return_1d": ret,
        "momentum_7d": logc - _lag(logc, 5),
        "return_20d": logc - _lag(logc, 20),
        "return_60d": logc - _lag(logc, 60),
        "range_ratio_10": _safe_ratio(_trailing(np.log(high / low), 10, np.mean), daily_sd20, 0.0),
        "channel_position_20": _safe_ratio(close - lo20, hi20 - lo20, 0.5),
        "price_stability": _safe_ratio(daily_sd20 * np.sqrt(20.0), range20, 0.0),
        "vol_concentration": _top5_share(volume),
        "volume_ratio_5_60": np.where(np.isnan(mean5) | np.isnan(mean60), np.nan,
                                      np.log(np.where(ok_volume, mean5, 1.0) / np.where(ok_volume, mean60, 1.0))),
    }


def vix_regime(vix: np.ndarray, low: float, high: float) -> np.ndarray:
    """0 low (< low), 1 normal (low..high inclusive), 2 high (> high)."""
    vix = np.asarray(vix, dtype=np.float64)
    return np.where(vix < low, 0, np.where(vix > high, 2, 1))


def daily_table(market: dict[str, pd.DataFrame], hv_window: int, vix_low: float, vix_high: float) -> pd.DataFrame:
    """One row per bar: ``symbol, date, row`` (index within the symbol), ``close``, ``hv_price`` and the market
    features of ``MARKET_FEATURES``. ``market`` must be validated (sorted by symbol, date)."""
    bars = market["bars"]
    parts = []
    for symbol, idx in bars.groupby("symbol", sort=True).indices.items():  # a loop over symbols
        rows = bars.iloc[idx]
        stats = _symbol_stats(*(rows[c].to_numpy(dtype=np.float64) for c in ("close", "high", "low", "volume")),
                              hv_window)
        parts.append(pd.DataFrame({"symbol": symbol, "date": rows["date"].array,
                                   "row": np.arange(len(rows)), "close": rows["close"].to_numpy()} | stats))
    table = pd.concat(parts, ignore_index=True)
    vix = market["vix"].copy()
    vix["vix_change_5d"] = np.log(vix["vix"] / vix["vix"].shift(5))
    table = pd.merge_asof(table.sort_values("date", kind="mergesort"), vix.rename(columns={"vix": "vix_level"}),
                          on="date", direction="backward")
    table["vix_regime"] = vix_regime(table["vix_level"].to_numpy(), vix_low, vix_high).astype(np.float64)
    table["hv_to_vix"] = table["hv_20"] / (table["vix_level"] / 100.0)
    return table.sort_values(["symbol", "date"], kind="mergesort").reset_index(drop=True)

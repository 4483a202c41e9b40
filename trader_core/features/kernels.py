"""Numba kernels for the feature frame: the feature blocks of one symbol and the sample ids.

The rolling windows they use (pandas-compatible, bit for bit) are in ``trader_core.features.rolling`` and
``trader_core.features.order_stats``. Every kernel releases the GIL, so the builder runs independent blocks
on threads.

The feature kernels (``price_block``: price and compression features; ``flow_block``: flow and book
features) compute one symbol's features in float64 and store them as float32 into rows of the caller's
feature matrix; the ``*_FEATURES`` tuples name those rows. Each is one call, the builder's unit of work on
a thread. ``sample_id_buffers`` formats the sample ids.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trader_core.features.order_stats import compress, median_codes, rank_codes
from trader_core.features.rolling import rolling_max, rolling_mean, rolling_min, rolling_std, rolling_sum

# ---------------------------------------------------------------------------------------------------
# scalar helpers with the seed's pandas semantics (NaN compares False, NaN survives clip)

BPS = 10000.0


@njit(cache=True, nogil=True, error_model="numpy")
def _safe_div(num: float, den: float) -> float:
    """safe_divide`` (docs/features.md): den == 0 -> NaN, +-inf -> NaN, then NaN -> 0."""
    r = num / den if den != 0 else np.nan
    return r if np.isfinite(r) else 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _zscore(x: float, mean: float, std: float) -> float:
    """``(x - mean) / std`` with std == 0 -> NaN, then NaN -> 0 (inf is kept, as ``fillna`` keeps it)."""
    r = (x - mean) / std if std != 0 else np.nan
    return 0.0 if r != r else r


@njit(cache=True, nogil=True, error_model="numpy")
def _floor0(x: float) -> float:
    """``clip(lower=0)``; NaN stays NaN."""
    return 0.0 if x < 0.0 else x


@njit(cache=True, nogil=True, error_model="numpy")
def _change_bps(x: np.ndarray, i: int, lag: int) -> float:
    """``(x / x.shift(lag) - 1) * 1e4`` at row i."""
    return (x[i] / x[i - lag] - 1.0) * BPS if i >= lag else np.nan


# ---------------------------------------------------------------------------------------------------
# feature blocks of one symbol. Each kernel writes the rows of ``out`` (float32, one row per feature, one
# column per row of the symbol) named by its *_FEATURES tuple, in that order; the caller passes the
# matching rows of the feature matrix, so the values are cast to float32 only when stored.

PRICE_FEATURES: tuple[str, ...] = (
    "ret_1m_bps", "ret_5m_bps", "ret_15m_bps", "ret_60m_bps", "ret_240m_bps",
    "realized_vol_15m_bps", "realized_vol_60m_bps", "vol_ratio_15m_60m", "range_15m_bps", "range_60m_bps",
    "volume_zscore_60m", "trend_consistency_15m", "channel_position_60m_pct", "upper_breakout_60m_bps",
    "lower_breakout_60m_bps", "upper_failed_break_reclaim_15m_bps", "lower_failed_break_reclaim_15m_bps",
    "sweep_up_15m_bps", "sweep_down_15m_bps",
)
COMPRESSION_FEATURES: tuple[str, ...] = ("compression_score_4h_pct", "compression_release_15m_bps")
FLOW_FEATURES: tuple[str, ...] = (
    "taker_imbalance_1m", "taker_imbalance_5m", "taker_imbalance_15m", "spread_rank_24h_pct",
    "oi_delta_15m_bps", "oi_delta_60m_bps", "mark_index_basis_bps", "liquidation_imbalance_15m",
    "liquidation_notional_zscore_15m",
)
BOOK_FEATURES: tuple[str, ...] = (
    "book_microprice_basis_bps", "book_pressure_taker_1m", "book_pressure_taker_5m", "book_depth_imbalance_5",
)


@njit(cache=True, nogil=True, error_model="numpy")
def price_features(c: np.ndarray, h: np.ndarray, lo: np.ndarray, v: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write PRICE_FEATURES (features 1-19 of FEATURE_ORDER, docs/features.md) to ``out``; return range_15m_bps in float64."""
    n = c.size
    log_ret = np.empty(n)
    sign_ret = np.empty(n)
    for i in range(n):
        log_ret[i] = np.log(c[i] / c[i - 1]) if i > 0 else np.nan
        sign_ret[i] = np.sign(_change_bps(c, i, 1))
    rv15 = rolling_std(log_ret, 15, 15)
    rv60 = rolling_std(log_ret, 60, 60)
    high15, low15 = rolling_max(h, 15), rolling_min(lo, 15)
    high60, low60 = rolling_max(h, 60), rolling_min(lo, 60)
    v_mean, v_std = rolling_mean(v, 60, 60), rolling_std(v, 60, 60)
    trend = rolling_mean(sign_ret, 15, 15)
    range15 = np.empty(n)
    for i in range(n):
        ci = c[i]
        prev_high60 = high60[i - 1] if i > 0 else np.nan  # max of h over the 60 rows before row i
        prev_low60 = low60[i - 1] if i > 0 else np.nan
        range15[i] = (high15[i] / low15[i] - 1.0) * BPS
        span60 = max(high60[i] - low60[i], 1e-12) if high60[i] == high60[i] else np.nan
        channel = (ci - low60[i]) / span60
        rv60_floor = max(rv60[i] * BPS, 1.0) if rv60[i] == rv60[i] else np.nan
        out[0, i] = _change_bps(c, i, 1)
        out[1, i] = _change_bps(c, i, 5)
        out[2, i] = _change_bps(c, i, 15)
        out[3, i] = _change_bps(c, i, 60)
        out[4, i] = _change_bps(c, i, 240)
        out[5, i] = rv15[i] * BPS
        out[6, i] = rv60[i] * BPS
        out[7, i] = _safe_div(rv15[i] * BPS, rv60_floor)
        out[8, i] = range15[i]
        out[9, i] = (high60[i] / low60[i] - 1.0) * BPS
        out[10, i] = _zscore(v[i], v_mean[i], v_std[i])
        out[11, i] = trend[i]
        out[12, i] = 0.0 if channel < 0.0 else (1.0 if channel > 1.0 else channel)
        out[13, i] = _floor0(ci / prev_high60 - 1.0) * BPS
        out[14, i] = _floor0(prev_low60 / ci - 1.0) * BPS
        out[15, i] = (_floor0(prev_high60 - ci) / ci) * BPS if high15[i] > prev_high60 else 0.0
        out[16, i] = (_floor0(ci - prev_low60) / ci) * BPS if low15[i] < prev_low60 else 0.0
        out[17, i] = _floor0(high15[i] / ci - 1.0) * BPS
        out[18, i] = _floor0(ci / low15[i] - 1.0) * BPS
    return range15


@njit(cache=True, nogil=True, error_model="numpy")
def price_block(c: np.ndarray, h: np.ndarray, lo: np.ndarray, v: np.ndarray, price_out: np.ndarray,
                compression_out: np.ndarray) -> None:
    """``price_features``, then COMPRESSION_FEATURES into ``compression_out``: 1 - rank_last(range15, 240) and
    max(range15 - median240(range15), 0).

    One call, so a worker thread needs the GIL only to start it (a thread waiting for the GIL between kernels
    can lose a whole switch interval to the main thread's pandas work).
    """
    range15 = price_features(c, h, lo, v, price_out)
    codes, uniq = compress(range15)
    rank, median = rank_codes(codes, 240), median_codes(codes, uniq, 240)
    for i in range(range15.size):
        compression_out[0, i] = 1.0 - rank[i]
        release = range15[i] - median[i]
        compression_out[1, i] = release if release >= 0.0 or release != release else 0.0  # NaN stays NaN


@njit(cache=True, nogil=True, error_model="numpy")
def _flow_kernel(buy: np.ndarray, sell: np.ndarray, spread_rank: np.ndarray, oi: np.ndarray, mark: np.ndarray,
                 index: np.ndarray, liq_buy: np.ndarray, liq_sell: np.ndarray, out: np.ndarray) -> None:
    total = buy + sell
    buy5, sell5, total5 = rolling_sum(buy, 5, 5), rolling_sum(sell, 5, 5), rolling_sum(total, 5, 5)
    buy15, sell15, total15 = rolling_sum(buy, 15, 15), rolling_sum(sell, 15, 15), rolling_sum(total, 15, 15)
    liq15 = rolling_sum(liq_buy + liq_sell, 15, 1)
    liq_buy15, liq_sell15 = rolling_sum(liq_buy, 15, 1), rolling_sum(liq_sell, 15, 1)
    liq_mean, liq_std = rolling_mean(liq15, 1440, 60), rolling_std(liq15, 1440, 60)
    for i in range(buy.size):
        out[0, i] = _safe_div(buy[i] - sell[i], total[i])
        out[1, i] = _safe_div(buy5[i] - sell5[i], total5[i])
        out[2, i] = _safe_div(buy15[i] - sell15[i], total15[i])
        out[3, i] = spread_rank[i]
        out[4, i] = _change_bps(oi, i, 15)
        out[5, i] = _change_bps(oi, i, 60)
        out[6, i] = (mark[i] / index[i] - 1.0) * BPS
        out[7, i] = _safe_div(liq_buy15[i] - liq_sell15[i], liq15[i])
        out[8, i] = _zscore(liq15[i], liq_mean[i], liq_std[i])


@njit(cache=True, nogil=True, error_model="numpy")
def book_features(c: np.ndarray, buy: np.ndarray, sell: np.ndarray, bid: np.ndarray, bid_size: np.ndarray,
                  ask: np.ndarray, ask_size: np.ndarray, depth_bid: np.ndarray, depth_ask: np.ndarray,
                  out: np.ndarray) -> None:
    """Write BOOK_FEATURES (microprice basis, taker pressure against depth, depth imbalance)."""
    flow = (buy - sell) * c
    half_depth = (depth_bid + depth_ask) / 2.0
    flow5, depth5 = rolling_sum(flow, 5, 5), rolling_mean(half_depth, 5, 5)
    for i in range(c.size):
        microprice = (bid[i] * ask_size[i] + ask[i] * bid_size[i]) / (bid_size[i] + ask_size[i])
        out[0, i] = (microprice / ((bid[i] + ask[i]) / 2.0) - 1.0) * BPS
        out[1, i] = _safe_div(flow[i], half_depth[i])
        out[2, i] = _safe_div(flow5[i], depth5[i])
        out[3, i] = _safe_div(depth_bid[i] - depth_ask[i], depth_bid[i] + depth_ask[i])


@njit(cache=True, nogil=True, error_model="numpy")
def flow_block(c: np.ndarray, buy: np.ndarray, sell: np.ndarray, spread: np.ndarray, oi: np.ndarray,
               mark: np.ndarray, index: np.ndarray, liq_buy: np.ndarray, liq_sell: np.ndarray, bid: np.ndarray,
               bid_size: np.ndarray, ask: np.ndarray, ask_size: np.ndarray, depth_bid: np.ndarray,
               depth_ask: np.ndarray, flow_out: np.ndarray, book_out: np.ndarray) -> None:
    """FLOW_FEATURES (features 22-30 of docs/features.md: taker flow, spread rank, open interest, basis,
    liquidations) into ``flow_out``, then ``book_features`` into ``book_out``, in one call (``price_block``)."""
    spread_rank = rank_codes(compress(spread)[0], 1440)
    _flow_kernel(buy, sell, spread_rank, oi, mark, index, liq_buy, liq_sell, flow_out)
    book_features(c, buy, sell, bid, bid_size, ask, ask_size, depth_bid, depth_ask, book_out)


@njit(cache=True, nogil=True, error_model="numpy")
def spans_gap(gap: np.ndarray, window: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """True where rows i-w+1..i of row i's ``window`` w hold a row j > i-w+1 of the same symbol with ``gap[j]``
    (symbol s is rows ``bounds[s]:bounds[s + 1]``): the latest gap row after the symbol's first row is at most
    w-2 rows back."""
    out = np.zeros(gap.size, dtype=np.bool_)
    for s in range(bounds.size - 1):
        last = -1
        for i in range(bounds[s], bounds[s + 1]):
            if gap[i]:
                last = i
            out[i] = last > bounds[s] and i - last <= window[i] - 2
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def quality_codes(matrix: np.ndarray, gap_window: np.ndarray, filled: np.ndarray, partial: np.ndarray,
                  codes: np.ndarray) -> np.ndarray:
    """Per column of ``matrix`` (one row per feature), the first that applies of ``codes`` = (any feature NaN,
    ``gap_window``, ``filled``, ``partial``, none of them): ``np.select`` without its temporary arrays."""
    n = matrix.shape[1]
    warmup = np.zeros(n, dtype=np.bool_)
    for f in range(matrix.shape[0]):
        for i in range(n):
            warmup[i] |= matrix[f, i] != matrix[f, i]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        if warmup[i]:
            out[i] = codes[0]
        elif gap_window[i]:
            out[i] = codes[1]
        elif filled[i]:
            out[i] = codes[2]
        elif partial[i]:
            out[i] = codes[3]
        else:
            out[i] = codes[4]
    return out


# ---------------------------------------------------------------------------------------------------
# sample ids

_POWERS_OF_TEN = np.array([10 ** k for k in range(1, 20)], dtype=np.uint64)
#: "00" "01" ... "99" as utf-8 bytes: digit pair k is at 2k, 2k + 1.
_DIGIT_PAIRS = np.frombuffer("".join(f"{k:02d}" for k in range(100)).encode(), dtype=np.uint8).copy()


@njit(cache=True, nogil=True, error_model="numpy")
def _decimal_width(value: np.uint64, guess: int) -> int:
    """Decimal digits of ``value``; ``guess`` (the previous row's width, usually the same) is checked first."""
    if (guess == 1 or value >= _POWERS_OF_TEN[guess - 2]) and (guess == 20 or value < _POWERS_OF_TEN[guess - 1]):
        return guess
    width = 1
    while width < 20 and value >= _POWERS_OF_TEN[width - 1]:
        width += 1
    return width


@njit(cache=True, nogil=True, error_model="numpy")
def sample_id_buffers(codes: np.ndarray, prefixes: np.ndarray, prefix_offsets: np.ndarray, numbers: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Arrow large_string buffers (int64 offsets, utf-8 bytes) of ``prefix[codes[i]] + str(numbers[i])``.

    ``prefixes`` holds the utf-8 bytes of every prefix back to back, prefix k at
    ``prefix_offsets[k]:prefix_offsets[k + 1]``.
    """
    n = codes.size
    offsets = np.zeros(n + 1, dtype=np.int64)
    width = 1
    for i in range(n):
        k = codes[i]
        sign = 1 if numbers[i] < 0 else 0
        width = _decimal_width(np.uint64(abs(numbers[i])), width)
        offsets[i + 1] = offsets[i] + prefix_offsets[k + 1] - prefix_offsets[k] + sign + width
    data = np.empty(offsets[n], dtype=np.uint8)
    for i in range(n):
        k = codes[i]
        pos = offsets[i]
        for j in range(prefix_offsets[k], prefix_offsets[k + 1]):
            data[pos] = prefixes[j]
            pos += 1
        if numbers[i] < 0:
            data[pos] = 45  # "-"
        magnitude = np.uint64(abs(numbers[i]))
        end = offsets[i + 1]
        while magnitude >= 100:  # two digits per division
            quotient = magnitude // np.uint64(100)
            pair = 2 * (magnitude - quotient * np.uint64(100))
            data[end - 2], data[end - 1] = _DIGIT_PAIRS[pair], _DIGIT_PAIRS[pair + 1]
            magnitude = quotient
            end -= 2
        if magnitude >= 10:
            data[end - 2], data[end - 1] = _DIGIT_PAIRS[2 * magnitude], _DIGIT_PAIRS[2 * magnitude + 1]
        else:
            data[end - 1] = np.uint8(48 + magnitude)  # "0" + digit
    return offsets, data

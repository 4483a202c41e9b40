"""Numba kernels for the feature frame: rolling windows over the rows of one symbol.

The rolling kernels take float64 arrays and reproduce the matching pandas 3 fixed-window ``rolling`` call
(NaN skipped, ``min_periods`` counting non-NaN values):

* ``rolling_sum`` / ``rolling_mean``: pandas' Kahan-compensated add/remove, including its rule that a
  window whose values are all equal gives exactly ``value * n`` / ``value``; ``rolling_std``: pandas'
  Welford add/remove that recomputes the window when an update loses precision, so a constant window
  gives exactly 0. Same algorithm, same order of operations, so the results are bit-for-bit pandas'
  (the feature formulas test ``std == 0`` and ``sum == 0`` exactly).
* ``rolling_max`` / ``rolling_min``: van Herk / Gil-Werman blocks, O(1) per row; min_periods = w.
* ``rolling_rank_last`` (= ``rank(method="max", pct=True)``, the share of the window <= the last value)
  and ``rolling_median``: values are coordinate-compressed (numpy argsort), then the rank is a Fenwick
  tree prefix count (O(log n) per row) and the median a pointer into the sorted distinct values that
  moves over a bitset of the codes present in the window (O(1) amortised per row). min_periods = w, so a
  window holding a NaN gives NaN.

The feature kernels (``price_features``, ``compression_features``, ``flow_features``, ``book_features``)
compute one symbol's features in float64 and store them as float32 into rows of the caller's feature
matrix; their ``*_FEATURES`` tuples name those rows. ``sample_id_buffers`` formats the sample ids.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros

# ---------------------------------------------------------------------------------------------------
# pandas-compatible rolling moments


@njit(cache=True, error_model="numpy")
def _kahan_add(total: float, comp: float, value: float) -> tuple[float, float]:
    y = value - comp
    t = total + y
    return t, (t - total) - y


@njit(cache=True, error_model="numpy")
def rolling_sum(x: np.ndarray, w: int, minp: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=minp).sum()``."""
    n = x.size
    out = np.empty(n)
    nobs = 0
    total = 0.0
    comp_add = 0.0
    comp_rem = 0.0
    same = 0
    prev = x[0] if n else np.nan
    for i in range(n):
        if i >= w:
            old = x[i - w]
            if old == old:
                nobs -= 1
                total, comp_rem = _kahan_add(total, comp_rem, -old)
        v = x[i]
        if v == v:
            nobs += 1
            total, comp_add = _kahan_add(total, comp_add, v)
            same = same + 1 if v == prev else 1
            prev = v
        if nobs == 0 and minp == 0:
            out[i] = 0.0
        elif nobs >= minp:
            out[i] = prev * nobs if same >= nobs else total
        else:
            out[i] = np.nan
    return out


@njit(cache=True, error_model="numpy")
def rolling_mean(x: np.ndarray, w: int, minp: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=minp).mean()``."""
    n = x.size
    out = np.empty(n)
    nobs = 0
    neg = 0
    total = 0.0
    comp_add = 0.0
    comp_rem = 0.0
    same = 0
    prev = x[0] if n else np.nan
    for i in range(n):
        if i >= w:
            old = x[i - w]
            if old == old:
                nobs -= 1
                total, comp_rem = _kahan_add(total, comp_rem, -old)
                if np.signbit(old):
                    neg -= 1
        v = x[i]
        if v == v:
            nobs += 1
            total, comp_add = _kahan_add(total, comp_add, v)
            if np.signbit(v):
                neg += 1
            same = same + 1 if v == prev else 1
            prev = v
        if nobs >= minp and nobs > 0:
            r = total / nobs
            if same >= nobs:
                r = prev
            elif neg == 0 and r < 0:
                r = 0.0
            elif neg == nobs and r > 0:
                r = 0.0
            out[i] = r
        else:
            out[i] = np.nan
    return out


# pandas flags a Welford update as ill-conditioned when it keeps < 3 significant digits, then recomputes.
_INV_COND_TOL = np.finfo(np.float64).eps * 1e3


@njit(cache=True, error_model="numpy")
def _welford(nobs: float, mean: float, ssq: float, comp: float, v: float, sign: float
             ) -> tuple[float, float, float, float, bool]:
    """Add (sign=+1) or remove (sign=-1) ``v``; returns the new state and an ill-conditioning flag."""
    prev_ssq = ssq
    nobs += sign
    if nobs == 0:
        return 0.0, 0.0, 0.0, comp, False
    prev_mean = mean - comp
    y = v - comp
    t = y - mean
    comp = t + mean - y
    mean += sign * t / nobs
    ssq += sign * (v - prev_mean) * (v - mean)
    return nobs, mean, ssq, comp, prev_ssq * _INV_COND_TOL > ssq


@njit(cache=True, error_model="numpy")
def rolling_std(x: np.ndarray, w: int, minp: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=minp).std()`` (ddof=1), pandas 3's Welford + recompute."""
    n = x.size
    out = np.empty(n)
    minp = max(minp, 1)
    nobs = 0.0
    mean = 0.0
    ssq = 0.0
    comp_add = 0.0
    comp_rem = 0.0
    unstable = False
    for i in range(n):
        if i >= w and x[i - w] == x[i - w]:
            nobs, mean, ssq, comp_rem, flag = _welford(nobs, mean, ssq, comp_rem, x[i - w], -1.0)
            unstable = flag or (unstable and nobs > 0)
        if x[i] == x[i]:
            nobs, mean, ssq, comp_add, flag = _welford(nobs, mean, ssq, comp_add, x[i], 1.0)
            unstable = unstable or flag
        if i == 0 or unstable:
            nobs = mean = ssq = comp_add = comp_rem = 0.0
            for j in range(max(0, i - w + 1), i + 1):
                if x[j] == x[j]:
                    nobs, mean, ssq, comp_add, flag = _welford(nobs, mean, ssq, comp_add, x[j], 1.0)
            unstable = False
        if nobs >= minp and nobs > 1:
            var = ssq / (nobs - 1.0)
            out[i] = np.sqrt(var) if var > 0 else 0.0
        else:
            out[i] = np.nan
    return out


# ---------------------------------------------------------------------------------------------------
# rolling max / min


@njit(cache=True, error_model="numpy")
def _pick(a: float, b: float, is_max: bool) -> float:
    """max (or min) of a and b; a NaN on either side wins."""
    if a != a or b != b:
        return np.nan
    if is_max:
        return a if a >= b else b
    return a if a <= b else b


@njit(cache=True, error_model="numpy")
def _rolling_extreme(x: np.ndarray, w: int, is_max: bool) -> np.ndarray:
    """Rolling max/min with min_periods = w (a NaN in the window gives NaN).

    van Herk / Gil-Werman: per block of w rows a running prefix and suffix extreme; the window ending
    at row i is the suffix of its first block combined with the prefix of its last block (O(1) per row).
    """
    n = x.size
    out = np.full(n, np.nan)
    prefix = np.empty(n)
    suffix = np.empty(n)
    for start in range(0, n, w):
        end = min(start + w, n)
        acc = x[start]
        for i in range(start, end):
            acc = _pick(acc, x[i], is_max)
            prefix[i] = acc
        acc = x[end - 1]
        for i in range(end - 1, start - 1, -1):
            acc = _pick(acc, x[i], is_max)
            suffix[i] = acc
    for i in range(w - 1, n):
        out[i] = _pick(suffix[i - w + 1], prefix[i], is_max)
    return out


@njit(cache=True, error_model="numpy")
def rolling_max(x: np.ndarray, w: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=w).max()``."""
    return _rolling_extreme(x, w, True)


@njit(cache=True, error_model="numpy")
def rolling_min(x: np.ndarray, w: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=w).min()``."""
    return _rolling_extreme(x, w, False)


# ---------------------------------------------------------------------------------------------------
# order statistics over a sliding window (on coordinate-compressed values)


def _compress(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense 1-based codes of ``x`` among its sorted distinct non-NaN values (0 for NaN), and those values.

    numpy's argsort is several times faster than numba's (and than itself on data holding NaN), so the
    sort happens here on a copy with NaN replaced by +inf; the codes still come from ``x``.
    """
    return _codes_from_order(x, np.argsort(np.where(np.isnan(x), np.inf, x)))


@njit(cache=True, error_model="numpy")
def _codes_from_order(x: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes = np.zeros(x.size, dtype=np.int64)
    uniq = np.empty(x.size)
    m = 0
    for k in range(x.size):
        v = x[order[k]]
        if v != v:
            continue
        if m == 0 or v != uniq[m - 1]:
            uniq[m] = v
            m += 1
        codes[order[k]] = m
    return codes, uniq[:m]


@njit(cache=True, error_model="numpy")
def _bit_add(tree: np.ndarray, i: int, delta: int) -> None:
    while i < tree.size:
        tree[i] += delta
        i += i & -i


@njit(cache=True, error_model="numpy")
def _bit_prefix(tree: np.ndarray, i: int) -> int:
    total = 0
    while i > 0:
        total += tree[i]
        i -= i & -i
    return total


@njit(cache=True, error_model="numpy")
def _rank_codes(codes: np.ndarray, w: int) -> np.ndarray:
    """Share of the window's codes <= the last code (a window holding code 0, i.e. NaN, gives NaN)."""
    n = codes.size
    rank = np.full(n, np.nan)
    tree = np.zeros(codes.max() + 1 if n else 1, dtype=np.int64)  # Fenwick tree of counts per code
    nans = 0
    for i in range(n):
        c = codes[i]
        old = codes[i - w] if i >= w else -1
        if old != c:
            if old == 0:
                nans -= 1
            elif old > 0:
                _bit_add(tree, old, -1)
            if c == 0:
                nans += 1
            else:
                _bit_add(tree, c, 1)
        if i >= w - 1 and nans == 0:
            rank[i] = _bit_prefix(tree, c) / w
    return rank


@njit(cache=True, error_model="numpy")
def _next_code(bits: np.ndarray, code: int) -> int:
    """Smallest present code > code (one must exist)."""
    q = code + 1
    word_index = q >> 6
    word = bits[word_index] & (~np.uint64(0) << np.uint64(q & 63))
    while word == 0:
        word_index += 1
        word = bits[word_index]
    return (word_index << 6) + trailing_zeros(word)


@njit(cache=True, error_model="numpy")
def _prev_code(bits: np.ndarray, code: int) -> int:
    """Largest present code < code (one must exist)."""
    q = code - 1
    word_index = q >> 6
    word = bits[word_index] & (~np.uint64(0) >> np.uint64(63 - (q & 63)))
    while word == 0:
        word_index -= 1
        word = bits[word_index]
    return (word_index << 6) + 63 - leading_zeros(word)


@njit(cache=True, error_model="numpy")
def _median_codes(codes: np.ndarray, uniq: np.ndarray, w: int) -> np.ndarray:
    """Rolling median of the values behind ``codes`` (a window holding code 0, i.e. NaN, gives NaN).

    Keeps a pointer ``p`` to the code of the lower middle value and ``below`` = window values with a
    code < p. Each row moves p by at most a few present codes, found in a bitset of present codes.
    """
    n = codes.size
    median = np.full(n, np.nan)
    count = np.zeros(uniq.size + 1, dtype=np.int64)
    bits = np.zeros(uniq.size // 64 + 2, dtype=np.uint64)
    lo_k = (w + 1) // 2  # 1-based order statistics of the middle (equal for odd w)
    hi_k = w // 2 + 1
    nans = 0
    p = 0
    below = 0
    for i in range(n):
        c = codes[i]
        old = codes[i - w] if i >= w else -1
        if old != c:
            if old == 0:
                nans -= 1
            elif old > 0:
                count[old] -= 1
                if count[old] == 0:
                    bits[old >> 6] &= ~(np.uint64(1) << np.uint64(old & 63))
                below -= old < p
            if c == 0:
                nans += 1
            else:
                count[c] += 1
                bits[c >> 6] |= np.uint64(1) << np.uint64(c & 63)
                below += c < p
        if i < w - 1 or nans > 0:
            continue
        while below >= lo_k:
            p = _prev_code(bits, p)
            below -= count[p]
        while below + count[p] < lo_k:
            below += count[p]
            p = _next_code(bits, p)
        hi = p if below + count[p] >= hi_k else _next_code(bits, p)
        median[i] = (uniq[hi - 1] + uniq[p - 1]) / 2
    return median


def rolling_rank_median(x: np.ndarray, w: int, want_rank: bool = True, want_median: bool = True
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Rolling rank-last and rolling median with min_periods = w (a window holding a NaN gives NaN).

    Outputs that are not wanted are all NaN.
    """
    codes, uniq = _compress(np.ascontiguousarray(x, dtype=np.float64))
    rank = _rank_codes(codes, w) if want_rank else np.full(x.size, np.nan)
    median = _median_codes(codes, uniq, w) if want_median else np.full(x.size, np.nan)
    return rank, median


def rolling_rank_last(x: np.ndarray, w: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=w).rank(method="max", pct=True)``: share of the window <= last."""
    return rolling_rank_median(x, w, want_median=False)[0]


def rolling_median(x: np.ndarray, w: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=w).median()``."""
    return rolling_rank_median(x, w, want_rank=False)[1]


# ---------------------------------------------------------------------------------------------------
# scalar helpers with the seed's pandas semantics (NaN compares False, NaN survives clip)

BPS = 10000.0


@njit(cache=True, error_model="numpy")
def _safe_div(num: float, den: float) -> float:
    """Spec ``safe_divide``: den == 0 -> NaN, +-inf -> NaN, then NaN -> 0."""
    r = num / den if den != 0 else np.nan
    return r if np.isfinite(r) else 0.0


@njit(cache=True, error_model="numpy")
def _zscore(x: float, mean: float, std: float) -> float:
    """``(x - mean) / std`` with std == 0 -> NaN, then NaN -> 0 (inf is kept, as ``fillna`` keeps it)."""
    r = (x - mean) / std if std != 0 else np.nan
    return 0.0 if r != r else r


@njit(cache=True, error_model="numpy")
def _floor0(x: float) -> float:
    """``clip(lower=0)``; NaN stays NaN."""
    return 0.0 if x < 0.0 else x


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
def price_features(c: np.ndarray, h: np.ndarray, lo: np.ndarray, v: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write PRICE_FEATURES (spec features 1-19) to ``out``; return range_15m_bps in float64."""
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


def compression_features(range15: np.ndarray, out: np.ndarray) -> None:
    """Write COMPRESSION_FEATURES: 1 - rank_last(range15, 240) and max(range15 - median240(range15), 0)."""
    rank, median = rolling_rank_median(range15, 240)
    out[0] = 1.0 - rank
    out[1] = np.maximum(range15 - median, 0.0)  # NaN stays NaN, like clip(lower=0)


@njit(cache=True, error_model="numpy")
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


def flow_features(buy: np.ndarray, sell: np.ndarray, spread: np.ndarray, oi: np.ndarray, mark: np.ndarray,
                  index: np.ndarray, liq_buy: np.ndarray, liq_sell: np.ndarray, out: np.ndarray) -> None:
    """Write FLOW_FEATURES (spec features 22-30: taker flow, spread rank, open interest, basis, liquidations)."""
    _flow_kernel(buy, sell, rolling_rank_last(spread, 1440), oi, mark, index, liq_buy, liq_sell, out)


@njit(cache=True, error_model="numpy")
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


# ---------------------------------------------------------------------------------------------------
# sample ids

_POWERS_OF_TEN = np.array([10 ** k for k in range(1, 20)], dtype=np.uint64)


@njit(cache=True, error_model="numpy")
def _decimal_width(value: np.uint64) -> int:
    width = 1
    while width < 20 and value >= _POWERS_OF_TEN[width - 1]:
        width += 1
    return width


@njit(cache=True, error_model="numpy")
def sample_id_buffers(codes: np.ndarray, prefixes: np.ndarray, prefix_offsets: np.ndarray, numbers: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Arrow large_string buffers (int64 offsets, utf-8 bytes) of ``prefix[codes[i]] + str(numbers[i])``.

    ``prefixes`` holds the utf-8 bytes of every prefix back to back, prefix k at
    ``prefix_offsets[k]:prefix_offsets[k + 1]``.
    """
    n = codes.size
    offsets = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        k = codes[i]
        sign = 1 if numbers[i] < 0 else 0
        magnitude = np.uint64(abs(numbers[i]))
        offsets[i + 1] = offsets[i] + prefix_offsets[k + 1] - prefix_offsets[k] + sign + _decimal_width(magnitude)
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
        end = offsets[i + 1] - 1
        while True:
            quotient = magnitude // np.uint64(10)
            data[end] = np.uint8(48 + (magnitude - quotient * np.uint64(10)))  # "0" + digit
            magnitude = quotient
            end -= 1
            if magnitude == 0:
                break
    return offsets, data

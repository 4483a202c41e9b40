"""Order statistics over a sliding window of one symbol's rows: the rolling rank of the last value and the median.

``rolling_rank_last`` equals pandas' ``rolling(w, min_periods=w).rank(method="max", pct=True)`` (the share of
the window <= the last value) and ``rolling_median`` its ``rolling(w, min_periods=w).median()``; a window
holding a NaN gives NaN (fewer than w values).

Values are first coordinate-compressed: each non-NaN value gets the 1-based code of its place among the
sorted distinct values (NaN gets 0). The sort is an LSD radix sort of the values' order-preserving 64-bit
keys, 11 bits per pass, skipping the passes whose digit is the same for every value: O(n), several times faster
than a comparison sort of the float64 values. Then the rank is a Fenwick tree prefix count over the codes
(O(log n) per row) and the median a pointer into the sorted distinct values that moves over a bitset of the
codes present in the window (O(1) amortised per row). Both are exact: counts and the mean of two stored values.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros

_RADIX_BITS = 11
_RADIX_PASSES = 6  # 6 x 11 bits cover the 64-bit key


@njit(cache=True, nogil=True, error_model="numpy")
def compress(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense 1-based codes of ``x`` among its sorted distinct non-NaN values (0 for NaN), and those values.

    The non-NaN values get order-preserving unsigned keys (negatives: all bits flipped; positives: the sign bit
    set; -0.0 keyed as 0.0), which a stable LSD radix sort orders, 11 bits per pass.
    """
    keys = np.empty(x.size, dtype=np.uint64)
    rows = np.empty(x.size, dtype=np.int64)
    bits = (x + 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0, so equal values share one key
    top = np.uint64(1) << np.uint64(63)
    m = 0
    for i in range(x.size):
        if x[i] == x[i]:
            keys[m] = ~bits[i] if bits[i] & top else bits[i] | top
            rows[m] = i
            m += 1
    buckets = 1 << _RADIX_BITS
    mask = np.uint64(buckets - 1)
    counts = np.zeros((_RADIX_PASSES, buckets), dtype=np.int64)
    for i in range(m):
        for p in range(_RADIX_PASSES):
            counts[p, (keys[i] >> np.uint64(p * _RADIX_BITS)) & mask] += 1
    keys_to, rows_to = np.empty_like(keys), np.empty_like(rows)
    for p in range(_RADIX_PASSES):
        count = counts[p]
        if m == 0 or count[(keys[0] >> np.uint64(p * _RADIX_BITS)) & mask] == m:
            continue  # every key has this digit: the pass would not move anything
        start = 0
        for b in range(buckets):
            start, count[b] = start + count[b], start
        shift = np.uint64(p * _RADIX_BITS)
        for i in range(m):
            digit = (keys[i] >> shift) & mask
            at = count[digit]
            count[digit] = at + 1
            keys_to[at] = keys[i]
            rows_to[at] = rows[i]
        keys, keys_to = keys_to, keys
        rows, rows_to = rows_to, rows
    codes = np.zeros(x.size, dtype=np.int64)
    uniq = np.empty(m)
    distinct = 0
    for k in range(m):
        if distinct == 0 or keys[k] != keys[k - 1]:
            uniq[distinct] = x[rows[k]] + 0.0
            distinct += 1
        codes[rows[k]] = distinct
    return codes, uniq[:distinct]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _bit_add(tree: np.ndarray, i: int, delta: int) -> None:
    while i < tree.size:
        tree[i] += delta
        i += i & -i


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _bit_prefix(tree: np.ndarray, i: int) -> int:
    total = 0
    while i > 0:
        total += tree[i]
        i -= i & -i
    return total


@njit(cache=True, nogil=True, error_model="numpy")
def rank_codes(codes: np.ndarray, w: int) -> np.ndarray:
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


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _next_code(bits: np.ndarray, code: int) -> int:
    """Smallest present code > code (one must exist)."""
    q = code + 1
    word_index = q >> 6
    word = bits[word_index] & (~np.uint64(0) << np.uint64(q & 63))
    while word == 0:
        word_index += 1
        word = bits[word_index]
    return (word_index << 6) + trailing_zeros(word)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _prev_code(bits: np.ndarray, code: int) -> int:
    """Largest present code < code (one must exist)."""
    q = code - 1
    word_index = q >> 6
    word = bits[word_index] & (~np.uint64(0) >> np.uint64(63 - (q & 63)))
    while word == 0:
        word_index -= 1
        word = bits[word_index]
    return (word_index << 6) + 63 - leading_zeros(word)


@njit(cache=True, nogil=True, error_model="numpy")
def median_codes(codes: np.ndarray, uniq: np.ndarray, w: int) -> np.ndarray:
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


def rolling_rank_median(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """``rolling_rank_last`` and ``rolling_median`` of ``x`` at once (one compression)."""
    codes, uniq = compress(np.ascontiguousarray(x, dtype=np.float64))
    return rank_codes(codes, w), median_codes(codes, uniq, w)


def rolling_rank_last(x: np.ndarray, w: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=w).rank(method="max", pct=True)``: share of the window <= last."""
    return rank_codes(compress(np.ascontiguousarray(x, dtype=np.float64))[0], w)


def rolling_median(x: np.ndarray, w: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=w).median()``."""
    codes, uniq = compress(np.ascontiguousarray(x, dtype=np.float64))
    return median_codes(codes, uniq, w)

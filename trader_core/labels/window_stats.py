"""The side-independent statistics of each forward window ``t+1 .. t+h`` (docs/labels.md, "Path statistics").

For a valid start row ``t`` (``trader_core.labels.path_stats`` chooses them): the up excursion
``max((max high / close[t] - 1) * 1e4, 0)`` (LONG mfe, SHORT mae), the down excursion
``max((close[t] / min low - 1) * 1e4, 0)`` (LONG mae, SHORT mfe), the spread p80 (numpy's linear quantile of
the window's non-NaN spreads) and the realized vol (two-pass ddof=1 std of the window's log returns x 1e4).

Consecutive start rows are handled in blocks: the window sums, maxima and minima of a block's rows are
accumulated bar by bar for all rows at once, which the compiler vectorizes, and each row still adds its own
window's terms one by one in window order, so the sums are the ones a per-row loop computes, bit for bit.
The spread p80 keeps the window's spreads in a sorted buffer that slides by one row at a time. The start
rows are cut into parts that run on threads; a part rebuilds its buffer and blocks at its first row, which
changes no value.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from numba import njit

from trader_core.threads import row_parts, run_all

#: Start rows per block: the block's running sums, maxima and minima stay in the L1 cache.
BLOCK_ROWS = 256


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _lower_bound(buf: np.ndarray, count: int, value: float) -> int:
    """The first index of the sorted ``buf[:count]`` whose value is >= ``value`` (``count`` if none)."""
    lo, hi = 0, count
    while lo < hi:
        mid = (lo + hi) >> 1
        if buf[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _insert_sorted(buf: np.ndarray, count: int, value: float) -> int:
    """Insert ``value`` into the sorted ``buf[:count]``; returns the new count."""
    j = _lower_bound(buf, count, value)
    for q in range(count, j, -1):
        buf[q] = buf[q - 1]
    buf[j] = value
    return count + 1


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _remove_sorted(buf: np.ndarray, count: int, value: float) -> int:
    """Remove one ``value`` (which must be present) from the sorted ``buf[:count]``; returns the new count."""
    for q in range(_lower_bound(buf, count, value), count - 1):
        buf[q] = buf[q + 1]
    return count - 1


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _count_below(buf: np.ndarray, count: int, value: float) -> int:
    """How many of ``buf[:count]`` are < ``value``: a branch-free count the compiler vectorizes (for a buffer of a
    window's length this beats a binary search, whose branches the CPU cannot predict)."""
    below = 0
    for j in range(count):
        below += buf[j] < value
    return below


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _replace_sorted(buf: np.ndarray, count: int, old: float, new: float) -> None:
    """Replace one ``old`` (which must be present) in the sorted ``buf[:count]`` by ``new``: only the values
    between the two places move."""
    at = _count_below(buf, count, old)  # the first ``old``
    to = _count_below(buf, count, new)  # values < new, ``old`` among them when new > old
    if new > old:
        for j in range(at, to - 1):
            buf[j] = buf[j + 1]
        buf[to - 1] = new
    else:
        for j in range(at, to, -1):
            buf[j] = buf[j - 1]
        buf[to] = new


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _linear_quantile(sorted_values: np.ndarray, count: int, q: float) -> float:
    """numpy's default ('linear') quantile of ``sorted_values[:count]``, same rounding as ``np._lerp``."""
    if count == 0:
        return np.nan
    virtual = (count - 1) * q
    if virtual >= count - 1:
        return sorted_values[count - 1]
    lo = int(math.floor(virtual))
    gamma = virtual - lo
    a, b = sorted_values[lo], sorted_values[lo + 1]
    diff = b - a
    return b - diff * (1.0 - gamma) if gamma >= 0.5 else a + diff * gamma


@njit(cache=True, nogil=True, error_model="numpy")
def _spread_p80(idx: np.ndarray, spread: np.ndarray, horizon: int, p80: np.ndarray) -> None:
    """The p80 of each window's non-NaN spreads: from one start row to the next the sorted buffer slides by a
    row (``spread[t]`` leaves, ``spread[t+h]`` enters), otherwise it is rebuilt. The quantile depends only on
    the values held, not on how they were sorted in."""
    buf = np.empty(horizon)
    count, previous = 0, -2
    for i in range(idx.size):
        t = idx[i]
        if t == previous + 1:
            leaving, entering = spread[t], spread[t + horizon]
            if leaving == leaving and entering == entering:
                _replace_sorted(buf, count, leaving, entering)
            elif leaving == leaving:
                count = _remove_sorted(buf, count, leaving)
            elif entering == entering:
                count = _insert_sorted(buf, count, entering)
        else:
            count = 0
            for b in range(t + 1, t + horizon + 1):
                if spread[b] == spread[b]:
                    count = _insert_sorted(buf, count, spread[b])
        previous = t
        p80[i] = _linear_quantile(buf, count, 0.8)


@njit(cache=True, nogil=True, error_model="numpy")
def _block(high: np.ndarray, low: np.ndarray, log_ret: np.ndarray, t0: int, rows: int, horizon: int,
           hi: np.ndarray, lo: np.ndarray, mean: np.ndarray, ss: np.ndarray) -> None:
    """Window max high, min low, mean and sum of squared deviations of the log returns of start rows
    ``t0 .. t0+rows-1``, into the first ``rows`` entries of ``hi``, ``lo``, ``mean`` and ``ss``.

    Each loop over the block's rows reads one input (through a slice, so no index can be negative) and
    writes one output, so it vectorizes.
    """
    hi[:rows], lo[:rows], mean[:rows], ss[:rows] = -np.inf, np.inf, 0.0, 0.0
    for k in range(t0 + 1, t0 + horizon + 1):
        highs, lows, returns = high[k:k + rows], low[k:k + rows], log_ret[k:k + rows]
        for q in range(rows):
            hi[q] = highs[q] if highs[q] > hi[q] else hi[q]
        for q in range(rows):
            lo[q] = lows[q] if lows[q] < lo[q] else lo[q]
        for q in range(rows):
            mean[q] += returns[q]
    for q in range(rows):
        mean[q] /= horizon
    for k in range(t0 + 1, t0 + horizon + 1):
        returns = log_ret[k:k + rows]
        for q in range(rows):
            deviation = returns[q] - mean[q]
            ss[q] += deviation * deviation


@njit(cache=True, nogil=True, error_model="numpy")
def _window_stats(idx: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, spread: np.ndarray,
                  log_ret: np.ndarray, horizon: int, block_rows: int, up: np.ndarray, down: np.ndarray,
                  p80: np.ndarray, vol: np.ndarray) -> None:
    """``window_stats`` of the start rows ``idx``, written to ``up``, ``down``, ``p80`` and ``vol``."""
    m = idx.size
    hi, lo, mean, ss = np.empty(block_rows), np.empty(block_rows), np.empty(block_rows), np.empty(block_rows)
    i = 0
    while i < m:
        j = i + 1
        while j < m and j - i < block_rows and idx[j] == idx[j - 1] + 1:
            j += 1
        t0 = idx[i]
        _block(high, low, log_ret, t0, j - i, horizon, hi, lo, mean, ss)
        for q in range(j - i):
            entry = close[t0 + q]
            up[i + q] = max((hi[q] / entry - 1.0) * 10000.0, 0.0)
            down[i + q] = max((entry / lo[q] - 1.0) * 10000.0, 0.0)
            vol[i + q] = (math.sqrt(ss[q] / (horizon - 1)) if horizon > 1 else np.nan) * 10000.0
        i = j
    _spread_p80(idx, spread, horizon, p80)


def window_stats(idx: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, spread: np.ndarray,
                 log_ret: np.ndarray, horizon: int, block_rows: int = BLOCK_ROWS
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Up and down excursion, spread p80 and realized vol (all in bps) of the window of each start row ``idx``.

    ``log_ret[b]`` is ``log(close[b] / close[b-1])``; ``block_rows`` bounds a block of consecutive start rows.
    The start rows are cut into one part per CPU, each computed on its own thread (``trader_core.threads``).
    """
    out = tuple(np.empty(idx.size) for _ in range(4))
    run_all([partial(_window_stats, idx[part], high, low, close, spread, log_ret, horizon, block_rows,
                     *(column[part] for column in out)) for part in row_parts(idx.size)])
    return out

"""Rolling windows over the rows of one symbol: numba kernels equal to pandas' ``rolling``.

The rolling kernels take float64 arrays and reproduce the matching pandas 3 fixed-window ``rolling`` call
(NaN skipped, ``min_periods`` counting non-NaN values):

* ``rolling_sum`` / ``rolling_mean``: pandas' Kahan-compensated add/remove, including its rule that a
  window whose values are all equal gives exactly ``value * n`` / ``value``; ``rolling_std``: pandas'
  Welford add/remove that recomputes the window when an update loses precision, so a constant window
  gives exactly 0. Same algorithm, same order of operations, so the results are bit-for-bit pandas'
  (the feature formulas test ``std == 0`` and ``sum == 0`` exactly).
* ``rolling_max`` / ``rolling_min``: van Herk / Gil-Werman blocks, O(1) per row; min_periods = w.

The rolling rank and median (order statistics) are in ``trader_core.features.order_stats``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ---------------------------------------------------------------------------------------------------
# pandas-compatible rolling moments


@njit(cache=True, nogil=True, error_model="numpy")
def _kahan_add(total: float, comp: float, value: float) -> tuple[float, float]:
    y = value - comp
    t = total + y
    return t, (t - total) - y


@njit(cache=True, nogil=True, error_model="numpy")
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


@njit(cache=True, nogil=True, error_model="numpy")
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


@njit(cache=True, nogil=True, error_model="numpy")
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


@njit(cache=True, nogil=True, error_model="numpy")
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


@njit(cache=True, nogil=True, error_model="numpy")
def _pick(a: float, b: float, is_max: bool) -> float:
    """max (or min) of a and b; a NaN on either side wins."""
    if a != a or b != b:
        return np.nan
    if is_max:
        return a if a >= b else b
    return a if a <= b else b


@njit(cache=True, nogil=True, error_model="numpy")
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


@njit(cache=True, nogil=True, error_model="numpy")
def rolling_max(x: np.ndarray, w: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=w).max()``."""
    return _rolling_extreme(x, w, True)


@njit(cache=True, nogil=True, error_model="numpy")
def rolling_min(x: np.ndarray, w: int) -> np.ndarray:
    """``pd.Series(x).rolling(w, min_periods=w).min()``."""
    return _rolling_extreme(x, w, False)

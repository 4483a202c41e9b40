"""Integer keys for the positional joins of the labels and the cost model (no per-row Python, no string merges).

``factorize_runs`` is ``pd.factorize`` of a string column computed over its runs of equal values (and
``isin_runs`` its ``isin``): a column grouped by symbol or split holds a few runs, so a few strings are hashed
instead of every row.

``epoch_ms`` reads the epoch milliseconds of a timestamp column from its raw integers.

``find_sorted`` answers each query by a galloping search that starts where the previous query ended, so
queries in ascending order (the usual case: both sides are sorted by symbol and time) cost O(1) amortised
instead of a full binary search each; queries in any order stay correct at O(log n) each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit


def _runs(values: pd.Series) -> tuple[pa.ChunkedArray, np.ndarray] | None:
    """The arrow data of an arrow-backed string column and the first row of each of its runs of equal values
    (a missing value is a run of its own); None for any other column."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    data = pa.chunked_array(pa.array(values.array))
    if len(data) < 2:
        return data, np.arange(len(data))
    differs = pc.fill_null(pc.not_equal(data.slice(1), data.slice(0, len(data) - 1)), True)
    return data, np.concatenate(([0], np.flatnonzero(differs.to_numpy(zero_copy_only=False)) + 1))


def _run_values(data: pa.ChunkedArray, starts: np.ndarray, dtype: pd.api.extensions.ExtensionDtype) -> pd.Series:
    """The values at the ascending rows ``starts``, taken chunk by chunk (a take on the whole chunked array
    first copies its chunks into one)."""
    edges = np.cumsum([0] + [len(chunk) for chunk in data.chunks])
    parts = []
    for chunk, first, stop in zip(data.chunks, edges[:-1], edges[1:]):
        lo, hi = np.searchsorted(starts, [first, stop])
        if hi > lo:
            parts.append(chunk.take(pa.array(starts[lo:hi] - first)))
    return pd.Series(pd.array(pa.concat_arrays(parts) if parts else pa.array([], type=data.type), dtype=dtype))


def factorize_runs(values: pd.Series, *, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values, sort=sort)``: codes (-1 where missing) and the distinct values, in order of first
    appearance or sorted.

    Arrow-backed strings are cut into runs of equal values and only the runs' values are factorized; any other
    column goes to ``pd.factorize`` itself.
    """
    runs = _runs(values)
    if runs is None:
        return pd.factorize(values, sort=sort)
    data, starts = runs
    codes, uniques = pd.factorize(_run_values(data, starts, values.dtype), sort=sort)
    return np.repeat(codes, np.diff(np.append(starts, len(data)))), uniques


def isin_runs(values: pd.Series, allowed: list[str]) -> np.ndarray:
    """``values.isin(allowed)`` as a numpy mask, decided once per run of equal values of arrow-backed strings."""
    runs = _runs(values)
    if runs is None:
        return values.isin(allowed).to_numpy()
    data, starts = runs
    kept = _run_values(data, starts, values.dtype).isin(allowed).to_numpy()
    return np.repeat(kept, np.diff(np.append(starts, len(data))))


def epoch_ms(times: pd.Series, *, missing: int = -1) -> np.ndarray:
    """Epoch milliseconds (floored) of a timestamp column, from its raw integers whatever their resolution;
    a naive column counts as UTC, other values are parsed by ``pd.to_datetime``; NaT gives ``missing``."""
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        times = pd.to_datetime(times, utc=True)
    values = times.array
    unit = values.unit
    ms = values.asi8 * 1000 if unit == "s" else values.asi8 // (np.timedelta64(1, "ms") // np.timedelta64(1, unit))
    return np.where(values.isna(), missing, ms) if values.isna().any() else ms


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def gallop(keys: np.ndarray, key: int, at: int) -> tuple[int, int]:
    """(index of ``key`` in the ascending non-empty ``keys``, the first of equal keys, or -1; where to start
    the next search): a galloping search from ``at``, O(log distance)."""
    n = keys.size
    step = 1
    if keys[at] < key:  # gallop right from ``at``: keys[lo] < key <= keys[hi] (hi == n: past the end)
        lo, hi = at, at + 1
        while hi < n and keys[hi] < key:
            lo = hi
            step <<= 1
            hi = lo + step
        hi = min(hi, n)
    else:  # gallop left
        lo, hi = at - 1, at
        while lo >= 0 and keys[lo] >= key:
            hi = lo
            step <<= 1
            lo = hi - step
        lo = max(lo, -1)
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid
        else:
            hi = mid
    return (hi if hi < n and keys[hi] == key else -1), min(hi, n - 1)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def upper_bound(keys: np.ndarray, key: int) -> int:
    """How many of the ascending ``keys`` are <= ``key`` (``np.searchsorted(keys, key, side="right")``)."""
    lo, hi = 0, keys.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] <= key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True, error_model="numpy")
def find_sorted(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index of each ``wanted`` key in the ascending ``keys`` (the first of equal keys), -1 where absent."""
    found = np.full(wanted.size, -1, dtype=np.int64)
    if keys.size == 0:
        return found
    at = 0
    for i in range(wanted.size):
        found[i], at = gallop(keys, wanted[i], at)
    return found

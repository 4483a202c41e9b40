"""Integer keys for the positional joins of the labels and the cost model (no per-row Python, no string merges).

``factorize_runs`` is ``pd.factorize`` of a string column computed over its runs of equal values: a column
grouped by symbol holds a few runs, so it hashes a few strings instead of every row.

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


def factorize_runs(values: pd.Series, *, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values, sort=sort)``: codes (-1 where missing) and the distinct values, in order of first
    appearance or sorted.

    Arrow-backed strings are run-end encoded first and only the runs' values are factorized; any other
    column goes to ``pd.factorize`` itself.
    """
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow") or values.empty:
        return pd.factorize(values, sort=sort)
    data = pa.array(values.array)
    runs = [pc.run_end_encode(chunk) for chunk in (data.chunks if isinstance(data, pa.ChunkedArray) else [data])
            if len(chunk)]
    lengths = np.concatenate([np.diff(run.run_ends.to_numpy(), prepend=0) for run in runs])
    run_values = pd.Series(pd.array(pa.concat_arrays([run.values for run in runs]), dtype=values.dtype))
    codes, uniques = pd.factorize(run_values, sort=sort)
    return np.repeat(codes, lengths), uniques


def epoch_ms(times: pd.Series, *, missing: int = -1) -> np.ndarray:
    """Epoch milliseconds (floored) of a timestamp column, from its raw integers whatever their resolution;
    a naive column counts as UTC, other values are parsed by ``pd.to_datetime``; NaT gives ``missing``."""
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        times = pd.to_datetime(times, utc=True)
    values = times.array
    unit = values.unit
    ms = values.asi8 * 1000 if unit == "s" else values.asi8 // (np.timedelta64(1, "ms") // np.timedelta64(1, unit))
    return np.where(values.isna(), missing, ms) if values.isna().any() else ms


@njit(cache=True, nogil=True, error_model="numpy")
def find_sorted(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index of each ``wanted`` key in the ascending ``keys`` (the first of equal keys), -1 where absent."""
    n = keys.size
    found = np.full(wanted.size, -1, dtype=np.int64)
    if n == 0:
        return found
    at = 0
    for i in range(wanted.size):
        key = wanted[i]
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
        at = min(hi, n - 1)
        if hi < n and keys[hi] == key:
            found[i] = hi
    return found

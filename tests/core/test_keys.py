"""The key helpers of the positional joins against the plain pandas / numpy operations they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from numba import njit

from trader_core.keys import epoch_ms, factorize_runs, find_sorted, isin_runs, upper_bound

SETTINGS = settings(max_examples=80, deadline=None)


@SETTINGS
@given(keys=st.lists(st.integers(-50, 50), max_size=60), wanted=st.lists(st.integers(-60, 60), max_size=60),
       ascending=st.booleans())
def test_find_sorted_is_searchsorted_with_misses(keys: list[int], wanted: list[int], ascending: bool) -> None:
    """Queries in any order (ascending ones take the galloping fast path); duplicates give their first index."""
    sorted_keys = np.sort(np.array(keys, dtype=np.int64))
    queries = np.array(sorted(wanted) if ascending else wanted, dtype=np.int64)
    at = np.searchsorted(sorted_keys, queries)
    hit = at < sorted_keys.size
    hit[hit] = sorted_keys[at[hit]] == queries[hit]
    np.testing.assert_array_equal(find_sorted(sorted_keys, queries), np.where(hit, at, -1))


@njit(cache=False)
def _upper_bounds(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    return np.array([upper_bound(keys, key) for key in wanted], dtype=np.int64)


@SETTINGS
@given(keys=st.lists(st.integers(-50, 50), max_size=60), wanted=st.lists(st.integers(-60, 60), min_size=1,
                                                                         max_size=60))
def test_upper_bound_is_searchsorted_right(keys: list[int], wanted: list[int]) -> None:
    sorted_keys = np.sort(np.array(keys, dtype=np.int64))
    queries = np.array(wanted, dtype=np.int64)
    np.testing.assert_array_equal(_upper_bounds(sorted_keys, queries),
                                  np.searchsorted(sorted_keys, queries, side="right"))


@SETTINGS
@given(runs=st.lists(st.tuples(st.sampled_from(["BTC", "ETH", "SOL", None]), st.integers(1, 5)), max_size=12),
       chunk=st.integers(1, 8), sort=st.booleans())
def test_factorize_runs_and_isin_runs_are_pandas(runs: list[tuple[str | None, int]], chunk: int, sort: bool) -> None:
    """``pd.factorize`` and ``isin``, whatever the runs (repeated, missing) and however the arrow data is chunked."""
    values = [value for value, length in runs for _ in range(length)]
    chunks = [pa.array(values[i:i + chunk], pa.large_string()) for i in range(0, len(values), chunk)]
    column = pd.Series(pd.array(pa.chunked_array(chunks, type=pa.large_string()), dtype="str"))
    codes, uniques = factorize_runs(column, sort=sort)
    expected_codes, expected_uniques = pd.factorize(column, sort=sort)
    np.testing.assert_array_equal(codes, expected_codes)
    assert uniques.equals(expected_uniques)
    np.testing.assert_array_equal(isin_runs(column, ["ETH", "SOL"]), column.isin(["ETH", "SOL"]).to_numpy())


@SETTINGS
@given(ns=st.lists(st.one_of(st.none(), st.integers(-2**52, 2**52)), min_size=1, max_size=40),
       unit=st.sampled_from(["s", "ms", "us", "ns"]), tz=st.sampled_from([None, "UTC", "Asia/Tokyo"]))
def test_epoch_ms_is_the_floored_millisecond(ns: list[int | None], unit: str, tz: str | None) -> None:
    times = pd.Series(pd.to_datetime([pd.NaT if v is None else v for v in ns], unit="ns")).dt.as_unit(unit)
    times = times if tz is None else times.dt.tz_localize("UTC").dt.tz_convert(tz)
    utc = pd.to_datetime(times, utc=True)
    expected = ((utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)).fillna(-1).to_numpy(np.int64)
    np.testing.assert_array_equal(epoch_ms(times), expected)

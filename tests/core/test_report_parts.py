"""The feature quality report rendered from the per-symbol parts' tables is the merged frame's report byte for
byte (docs/scaling.md, "Per-symbol parts"), and the quantiles of sorted runs are numpy's."""

import numpy as np
import pandas as pd
import pytest

from trader_core.fanout import merge_symbol_frames, symbol_slices
from trader_core.features import build_feature_frame, feature_quality_report
from trader_core.features.report_parts import part_tables, report_from_parts, union_quantiles
from trader_core.splits import assign_split

from tests.pipeline import fanout_market


@pytest.fixture(scope="module")
def parts():
    replay, manifest = fanout_market(days=9, seed=3)
    return [build_feature_frame(p, assign_split(p["event_time"], manifest)) for _, p in symbol_slices(replay)]


def _reports(frames):
    whole = feature_quality_report(merge_symbol_frames(frames), feature_order_hash="f" * 64, data_hash="d" * 64)
    combined = report_from_parts([part_tables(f) for f in frames], feature_order_hash="f" * 64, data_hash="d" * 64)
    return whole, combined


def test_the_report_from_parts_is_the_merged_frames_report(parts):
    whole, combined = _reports(parts)
    assert combined == whole
    assert "| fit_inner |" in whole and "## High Correlation Check" in whole


def test_the_report_from_few_rows_is_the_merged_frames_report(parts):
    """Fewer complete rows than the correlation sample (every row taken) and drift splits without rows."""
    few = [f.iloc[:1500].reset_index(drop=True) for f in parts]
    whole, combined = _reports(few)
    assert combined == whole
    assert "no rows" in whole


def test_a_part_with_nan_and_infinite_values_gives_the_merged_frames_report(parts):
    changed = [f.copy() for f in parts]
    changed[1].iloc[100:140, changed[1].columns.get_loc("ret_1m_bps")] = np.inf
    changed[2]["funding_bps"] = np.float32(np.nan)
    whole, combined = _reports(changed)
    assert combined == whole


@pytest.mark.parametrize("seed", range(40))
def test_quantiles_of_sorted_runs_are_numpys(seed):
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(int(rng.integers(1, 7))):
        size = int(rng.integers(0, 400))
        values = (rng.normal(size=size) * 10.0 ** rng.integers(-2, 7) + rng.integers(-5, 5) if rng.random() < 0.6
                  else rng.integers(-3, 3, size=size).astype(float))  # ties
        runs.append(np.sort(values).astype(np.float32 if seed % 2 else np.float64))
    levels = np.array([0.01, 0.5, 0.99])
    merged = np.concatenate(runs).astype(np.float64)
    expected = np.quantile(merged, levels) if len(merged) else np.full(3, np.nan)
    assert np.array_equal(union_quantiles(runs, levels), expected, equal_nan=True)
    if len(merged):
        assert np.array_equal(union_quantiles(runs, levels),
                              pd.Series(merged).quantile(list(levels)).to_numpy())  # what the report used

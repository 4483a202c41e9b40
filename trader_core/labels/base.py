"""Shared pieces of the label builders: the sample universe, path stats per horizon, aligned joins.

All label families share one path-statistics table (``compute_label_path_stats``): the price plan run
over every distinct label horizon, for both sides, restricted to windows inside one split. Joins are
positional (integer keys, no string merges), so a year of minutes labels in well under a second
(docs/labels.md, "Speed").
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from trader_core.config import LabelConfig
from trader_core.contracts.labels import SAMPLE_KEY
from trader_core.contracts.versions import TRAINING_SPLITS
from trader_core.errors import DataContractError
from trader_core.labels.path_stats import PlanParams, compute_path_stats
from trader_core.keys import factorize_runs, find_sorted, isin_runs
from trader_core.splits import split_codes

BASE_COLUMNS = SAMPLE_KEY + ("data_quality_flag",)
STAT_KEY = ("symbol", "open_time_ms", "side", "horizon_minutes")
#: Up to this many runs of rows, columns are sliced rather than filtered or taken.
_MAX_SLICED_RUNS = 64


def label_horizons(labels: LabelConfig) -> tuple[int, ...]:
    """Distinct forward horizons used by the label families."""
    return tuple(sorted({labels.direction.horizon_minutes, labels.entry.max_hold_minutes,
                         labels.continue_.horizon_minutes, labels.exit.horizon_minutes, labels.risk.horizon_minutes}))


def compute_label_path_stats(replay: pd.DataFrame, manifest: Mapping[str, Any], plan: PlanParams,
                             horizons: tuple[int, ...]) -> pd.DataFrame:
    """PATH_STAT_COLUMNS + ``horizon_minutes`` for every horizon; windows never cross a split or embargo."""
    split_ids = split_codes(replay["event_time"], manifest)[0]  # integer codes: cheaper to compare than strings
    parts = []
    for horizon in horizons:
        stats = compute_path_stats(replay, horizon=horizon, plan=plan, split_ids=split_ids)
        stats.insert(3, "horizon_minutes", np.int64(horizon))
        parts.append(stats)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def label_base(features: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Feature rows that can carry a label: rows of the four training splits (embargo/unassigned excluded)."""
    missing = [c for c in BASE_COLUMNS + extra if c not in features.columns]
    if missing:
        raise DataContractError(f"feature_frame: missing column(s) {missing} needed for labels")
    rows = isin_runs(features["split_id"], list(TRAINING_SPLITS))
    return select_rows(features[list(BASE_COLUMNS + extra)], rows)


def select_rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """``frame.loc[keep]`` with a fresh RangeIndex, chunk for chunk (stored parquet bytes depend on the chunks).

    Label rows drop whole stretches (other splits, the last window of each block), so ``keep`` is a few runs:
    arrow-backed string columns are then concatenated from slices (a filter when the runs are many), several
    times faster than the take ``loc`` runs on them (a single slice is not even copied); like that take, the
    result is one chunk.
    """
    if keep.all():
        return frame.reset_index(drop=True)
    edges = np.flatnonzero(np.diff(keep, prepend=False, append=False))
    runs = list(zip(edges[::2], edges[1::2]))
    columns = {}
    for name, column in frame.items():
        values = column.array
        if isinstance(values, pd.arrays.ArrowStringArray):
            data = pa.chunked_array(pa.array(values))
            pieces = ([data.slice(start, end - start) for start, end in runs] if len(runs) <= _MAX_SLICED_RUNS
                      else [pc.filter(data, pa.array(keep))])
            chunks = [chunk for piece in pieces for chunk in piece.chunks] or [pa.array([], type=data.type)]
            kept = chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks)
            columns[name] = pd.array(kept, dtype=column.dtype)
        else:
            columns[name] = values[keep]
    return pd.DataFrame(columns, columns=frame.columns, copy=False)


def _codes(values: pd.Series, categories: dict[str, int], dtype: type = np.int64) -> np.ndarray:
    """Integer code (``dtype``) of each string (categorical codes or ``factorize_runs``, mapped through the few
    distinct values)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, uniques = factorize_runs(values)
    lookup = np.array([categories.setdefault(str(u), len(categories)) for u in uniques] + [-1], dtype=dtype)
    return lookup[codes]


def _lookup(keys: np.ndarray, rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``rows[i]`` where ``keys[i] == wanted[j]`` for each j, else -1 (binary search over sorted keys)."""
    if keys.size and np.any(keys[1:] < keys[:-1]):
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
    at = find_sorted(keys, wanted)
    if not keys.size:
        return at
    found = rows[at]
    found[at < 0] = -1
    return found


def aligned_rows(base: pd.DataFrame, stats: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Base rows that have stats at ``horizon`` for both sides, and per side the stats row of each.

    The join is positional: integer keys (symbol code << 42 | open_time_ms, valid until the year 2109)
    found by a galloping search (``trader_core.keys``). Stat keys are built for one side's rows at a time, and
    codes are kept narrow, so the join's temporaries stay small next to the stats.
    """
    symbols: dict[str, int] = {}
    stat_symbols = _codes(stats["symbol"], symbols, np.int32)
    stat_ms = stats["open_time_ms"].to_numpy(dtype=np.int64)
    base_keys = (_codes(base["symbol"], symbols) << 42) | base["open_time_ms"].to_numpy(dtype=np.int64)
    at_horizon = stats["horizon_minutes"].to_numpy() == horizon
    side_codes = _codes(stats["side"], {"LONG": 0, "SHORT": 1}, np.int8)
    positions = {}
    for side, code in (("LONG", 0), ("SHORT", 1)):
        rows = np.flatnonzero(at_horizon & (side_codes == code))
        positions[side] = _lookup((stat_symbols[rows].astype(np.int64) << 42) | stat_ms[rows], rows, base_keys)
    keep = (positions["LONG"] >= 0) & (positions["SHORT"] >= 0)
    if keep.all():
        return select_rows(base, keep), positions
    return select_rows(base, keep), {side: pos[keep] for side, pos in positions.items()}


def aligned_sides(base: pd.DataFrame, stats: pd.DataFrame, horizon: int, columns: Mapping[str, tuple[str, ...]], *,
                  read_only: bool = False) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """``aligned_rows`` with, per side, that side's stat ``columns`` of those rows (only numeric columns are
    gathered); ``read_only``: values the caller only reads, views where the rows are one run (``Gather.read``)."""
    frame, rows = aligned_rows(base, stats, horizon)
    gathers = {side: Gather(at) for side, at in rows.items()}
    return frame, {side: {c: (gather.read if read_only else gather)(stats[c].to_numpy()) for c in columns[side]}
                   for side, gather in gathers.items()}


class Gather:
    """``values[rows]`` for many columns: where the rows are a few ascending runs (the stats rows of one side
    are), the runs are copied as slices, several times faster than a take."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        bounds, count = _run_bounds(np.ascontiguousarray(rows, dtype=np.int64), _MAX_SLICED_RUNS)
        self.runs = None if count < 0 else [(int(start), int(stop)) for start, stop in bounds[:count]]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        if self.runs is None:
            return np.take(values, self.rows)
        if not self.runs:
            return values[:0].copy()
        return np.concatenate([values[start:stop] for start, stop in self.runs])

    def read(self, values: np.ndarray) -> np.ndarray:
        """``values[rows]`` for values that are only read: a read-only view when the rows are one run (the
        stats rows of one symbol and side are), so no memory is written; otherwise the gather."""
        if self.runs is None or len(self.runs) != 1:
            return self(values)
        start, stop = self.runs[0]
        view = values[start:stop]
        view.flags.writeable = False
        return view


@njit(cache=True, nogil=True)
def _run_bounds(rows: np.ndarray, limit: int) -> tuple[np.ndarray, int]:
    """(start, stop) of each run of consecutive ascending ``rows`` and their count, or -1 for the count as soon
    as there are more than ``limit`` runs (one pass, no temporary the size of ``rows``)."""
    bounds = np.empty((limit, 2), dtype=np.int64)
    if rows.size == 0:
        return bounds, 0
    count, start = 0, rows[0]
    for i in range(1, rows.size + 1):
        if i == rows.size or rows[i] != rows[i - 1] + 1:
            if count == limit:
                return bounds, -1
            bounds[count, 0], bounds[count, 1] = start, rows[i - 1] + 1
            count += 1
            if i < rows.size:
                start = rows[i]
    return bounds, count


def constant(value: str, n: int) -> pd.Categorical:
    """A column of ``n`` copies of ``value`` (categorical: built in O(1) per row, stored dictionary-encoded)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])

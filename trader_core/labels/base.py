"""Shared pieces of the label builders: the sample universe, path stats per horizon, aligned joins.

All label families share one path-statistics table (``compute_label_path_stats``): the price plan run
over every distinct label horizon, for both sides, restricted to windows inside one split. Joins are
positional (integer keys, no string merges), so a year of minutes labels in about a second.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core.config import LabelConfig
from trader_core.contracts.labels import SAMPLE_KEY
from trader_core.contracts.versions import TRAINING_SPLITS
from trader_core.errors import DataContractError
from trader_core.labels.path_stats import PlanParams, compute_path_stats
from trader_core.splits import assign_split

BASE_COLUMNS = SAMPLE_KEY + ("data_quality_flag",)
STAT_KEY = ("symbol", "open_time_ms", "side", "horizon_minutes")


def label_horizons(labels: LabelConfig) -> tuple[int, ...]:
    """Distinct forward horizons used by the label families."""
    return tuple(sorted({labels.direction.horizon_minutes, labels.entry.max_hold_minutes,
                         labels.continue_.horizon_minutes, labels.exit.horizon_minutes, labels.risk.horizon_minutes}))


def compute_label_path_stats(replay: pd.DataFrame, manifest: Mapping[str, Any], plan: PlanParams,
                             horizons: tuple[int, ...]) -> pd.DataFrame:
    """PATH_STAT_COLUMNS + ``horizon_minutes`` for every horizon; windows never cross a split or embargo."""
    split_ids = assign_split(replay["event_time"], manifest)
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
    rows = features["split_id"].isin(list(TRAINING_SPLITS)).to_numpy()
    return features.loc[rows, list(BASE_COLUMNS + extra)].reset_index(drop=True)


def _codes(values: pd.Series, categories: dict[str, int]) -> np.ndarray:
    """Integer code of each string (factorized in C, mapped through the few distinct values)."""
    codes, uniques = pd.factorize(values)
    lookup = np.array([categories.setdefault(str(u), len(categories)) for u in uniques] + [-1], dtype=np.int64)
    return lookup[codes]


def _lookup(keys: np.ndarray, rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``rows[i]`` where ``keys[i] == wanted[j]`` for each j, else -1 (binary search over sorted keys)."""
    if keys.size and np.any(keys[1:] < keys[:-1]):
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
    at = np.minimum(np.searchsorted(keys, wanted), max(keys.size - 1, 0))
    hit = keys[at] == wanted if keys.size else np.zeros(wanted.shape, dtype=bool)
    return np.where(hit, rows[at] if keys.size else -1, -1)


def aligned_sides(base: pd.DataFrame, stats: pd.DataFrame, horizon: int,
                  columns: tuple[str, ...]) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """Base rows that have stats at ``horizon`` for both sides, and per side the stat columns in that order.

    The join is positional: integer keys (symbol code << 42 | open_time_ms, valid until the year 2109)
    found by binary search, and only numeric stat columns are gathered.
    """
    symbols: dict[str, int] = {}
    stat_keys = (_codes(stats["symbol"], symbols) << 42) | stats["open_time_ms"].to_numpy(dtype=np.int64)
    base_keys = (_codes(base["symbol"], symbols) << 42) | base["open_time_ms"].to_numpy(dtype=np.int64)
    at_horizon = stats["horizon_minutes"].to_numpy() == horizon
    side_codes = _codes(stats["side"], {"LONG": 0, "SHORT": 1})
    positions = {}
    for side, code in (("LONG", 0), ("SHORT", 1)):
        rows = np.flatnonzero(at_horizon & (side_codes == code))
        positions[side] = _lookup(stat_keys[rows], rows, base_keys)
    keep = (positions["LONG"] >= 0) & (positions["SHORT"] >= 0)
    values = {side: {c: stats[c].to_numpy()[pos[keep]] for c in columns} for side, pos in positions.items()}
    return base.loc[keep].reset_index(drop=True), values


def constant(value: str, n: int) -> pd.Categorical:
    """A column of ``n`` copies of ``value`` (categorical: built in O(1) per row, stored dictionary-encoded)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])

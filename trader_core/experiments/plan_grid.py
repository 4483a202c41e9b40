"""The plan searches' evaluation core: one plan of a grid -> its path stats, grouped by (split_id, side).

For each plan, the path stats of ``fill_path_stats`` (never re-implemented here) are joined to the trainable
feature rows on (symbol, open_time_ms). The path windows, the join and the (split_id, side) group of each
joined row depend only on the horizon and are computed once per horizon (``_Evaluator``); the group means
and quantiles (``SplitSideGroups``) equal pandas' groupby to the last bit. Scoring and verdicts are in
``trader_core.experiments.plan_search``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.labels import DATASET_KEY
from trader_core.contracts.versions import TRAINING_SPLITS
from trader_core.errors import DataContractError
from trader_core.experiments.toolkit import require_columns
from trader_core.labels.datasets import trainable_features
from trader_core.labels.path_stats import PathWindows, PlanParams, fill_path_stats, prepare_path_windows

#: Rows are reported for all four training splits.
ROW_SPLITS = TRAINING_SPLITS


@dataclass(frozen=True)
class GridPlan:
    """One plan of a search grid: its id, horizon, path-stats parameters and the columns that describe it."""

    plan_id: str
    horizon: int
    params: PlanParams
    columns: dict[str, Any] = field(default_factory=dict)


def _samples(features: pd.DataFrame) -> pd.DataFrame:
    """Trainable rows (OK/PARTIAL_OPTIONAL, the four training splits) keyed by (symbol, open_time_ms)."""
    require_columns(features, list(DATASET_KEY) + list(FEATURE_ORDER) + ["data_quality_flag"], "feature_frame")
    rows = trainable_features(features)[["sample_id", "symbol", "open_time_ms", "split_id"]]
    if rows.empty:
        raise DataContractError("feature_frame: no trainable rows (OK/PARTIAL_OPTIONAL in the training splits)")
    if rows.duplicated(["symbol", "open_time_ms"]).any():
        raise DataContractError("feature_frame: duplicate (symbol, open_time_ms) among trainable rows")
    rows = rows.copy()
    rows["symbol"] = rows["symbol"].astype("str")
    return rows


@njit(cache=True, error_model="numpy")
def _kahan_group_sums(codes: np.ndarray, values: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group and quantity: sum and count of the non-NaN values, Kahan-compensated in row order.

    ``values`` holds one quantity per row and one outcome row per column, ``codes`` the group of each outcome
    row (negative: none). The summation is the one of pandas' groupby mean (``group_mean``), so the means
    are equal to the last bit.
    """
    n_values = values.shape[0]
    sums, compensation = np.zeros((n_groups, n_values)), np.zeros((n_groups, n_values))
    counts = np.zeros((n_groups, n_values), dtype=np.int64)
    for i in range(values.shape[1]):
        g = codes[i]
        if g < 0:
            continue
        for j in range(n_values):
            value = values[j, i]
            if not math.isnan(value):
                counts[g, j] += 1
                y = value - compensation[g, j]
                t = sums[g, j] + y
                compensation[g, j] = t - sums[g, j] - y
                if math.isnan(compensation[g, j]):  # an infinite value: keep the sum infinite
                    compensation[g, j] = 0.0
                sums[g, j] = t
    return sums, counts


@dataclass(frozen=True, eq=False)
class SplitSideGroups:
    """The (split_id, side) group of each outcome row, for group statistics equal to pandas' groupby.

    ``codes`` = split code * len(sides) + side code (-1: no group); ``observed`` are the codes with rows
    (ascending), ``members`` the rows of each in row order and ``index`` their (split_id, side) MultiIndex, as
    ``groupby(["split_id", "side"], sort=True, observed=True)`` over the two categorical columns returns them.
    """

    codes: np.ndarray
    n_groups: int
    observed: np.ndarray
    members: list[np.ndarray]
    index: pd.MultiIndex

    @classmethod
    def build(cls, split_codes: np.ndarray, side_codes: np.ndarray, sides: Sequence[str]) -> SplitSideGroups:
        """Groups of rows by ``split_codes`` (into ``ROW_SPLITS``; negative: no group) and ``side_codes``."""
        n_sides = len(sides)
        codes = np.where(split_codes >= 0, split_codes.astype(np.int64) * n_sides + side_codes, -1)
        sizes = np.bincount(codes[codes >= 0], minlength=len(ROW_SPLITS) * n_sides)
        observed = np.flatnonzero(sizes)
        in_groups = np.argsort(codes, kind="stable")[codes.size - sizes.sum():]
        members = np.split(in_groups, np.cumsum(sizes[observed]))[:-1]
        index = pd.MultiIndex.from_arrays(
            [pd.Categorical.from_codes(observed // n_sides, categories=list(ROW_SPLITS)),
             pd.Categorical.from_codes(observed % n_sides, categories=list(sides))], names=["split_id", "side"])
        return cls(codes, sizes.size, observed, members, index)

    def means(self, values: dict[str, np.ndarray]) -> pd.DataFrame:
        """``rows`` and the mean of each of ``values`` (output name -> one value per row) per group."""
        stacked = np.empty((len(values), self.codes.size))
        for line, column in zip(stacked, values.values()):
            line[:] = column
        sums, counts = _kahan_group_sums(self.codes, stacked, self.n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums[self.observed] / counts[self.observed]
        out = pd.DataFrame(means, index=self.index, columns=list(values))
        out.insert(0, "rows", np.array([m.size for m in self.members], dtype=np.int64))
        return out

    def quantiles(self, values: np.ndarray, qs: Sequence[float]) -> np.ndarray:
        """pandas' groupby ``quantile(qs)`` per group ('linear', NaN skipped): one row per group, one column per q.

        pandas interpolates as ``lo + (hi - lo) * frac`` (not numpy's lerp); a group without values gives NaN.
        """
        qs = np.asarray(qs, dtype=np.float64)
        out = np.full((self.observed.size, qs.size), np.nan)
        for row, members in enumerate(self.members):
            x = np.sort(values[members])  # NaN sort last
            size = x.size - np.count_nonzero(np.isnan(x))
            if size:
                position = qs * (size - 1)
                lo, frac = position.astype(np.int64), position % 1
                hi = np.minimum(lo + 1, size - 1)
                out[row] = np.where(frac == 0.0, x[lo], x[lo] + (x[hi] - x[lo]) * frac)
        return out


@dataclass(frozen=True, eq=False)
class PlanOutcomes:
    """One plan's path stats (``compute_path_stats`` rows) with their groups; a row without a trainable
    sample belongs to no group. ``outcomes[column]`` is a stat column as a numpy array."""

    groups: SplitSideGroups
    stats: pd.DataFrame

    def __getitem__(self, name: str) -> np.ndarray:
        return self.stats[name].to_numpy()


class _Evaluator:
    """Path stats of one plan with the (split, side) group of each row that joins a trainable row.

    The path windows and the groups depend only on the horizon (which start rows are valid does not depend
    on the plan), so they are cached per horizon.
    """

    def __init__(self, replay: pd.DataFrame, samples: pd.DataFrame, split_ids: np.ndarray | None) -> None:
        self.replay, self.samples, self.split_ids = replay, samples, split_ids
        self._split_codes = pd.Categorical(samples["split_id"], categories=list(ROW_SPLITS)).codes
        self._horizons: dict[int, tuple[PathWindows, SplitSideGroups]] = {}

    def _horizon(self, horizon: int) -> tuple[PathWindows, SplitSideGroups]:
        if horizon not in self._horizons:
            windows = prepare_path_windows(self.replay, horizon=horizon, split_ids=self.split_ids)
            columns = windows.columns
            left = pd.DataFrame({"symbol": windows.symbols.take(columns["symbol"]),
                                 "open_time_ms": columns["open_time_ms"], "stat_row": np.arange(columns["side"].size)})
            right = self.samples[["symbol", "open_time_ms"]].assign(sample_row=np.arange(len(self.samples)))
            joined = left.merge(right, on=["symbol", "open_time_ms"], how="inner")
            if joined.empty:
                raise DataContractError(f"replay_1m: no plan window of {horizon} minutes matches a trainable "
                                        "feature row")
            split_codes = np.full(columns["side"].size, -1, dtype=np.int64)
            split_codes[joined["stat_row"].to_numpy()] = self._split_codes[joined["sample_row"].to_numpy()]
            self._horizons[horizon] = windows, SplitSideGroups.build(split_codes, columns["side"], windows.sides)
        return self._horizons[horizon]

    def outcomes(self, plan: GridPlan) -> PlanOutcomes:
        """The plan's path stats, grouped by (split_id, side) of the trainable sample of each row."""
        windows, groups = self._horizon(plan.horizon)
        return PlanOutcomes(groups, fill_path_stats(windows, plan.params))


def grid_rows(features: pd.DataFrame, replay: pd.DataFrame, plans: Sequence[GridPlan],
              split_ids: np.ndarray | None, metrics: Callable[[PlanOutcomes, GridPlan], pd.DataFrame]) -> pd.DataFrame:
    """``metrics(outcomes, plan)`` (indexed by split_id, side) for every plan, with the plan columns in front."""
    evaluator = _Evaluator(replay, _samples(features), split_ids)
    parts = []
    for plan in plans:
        table = metrics(evaluator.outcomes(plan), plan).reset_index()
        lead = pd.DataFrame({"plan_id": plan.plan_id, **plan.columns}, index=table.index)
        parts.append(pd.concat([lead, table], axis=1))
    return pd.concat(parts, ignore_index=True)


def pivot_by_split(rows: pd.DataFrame, index: Sequence[str], metrics: Sequence[str],
                   splits: Sequence[str] = ROW_SPLITS) -> pd.DataFrame:
    """One row per ``index`` with ``<metric>_<split>`` columns (NaN for a split without rows)."""
    wide = rows.set_index([*index, "split_id"])[list(metrics)].unstack("split_id")
    wide = wide.reindex(columns=pd.MultiIndex.from_product([list(metrics), list(splits)]))
    wide.columns = [f"{m}_{s}" for m, s in wide.columns]
    return wide.reset_index()

"""Cross-row and cross-column rules the table contracts declare (``TableContract.invariants``).

Each rule returns ``(passed, details)``; the details become the asset check's metadata. The constructors
(``windows_inside_splits(...)``, ``two_sides_per_sample()``, ...) bind a rule to its name, description and the
context it reads, so a contract lists its invariants as data. All rules are vectorized.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER, TRAINABLE_QUALITY
from trader_core.contracts.replay import MINUTE_MS
from trader_core.contracts.table import Invariant, Verdict
from trader_core.contracts.versions import EMBARGO_SPLIT, TRAINING_SPLITS


# ------------------------------------------------------------------------------------------------ rules
def _rows_per_split(frame: pd.DataFrame, masks: dict[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """For each mask, its rows in each split id (split ids factorized once: no string comparison per split)."""
    codes, uniques = pd.factorize(frame["split_id"].astype(str))
    return {name: dict(zip(map(str, uniques), np.bincount(codes[mask & (codes >= 0)], minlength=len(uniques)).tolist()))
            for name, mask in masks.items()}


def _finite(values: pd.Series) -> np.ndarray:
    array = values.to_numpy()
    return np.isfinite(array if array.dtype.kind == "f" else values.to_numpy(dtype=np.float64, na_value=np.nan))


def trainable_rows_counts(frame: pd.DataFrame) -> dict[str, Any]:
    """What ``trainable_rows_finite`` decides from: non-finite trainable rows, and trainable and all rows per
    split id. Counts of parts add up to the counts of the frame they make (a per-symbol part decides alone)."""
    trainable = frame["data_quality_flag"].isin(list(TRAINABLE_QUALITY)).to_numpy()
    finite = np.ones(len(frame), dtype=bool)
    for name in FEATURE_ORDER:  # column by column, in the stored dtype: no float64 copy of the whole frame
        finite &= _finite(frame[name])
    rows = _rows_per_split(frame, {"trainable": trainable, "all": np.ones(len(frame), dtype=bool)})
    return {"non_finite": int(np.sum(trainable & ~finite)), **rows}


def trainable_rows_verdict(counts: Mapping[str, Any]) -> Verdict:
    """Trainable rows have finite features and every training split has trainable rows."""
    trainable = {s: counts["trainable"].get(s, 0) for s in TRAINING_SPLITS}
    empty = [s for s, n in trainable.items() if n == 0]
    non_finite = int(counts["non_finite"])
    return non_finite == 0 and not empty, {"non_finite_trainable_rows": non_finite,
                                           "trainable_rows_per_split": trainable, "empty_training_splits": empty,
                                           "embargo_rows": counts["all"].get(EMBARGO_SPLIT, 0)}


def trainable_rows_finite_rule(frame: pd.DataFrame) -> Verdict:
    """Trainable rows have finite features and every training split has trainable rows."""
    return trainable_rows_verdict(trainable_rows_counts(frame))


def windows_inside_splits_rule(labels: pd.DataFrame, *, split_manifest: Mapping[str, Any], horizon: int) -> Verdict:
    """Every label's forward window [t, t + horizon] lies inside the split of its start row."""
    ends = {s["split_id"]: int(s["end_ms"]) for s in split_manifest["splits"]}
    starts = {s["split_id"]: int(s["start_ms"]) for s in split_manifest["splits"]}
    codes, uniques = pd.factorize(labels["split_id"].astype(str))
    end = np.array([ends.get(s, -1) for s in uniques] + [-1], dtype=np.int64)[codes]
    start = np.array([starts.get(s, 1 << 62) for s in uniques] + [1 << 62], dtype=np.int64)[codes]
    t = labels["open_time_ms"].to_numpy(dtype=np.int64)
    bad = (t < start) | (t + horizon * MINUTE_MS >= end)
    return not bad.any(), {"rows": int(len(labels)), "crossing_rows": int(bad.sum()), "horizon_minutes": horizon}


def path_stats_sane_rule(entry: pd.DataFrame, *, horizon: int) -> Verdict:
    """MFE and MAE are never negative and 0 < time_to_exit <= horizon."""
    neg_mfe = int((entry["mfe_bps"] < 0).sum())
    neg_mae = int((entry["mae_bps"] < 0).sum())
    exit_ms = entry["time_to_exit_ms"].to_numpy()
    bad_exit = int(((exit_ms <= 0) | (exit_ms > horizon * MINUTE_MS)).sum())
    return neg_mfe == neg_mae == bad_exit == 0, {"negative_mfe": neg_mfe, "negative_mae": neg_mae,
                                                 "bad_time_to_exit": bad_exit, "horizon_minutes": horizon}


def two_sides_rule(entry: pd.DataFrame) -> Verdict:
    """Each sample has exactly one LONG and one SHORT entry row."""
    counts = entry.groupby("sample_id", sort=False, observed=True)["side"].agg(["size", "nunique"])
    bad = counts[(counts["size"] != 2) | (counts["nunique"] != 2)]
    return bad.empty, {"samples": int(len(counts)), "bad_samples": int(len(bad)),
                       "first_bad": str(bad.index[0]) if len(bad) else ""}


def rates_by_split(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Mean of each binary label column per split (for metadata and one-class checks)."""
    out: dict[str, dict[str, float]] = {}
    split = frame["split_id"].to_numpy()
    for name in TRAINING_SPLITS:
        rows = split == name
        out[name] = {c: (float(frame[c].to_numpy()[rows].mean()) if rows.any() else float("nan")) for c in columns}
        out[name]["rows"] = float(rows.sum())
    return out


def one_class_targets(rates: Mapping[str, Mapping[str, float]], targets: tuple[str, ...]) -> list[str]:
    """``split.target`` for every target that has one class only in a training split that has rows."""
    return sorted({f"{split}.{t}" for split, r in rates.items() if r["rows"] > 0 for t in targets if r[t] in (0.0, 1.0)})


def not_one_class_rule(labels: pd.DataFrame, *, targets: tuple[str, ...]) -> Verdict:
    """Every target has both classes in every training split that has rows."""
    rates = rates_by_split(labels, targets)
    one_class = one_class_targets(rates, targets)
    return not one_class, {"one_class": one_class, "rates_by_split": rates}


# ------------------------------------------------------------------------------------------ constructors
def trainable_rows_finite() -> Invariant:
    return Invariant("trainable_rows_finite",
                     "Every trainable row (OK / PARTIAL_OPTIONAL) has finite features and every training split has "
                     "trainable rows (embargo rows reported).", trainable_rows_finite_rule,
                     part_counts=trainable_rows_counts, counts_verdict=trainable_rows_verdict)


def _with_horizon(frame: pd.DataFrame, *, rule: Any, horizon_field: str, label_config: Any, **context: Any) -> Verdict:
    return rule(frame, horizon=int(attrgetter(horizon_field)(label_config)), **context)


def windows_inside_splits(*, horizon_field: str) -> Invariant:
    """Label windows of ``label_config.<horizon_field>`` minutes never cross a split boundary or an embargo."""
    return Invariant("windows_inside_splits", "No label window crosses a split boundary or an embargo.",
                     partial(_with_horizon, rule=windows_inside_splits_rule, horizon_field=horizon_field),
                     needs=("split_manifest", "label_config"))


def path_stats_sane(*, horizon_field: str) -> Invariant:
    return Invariant("path_stats_sane", "MFE/MAE >= 0 and 0 < time_to_exit <= max hold.",
                     partial(_with_horizon, rule=path_stats_sane_rule, horizon_field=horizon_field),
                     needs=("label_config",))


def two_sides_per_sample() -> Invariant:
    return Invariant("two_rows_per_sample", "Exactly one LONG and one SHORT entry row per sample.", two_sides_rule)


def not_one_class(targets: tuple[str, ...]) -> Invariant:
    return Invariant("not_one_class", "Every target has both classes in every training split (WARN otherwise).",
                     partial(not_one_class_rule, targets=targets), blocking=False)

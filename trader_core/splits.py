"""Chronological splits with embargo, and the locked validation contract.

Layout of a window of D whole UTC days (boundaries on day starts, D·fraction rounded):

    fit_inner | embargo | tune_inner | embargo | validation_locked | embargo | latest_stress

Each split is a half-open interval ``[start_ms, end_ms)``. The embargo is the first
``embargo_minutes`` of every split after fit_inner; rows there get the split id ``embargo`` and are
excluded from training and evaluation. With ``embargo_minutes >=`` the longest label horizon (checked
by the run spec and again here), no label window that starts in one split can end in the next one.

Locked validation contract: the sealed boundaries (validation_locked and latest_stress) of a run are
written once to a lock file. ``check_locked`` refuses any later manifest whose sealed boundaries differ;
a new boundary needs a new run id.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core.split_plan import SplitPlan
from trader_core.contracts.features import sha256_json
from trader_core.contracts.replay import MINUTE_MS
from trader_core.contracts.versions import (
    EMBARGO_SPLIT,
    SEALED_SPLITS,
    SPLIT_VERSION,
    TRAINING_SPLITS,
    UNASSIGNED_SPLIT,
)
from trader_core.errors import DataContractError, LockedSplitError

DAY_MS = 1440 * MINUTE_MS
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def to_epoch_ms(ts: pd.Series | pd.Timestamp) -> Any:
    """Epoch milliseconds of tz-aware timestamps, whatever their stored resolution."""
    return (ts - EPOCH) // pd.Timedelta(milliseconds=1)


def ms_to_iso(ms: int) -> str:
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").isoformat()


def build_split_manifest(open_time_ms: np.ndarray, plan: SplitPlan, *, longest_label_horizon_minutes: int,
                         source_replay_path: str = "", replay_hash: str = "") -> dict[str, Any]:
    """Compute the split manifest for replay bar times ``open_time_ms`` (any order, all symbols)."""
    times = np.asarray(open_time_ms, dtype=np.int64)
    if times.size == 0:
        raise DataContractError("split: the replay is empty, nothing to split")
    if plan.embargo_minutes < longest_label_horizon_minutes:
        raise DataContractError(f"split: embargo {plan.embargo_minutes} min is shorter than the longest label "
                                f"horizon {longest_label_horizon_minutes} min")
    first_day = int(times.min()) // DAY_MS * DAY_MS
    last_day_end = (int(times.max()) // DAY_MS + 1) * DAY_MS
    n_days = (last_day_end - first_day) // DAY_MS
    sizes = split_day_sizes(n_days, plan.fractions)
    day_edges = np.concatenate([[0], np.cumsum(sizes)])
    embargo_ms = plan.embargo_minutes * MINUTE_MS
    splits, embargoes = [], []
    for i, split_id in enumerate(TRAINING_SPLITS):
        start = first_day + int(day_edges[i]) * DAY_MS
        end = first_day + int(day_edges[i + 1]) * DAY_MS
        if i > 0 and embargo_ms:
            embargoes.append({"before": split_id, "start_ms": start, "end_ms": start + embargo_ms,
                              "start": ms_to_iso(start), "end": ms_to_iso(start + embargo_ms)})
            start += embargo_ms
        count = int(((times >= start) & (times < end)).sum())
        if count == 0:
            raise DataContractError(f"split: {split_id} [{ms_to_iso(start)}, {ms_to_iso(end)}) has no replay rows")
        splits.append({"split_id": split_id, "start_ms": start, "end_ms": end, "start": ms_to_iso(start),
                       "end": ms_to_iso(end), "row_count": count, "days": int(sizes[i])})
    boundaries = {"splits": [{k: s[k] for k in ("split_id", "start_ms", "end_ms")} for s in splits],
                  "embargo_minutes": plan.embargo_minutes}
    return {
        "split_version": SPLIT_VERSION,
        "source_replay_path": source_replay_path,
        "replay_hash": replay_hash,
        "window_start": ms_to_iso(first_day),
        "window_end": ms_to_iso(last_day_end),
        "window_days": int(n_days),
        "embargo_minutes": plan.embargo_minutes,
        "longest_label_horizon_minutes": longest_label_horizon_minutes,
        "fractions": dict(zip(TRAINING_SPLITS, plan.fractions)),
        "splits": splits,
        "embargo": embargoes,
        "boundaries_hash": sha256_json(boundaries),
        "sealed_boundaries": sealed_boundaries({"splits": splits}),
    }


def split_day_sizes(n_days: int, fractions: tuple[float, ...]) -> np.ndarray:
    """Whole days per split: round half up, at least one day each, fit_inner absorbs the rounding."""
    if n_days < len(fractions):
        raise DataContractError(f"split: the window has {n_days} day(s), too short for the split plan: "
                                f"need at least {len(fractions)} whole days (one per split)")
    sizes = np.maximum(1, np.floor(np.asarray(fractions) * n_days + 0.5).astype(int))
    while n_days - sizes[1:].sum() < 1:  # small windows: shrink the largest later split, keeping >= 1 day
        sizes[1 + int(np.argmax(sizes[1:]))] -= 1
    sizes[0] = n_days - sizes[1:].sum()
    return sizes


def sealed_boundaries(manifest: Mapping[str, Any]) -> dict[str, list[int]]:
    """{split_id: [start_ms, end_ms]} of the sealed splits (validation_locked, latest_stress)."""
    return {s["split_id"]: [int(s["start_ms"]), int(s["end_ms"])] for s in manifest["splits"]
            if s["split_id"] in SEALED_SPLITS}


def assign_split(event_time: pd.Series | np.ndarray, manifest: Mapping[str, Any]) -> np.ndarray:
    """Split id per timestamp (tz-aware Series or epoch-ms array): a training split, ``embargo`` or ``unassigned``."""
    codes, labels = split_codes(event_time, manifest)
    return np.asarray(labels, dtype=object)[codes]


def split_codes(event_time: pd.Series | np.ndarray, manifest: Mapping[str, Any]) -> tuple[np.ndarray, list[str]]:
    """``assign_split`` as integer codes into a few labels (``labels[codes]``): what the path statistics compare.

    The embargo is assigned first and every split over it, in manifest order, as ``assign_split`` reads.
    """
    if isinstance(event_time, pd.Series) and isinstance(event_time.dtype, pd.DatetimeTZDtype):
        ms = to_epoch_ms(event_time).to_numpy(dtype=np.int64)
    else:
        ms = np.asarray(event_time, dtype=np.int64)
    labels = list(dict.fromkeys([UNASSIGNED_SPLIT, EMBARGO_SPLIT, *(s["split_id"] for s in manifest["splits"])]))
    codes = np.zeros(ms.shape, dtype=np.int16)
    for e in manifest.get("embargo", []):
        codes[(ms >= e["start_ms"]) & (ms < e["end_ms"])] = labels.index(EMBARGO_SPLIT)
    for s in manifest["splits"]:
        codes[(ms >= s["start_ms"]) & (ms < s["end_ms"])] = labels.index(s["split_id"])
    return codes, labels


def check_locked(lock: Mapping[str, Any] | None, manifest: Mapping[str, Any], run_id: str) -> None:
    """Raise LockedSplitError if ``manifest`` moves the sealed boundaries recorded in ``lock``."""
    if lock is None:
        return
    locked = {k: list(v) for k, v in lock["sealed_boundaries"].items()}
    new = sealed_boundaries(manifest)
    if locked != new:
        changes = {k: {"locked": [ms_to_iso(x) for x in locked.get(k, [])], "new": [ms_to_iso(x) for x in new.get(k, [])]}
                   for k in sorted(set(locked) | set(new)) if locked.get(k) != new.get(k)}
        raise LockedSplitError(f"run {run_id!r}: the sealed split boundaries are locked and this would change them "
                               f"{changes}; create a new run id for new boundaries")


def lock_payload(manifest: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    return {"run_id": run_id, "split_version": manifest["split_version"],
            "sealed_boundaries": sealed_boundaries(manifest), "boundaries_hash": manifest["boundaries_hash"]}

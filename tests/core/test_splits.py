import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader_core.config import SplitPlan
from trader_core.contracts.versions import EMBARGO_SPLIT, TRAINING_SPLITS, UNASSIGNED_SPLIT
from trader_core.errors import DataContractError, LockedSplitError
from trader_core.splits import assign_split, build_split_manifest, check_locked, lock_payload, split_codes

MIN = 60_000
DAY = 1440 * MIN
T0 = int(pd.Timestamp("2026-01-01", tz="UTC").value // 1_000_000)


def minutes(days: int) -> np.ndarray:
    return T0 + np.arange(days * 1440, dtype=np.int64) * MIN


@settings(max_examples=40, deadline=None)
@given(days=st.integers(4, 120), embargo=st.integers(45, 600), horizon=st.integers(1, 45),
       fracs=st.lists(st.floats(0.05, 1.0), min_size=4, max_size=4))
def test_manifest_properties(days, embargo, horizon, fracs):
    total = sum(fracs)
    f = [x / total for x in fracs]
    f[-1] = 1.0 - sum(f[:3])
    plan = SplitPlan(*f, embargo_minutes=embargo)  # every fraction >= 0.05 / 4 > 0: the drawn plan is always valid
    times = minutes(days)
    manifest = build_split_manifest(times, plan, longest_label_horizon_minutes=horizon)
    splits = manifest["splits"]
    assert [s["split_id"] for s in splits] == list(TRAINING_SPLITS)
    for a, b in zip(splits, splits[1:]):
        assert a["end_ms"] <= b["start_ms"]
        assert (b["start_ms"] - a["end_ms"]) // MIN >= horizon  # embargo covers the label horizon
    assert all(s["row_count"] > 0 for s in splits)
    ids = assign_split(times, manifest)
    # no label window starting in a split ends inside the next split
    for a, b in zip(splits, splits[1:]):
        last_start = times[ids == a["split_id"]].max()
        assert last_start + horizon * MIN < b["start_ms"]
    counts = {s: int((ids == s).sum()) for s in TRAINING_SPLITS}
    assert counts == {s["split_id"]: s["row_count"] for s in splits}
    assert int((ids == EMBARGO_SPLIT).sum()) == 3 * embargo


def test_assign_split_on_timestamps_and_outside_rows():
    times = minutes(10)
    manifest = build_split_manifest(times, SplitPlan(), longest_label_horizon_minutes=45)
    ts = pd.Series(pd.to_datetime(np.r_[times, times[-1] + DAY], unit="ms", utc=True))
    ids = assign_split(ts, manifest)
    assert ids[0] == "fit_inner" and ids[-2] == "latest_stress" and ids[-1] == UNASSIGNED_SPLIT
    tune_start = manifest["splits"][1]["start_ms"]
    assert assign_split(np.array([tune_start - MIN, tune_start]), manifest).tolist() == [EMBARGO_SPLIT, "tune_inner"]


@settings(max_examples=40, deadline=None)
@given(bounds=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=6),
       names=st.lists(st.sampled_from(["fit_inner", "tune_inner", EMBARGO_SPLIT]), min_size=6, max_size=6),
       embargo=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=2))
def test_split_codes_label_the_rows_as_the_manifest_reads(bounds, names, embargo):
    """Overlapping entries, a split named like the embargo, repeated names: later entries win, as written."""
    ms = np.arange(60, dtype=np.int64) * MIN
    manifest = {"splits": [{"split_id": name, "start_ms": a * MIN, "end_ms": b * MIN} for name, (a, b) in
                           zip(names, bounds)],
                "embargo": [{"start_ms": a * MIN, "end_ms": b * MIN} for a, b in embargo]}
    expected = np.full(ms.shape, UNASSIGNED_SPLIT, dtype=object)
    for e in manifest["embargo"]:
        expected[(ms >= e["start_ms"]) & (ms < e["end_ms"])] = EMBARGO_SPLIT
    for split in manifest["splits"]:
        expected[(ms >= split["start_ms"]) & (ms < split["end_ms"])] = split["split_id"]
    codes, labels = split_codes(ms, manifest)
    assert np.asarray(labels, dtype=object)[codes].tolist() == expected.tolist() == assign_split(ms, manifest).tolist()


def test_too_short_window_and_empty_split_are_errors():
    with pytest.raises(DataContractError, match="too short"):
        build_split_manifest(minutes(3), SplitPlan(), longest_label_horizon_minutes=45)
    times = minutes(10)
    times = times[(times < T0 + 8 * DAY) | (times >= T0 + 9 * DAY)]  # day 8 (validation_locked) missing
    with pytest.raises(DataContractError, match="validation_locked"):
        build_split_manifest(times, SplitPlan(), longest_label_horizon_minutes=45)
    with pytest.raises(DataContractError, match="empty"):
        build_split_manifest(np.array([], dtype=np.int64), SplitPlan(), longest_label_horizon_minutes=45)


def test_locked_contract_refuses_moved_boundaries():
    first = build_split_manifest(minutes(20), SplitPlan(), longest_label_horizon_minutes=45)
    lock = lock_payload(first, "r1")
    check_locked(lock, build_split_manifest(minutes(20), SplitPlan(), longest_label_horizon_minutes=45), "r1")
    check_locked(None, first, "r1")
    longer = build_split_manifest(minutes(24), SplitPlan(), longest_label_horizon_minutes=45)
    with pytest.raises(LockedSplitError, match="new run id"):
        check_locked(lock, longer, "r1")
    other_plan = build_split_manifest(minutes(20), SplitPlan(0.5, 0.3, 0.1, 0.1), longest_label_horizon_minutes=45)
    with pytest.raises(LockedSplitError, match="validation_locked"):
        check_locked(lock, other_plan, "r1")

"""The newest window of a run: the rows monitoring judges the champion on.

The last calendar month of the run's trainable rows when it holds at least ``MIN_NEWEST_DAYS`` days (a retrain
run's newly landed month, which the champion has never seen), else the run's latest_stress split
(docs/monitoring.md).
"""

from __future__ import annotations

import pandas as pd

from trader_core.contracts.versions import LATEST_STRESS_SPLIT
from trader_core.labels.datasets import trainable_features

MIN_NEWEST_DAYS = 7


def newest_window(features: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Trainable rows of the newest window (see module docstring) and its description."""
    rows = trainable_features(features)
    times = pd.to_datetime(rows["event_time"], utc=True)
    month = times.max().tz_localize(None).to_period("M").start_time.tz_localize("UTC")
    recent = rows[times >= month]
    if (times.max() - month) >= pd.Timedelta(days=MIN_NEWEST_DAYS):
        return recent.reset_index(drop=True), f"calendar month {month:%Y-%m}"
    stress = rows[rows["split_id"] == LATEST_STRESS_SPLIT].reset_index(drop=True)
    return stress, f"{LATEST_STRESS_SPLIT} (the last calendar month has < {MIN_NEWEST_DAYS} days)"

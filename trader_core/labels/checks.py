"""Label properties the asset checks verify (pure functions returning (passed, details))."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core.contracts.replay import MINUTE_MS


def windows_inside_splits(labels: pd.DataFrame, manifest: Mapping[str, Any], horizon: int) -> tuple[bool, dict]:
    """Every label's forward window [t, t + horizon] lies inside the split of its start row."""
    ends = {s["split_id"]: int(s["end_ms"]) for s in manifest["splits"]}
    starts = {s["split_id"]: int(s["start_ms"]) for s in manifest["splits"]}
    split = labels["split_id"].to_numpy()
    t = labels["open_time_ms"].to_numpy(dtype=np.int64)
    end = np.array([ends.get(s, -1) for s in split], dtype=np.int64) if len(split) else np.zeros(0, np.int64)
    start = np.array([starts.get(s, 1 << 62) for s in split], dtype=np.int64) if len(split) else np.zeros(0, np.int64)
    bad = (t < start) | (t + horizon * MINUTE_MS >= end)
    return not bad.any(), {"rows": int(len(labels)), "crossing_rows": int(bad.sum()), "horizon_minutes": horizon}


def path_stats_sane(entry: pd.DataFrame, horizon: int) -> tuple[bool, dict]:
    """MFE and MAE are never negative and 0 < time_to_exit <= horizon."""
    neg_mfe = int((entry["mfe_bps"] < 0).sum())
    neg_mae = int((entry["mae_bps"] < 0).sum())
    exit_ms = entry["time_to_exit_ms"].to_numpy()
    bad_exit = int(((exit_ms <= 0) | (exit_ms > horizon * MINUTE_MS)).sum())
    return neg_mfe == neg_mae == bad_exit == 0, {"negative_mfe": neg_mfe, "negative_mae": neg_mae,
                                                 "bad_time_to_exit": bad_exit, "horizon_minutes": horizon}


def two_sides_per_sample(entry: pd.DataFrame) -> tuple[bool, dict]:
    """Each sample has exactly one LONG and one SHORT entry row."""
    counts = entry.groupby("sample_id", sort=False)["side"].agg(["size", "nunique"])
    bad = counts[(counts["size"] != 2) | (counts["nunique"] != 2)]
    return bad.empty, {"samples": int(len(counts)), "bad_samples": int(len(bad)),
                       "first_bad": str(bad.index[0]) if len(bad) else ""}

"""Reference profiles and drift: what the training data looked like, and how far the newest month moved.

A **reference profile** is computed on a run's fit_inner rows and shipped inside its release bundle
(``monitoring/reference_profile.json``), so a live system can measure drift against the data its champion
was fitted on without keeping that data. It holds, per feature, the decile bin edges of the fit rows and
the fraction of fit rows per bin, and the label rates of the direction and entry targets.

**Feature drift** is the population stability index per feature::

    PSI = sum_b (a_b - e_b) ln(a_b / e_b),   e = reference fractions, a = newest-month fractions

with both fractions floored at ``PSI_FLOOR`` (empty bins). Usual reading, used for the status:
< 0.10 stable, 0.10-0.25 moderate, >= ``PSI_WARN`` (0.25) major shift -> WARN.

**Label-rate drift**: a target's rate on the newest month against its fit rate; WARN when the absolute
change is at least ``LABEL_RATE_WARN_ABS`` (0.05) *and* at least ``LABEL_RATE_WARN_REL`` (25 %) of the
reference rate, so rare labels do not warn on noise and common labels do not warn on tiny relative moves.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.versions import FIT_SPLIT
from trader_core.errors import DataContractError

PROFILE_VERSION = "reference-profile-v1"
PSI_BINS = 10
PSI_FLOOR = 1e-4
PSI_WARN = 0.25
PSI_MODERATE = 0.10
LABEL_RATE_WARN_ABS = 0.05
LABEL_RATE_WARN_REL = 0.25
DIRECTION_TARGETS = ("long_target", "short_target", "neutral_target")
ENTRY_TARGETS = ("long_entry_target", "short_entry_target")


def _bin_edges(values: np.ndarray) -> list[float]:
    """Inner decile edges (unique); bins are (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    clean = values[np.isfinite(values)]
    if len(clean) == 0:
        return []
    return [float(v) for v in np.unique(np.quantile(clean, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))]


def bin_fractions(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Fraction of the finite ``values`` in each bin of ``edges`` (len(edges) + 1 bins)."""
    clean = np.asarray(values, dtype="float64")
    clean = clean[np.isfinite(clean)]
    counts = np.bincount(np.searchsorted(np.asarray(edges, dtype="float64"), clean, side="left"),
                         minlength=len(edges) + 1)
    return counts / max(len(clean), 1)


def _rates(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> dict[str, float]:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataContractError(f"{name}: missing target column(s) {missing}")
    return {c: float(frame[c].mean()) if len(frame) else float("nan") for c in columns}


def reference_profile(features: pd.DataFrame, direction_train: pd.DataFrame,
                      entry_train: pd.DataFrame) -> dict[str, Any]:
    """The fit_inner profile of a run (feature bins and fractions, label rates, row counts, window)."""
    fit = features[features["split_id"] == FIT_SPLIT]
    if fit.empty:
        raise DataContractError("reference profile: the feature frame has no fit_inner rows")
    feats = {}
    for name in FEATURE_ORDER:
        values = fit[name].to_numpy(dtype="float64", na_value=np.nan)
        edges = _bin_edges(values)
        feats[name] = {"edges": edges, "fractions": bin_fractions(values, edges).tolist()}
    direction_fit = direction_train[direction_train["split_id"] == FIT_SPLIT]
    entry_fit = entry_train[entry_train["split_id"] == FIT_SPLIT]
    return {
        "profile_version": PROFILE_VERSION, "split": FIT_SPLIT, "rows": int(len(fit)),
        "window": {"first_event_time": str(fit["event_time"].min()), "last_event_time": str(fit["event_time"].max())},
        "features": feats,
        "label_rates": {**_rates(direction_fit, DIRECTION_TARGETS, "direction_train"),
                        **_rates(entry_fit, ENTRY_TARGETS, "entry_train")},
    }


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.maximum(np.asarray(expected, dtype="float64"), PSI_FLOOR)
    a = np.maximum(np.asarray(actual, dtype="float64"), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_status(value: float) -> str:
    return "WARN" if value >= PSI_WARN else "MODERATE" if value >= PSI_MODERATE else "STABLE"


def feature_drift(profile: Mapping[str, Any], newest: pd.DataFrame) -> pd.DataFrame:
    """PSI of every profiled feature on ``newest`` rows, sorted by PSI descending."""
    if newest.empty:
        raise DataContractError("feature drift: no rows in the newest window")
    rows = []
    for name, ref in profile["features"].items():
        if name not in newest.columns:
            raise DataContractError(f"feature drift: newest rows lack feature {name!r}")
        actual = bin_fractions(newest[name].to_numpy(dtype="float64", na_value=np.nan), ref["edges"])
        value = psi(np.asarray(ref["fractions"]), actual)
        rows.append({"feature": name, "psi": value, "status": psi_status(value)})
    return pd.DataFrame(rows).sort_values(["psi", "feature"], ascending=[False, True], kind="mergesort",
                                          ignore_index=True)


def label_drift(profile: Mapping[str, Any], direction_newest: pd.DataFrame,
                entry_newest: pd.DataFrame) -> pd.DataFrame:
    """Reference vs newest rate of every direction and entry target, with a WARN status per the module rule."""
    newest = {**_rates(direction_newest, DIRECTION_TARGETS, "direction_train"),
              **_rates(entry_newest, ENTRY_TARGETS, "entry_train")}
    rows = []
    for label, ref in profile["label_rates"].items():
        now = newest[label]
        change = now - ref
        warn = abs(change) >= LABEL_RATE_WARN_ABS and abs(change) >= LABEL_RATE_WARN_REL * abs(ref)
        rows.append({"label": label, "reference_rate": ref, "newest_rate": now, "change": change,
                     "status": "WARN" if warn else "STABLE"})
    return pd.DataFrame(rows)

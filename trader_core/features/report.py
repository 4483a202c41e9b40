"""Markdown feature quality report (docs/features.md, "Quality report"), computed column-vectorized over FEATURE_ORDER.

Decisions: the header prints data_hash (the caller's hash of the frame file)
next to feature_order_hash; Split Coverage always lists the four training splits (empty ones as
"no rows") and then any other split id present (embargo, unassigned); Source Coverage infers each
optional source's neutral fill as the share of rows where all of its features are exactly 0.0 (the
frame carries no availability flags except liquidation_available, so this is an upper bound); in the
Drift Check an empty split, and any diff involving it, prints "no rows"; quantiles skip NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_core.contracts.features import (
    FEATURE_ORDER,
    OPTIONAL_SOURCE_FEATURES,
    QUALITY_FILLED_BAR,
    QUALITY_GAP_WINDOW,
    QUALITY_OK,
    QUALITY_PARTIAL_OPTIONAL,
    QUALITY_WARMUP,
)
from trader_core.contracts.versions import FIT_SPLIT, TRAINING_SPLITS, TUNE_SPLIT, VALIDATION_LOCKED_SPLIT
from trader_core.report import fmt, markdown_table

NO_ROWS = "no rows"
CORR_THRESHOLD = 0.95
CORR_SAMPLE_ROWS = 5000
CORR_RANDOM_STATE = 7
CORR_MAX_ROWS = 30
_FLAGS = {"ok": QUALITY_OK, "partial_optional": QUALITY_PARTIAL_OPTIONAL, "warmup": QUALITY_WARMUP,
          "gap_window": QUALITY_GAP_WINDOW, "filled_bar": QUALITY_FILLED_BAR}
_DRIFT_SPLITS = {"train": FIT_SPLIT, "tune": TUNE_SPLIT, "validation": VALIDATION_LOCKED_SPLIT}
#: The columns the report reads (the merge of the per-symbol parts reads only these back).
REPORT_COLUMNS = ("event_time", "split_id", "data_quality_flag", *FEATURE_ORDER)


def feature_quality_report(frame: pd.DataFrame, *, feature_order_hash: str, data_hash: str) -> str:
    """Render the feature quality report of a feature frame (META_COLUMNS + FEATURE_ORDER)."""
    features = frame[list(FEATURE_ORDER)].astype(np.float64)
    flags = frame["data_quality_flag"]
    lines = [
        "# Trader Feature Quality Report",
        "",
        f"- row_count: {len(frame)}",
        *(f"- {label}: {int(flags.eq(label).sum())}" for label in _FLAGS.values()),
        f"- feature_count: {len(FEATURE_ORDER)}",
        f"- feature_order_hash: {feature_order_hash}",
        f"- data_hash: {data_hash}",
        "",
        "## Split Coverage",
        "",
        markdown_table(_split_rows(frame), ["split_id", "rows", "start", "end", *_FLAGS]),
        "## Source Coverage",
        "",
        f"- liquidation_available_share: {_share(features['liquidation_available'])}",
        f"- partial_optional_rows: {int(flags.eq(QUALITY_PARTIAL_OPTIONAL).sum())}",
        "- neutral_share: share of rows where every feature of an optional source is exactly 0.0, the neutral",
        "  value written while the source is unavailable (an upper bound of the unavailable share).",
        "",
        markdown_table(_source_rows(features), ["source_flag", "features", "neutral_share"]),
        "## Leakage Check",
        "",
        "- Every feature at minute t uses only replay rows of its symbol at or before t (trailing row windows;",
        "  snapshots are taken as of the bar close).",
        "- Future prices, future returns and labels never enter the feature frame.",
        "",
        "## Extreme Value Check",
        "",
        markdown_table(_extreme_rows(features), ["feature", "nan_count", "inf_count", "finite_count"]),
        "## High Correlation Check",
        "",
        f"Pairs with |corr| >= {CORR_THRESHOLD} on a dropna sample of up to {CORR_SAMPLE_ROWS} rows "
        f"(random_state={CORR_RANDOM_STATE}), at most {CORR_MAX_ROWS} pairs.",
        "",
        markdown_table(_correlation_rows(features), ["feature_a", "feature_b", "corr_abs"], digits=6),
        "## Drift Check",
        "",
        "p50/p99 per split; train = fit_inner, tune = tune_inner, validation = validation_locked; "
        "diff = validation - train.",
        "",
        markdown_table(_drift_rows(features, frame["split_id"]),
                       ["feature", "train_p50", "tune_p50", "validation_p50", "p50_diff",
                        "train_p99", "tune_p99", "validation_p99", "p99_diff"], digits=6),
        "## Distribution",
        "",
        markdown_table(_distribution_rows(features), ["feature", "null_count", "min", "p01", "p50", "p99", "max"],
                       digits=6),
    ]
    return "\n".join(lines)


def _share(values: pd.Series) -> str:
    """Mean of a 0/1 (or boolean) column, 6 decimals."""
    return fmt(float(values.mean()), 6) if len(values) else NO_ROWS


def _split_rows(frame: pd.DataFrame) -> list[dict]:
    """One row per training split (even when empty) and per other split id present."""
    present = frame["split_id"].unique().tolist()
    order = list(TRAINING_SPLITS) + sorted(s for s in present if s not in TRAINING_SPLITS)
    times = frame.groupby("split_id")["event_time"].agg(["size", "min", "max"])
    counts = pd.crosstab(frame["split_id"], frame["data_quality_flag"])
    rows = []
    for split in order:
        if split not in times.index:
            rows.append({"split_id": split, "rows": 0, "start": NO_ROWS, "end": NO_ROWS} | dict.fromkeys(_FLAGS, 0))
            continue
        row = {"split_id": split, "rows": int(times.at[split, "size"]), "start": times.at[split, "min"],
               "end": times.at[split, "max"]}
        row |= {key: int(counts.at[split, label]) if label in counts.columns else 0 for key, label in _FLAGS.items()}
        rows.append(row)
    return rows


def _source_rows(features: pd.DataFrame) -> list[dict]:
    return [{"source_flag": flag, "features": ", ".join(names),
             "neutral_share": _share(features[list(names)].eq(0.0).all(axis=1))}
            for flag, names in OPTIONAL_SOURCE_FEATURES.items()]


def _extreme_rows(features: pd.DataFrame) -> pd.DataFrame:
    values = features.to_numpy()
    return pd.DataFrame({"feature": FEATURE_ORDER, "nan_count": np.isnan(values).sum(axis=0),
                         "inf_count": np.isinf(values).sum(axis=0), "finite_count": np.isfinite(values).sum(axis=0)})


def _correlation_rows(features: pd.DataFrame) -> list[dict]:
    sample = features.dropna()
    if len(sample) > CORR_SAMPLE_ROWS:
        sample = sample.sample(CORR_SAMPLE_ROWS, random_state=CORR_RANDOM_STATE)
    none = [{"feature_a": "NONE", "feature_b": "NONE", "corr_abs": 0.0}]
    if sample.empty:
        return none
    corr = sample.corr().abs().to_numpy()
    left, right = np.triu_indices(len(FEATURE_ORDER), k=1)
    values = corr[left, right]
    hits = np.flatnonzero(values >= CORR_THRESHOLD)[:CORR_MAX_ROWS]  # NaN compares False
    return [{"feature_a": FEATURE_ORDER[left[k]], "feature_b": FEATURE_ORDER[right[k]],
             "corr_abs": round(float(values[k]), 6)} for k in hits] or none


def _drift_rows(features: pd.DataFrame, split_id: pd.Series) -> pd.DataFrame:
    """p50/p99 per drift split; an empty split (and any diff involving it) prints 'no rows'."""
    levels = {"p50": 0.5, "p99": 0.99}
    quantiles = {}
    for key, split in _DRIFT_SPLITS.items():
        rows = features[split_id.eq(split).to_numpy()]
        quantiles[key] = rows.quantile(list(levels.values())) if len(rows) else None
    table = pd.DataFrame({"feature": FEATURE_ORDER})
    for p, level in levels.items():
        for key, q in quantiles.items():
            table[f"{key}_{p}"] = q.loc[level].to_numpy() if q is not None else NO_ROWS
        train, validation = quantiles["train"], quantiles["validation"]
        both = train is not None and validation is not None
        table[f"{p}_diff"] = (validation.loc[level] - train.loc[level]).to_numpy() if both else NO_ROWS
    return table


def _distribution_rows(features: pd.DataFrame) -> pd.DataFrame:
    q = features.quantile([0.01, 0.5, 0.99])
    return pd.DataFrame({"feature": FEATURE_ORDER, "null_count": features.isna().sum().to_numpy(),
                         "min": features.min().to_numpy(), "p01": q.loc[0.01].to_numpy(),
                         "p50": q.loc[0.5].to_numpy(), "p99": q.loc[0.99].to_numpy(),
                         "max": features.max().to_numpy()})

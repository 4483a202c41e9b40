"""Markdown feature quality report (docs/features.md, "Quality report"), computed column-vectorized over FEATURE_ORDER.

Decisions: the header prints data_hash (the caller's hash of the frame file)
next to feature_order_hash; Split Coverage always lists the four training splits (empty ones as
"no rows") and then any other split id present (embargo, unassigned); Source Coverage infers each
optional source's neutral fill as the share of rows where all of its features are exactly 0.0 (the
frame carries no availability flags except liquidation_available, so this is an upper bound); in the
Drift Check an empty split, and any diff involving it, prints "no rows"; quantiles skip NaN.

The report is rendered from its figures (``ReportFigures``); ``feature_quality_report`` computes them from a frame
and ``features.report_parts`` from the figures of a frame's per-symbol parts (the same text byte for byte).
"""

from __future__ import annotations

from dataclasses import dataclass

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
#: The report's flag columns and the data_quality_flag label each counts.
FLAGS = {"ok": QUALITY_OK, "partial_optional": QUALITY_PARTIAL_OPTIONAL, "warmup": QUALITY_WARMUP,
         "gap_window": QUALITY_GAP_WINDOW, "filled_bar": QUALITY_FILLED_BAR}
#: The splits the drift check compares, by the name the report gives them.
DRIFT_SPLITS = {"train": FIT_SPLIT, "tune": TUNE_SPLIT, "validation": VALIDATION_LOCKED_SPLIT}
DISTRIBUTION_LEVELS = (0.01, 0.5, 0.99)
DRIFT_LEVELS = {"p50": 0.5, "p99": 0.99}


@dataclass(frozen=True)
class ReportFigures:
    """Everything the report shows, computed from a frame or combined from its parts."""

    row_count: int
    flag_counts: dict[str, int]  # rows per data_quality_flag label of ``FLAGS``
    splits: pd.DataFrame  # per split id present: size, min and max event_time, rows per flag label
    liquidation_share: str
    source_rows: list[dict]
    extreme_rows: pd.DataFrame
    correlation_rows: list[dict]
    drift_quantiles: dict[str, pd.DataFrame | None]  # per drift split: DRIFT_LEVELS x features, None when empty
    null_count: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    distribution_quantiles: pd.DataFrame  # DISTRIBUTION_LEVELS x features


def feature_quality_report(frame: pd.DataFrame, *, feature_order_hash: str, data_hash: str) -> str:
    """Render the feature quality report of a feature frame (META_COLUMNS + FEATURE_ORDER)."""
    features = frame[list(FEATURE_ORDER)].astype(np.float64)
    flags = frame["data_quality_flag"]
    drift = {}
    for key, split in DRIFT_SPLITS.items():
        rows = features[frame["split_id"].eq(split).to_numpy()]
        drift[key] = rows.quantile(list(DRIFT_LEVELS.values())) if len(rows) else None
    figures = ReportFigures(
        row_count=len(frame), flag_counts={label: int(flags.eq(label).sum()) for label in FLAGS.values()},
        splits=split_table(frame), liquidation_share=_share(features["liquidation_available"]),
        source_rows=_source_rows(features), extreme_rows=_extreme_rows(features),
        correlation_rows=correlation_rows(features.dropna()), drift_quantiles=drift,
        null_count=features.isna().sum().to_numpy(), minimum=features.min().to_numpy(),
        maximum=features.max().to_numpy(), distribution_quantiles=features.quantile(list(DISTRIBUTION_LEVELS)))
    return render_report(figures, feature_order_hash=feature_order_hash, data_hash=data_hash)


def render_report(figures: ReportFigures, *, feature_order_hash: str, data_hash: str) -> str:
    """The report's markdown from its figures."""
    lines = [
        "# Trader Feature Quality Report",
        "",
        f"- row_count: {figures.row_count}",
        *(f"- {label}: {figures.flag_counts[label]}" for label in FLAGS.values()),
        f"- feature_count: {len(FEATURE_ORDER)}",
        f"- feature_order_hash: {feature_order_hash}",
        f"- data_hash: {data_hash}",
        "",
        "## Split Coverage",
        "",
        markdown_table(_split_rows(figures.splits), ["split_id", "rows", "start", "end", *FLAGS]),
        "## Source Coverage",
        "",
        f"- liquidation_available_share: {figures.liquidation_share}",
        f"- partial_optional_rows: {figures.flag_counts[QUALITY_PARTIAL_OPTIONAL]}",
        "- neutral_share: share of rows where every feature of an optional source is exactly 0.0, the neutral",
        "  value written while the source is unavailable (an upper bound of the unavailable share).",
        "",
        markdown_table(figures.source_rows, ["source_flag", "features", "neutral_share"]),
        "## Leakage Check",
        "",
        "- Every feature at minute t uses only replay rows of its symbol at or before t (trailing row windows;",
        "  snapshots are taken as of the bar close).",
        "- Future prices, future returns and labels never enter the feature frame.",
        "",
        "## Extreme Value Check",
        "",
        markdown_table(figures.extreme_rows, ["feature", "nan_count", "inf_count", "finite_count"]),
        "## High Correlation Check",
        "",
        f"Pairs with |corr| >= {CORR_THRESHOLD} on a dropna sample of up to {CORR_SAMPLE_ROWS} rows "
        f"(random_state={CORR_RANDOM_STATE}), at most {CORR_MAX_ROWS} pairs.",
        "",
        markdown_table(figures.correlation_rows, ["feature_a", "feature_b", "corr_abs"], digits=6),
        "## Drift Check",
        "",
        "p50/p99 per split; train = fit_inner, tune = tune_inner, validation = validation_locked; "
        "diff = validation - train.",
        "",
        markdown_table(_drift_rows(figures.drift_quantiles),
                       ["feature", "train_p50", "tune_p50", "validation_p50", "p50_diff",
                        "train_p99", "tune_p99", "validation_p99", "p99_diff"], digits=6),
        "## Distribution",
        "",
        markdown_table(_distribution_rows(figures), ["feature", "null_count", "min", "p01", "p50", "p99", "max"],
                       digits=6),
    ]
    return "\n".join(lines)


def _share(values: pd.Series) -> str:
    """Mean of a 0/1 (or boolean) column, 6 decimals."""
    return fmt(float(values.mean()), 6) if len(values) else NO_ROWS


def split_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per split id present (index): its rows (size), first and last event_time (min, max) and its rows per
    data_quality_flag label (one column per label)."""
    times = frame.groupby("split_id", observed=True)["event_time"].agg(["size", "min", "max"])
    counts = pd.crosstab(frame["split_id"], frame["data_quality_flag"])
    for label in FLAGS.values():
        times[label] = counts[label].reindex(times.index, fill_value=0) if label in counts.columns else 0
    return times


def _split_rows(table: pd.DataFrame) -> list[dict]:
    """One row per training split (even when empty) and per other split id present."""
    order = list(TRAINING_SPLITS) + sorted(s for s in table.index if s not in TRAINING_SPLITS)
    rows = []
    for split in order:
        if split not in table.index:
            rows.append({"split_id": split, "rows": 0, "start": NO_ROWS, "end": NO_ROWS} | dict.fromkeys(FLAGS, 0))
            continue
        row = {"split_id": split, "rows": int(table.at[split, "size"]), "start": table.at[split, "min"],
               "end": table.at[split, "max"]}
        row |= {key: int(table.at[split, label]) for key, label in FLAGS.items()}
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


def correlation_sample(rows: int) -> np.ndarray | None:
    """Positions of the sampled rows among ``rows`` complete rows (as ``DataFrame.sample`` draws them); None when
    every row is taken."""
    if rows <= CORR_SAMPLE_ROWS:
        return None
    return np.random.RandomState(CORR_RANDOM_STATE).choice(rows, size=CORR_SAMPLE_ROWS, replace=False)


def correlation_rows(complete: pd.DataFrame) -> list[dict]:
    """The highly correlated pairs on a sample of the complete (dropna) rows."""
    positions = correlation_sample(len(complete))
    sample = complete if positions is None else complete.take(positions)
    none = [{"feature_a": "NONE", "feature_b": "NONE", "corr_abs": 0.0}]
    if sample.empty:
        return none
    corr = sample.corr().abs().to_numpy()
    left, right = np.triu_indices(len(FEATURE_ORDER), k=1)
    values = corr[left, right]
    hits = np.flatnonzero(values >= CORR_THRESHOLD)[:CORR_MAX_ROWS]  # NaN compares False
    return [{"feature_a": FEATURE_ORDER[left[k]], "feature_b": FEATURE_ORDER[right[k]],
             "corr_abs": round(float(values[k]), 6)} for k in hits] or none


def _drift_rows(quantiles: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    """p50/p99 per drift split; an empty split (and any diff involving it) prints 'no rows'."""
    table = pd.DataFrame({"feature": FEATURE_ORDER})
    for p, level in DRIFT_LEVELS.items():
        for key, q in quantiles.items():
            table[f"{key}_{p}"] = q.loc[level].to_numpy() if q is not None else NO_ROWS
        train, validation = quantiles["train"], quantiles["validation"]
        both = train is not None and validation is not None
        table[f"{p}_diff"] = (validation.loc[level] - train.loc[level]).to_numpy() if both else NO_ROWS
    return table


def _distribution_rows(figures: ReportFigures) -> pd.DataFrame:
    q = figures.distribution_quantiles
    return pd.DataFrame({"feature": FEATURE_ORDER, "null_count": figures.null_count, "min": figures.minimum,
                         "p01": q.loc[0.01].to_numpy(), "p50": q.loc[0.5].to_numpy(), "p99": q.loc[0.99].to_numpy(),
                         "max": figures.maximum})

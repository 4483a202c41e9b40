"""The feature quality report of a frame stored as per-symbol parts (docs/scaling.md, "Per-symbol parts"), from
tables each symbol step computes on its own part (``part_tables``): the merge renders the report of the merged
frame byte for byte without reading the parts back (``report_from_parts``).

Row and flag counts, the split table (rows, first and last time, rows per flag), NaN / infinite / finite
counts, minima and maxima combine exactly. Quantiles do not: each part hands over its feature values sorted
within each drift split (and the other rows), and the merge selects the order statistics that numpy's linear
quantile interpolates between, across the parts' sorted runs (``union_quantiles``), then interpolates as numpy
does. The correlation sample is drawn over the number of complete rows of all parts, as ``DataFrame.sample``
draws it, and its rows are taken from the parts' complete rows in merged order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from trader_core.contracts.features import FEATURE_ORDER, OPTIONAL_SOURCE_FEATURES
from trader_core.features.report import (
    DISTRIBUTION_LEVELS,
    DRIFT_LEVELS,
    DRIFT_SPLITS,
    FLAGS,
    NO_ROWS,
    ReportFigures,
    correlation_rows,
    correlation_sample,
    render_report,
    split_table,
)
from trader_core.report import fmt

#: The row groups a part's values are sorted in: each drift split, then every other row ("").
GROUPS = (*DRIFT_SPLITS.values(), "")
_LIQUIDATION = "liquidation_available"


def part_tables(frame: pd.DataFrame) -> dict[str, pa.Table]:
    """What the merge needs of one part of a feature frame to render the report (Arrow tables; the feature
    values in their stored dtype)."""
    values = {name: _floats(frame[name]) for name in FEATURE_ORDER}
    split = frame["split_id"].astype(str).to_numpy()
    groups = [split == g for g in GROUPS[:-1]]
    groups.append(~np.logical_or.reduce(groups))
    flags = frame["data_quality_flag"]
    liquidation = values[_LIQUIDATION]
    counts = {"rows": len(frame), **{f"flag:{label}": int(flags.eq(label).sum()) for label in FLAGS.values()},
              **{f"neutral:{flag}": int(np.logical_and.reduce([values[n] == 0.0 for n in names]).sum())
                 for flag, names in OPTIONAL_SOURCE_FEATURES.items()},
              "liquidation_sum": float(np.nansum(liquidation, dtype=np.float64)),
              "liquidation_rows": int((~np.isnan(liquidation)).sum())}
    complete = ~np.logical_or.reduce([np.isnan(v) for v in values.values()])
    return {
        "counts": pa.table({k: [v] for k, v in counts.items()}),
        "splits": pa.Table.from_pandas(split_table(frame).reset_index(), preserve_index=False),
        "extremes": pa.table({"nan": [int(np.isnan(v).sum()) for v in values.values()],
                              "inf": [int(np.isinf(v).sum()) for v in values.values()],
                              "finite": [int(np.isfinite(v).sum()) for v in values.values()],
                              "min": [_extreme(v, np.nanmin) for v in values.values()],
                              "max": [_extreme(v, np.nanmax) for v in values.values()]}),
        "sorted": pa.table({n: pa.array(np.concatenate([np.sort(v[g]) for g in groups])) for n, v in values.items()}),
        "valid": pa.table({"rows": [int(g.sum()) for g in groups],
                           **{n: [int((~np.isnan(v[g])).sum()) for g in groups] for n, v in values.items()}}),
        "complete": pa.table({n: pa.array(v[complete]) for n, v in values.items()}),
    }


def report_from_parts(parts: Sequence[dict[str, pa.Table]], *, feature_order_hash: str, data_hash: str) -> str:
    """The report of the merged frame, from its parts' tables in merged (symbol) order."""
    return render_report(report_figures(parts), feature_order_hash=feature_order_hash, data_hash=data_hash)


def report_figures(parts: Sequence[dict[str, pa.Table]]) -> ReportFigures:
    """The report's figures of the merged frame, combined from its parts' tables."""
    counts = pd.concat([t["counts"].to_pandas() for t in parts]).sum()
    rows = int(counts["rows"])
    splits = pd.concat([t["splits"].to_pandas() for t in parts]).groupby("split_id", sort=False).agg(
        {"size": "sum", "min": "min", "max": "max", **dict.fromkeys(FLAGS.values(), "sum")})
    extremes = [t["extremes"].to_pandas() for t in parts]
    valid = [t["valid"].to_pandas() for t in parts]
    liquidation_rows = int(counts["liquidation_rows"])
    return ReportFigures(
        row_count=rows, flag_counts={label: int(counts[f"flag:{label}"]) for label in FLAGS.values()},
        splits=splits,
        liquidation_share=(fmt(float(counts["liquidation_sum"] / liquidation_rows) if liquidation_rows else np.nan, 6)
                           if rows else NO_ROWS),
        source_rows=[{"source_flag": flag, "features": ", ".join(names),
                      "neutral_share": fmt(float(int(counts[f"neutral:{flag}"]) / rows), 6) if rows else NO_ROWS}
                     for flag, names in OPTIONAL_SOURCE_FEATURES.items()],
        extreme_rows=pd.DataFrame({"feature": FEATURE_ORDER, **{
            f"{k}_count": sum(e[k].to_numpy() for e in extremes) for k in ("nan", "inf", "finite")}}),
        correlation_rows=correlation_rows(_complete_sample([t["complete"] for t in parts])),
        drift_quantiles={key: _group_quantiles(parts, valid, GROUPS.index(split), DRIFT_LEVELS.values())
                         for key, split in DRIFT_SPLITS.items()},
        null_count=sum(e["nan"].to_numpy() for e in extremes),
        minimum=np.fmin.reduce([e["min"].to_numpy(dtype=np.float64, na_value=np.nan) for e in extremes]),
        maximum=np.fmax.reduce([e["max"].to_numpy(dtype=np.float64, na_value=np.nan) for e in extremes]),
        distribution_quantiles=_group_quantiles(parts, valid, None, DISTRIBUTION_LEVELS))


def union_quantiles(runs: Sequence[np.ndarray], levels: np.ndarray) -> np.ndarray:
    """``np.quantile(np.concatenate(runs), levels)`` (linear method) from runs that are each sorted ascending
    and hold no NaN, without concatenating them: the neighbouring order statistics numpy picks, interpolated as
    numpy's ``_lerp`` does (NaN for no values, as pandas gives)."""
    n = sum(len(r) for r in runs)
    if n == 0:
        return np.full(len(levels), np.nan)
    virtual = (n - 1) * np.asarray(levels, dtype=np.float64)
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1  # numpy takes the last value for both
    previous[above], following[above] = -1, -1
    previous, following = previous.astype(np.intp), following.astype(np.intp)
    gamma = np.asarray(virtual - previous, dtype=np.float64)
    a, b = np.empty(len(levels)), np.empty(len(levels))
    for j, (i, f) in enumerate(zip(previous % n, following % n, strict=True)):
        if f == i + 1:  # neighbours: one selection
            a[j], b[j] = _select(runs, int(i), n, count=2)
        else:
            (a[j],), (b[j],) = _select(runs, int(i), n, count=1), _select(runs, int(f), n, count=1)
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def _select(runs: Sequence[np.ndarray], k: int, n: int, *, count: int) -> list[float]:
    """The k-th to (k + count - 1)-th smallest (0-based) values of sorted runs holding n values: every run is cut
    to the value window around its share of k, widened until the window provably holds those values, which are
    then selected in it."""
    margin = 64
    runs = [r for r in runs if len(r)]
    while True:
        around = [int(k * len(r) / n) for r in runs]
        low = min(r[max(i - margin, 0)] for r, i in zip(runs, around, strict=True))
        high = max(r[min(i + count - 1 + margin, len(r) - 1)] for r, i in zip(runs, around, strict=True))
        starts = [int(np.searchsorted(r, low, "left")) for r in runs]
        ends = [int(np.searchsorted(r, high, "right")) for r in runs]
        below = sum(starts)
        if below <= k and k + count <= sum(ends):
            window = np.concatenate([r[s:e] for r, s, e in zip(runs, starts, ends, strict=True)])
            wanted = list(range(k - below, k - below + count))
            return [float(v) for v in np.partition(window, wanted)[wanted]]
        margin *= 8


def _group_quantiles(parts: Sequence[dict[str, pa.Table]], valid: list[pd.DataFrame], group: int | None,
                     levels: Sequence[float]) -> pd.DataFrame | None:
    """Quantiles (levels x features) of one row group (None: all rows) over every part; None when it has no rows."""
    groups = range(len(GROUPS)) if group is None else [group]
    if sum(int(v["rows"].iloc[g]) for v in valid for g in groups) == 0:
        return None
    levels = list(levels)
    table = {}
    for name in FEATURE_ORDER:
        runs = []
        for part, v in zip(parts, valid, strict=True):
            column = _column(part["sorted"], name)
            starts = np.concatenate([[0], np.cumsum(v["rows"].to_numpy())])
            runs += [column[starts[g]:starts[g] + int(v[name].iloc[g])] for g in groups]
        table[name] = union_quantiles(runs, np.asarray(levels))
    return pd.DataFrame(table, index=levels)


def _complete_sample(parts: Sequence[pa.Table]) -> pd.DataFrame:
    """The sampled complete rows (float64), in the order ``DataFrame.sample`` gives them on the merged frame."""
    sizes = [t.num_rows for t in parts]
    positions = correlation_sample(sum(sizes))
    if positions is None:
        return pd.DataFrame({n: np.concatenate([_column(t, n) for t in parts]).astype(np.float64)
                             for n in FEATURE_ORDER})
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    part = np.searchsorted(offsets, positions, side="right") - 1
    local = positions - offsets[part]
    columns = {}
    for name in FEATURE_ORDER:
        values = np.empty(len(positions), dtype=np.float64)
        for p, table in enumerate(parts):
            here = part == p
            values[here] = _column(table, name)[local[here]]
        columns[name] = values
    return pd.DataFrame(columns)


def _floats(values: pd.Series) -> np.ndarray:
    array = values.to_numpy()
    return array if array.dtype.kind == "f" else values.to_numpy(dtype=np.float64, na_value=np.nan)


def _extreme(values: np.ndarray, pick) -> float:
    """The column's min or max skipping NaN (NaN when it has no value), as float64."""
    return float(pick(values)) if (~np.isnan(values)).any() else float("nan")


def _column(table: pa.Table, name: str) -> np.ndarray:
    """A column as numpy, without a copy when it is one chunk (memory-mapped scratch)."""
    column = table.column(name)
    return column.chunk(0).to_numpy() if column.num_chunks == 1 else column.to_numpy()

"""What a run would see of a source, before any run: ``trader check-data`` and the ``raw_market`` metadata.

The check reads the source through the same adapters as a run and decides the rows through replay's own
rules (``trader_core.replay.replay_bars``), then tries the run's split plan on them, so its verdict is the
run's: ``ok`` when the split plan finds rows for every split (docs/data.md, "Checking data before a run").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core.config import RunSpec
from trader_core.contracts.raw import RAW_TABLES
from trader_core.errors import DataContractError
from trader_core.replay import ReplayReport, replay_bars
from trader_core.splits import build_split_manifest, to_epoch_ms


@dataclass(frozen=True)
class DataCheck:
    ok: bool
    reason: str
    summary: dict[str, Any]


def check_data(raw: Mapping[str, pd.DataFrame | None], spec: RunSpec) -> DataCheck:
    """Summary of ``raw`` under ``spec``'s window, symbols, gap policy and split plan; never raises on bad data."""
    report = ReplayReport()
    tables = {name: len(df) for name, df in raw.items() if df is not None}
    summary: dict[str, Any] = {
        "source": spec.source.kind, "path": spec.source.path, "symbols": list(spec.symbols),
        "optional_tables": {name: tables.get(name, 0) for name in RAW_TABLES if name != "bars"},
        "days_needed": len(spec.split.fractions),
    }
    try:
        _, bars = replay_bars(raw, symbols=tuple(spec.symbols), start=spec.start_ts, end=spec.end_ts,
                              config=spec.replay, report=report)
    except DataContractError as exc:
        return DataCheck(False, str(exc), summary | _report_part(report, raw))
    summary |= _report_part(report, raw)
    try:
        build_split_manifest(bars["open_time_ms"].to_numpy(), spec.split,
                             longest_label_horizon_minutes=spec.labels.longest_horizon_minutes)
    except DataContractError as exc:
        return DataCheck(False, str(exc), summary)
    days = int(bars["open_time_ms"].floordiv(86_400_000).nunique())
    return DataCheck(True, f"a run would have {days} UTC day(s) with bars; the split plan needs at least "
                           f"{summary['days_needed']}", summary)


def _report_part(report: ReplayReport, raw: Mapping[str, pd.DataFrame | None]) -> dict[str, Any]:
    days = pd.DataFrame(report.days)
    part: dict[str, Any] = {
        "input_rows": report.input_bar_rows, "rows_outside_window": report.rows_outside_window,
        "window": _window(raw.get("bars")),
        "unsorted_input": report.unsorted_input, "exact_duplicates_dropped": report.exact_duplicates_dropped,
        "fill_no_trade_max_minutes": report.fill_no_trade_max_minutes,
        "gap_runs_by_length": report.gap_runs_by_length, "filled_minutes": report.filled_minutes,
        "days_kept": report.days_kept, "days_dropped": int((~days["kept"]).sum()) if len(days) else 0,
    }
    if len(days):
        present = days["minutes_present"].to_numpy()
        part["minutes_per_day"] = {"min": int(present.min()), "median": float(np.median(present)),
                                   "max": int(present.max())}
        part["dropped_reasons"] = dict(Counter(days.loc[~days["kept"], "reason"]))
        part["kept_reasons"] = dict(Counter(days.loc[days["kept"], "reason"]))
    return part


def _window(bars: pd.DataFrame | None) -> list[str]:
    if bars is None or bars.empty or "open_time" not in bars:
        return []
    ms = to_epoch_ms(bars["open_time"])
    return [pd.Timestamp(int(ms.min()), unit="ms", tz="UTC").isoformat(),
            pd.Timestamp(int(ms.max()), unit="ms", tz="UTC").isoformat()]


def render_check(check: DataCheck) -> list[str]:
    """The check as the lines ``trader check-data`` prints (the last one is the verdict)."""
    s = check.summary
    lines = [f"source: {s['source']} {s['path'] or ''}".rstrip(), f"symbols: {', '.join(s['symbols'])}"]
    if s.get("window"):
        lines.append(f"bars: {s['input_rows']:,} rows, {s['window'][0]} .. {s['window'][1]}"
                     + (f" ({s['rows_outside_window']:,} outside the run window)" if s["rows_outside_window"] else ""))
    if "unsorted_input" in s:
        lines.append(f"order: {'unsorted (replay sorts them)' if s['unsorted_input'] else 'sorted'}; "
                     f"exact duplicates: {s['exact_duplicates_dropped']} (dropped)")
    if s.get("gap_runs_by_length"):
        runs = ", ".join(f"{k}: {v}" for k, v in s["gap_runs_by_length"].items() if v) or "none"
        lines.append(f"gaps between bars, by length in minutes: {runs}")
        lines.append(f"no-trade minutes filled (runs up to {s['fill_no_trade_max_minutes']} min): {s['filled_minutes']:,}")
    if "minutes_per_day" in s:
        m = s["minutes_per_day"]
        lines.append(f"minutes present per day: min {m['min']}, median {m['median']:g}, max {m['max']}")
        lines.append(f"symbol-days kept: {s['days_kept']}{_reasons(s['kept_reasons'])}")
        lines.append(f"symbol-days dropped: {s['days_dropped']}{_reasons(s['dropped_reasons'])}")
    have = [f"{k} ({v:,} rows)" for k, v in s["optional_tables"].items() if v]
    absent = [k for k, v in s["optional_tables"].items() if not v]
    lines.append(f"optional tables: {', '.join(have) or 'none'}; absent (never invented): {', '.join(absent) or 'none'}")
    lines.append(f"{'OK' if check.ok else 'NOT RUNNABLE'}: {check.reason}")
    return lines


def _reasons(counts: Mapping[str, int]) -> str:
    """`` (n reason; m reason)``, or nothing when there are no days."""
    return f" ({'; '.join(f'{n} {reason}' for reason, n in counts.items())})" if counts else ""

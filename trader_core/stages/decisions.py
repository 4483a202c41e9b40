"""Decision stages: the weekly decision monitoring report (docs/decide.md, "Weekly monitoring")."""

from __future__ import annotations

from pathlib import Path

from trader_core.config import parse_utc
from trader_core.decide.weekly_report import write_weekly_report
from trader_core.monitoring.decision_bounds import DEFAULT_WINDOW_DAYS, WeeklyBounds
from trader_core.stages.result import StageResult


def weekly_report_stage(*, home: Path, at: str | None = None, window_days: int = DEFAULT_WINDOW_DAYS,
                        bounds: WeeklyBounds = WeeklyBounds()) -> StageResult:
    """Every line's decisions of the ``window_days`` before ``at`` (ISO, UTC when naive; default now) joined with
    their realized outcomes; the report's figures are the value, its WARN conditions the warnings."""
    report = write_weekly_report(home=home, at=None if at is None else parse_utc(at, "--at"),
                                 window_days=window_days, bounds=bounds)
    doc = report.figures
    warnings = tuple(f"{w['line']} {w['arm']}: {doc['bounds']['conditions'][w['condition']]}" for w in doc["warnings"])
    return StageResult(
        value=doc,
        figures={"at": doc["at"], "window_days": window_days, "lines": sorted(doc["lines"]),
                 "skipped": doc["skipped"], "warnings": doc["warnings"]},
        reports={"report": report.markdown}, images={"deciles": report.image} if report.image else {},
        paths={"report": report.folder / "report.md", "report_json": report.folder / "report.json"},
        notes=(f"weekly decision report: {report.folder / 'report.md'}",), warnings=warnings)

"""The weekly decision report: ``<TRADER_HOME>/monitoring/weekly/<YYYY-MM-DD>/report.md``, ``report.json`` and
``deciles.png`` (realized vs predicted per decile), each written atomically (docs/decide.md, "Weekly
monitoring"). The figures come from ``decide.weekly``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trader_core import io
from trader_core.decide.weekly import line_figures, window_decisions
from trader_core.errors import ConfigError
from trader_core.monitoring.decision_bounds import DEFAULT_WINDOW_DAYS, WeeklyBounds
from trader_core.report import fmt, markdown_table

WEEKLY_DIR = ("monitoring", "weekly")
ARM_COLUMNS = ("arm", "decisions", "traded", "resolved", "resolved_traded", "hit_rate", "mean_predicted_prob",
               "mean_predicted", "mean_realized", "expected_calibration_error", "warnings")


@dataclass(frozen=True)
class WeeklyReport:
    """What was written: the folder, the figures of ``report.json``, the markdown, the PNG (None without a
    resolved decision)."""

    folder: Path
    figures: dict[str, Any]
    markdown: str
    image: Path | None

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return self.figures["warnings"]


def weekly_folder(home: Path, at: pd.Timestamp) -> Path:
    return Path(home).joinpath(*WEEKLY_DIR, at.strftime("%Y-%m-%d"))


def write_weekly_report(*, home: Path, at: pd.Timestamp | None = None, window_days: int = DEFAULT_WINDOW_DAYS,
                        bounds: WeeklyBounds = WeeklyBounds()) -> WeeklyReport:
    """Join the decisions of ``[at - window_days, at)`` (``at``: now) with their outcomes and write the report."""
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise ConfigError(f"--window-days: must be a whole number of days >= 1, got {window_days!r}")
    at = (pd.Timestamp.now(tz="UTC") if at is None else at).floor("s")
    start = at - pd.Timedelta(days=window_days)
    lines, skipped = window_decisions(home=home, at=at, window=pd.Timedelta(days=window_days))
    per_line, curves = {}, {}
    for decisions in lines:
        figures, tables = line_figures(decisions, bounds)
        per_line[decisions.line] = {**figures, "tables": {name: t.to_dict("records") for name, t in tables.items()}}
        curves |= {f"{decisions.line} {name.removesuffix('_deciles')}": t for name, t in tables.items()
                   if name.endswith("_deciles") and len(t)}
    warnings = [{"line": line, "arm": arm, "condition": condition,
                 **{k: figures[k] for k in ("resolved_traded", "hit_rate", "mean_predicted_prob", "mean_predicted",
                                            "mean_realized")}}
                for line, doc in per_line.items() for arm, figures in doc["arms"].items()
                for condition in figures["warnings"]]
    doc = {"at": at.isoformat(), "window_start": start.isoformat(), "window_days": window_days,
           "bounds": bounds.figures(), "lines": per_line, "skipped": skipped, "warnings": warnings}
    folder = weekly_folder(home, at)
    image = None
    if curves:
        from trader_core.plots import deciles_png  # lazy import (docs/layers.md)

        image = folder / "deciles.png"
        deciles_png(image, curves, f"Realized vs predicted by decile, {start:%Y-%m-%d} to {at:%Y-%m-%d}")
    markdown = render(doc, image)
    io.write_json(folder / "report.json", doc)
    io.write_text(folder / "report.md", markdown)
    return WeeklyReport(folder, doc, markdown, image)


def render(doc: dict[str, Any], image: Path | None) -> str:
    out = [f"# Weekly decision monitoring, {doc['at'][:10]}", "",
           f"Decisions made from {doc['window_start']} to {doc['at']} ({doc['window_days']} days), joined with "
           "their realized outcomes (docs/decide.md, \"Weekly monitoring\").", "", "## WARN", ""]
    out += [f"- {w['line']} {w['arm']}: {doc['bounds']['conditions'][w['condition']]}: hit rate {fmt(w['hit_rate'])}, "
            f"mean predicted probability {fmt(w['mean_predicted_prob'])}, mean realized {fmt(w['mean_realized'])} "
            f"(mean predicted {fmt(w['mean_predicted'])}) over {w['resolved_traded']} resolved traded decisions"
            for w in doc["warnings"]] or ["none"]
    out += ["", "Bounds: " + "; ".join(f"`{k}`: {v}" for k, v in doc["bounds"]["conditions"].items()) + "."]
    for line, figures in doc["lines"].items():
        out += ["", f"## {line} (champion {figures['champion']}, {figures['strategy']}; predicted and realized in "
                f"{figures['unit']})", "",
                markdown_table([{"arm": arm, **f, "warnings": ", ".join(f["warnings"]) or "-"}
                                for arm, f in figures["arms"].items()], ARM_COLUMNS)]
        comparison = figures["arm_comparison"]
        if comparison is not None:
            out += [f"Arms: {comparison['better'] or 'undecided'} is better by {fmt(comparison['difference'])} "
                    f"(canary - champion mean realized), statistic {fmt(comparison['statistic'])}: "
                    f"{'' if comparison['significant'] else 'not '}significant at {fmt(comparison['min_statistic'])} "
                    "standard errors (the release gate's level).", ""]
        for name, table in figures["tables"].items():
            arm, kind = name.split("_", 1)
            title = "realized vs predicted by decile of predicted" if kind == "deciles" else \
                "reliability of predicted_prob (outcome: realized > 0)"
            out += [f"### {arm}: {title}", "", markdown_table(table) if table else "_(no resolved decisions)_", ""]
    if image is not None:
        out += ["", f"![realized vs predicted by decile]({image.name})"]
    if doc["skipped"]:
        out += ["", "## Lines left out", ""] + [f"- {line}: {why}" for line, why in doc["skipped"].items()]
    return "\n".join(out) + "\n"

"""The walk-forward report stage: the stitched record of a walk-forward home (docs/retraining.md, "Walk-forward")."""

from __future__ import annotations

from pathlib import Path

from trader_core import io
from trader_core.errors import ConfigError
from trader_core.plots import walk_forward_png
from trader_core.stages.result import StageResult
from trader_core.walk_forward.plan import WALK_FORWARD_DIR, stored_plan
from trader_core.walk_forward.record import walk_forward_record
from trader_core.walk_forward.report import ARM_LABELS, report_text, summary

REPORT_FILE = "walk_forward_report.md"


def walk_forward_report_stage(*, home: Path) -> StageResult:
    """Stitch every retrained month of the home into the report, its tables and the equity plot (written to
    ``<home>/walk-forward/``)."""
    plan = stored_plan(home)
    if plan is None:
        raise ConfigError(f"{home}: no walk-forward in this home (run `trader walk-forward` with TRADER_HOME or "
                          "--home pointing here)")
    record = walk_forward_record(home, plan)
    figures = summary(record)
    folder = home / WALK_FORWARD_DIR
    io.write_parquet(folder / "months.parquet", record.months)
    io.write_parquet(folder / "trades.parquet", record.trades)
    plot = folder / "equity.png"
    walk_forward_png(plot, record.trades, ARM_LABELS, f"walk-forward {figures['first_month']} to {figures['last_month']}")
    text = report_text(plan, record, figures, plot)
    io.write_text(folder / REPORT_FILE, text)
    io.write_json(folder / "summary.json", figures)
    return StageResult(value=figures, figures=figures, reports={"report": text}, images={"equity_curves": plot},
                       paths={"report_file": folder / REPORT_FILE})

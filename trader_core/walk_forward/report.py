"""The walk-forward report: the stitched equity curves, the monthly table and the summary figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trader_core.report import markdown_table, png_markdown
from trader_core.walk_forward.plan import WalkForwardPlan
from trader_core.walk_forward.record import WalkForwardRecord

ARM_LABELS = {"loop": "monthly retraining loop", "train_once": "train once (first champion frozen)"}
TABLE_COLUMNS = ["month", "champion_at_start", "loop_trades", "loop_edge_bps", "train_once_trades",
                 "train_once_edge_bps", "gate", "decision", "promoted", "drift_features_warn", "drift_max_psi"]


def summary(record: WalkForwardRecord) -> dict[str, Any]:
    """The figures of the report (every one computed from the record)."""
    months = record.months
    walked = len(months)
    return {
        "months": walked,
        "first_month": months["month"].iat[0] if walked else None,
        "last_month": months["month"].iat[-1] if walked else None,
        "promotions": int(months["promoted"].notna().sum()) if walked else 0,
        "months_with_champion": int(months["champion_at_start"].notna().sum()) if walked else 0,
        **{f"{arm}_trades": int(months[f"{arm}_trades"].sum()) if walked else 0 for arm in ARM_LABELS},
        **{f"{arm}_edge_bps": float(months[f"{arm}_edge_bps"].sum()) if walked else 0.0 for arm in ARM_LABELS},
        "no_trading_edge_bps": 0.0,
    }


def report_text(plan: WalkForwardPlan, record: WalkForwardRecord, figures: dict[str, Any], plot: Path) -> str:
    """The markdown report, with the equity curves inline."""
    months = record.months
    source = plan.source + (f" {plan.path}" if plan.path else "")
    market = (f"signal {plan.signal:g}" + "".join(f", {v:g} from {d}" for d, v in plan.signal_changes)
              if plan.source == "synthetic" else "real data")
    lines = [
        "# Walk-forward of the monthly retraining loop", "",
        f"Months {figures['first_month']} to {figures['last_month']} ({figures['months']} walked) of {source} "
        f"({', '.join(plan.symbols)}; {market}); each retrain trains on the trailing {plan.retrain_months} month(s) "
        "and the champion at the start of a month trades that month, data it never saw, with the cost model.", "",
        "| arm | trades | stitched net edge (weighted bps) |", "|---|---|---|",
        *[f"| {label} | {figures[f'{arm}_trades']} | {figures[f'{arm}_edge_bps']:.1f} |"
          for arm, label in ARM_LABELS.items()],
        f"| no trading | 0 | {figures['no_trading_edge_bps']:.1f} |", "",
        f"Promotions: {figures['promotions']}; months traded by a champion: {figures['months_with_champion']}.", "",
        png_markdown(plot, "stitched equity curves"), "",
        "## Month by month", "", markdown_table(months.astype(object).where(months.notna(), "-"), TABLE_COLUMNS) if len(months) else "(no month has run yet)", "",
        "## Gate and champion-comparison reasons", "",
        "The comparison with the champion (`decision`) only ranks the challenger; a release needs the gate to pass "
        "as well (`promoted`).", "",
    ]
    for row in months.itertuples():  # one line per walked month
        lines.append(f"- **{row.month}**: gate {row.gate}: {row.gate_reasons or 'passed'}; "
                     f"challenger vs champion {row.decision}: {row.decision_reasons or '-'}")
    return "\n".join(lines) + "\n"

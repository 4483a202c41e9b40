"""What `trader run` prints after a run: the artifact folder, every report, data warnings and the release."""

from __future__ import annotations

import json
from pathlib import Path

from trader_core import layout


def refusal_lines(run_id: str, home: Path) -> list[str]:
    """Why the release gate refused the run (the backtest's explanation), when it did."""
    result_file = layout.run_root(run_id, home) / layout.ARTIFACT_PATHS["backtest"]
    if not result_file.exists():
        return []
    result = json.loads(result_file.read_text())
    return result.get("explanation", []) if result.get("status") != "PASS" else []


def print_summary(run_id: str, home: Path) -> None:
    """The run's artifact folder, its stage outputs and every markdown report."""
    root = layout.run_root(run_id, home)
    print(f"artifacts: {root}")
    for rel in layout.ARTIFACT_PATHS.values():
        if (root / rel).exists():
            print(f"  {rel}")
    for report in sorted(root.rglob("*.md")):
        label = "feature report" if report.name == Path(layout.FEATURE_REPORT_FILE).name else "report"
        print(f"{label}: {report}")
    replay_report = root / layout.REPLAY_REPORT_FILE
    if replay_report.exists():
        for warning in json.loads(replay_report.read_text()).get("warnings", []):
            print(f"data: {warning}")
    for name in ("release", "butterfly_release"):
        record = root / layout.ARTIFACT_PATHS[name]
        if not record.exists():
            continue
        promoted = json.loads(record.read_text())
        print(f"release: {promoted['version']} at {promoted['path']} (champion of line {promoted.get('line', '?')})")

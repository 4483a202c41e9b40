"""Benchmark: the walk-forward of a year, 12 months x 2 symbols with the default retrain window, target <= 20 min.

Runs ``trader walk-forward --from 2026-01 --to 2026-12`` (synthetic market, signal 2, the default trailing window
of 6 months; retrain_job only, the experiments group is not part of a retrain) in a fresh temporary home and
prints the wall time, the time per month, and the stitched figures of the report. Run from the repository root:
``.venv/bin/python benchmarks/bench_walk_forward.py`` (about as long as the figure it prints).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 20 * 60
MONTHS = 12


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "walk"
        env = {**os.environ, "TRADER_HOME": tmp}
        env.pop("TRADER_RETRAIN_MONTHS", None)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "trader_assets.cli", "walk-forward", "--from", "2026-01",
                               "--to", "2026-12", "--home", str(home)], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"walk-forward failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
        summary = json.loads((home / "walk-forward" / "summary.json").read_text())
        months = [line for line in proc.stdout.splitlines() if line.startswith("retrain-") and " in " in line]
    print(f"walk_forward_12m_2sym: {seconds / 60:.1f} min (target <= {TARGET_SECONDS / 60:.0f} min, ratio "
          f"{seconds / TARGET_SECONDS:.2f}); {seconds / MONTHS:.0f} s per month")
    print(f"  promotions {summary['promotions']}; loop {summary['loop_trades']} trades, "
          f"{summary['loop_edge_bps']:+.1f} bps; train once {summary['train_once_trades']} trades, "
          f"{summary['train_once_edge_bps']:+.1f} bps; no trading 0")
    for line in months:
        print(f"  {line}")


if __name__ == "__main__":
    main()

"""Benchmark: the whole graph in one in-process run for the demo (2 symbols x 60 days), target <= 180 s.

Runs `trader run` in a fresh temporary TRADER_HOME/DAGSTER_HOME (numba caches warm) and prints the wall time,
the check results and the summed and slowest step times (from the run's step statistics). Run from the
repository root: ``.venv/bin/python benchmarks/bench_graph.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TRADER_HOME": f"{tmp}/home", "DAGSTER_HOME": f"{tmp}/dagster"}
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "trader_assets.cli", "run", "bench", "--config",
                               str(ROOT / "configs" / "demo.json")], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        steps = _step_seconds(Path(tmp) / "dagster")
    lines = proc.stdout.splitlines() + proc.stderr.splitlines()
    checks = [line.strip() for line in lines if line.strip().startswith("check ")]
    passed = sum(line.endswith("passed") for line in checks)
    warned = [line.split()[1].rstrip(":") for line in checks if line.endswith("WARN")]
    failed = [line.split()[1].rstrip(":") for line in checks if "FAILED" in line]
    print(f"graph_2sym_60d: {seconds:.1f} s (target <= 180 s), exit {proc.returncode}, checks passed "
          f"{passed}/{len(checks)}, WARN {warned or 'none'}, blocking failures {failed or 'none'}")
    print(f"  steps: {sum(steps.values()):.1f} s in {len(steps)} steps; slowest: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(steps.items(), key=lambda kv: -kv[1])[:6]))


def _step_seconds(dagster_home: Path) -> dict[str, float]:
    """Wall seconds of every step of the (only) run in the instance at ``dagster_home``."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return {}
        return {s.step_key: s.end_time - s.start_time for s in instance.get_run_step_stats(runs[0].run_id)
                if s.start_time and s.end_time}


if __name__ == "__main__":
    main()

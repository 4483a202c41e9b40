"""Benchmark: the whole demo graph (2 symbols x 60 days) in one in-process run, cold and warm.

Targets: the first run on a fresh clone (cold numba caches) <= 90 s of steps; a later run (warm caches)
<= 60 s of wall time. Runs ``trader run`` twice, each in a fresh temporary TRADER_HOME/DAGSTER_HOME, with
``NUMBA_CACHE_DIR`` pointing at one new empty folder: the first run compiles every numba kernel (the cold
case of a fresh clone, whatever the checkout's ``__pycache__`` holds), the second loads them from that folder.
For each it prints the wall time, the check results, the summed step time, the slowest steps and the time of
each step of the experiments group (from the run's step statistics), and the machine's load average before
and after (other processes share the cores: the figures are only comparable at a similar load).
Run from the repository root: ``.venv/bin/python benchmarks/bench_graph.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLD_STEPS_TARGET_S = 90.0
WARM_WALL_TARGET_S = 60.0


def main() -> None:
    from trader_assets.assets.experiments import EXPERIMENT_ASSETS

    experiments = {key.to_python_identifier() for asset in EXPERIMENT_ASSETS for key in asset.keys}
    with tempfile.TemporaryDirectory() as numba_cache:
        for label, target in (("cold", f"steps <= {COLD_STEPS_TARGET_S:.0f} s"),
                              ("warm", f"wall <= {WARM_WALL_TARGET_S:.0f} s")):
            load_before = os.getloadavg()[0]
            seconds, steps, lines, code = _run(numba_cache)
            load = f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            checks = [line.strip() for line in lines if line.strip().startswith("check ")]
            passed = sum(line.endswith("passed") for line in checks)
            warned = [line.split()[1].rstrip(":") for line in checks if line.endswith("WARN")]
            failed = [line.split()[1].rstrip(":") for line in checks if "FAILED" in line]
            total = sum(steps.values())
            group = sum(v for k, v in steps.items() if k in experiments)
            print(f"graph_2sym_60d {label}: wall {seconds:.1f} s, steps {total:.1f} s (target {target}), exit {code}, "
                  f"checks passed {passed}/{len(checks)}, WARN {warned or 'none'}, blocking failures "
                  f"{failed or 'none'}; {load}")
            print("  slowest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in _slowest(steps)[:6]))
            print(f"  experiments group {group:.1f} s: "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in _slowest(steps) if k in experiments))


def _slowest(steps: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(steps.items(), key=lambda kv: -kv[1])


def _run(numba_cache: str) -> tuple[float, dict[str, float], list[str], int]:
    """(wall seconds, step seconds, output lines, exit code) of ``trader run`` in a fresh data root."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TRADER_HOME": f"{tmp}/home", "DAGSTER_HOME": f"{tmp}/dagster",
               "NUMBA_CACHE_DIR": numba_cache}
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "trader_assets.cli", "run", "bench", "--config",
                               str(ROOT / "configs" / "demo.json")], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        steps = _step_seconds(Path(tmp) / "dagster")
    return seconds, steps, proc.stdout.splitlines() + proc.stderr.splitlines(), proc.returncode


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

"""Benchmark: the whole demo graph (2 symbols x 60 days) in one in-process run, cold and warm, and the lower
bound that its model fits put on the warm time.

Targets: the first run on a fresh clone (cold numba caches) <= 90 s of steps; a later run (warm caches)
<= 60 s of wall time. Runs ``trader run`` twice, each in a fresh temporary TRADER_HOME/DAGSTER_HOME, with
``NUMBA_CACHE_DIR`` pointing at one new empty folder: the first run compiles every numba kernel (the cold
case of a fresh clone, whatever the checkout's ``__pycache__`` holds), the second loads them from that folder.
For each it prints the wall time, the CPU time of the run and its worker processes (user + system), the check
results, the summed step time, the slowest steps and the time of each step of the experiments group (from the
run's step statistics), and the machine's load average before and after (other processes share the cores: the
wall figures are only comparable at a similar load; the CPU figures much less so).

A third run (skip it with ``--no-fit-floor``) counts the experiments' model fits: the same graph with every fit
in the step's own process (``TRADER_EXPERIMENT_WORKERS=1``, one thread, as each pool worker runs it) and each
``fits.fit_one`` call timed in CPU seconds. The fits' models and settings are fixed by docs/experiments.md
("Shared toolkit"), so their CPU time divided by the cores is a floor no scheduling can beat; with the rest of
that run's CPU (every other step, Dagster's bookkeeping, start-up; the run without the pool's overhead) it is
the floor of the graph as it stands, even if every step used every core.
Run from the repository root: ``.venv/bin/python benchmarks/bench_graph.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLD_STEPS_TARGET_S = 90.0
WARM_WALL_TARGET_S = 60.0
FIT_LOG_ENV = "BENCH_GRAPH_FIT_LOG"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-fit-floor", action="store_true", help="skip the third run that counts the fits")
    parser.add_argument("--fit-clock", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit_clock is not None:
        _fit_clock(args.fit_clock)
        return
    from trader_assets.assets.experiments import EXPERIMENT_ASSETS

    cores = os.cpu_count() or 1
    experiments = {key.to_python_identifier() for asset in EXPERIMENT_ASSETS for key in asset.keys}
    with tempfile.TemporaryDirectory() as numba_cache:
        for label, target in (("cold", f"steps <= {COLD_STEPS_TARGET_S:.0f} s"),
                              ("warm", f"wall <= {WARM_WALL_TARGET_S:.0f} s")):
            load_before = os.getloadavg()[0]
            run = _run(numba_cache)
            load = f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on {cores} cores"
            checks = [line.strip() for line in run["lines"] if line.strip().startswith("check ")]
            passed = sum(line.endswith("passed") for line in checks)
            warned = [line.split()[1].rstrip(":") for line in checks if line.endswith("WARN")]
            failed = [line.split()[1].rstrip(":") for line in checks if "FAILED" in line]
            steps = run["steps"]
            total = sum(steps.values())
            group = sum(v for k, v in steps.items() if k in experiments)
            print(f"graph_2sym_60d {label}: wall {run['wall']:.1f} s, steps {total:.1f} s (target {target}), "
                  f"cpu {run['cpu']:.1f} s (bound on {cores} cores: {run['cpu'] / cores:.1f} s), exit {run['code']}, "
                  f"checks passed {passed}/{len(checks)}, WARN {warned or 'none'}, blocking failures "
                  f"{failed or 'none'}; {load}", flush=True)
            print("  slowest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in _slowest(steps)[:6]))
            print(f"  experiments group {group:.1f} s: "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in _slowest(steps) if k in experiments), flush=True)
            warm_cpu = run["cpu"]
        if not args.no_fit_floor:
            _print_fit_floor(numba_cache, warm_cpu, cores)


def _print_fit_floor(numba_cache: str, warm_cpu: float, cores: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "fits.jsonl"
        run = _run(numba_cache, clock_fits=log)
        fits = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    if run["code"] not in (0, 1) or not fits:
        raise SystemExit(f"fit-floor run failed (exit {run['code']}, {len(fits)} fits):\n" + "\n".join(run["lines"][-20:]))
    by_kind: dict[str, list[float]] = defaultdict(list)
    for fit in fits:
        by_kind[f"{fit['kind']} {fit['family']}"].append(fit["cpu"])
    total = sum(sum(v) for v in by_kind.values())
    trees = sum(sum(v) for k, v in by_kind.items() if k.endswith(" tree"))
    print(f"fits (one thread each, in-process run: wall {run['wall']:.1f} s, cpu {run['cpu']:.1f} s): "
          + ", ".join(f"{k} {len(v)} fits {sum(v):.1f} s" for k, v in sorted(by_kind.items()))
          + f"; all fits {total:.1f} s of CPU")
    rest = run["cpu"] - total
    print(f"  floor of the warm wall on {cores} cores (target {WARM_WALL_TARGET_S:.0f} s): the fits alone "
          f"{total / cores:.1f} s (gradient-boosted alone {trees / cores:.1f} s); with the rest of this run's CPU "
          f"({rest:.1f} s: every other step, Dagster, start-up) {(total + rest) / cores:.1f} s; the warm run "
          f"(fits in the pool) {warm_cpu:.1f} s of CPU, {warm_cpu / cores:.1f} s")


def _fit_clock(cli_args: list[str]) -> None:
    """``trader`` with every experiment fit timed in CPU seconds (appended to the file named by FIT_LOG_ENV)."""
    from trader_assets import cli
    from trader_core.experiments import fits

    original, log = fits.fit_one, Path(os.environ[FIT_LOG_ENV])

    def timed(job: fits.FitJob) -> fits.FitResult:
        start = time.process_time()
        result = original(job)
        with log.open("a") as out:
            out.write(json.dumps({"kind": job.kind, "family": job.family, "rows": len(job.x),
                                  "cpu": time.process_time() - start}) + "\n")
        return result

    fits.fit_one = timed
    raise SystemExit(cli.main(cli_args))


def _slowest(steps: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(steps.items(), key=lambda kv: -kv[1])


def _run(numba_cache: str, clock_fits: Path | None = None) -> dict:
    """Wall and CPU seconds (the run and the worker processes it waited for), step seconds, output lines and exit
    code of ``trader run`` in a fresh data root; with ``clock_fits``, every fit in process and timed."""
    cli_args = ["run", "bench", "--config", str(ROOT / "configs" / "demo.json")]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TRADER_HOME": f"{tmp}/home", "DAGSTER_HOME": f"{tmp}/dagster",
               "NUMBA_CACHE_DIR": numba_cache}
        command = [sys.executable, "-m", "trader_assets.cli", *cli_args]
        if clock_fits is not None:
            env |= {"TRADER_EXPERIMENT_WORKERS": "1", FIT_LOG_ENV: str(clock_fits)}
            command = [sys.executable, __file__, "--fit-clock", *cli_args]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(command, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        steps = _step_seconds(Path(tmp) / "dagster")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": seconds, "cpu": cpu, "steps": steps, "lines": proc.stdout.splitlines() + proc.stderr.splitlines(),
            "code": proc.returncode}


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

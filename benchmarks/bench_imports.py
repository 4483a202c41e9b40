"""Benchmark: start-up of the code location and of the CLI's read-only commands, in fresh processes.

Times, in a fresh subprocess each (one untimed call first to warm the file cache, then ``REPEATS`` timed calls;
the median wall and CPU times printed), ``import trader_assets.definitions`` (every CLI run, the UI's code server and every
multiprocess step pay it; target <= 2 s, its peak RSS printed too) and ``trader runs``, ``trader show demo``,
``trader releases`` (target <= 1 s each) on a temporary TRADER_HOME holding ``RUNS`` registered runs, each with
its last status recorded (what `trader runs` reads), one of them promoted.

Bytecode: by default the children cache it in a private folder (``PYTHONPYCACHEPREFIX`` in the temporary
directory, written by the untimed call), as an installed checkout does after its first run.
``--no-bytecode-cache`` makes every process compile every module it imports, as on a machine whose virtual
environment has no ``.pyc`` files and ``PYTHONDONTWRITEBYTECODE`` set.

Run from the repository root: ``.venv/bin/python benchmarks/bench_imports.py [--no-bytecode-cache]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trader_core import layout, release, run_status  # noqa: E402
from trader_core.registration import register_run  # noqa: E402
from trader_core.strategies import strategy_of  # noqa: E402

REPEATS = 5
RUNS = 20
DEFINITIONS_TARGET_S = 2.0
CLI_TARGET_S = 1.0
PASS = {"status": "PASS", "status_reasons": [], "metrics": {}}


def make_home(home: Path) -> None:
    """``RUNS`` registered runs with a recorded status; ``demo`` gets placeholder files for its release bundle and is
    promoted."""
    for number in range(RUNS - 1):
        record_status(register_run(run_id=f"run-{number:02d}", sections={}, home=home).spec.spec_hash,
                      f"run-{number:02d}", home)
    spec = register_run(run_id="demo", sections={}, home=home).spec
    record_status(spec.spec_hash, "demo", home)
    files = strategy_of(spec).release_files(layout.run_root("demo", home))
    for path in files.values():
        if not path.exists():  # the run spec is the real one
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"placeholder": path.name}))
    release.promote(files, run_id="demo", spec_hash=spec.spec_hash, backtest=PASS, line=release.model_line(spec),
                    home=home)


def record_status(spec_hash: str, run_id: str, home: Path) -> None:
    now = run_status.utc_iso()
    run_status.record_run_status(run_status.RunStatus(
        run_id=run_id, status="SUCCESS", dagster_run_id=f"bench-{run_id}", job="retrain_job", spec_hash=spec_hash,
        started_at=now, updated_at=now), home)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one subprocess; stops the benchmark if it
    does not exit 0."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed: {proc.stderr.read().decode()}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def measure(name: str, argv: list[str], env: dict[str, str], target: float, *, rss: bool = False) -> None:
    """The median wall time against ``target``; the median CPU time beside it, which other processes on the
    machine inflate much less (on an idle machine the two are close: these are single-threaded imports)."""
    timed(argv, env)  # warm the file cache (and the bytecode cache, and create the Dagster instance)
    runs = [timed(argv, env) for _ in range(REPEATS)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    verdict = "met" if wall <= target else "MISSED"
    extra = f", peak RSS {max(r[2] for r in runs)} MB" if rss else ""
    print(f"{name}: {wall:.2f} s median wall of {REPEATS} (min {min(r[0] for r in runs):.2f} s), CPU {cpu:.2f} s"
          f"{extra} (target <= {target:g} s: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-bytecode-cache", action="store_true", help="compile every module in every process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env.update({"TRADER_HOME": str(home), "DAGSTER_HOME": f"{tmp}/dagster", "PYTHONPYCACHEPREFIX": f"{tmp}/pycache",
                    "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)})
        if args.no_bytecode_cache:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        make_home(home)
        print(f"bytecode {'compiled in every process' if args.no_bytecode_cache else 'cached'}; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        cli = [sys.executable, "-m", "trader_assets.cli"]
        measure("import_definitions", [sys.executable, "-c", "import trader_assets.definitions"], env,
                DEFINITIONS_TARGET_S, rss=True)
        measure("cli_runs", [*cli, "runs"], env, CLI_TARGET_S)
        measure("cli_show", [*cli, "show", "demo"], env, CLI_TARGET_S)
        measure("cli_releases", [*cli, "releases"], env, CLI_TARGET_S)


if __name__ == "__main__":
    main()

"""Benchmark: per-symbol fan-out of feature_frame and path_stats on 2 Dask workers vs the single-process path.

A synthetic run of 4 symbols x 90 days is materialized up to the split manifest and price plan in two data
roots. Then the fan-out assets (feature_frame, path_stats: one mapped step per symbol) are materialized

* in process (the single-process path: every step one after another), and
* through the Dask executor on a local cluster of 2 worker processes (loopback), warmed up first so numba
  compilation and imports are not counted,

and the wall times are printed with their ratio (the speed-up). Artifact hashes of both runs are compared.

The breakdown comes from the step statistics in the instance: the time of the serial steps
(``replay_by_symbol``, the merges, the asset checks), the summed time of the per-symbol (mapped) steps, the
serial share of the single-process time (1 - mapped / wall; target <= 20 %, docs/scaling.md) and the Amdahl
bound of the speed-up on 2 workers,
and, for the Dask run, how much the mapped steps overlapped (their summed step time over the wall span
from the first mapped start to the last mapped end: 2.0 when two always run at once).
Run from the repository root: ``.venv/bin/python benchmarks/bench_fanout.py [--symbols 4 --days 90]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYMBOLS = ("BTC-USDT-PERP", "ETH-USDT-PERP", "SOL-USDT-PERP", "XRP-USDT-PERP", "ADA-USDT-PERP", "DOGE-USDT-PERP")
UPSTREAM = ("raw_market", "replay_1m", "split_manifest", "price_plan")
FANOUT = ("feature_frame", "path_stats")


def _prepare(home: Path, run_id: str, symbols: int, days: int) -> None:
    import pandas as pd

    from trader_core import io, layout
    from trader_core.config import RunSpec, from_mapping

    end = (pd.Timestamp("2026-01-01") + pd.Timedelta(days=days)).strftime("%Y-%m-%d")
    spec = from_mapping(RunSpec, {"run_id": run_id, "symbols": list(SYMBOLS[:symbols]), "start": "2026-01-01",
                                  "end": end, "source": {"seed": 5, "depth_levels": 5}})
    io.write_json(layout.run_root(run_id, home) / layout.RUN_SPEC_FILE, spec.to_dict())


def _materialize(instance, run_id: str, assets: tuple[str, ...], executor: str) -> tuple[float, str]:
    import dagster as dg

    from trader_assets.definitions import defs

    if not instance.has_dynamic_partition("runs", run_id):
        instance.add_dynamic_partitions("runs", [run_id])
    selection = [dg.AssetKey(a) for a in assets]
    start = time.perf_counter()
    if executor == "in_process":
        job = defs.resolve_job_def("retrain_job")
        result = job.execute_in_process(instance=instance, partition_key=run_id, asset_selection=selection,
                                        raise_on_error=False)
        ok, dagster_run = result.success, result.run_id
    else:
        recon = dg.reconstructable(_dask_job)
        with dg.execute_job(recon, instance=instance, asset_selection=selection,
                            tags={"dagster/partition": run_id}) as result:
            ok, dagster_run = result.success, result.run_id
    seconds = time.perf_counter() - start
    if not ok:
        raise SystemExit(f"{executor} run of {assets} failed")
    return seconds, dagster_run


def _breakdown(instance, dagster_run: str) -> dict[str, float]:
    """Serial and mapped (per-symbol) step seconds of a run, the wall span of its mapped steps and the number of
    processes its steps ran in."""
    import dagster as dg

    stats = [s for s in instance.get_run_step_stats(dagster_run) if s.start_time and s.end_time]
    mapped = [s for s in stats if "[" in s.step_key]
    serial = [s for s in stats if "[" not in s.step_key]
    span = max(s.end_time for s in mapped) - min(s.start_time for s in mapped)
    kinds = {kind: sum(s.end_time - s.start_time for s in serial if test(s.step_key)) for kind, test in (
        ("slicing", lambda k: k.endswith("replay_by_symbol")), ("merges", lambda k: ".merge_" in k),
        ("checks", lambda k: "." not in k))}
    pids = {r.dagster_event.pid for r in instance.all_logs(dagster_run, of_type=dg.DagsterEventType.STEP_START)}
    return {"serial": sum(s.end_time - s.start_time for s in serial),
            "mapped": sum(s.end_time - s.start_time for s in mapped), "mapped_span": span, "processes": len(pids),
            **kinds}


def _dask_job():
    """The retrain job with the executor the environment selects now (TRADER_EXECUTOR=dask): the definitions
    were imported by the in-process part first, so the job's own executor is the in-process one."""
    from trader_assets.definitions import defs
    from trader_assets.executors import executor_from_env

    return defs.resolve_job_def("retrain_job").with_executor_def(executor_from_env())


def _hashes(home: Path, run_id: str) -> dict[str, str]:
    from trader_core import io, layout

    root = layout.run_root(run_id, home)
    return {str(p.relative_to(root)): io.sha256_file(p) for p in sorted(root.rglob("*.parquet"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        homes = {"in_process": Path(tmp) / "single", "dask": Path(tmp) / "dask"}
        run_id = "fanout"
        times, parts = {}, {}
        import dagster as dg

        for executor, home in homes.items():
            os.environ["TRADER_HOME"] = str(home)
            os.environ["DAGSTER_HOME"] = str(home / "dagster")
            (home / "dagster").mkdir(parents=True)
            _prepare(home, run_id, args.symbols, args.days)
            with dg.DagsterInstance.local_temp(str(home / "dagster")) as instance:
                _materialize(instance, run_id, UPSTREAM, "in_process")
                if executor == "in_process":
                    times[executor], dagster_run = _materialize(instance, run_id, FANOUT, "in_process")
                    parts[executor] = _breakdown(instance, dagster_run)
                    continue
                with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
                    os.environ.update(TRADER_EXECUTOR="dask", TRADER_DASK_ADDRESS=cluster.scheduler_address,
                                      PYTHONPATH=str(ROOT))
                    warm, _ = _materialize(instance, run_id, FANOUT, "dask")  # imports and numba JIT on the workers
                    times[executor], dagster_run = _materialize(instance, run_id, FANOUT, "dask")
                    parts[executor] = _breakdown(instance, dagster_run)
                    print(f"(dask warm-up run: {warm:.1f} s)")
                    os.environ.pop("TRADER_EXECUTOR")
        same = _hashes(homes["in_process"], run_id) == _hashes(homes["dask"], run_id)
    print(f"fanout_{args.symbols}sym_{args.days}d feature_frame+path_stats: "
          f"single-process {times['in_process']:.1f} s, "
          f"dask 2 workers {times['dask']:.1f} s, speed-up {times['in_process'] / times['dask']:.2f}x "
          f"(expect close to 2x on 2 cores); artifacts identical: {same}")
    single, dask = parts["in_process"], parts["dask"]
    share = single["mapped"] / times["in_process"]
    print(f"  single process: serial steps {single['serial']:.1f} s (slicing {single['slicing']:.1f} s, merges "
          f"{single['merges']:.1f} s, asset checks {single['checks']:.1f} s), "
          f"per-symbol steps {single['mapped']:.1f} s "
          f"(parallelizable share {share:.0%}, Amdahl bound on 2 workers {1 / (1 - share / 2):.2f}x)")
    print(f"  serial share of the single-process time: {1 - share:.0%} (target <= 20 %, ratio "
          f"{(1 - share) / 0.20:.2f} of the target)")
    print(f"  dask: serial steps {dask['serial']:.1f} s, per-symbol steps {dask['mapped']:.1f} s over a wall span of "
          f"{dask['mapped_span']:.1f} s (overlap {dask['mapped'] / dask['mapped_span']:.2f} of 2 workers); "
          f"steps ran in {dask['processes']} worker process(es)")


if __name__ == "__main__":
    main()

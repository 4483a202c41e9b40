"""Benchmark: per-symbol fan-out of feature_frame and path_stats on 2 Dask workers vs the single-process path.

A synthetic run of 4 symbols x 90 days is materialized up to the split manifest and price plan in two data
roots. Then the fan-out assets (feature_frame, path_stats: one mapped step per symbol) are materialized

* in process (the single-process path: every step one after another), and
* through the Dask executor on a local cluster of 2 worker processes (loopback), warmed up first so numba
  compilation and imports are not counted,

and the wall times are printed with their ratio (the speed-up). Artifact hashes of both runs are compared.
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


def _materialize(instance, run_id: str, assets: tuple[str, ...], executor: str) -> float:
    import dagster as dg

    from trader_assets.definitions import defs

    if not instance.has_dynamic_partition("runs", run_id):
        instance.add_dynamic_partitions("runs", [run_id])
    selection = [dg.AssetKey(a) for a in assets]
    start = time.perf_counter()
    if executor == "in_process":
        job = defs.resolve_job_def("retrain_job")
        ok = job.execute_in_process(instance=instance, partition_key=run_id, asset_selection=selection,
                                    raise_on_error=False).success
    else:
        recon = dg.reconstructable(_dask_job)
        with dg.execute_job(recon, instance=instance, asset_selection=selection,
                            tags={"dagster/partition": run_id}) as result:
            ok = result.success
    seconds = time.perf_counter() - start
    if not ok:
        raise SystemExit(f"{executor} run of {assets} failed")
    return seconds


def _dask_job():
    """The retrain job with the Dask executor (imported by the run worker; TRADER_EXECUTOR=dask)."""
    from trader_assets.definitions import defs

    return defs.resolve_job_def("retrain_job")


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
        times = {}
        import dagster as dg

        for executor, home in homes.items():
            os.environ["TRADER_HOME"] = str(home)
            os.environ["DAGSTER_HOME"] = str(home / "dagster")
            (home / "dagster").mkdir(parents=True)
            _prepare(home, run_id, args.symbols, args.days)
            with dg.DagsterInstance.local_temp(str(home / "dagster")) as instance:
                _materialize(instance, run_id, UPSTREAM, "in_process")
                if executor == "in_process":
                    times[executor] = _materialize(instance, run_id, FANOUT, "in_process")
                    continue
                with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
                    os.environ.update(TRADER_EXECUTOR="dask", TRADER_DASK_ADDRESS=cluster.scheduler_address,
                                      PYTHONPATH=str(ROOT))
                    warm = _materialize(instance, run_id, FANOUT, "dask")  # imports and numba JIT on the workers
                    times[executor] = _materialize(instance, run_id, FANOUT, "dask")
                    print(f"(dask warm-up run: {warm:.1f} s)")
                    os.environ.pop("TRADER_EXECUTOR")
        same = _hashes(homes["in_process"], run_id) == _hashes(homes["dask"], run_id)
    print(f"fanout_{args.symbols}sym_{args.days}d feature_frame+path_stats: single-process {times['in_process']:.1f} s, "
          f"dask 2 workers {times['dask']:.1f} s, speed-up {times['in_process'] / times['dask']:.2f}x "
          f"(expect close to 2x on 2 cores); artifacts identical: {same}")


if __name__ == "__main__":
    main()

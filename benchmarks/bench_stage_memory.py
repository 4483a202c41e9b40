"""Benchmark: peak memory (and time) of the replay, features, labels and training stages per symbol-year.

For sizing workers (docs/scaling.md). Each stage runs in a fresh subprocess on 1 synthetic symbol x 60, 120
and 240 days with the library stage functions (no Dagster), reading its inputs from parquet as a Dagster step
does through the IO manager and writing its outputs. The child reports its RSS after imports (the fixed
cost of any worker process), its peak RSS (``getrusage`` ``ru_maxrss``), its wall time and the in-memory size
of its main tables (``tables``: the stage's outputs; for training its input datasets), which is what a merge
step of N symbols holds N times. Peaks grow linearly with rows: the least-squares slope over the sizes,
times 365 days, is what one symbol-year (525,600 minute rows) adds; the estimates extrapolate that line.

- replay: raw tables -> replay_1m + split manifest (one step per symbol with the fan-out);
- features: replay -> feature frame (one step per symbol with the fan-out);
- labels: price plan, path statistics, direction/entry/position labels and the four train datasets, all in one
  process (an upper bound: Dagster runs them as separate steps, path statistics per symbol);
- training: the four models (train, ONNX export, predictions) one after another on the merged datasets.

Run from the repository root: ``.venv/bin/python benchmarks/bench_stage_memory.py`` (about 4 minutes).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("replay", "features", "labels", "training")
DAYS = (60, 120, 240)
SYMBOL_YEAR_DAYS = 365
DATASETS = ("direction", "entry", "continue", "risk")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def spec_for(days: int):
    import pandas as pd

    from trader_core.config import RunSpec, from_mapping

    end = (pd.Timestamp("2026-01-01") + pd.Timedelta(days=days)).strftime("%Y-%m-%d")
    return from_mapping(RunSpec, {"run_id": f"mem{days}", "symbols": ["BTC-USDT-PERP"], "start": "2026-01-01",
                                  "end": end, "source": {"seed": 5, "depth_levels": 5}})


def frame_mb(*frames) -> float:
    return sum(float(f.memory_usage(deep=True).sum()) for f in frames) / 2**20


def stored_frame(ctx, asset: str, manifest):
    """A fan-out asset as the run IO manager stores (the parts' manifest) and loads it (the merged frame)."""
    from trader_core import layout, parts

    folder = ctx.run_dir / layout.ARTIFACT_PATHS[asset]
    parts.write_manifest(folder, manifest)
    return parts.read_frame(folder)


def run_stage(stage: str, work: Path, days: int) -> float:
    """Run ``stage`` (inputs from ``work``); returns the in-memory MB of its main table(s)."""
    import pandas as pd

    from trader_core import io, stages
    from trader_core.contracts.models import CONTINUE, DIRECTION, ENTRY, RISK
    from trader_core.run_context import RunContext

    spec, run_dir = spec_for(days), work / "run"
    ctx = RunContext(run_id=spec.run_id, run_dir=run_dir, home=work, spec=spec)
    if stage == "raw":
        from trader_core.market.sources import load_raw_market

        raw = load_raw_market(spec)
        for name, table in raw.items():
            io.write_parquet(work / "raw" / f"{name}.parquet", table)
        return frame_mb(*raw.values())
    if stage == "replay":
        raw = {p.stem: pd.read_parquet(p) for p in sorted((work / "raw").glob("*.parquet"))}
        replay = stages.replay_stage(ctx=ctx, raw=raw).value
        io.write_json(work / "manifest.json", stages.split_stage(ctx=ctx, replay=replay).value)
        io.write_parquet(work / "replay.parquet", replay)
        return frame_mb(replay)
    manifest = io.read_json(work / "manifest.json")
    if stage == "features":
        parts = [stages.symbol_features_stage(ctx=ctx, replay=pd.read_parquet(work / "replay.parquet"),
                                              manifest=manifest).value]
        frame = stored_frame(ctx, "feature_frame", stages.feature_frame_stage(ctx=ctx, parts=parts).value)
        io.write_parquet(work / "features.parquet", frame)
        return frame_mb(frame)
    if stage == "labels":
        replay, features = pd.read_parquet(work / "replay.parquet"), pd.read_parquet(work / "features.parquet")
        plan = stages.price_plan_stage(ctx=ctx).value
        parts = [stages.symbol_path_stats_stage(ctx=ctx, replay=replay, manifest=manifest, plan=plan).value]
        path_stats = stored_frame(ctx, "path_stats", stages.path_stats_stage(ctx=ctx, parts=parts).value)
        position = stages.position_label_stage(ctx=ctx, features=features, path_stats=path_stats, plan=plan).outputs
        labels = {"direction": stages.direction_labels_stage(ctx=ctx, features=features, path_stats=path_stats).value,
                  "entry": stages.entry_labels_stage(features=features, path_stats=path_stats, plan=plan).value,
                  "continue": position["continue_labels"].value, "risk": position["risk_labels"].value}
        datasets = {name: stages.train_dataset_stage(ctx=ctx, name=name, features=features, labels=labels[name]).value
                    for name in DATASETS}
        for name, data in datasets.items():
            io.write_parquet(work / f"{name}_train.parquet", data)
        return frame_mb(path_stats, *labels.values(), *datasets.values())
    if stage == "training":
        data = {name: pd.read_parquet(work / f"{name}_train.parquet") for name in DATASETS}
        for model, name in ((DIRECTION, "direction"), (ENTRY, "entry"), (CONTINUE, "continue"), (RISK, "risk")):
            stages.model_stage(ctx=ctx, model=model, dataset=data[name],
                               direction_train=data["direction"] if model == ENTRY else None)
        return frame_mb(*data.values())  # the input datasets
    raise SystemExit(f"unknown stage {stage!r}")


def child(stage: str, work: Path, days: int) -> None:
    import pandas  # noqa: F401  (the libraries every stage loads: part of the fixed cost)
    import sklearn.linear_model  # noqa: F401

    from trader_core.stages import features, labels, market, models  # noqa: F401  (stages load on first use)

    baseline = rss_mb()
    start = time.perf_counter()
    table_mb = run_stage(stage, work, days)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"baseline_mb": baseline, "peak_mb": peak, "seconds": seconds, "table_mb": table_mb}))


def measure(stage: str, work: Path, days: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", stage, "--work", str(work), "--days", str(days)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{stage} ({days} days) failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    results: dict[str, dict[int, dict]] = {stage: {} for stage in STAGES}
    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
        for days in DAYS:
            work = Path(tmp) / f"d{days}"
            measure("raw", work, days)
            for stage in STAGES:
                results[stage][days] = measure(stage, work, days)
    sizes = " / ".join(f"{d} d" for d in DAYS)
    print(f"Peak RSS per stage, 1 synthetic symbol, {sizes}, one process per stage (python "
          f"{sys.version.split()[0]}); per symbol-year = least-squares slope over the sizes x {SYMBOL_YEAR_DAYS}.")
    print(f"| stage | fixed MB (after imports) | peak MB at {sizes} | peak MB per symbol-year | "
          "est. peak MB, 1 symbol-year | est. peak MB, 5 symbol-years | tables MB per symbol-year | "
          f"s at {DAYS[-1]} d |")
    print("|---|---|---|---|---|---|---|---|")
    days = np.array(DAYS, dtype=float)
    for stage in STAGES:
        rows = [results[stage][d] for d in DAYS]
        peak_slope, peak_icpt = np.polyfit(days, [r["peak_mb"] for r in rows], 1)
        table_slope, _ = np.polyfit(days, [r["table_mb"] for r in rows], 1)
        fixed = np.mean([r["baseline_mb"] for r in rows])
        per_year = peak_slope * SYMBOL_YEAR_DAYS
        peaks = " / ".join(f"{r['peak_mb']:.0f}" for r in rows)
        print(f"| {stage} | {fixed:.0f} | {peaks} | {per_year:.0f} | {peak_icpt + per_year:.0f} | "
              f"{peak_icpt + 5 * per_year:.0f} | {table_slope * SYMBOL_YEAR_DAYS:.0f} | {rows[-1]['seconds']:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=("raw", *STAGES))
    parser.add_argument("--work", type=Path)
    parser.add_argument("--days", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work, args.days)
    else:
        main()

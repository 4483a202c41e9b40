"""Benchmark the entry + continue/exit/risk label builders against the original's formulation.

One symbol x 365 days (525,600 minutes), horizon 45, both sides, for each plan method. "ours" runs the
shared path statistics, ``build_entry_labels`` and ``build_position_labels`` as the pipeline does.
"reference" runs the same builders with the path statistics swapped for the original's formulation (one ``sliding_window_view``
over the whole series per side, every n x h window matrix in memory; see ``bench_path_stats.py``), so
the ratio measures the path-statistics engine inside the real label pipeline.

Target: ours <= 0.5 s per plan method, the fastest of ``--repeats`` runs (other work on the machine only ever
slows a run down). Each measurement runs in a fresh subprocess; ``cpu`` is the process
CPU time of the call (all threads: the path-statistics kernels run one thread per available CPU), split into
user time and the system time the kernel spends on the call's page faults (a fresh process touches its output
memory for the first time: that part varies most between runs on a shared machine), ``peak`` the RSS
high-water mark minus the RSS before the call. Run from the repository root:
``.venv/bin/python benchmarks/bench_labels.py`` (``--ours-only`` skips the slow reference).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_path_stats import _rss_kb, reference_path_stats, synthetic_replay  # noqa: E402
from trader_core.config import CostConfig, EntryLabelConfig, LabelConfig  # noqa: E402
from trader_core.costs import CostModel, with_trade_costs  # noqa: E402
from trader_core.contracts.labels import PLAN_METHODS  # noqa: E402
from trader_core.labels.entry import build_entry_labels  # noqa: E402
from trader_core.labels.position import build_position_labels  # noqa: E402
from trader_core.labels.base import compute_label_path_stats, label_horizons  # noqa: E402
from trader_core.labels.price_plan import build_price_plan, plan_params  # noqa: E402
from trader_core.threads import cpu_count  # noqa: E402

DAYS = 365
TARGET_SECONDS = 0.5


def inputs(days: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    replay = synthetic_replay(days)
    replay["event_time"] = pd.to_datetime(replay["open_time_ms"], unit="ms", utc=True)
    n = len(replay)
    # no book and no funding table: both sides charge the flat costs (docs/trading.md, "Cost model")
    replay = replay.assign(book_available=0, funding_available=0, funding_bps=np.nan,
                           next_funding_time=pd.Series(pd.NaT, index=replay.index, dtype="datetime64[ms, UTC]"))
    features = pd.DataFrame({
        "sample_id": "BTC-USDT-PERP:" + replay["open_time_ms"].astype(str), "symbol": replay["symbol"],
        "event_time": replay["event_time"], "open_time_ms": replay["open_time_ms"], "split_id": "fit_inner",
        "walk_forward_fold": "fold_01", "data_quality_flag": "OK",
        "ret_15m_bps": np.zeros(n, np.float32), "realized_vol_15m_bps": np.full(n, 5.0, np.float32),
        "spread_rank_24h_pct": np.full(n, 0.5, np.float32),
    })
    start = int(replay["open_time_ms"].iloc[0])
    manifest = {"splits": [{"split_id": "fit_inner", "start_ms": start, "end_ms": start + (days + 1) * 86_400_000}],
                "embargo": []}
    return replay, features, manifest


def reference_compute_path_stats(replay, *, horizon, plan, split_ids=None, sides=("LONG", "SHORT")):
    stats = reference_path_stats(replay, horizon, plan)
    return stats[stats["side"].isin(sides)].reset_index(drop=True)


def run_labels(replay: pd.DataFrame, features: pd.DataFrame, manifest: dict, method: str) -> int:
    """Label rows produced (identical for both implementations)."""
    labels = LabelConfig(entry=EntryLabelConfig(plan_method=method))
    plan = build_price_plan(labels.entry, CostConfig())
    stats = compute_label_path_stats(replay, manifest, plan_params(plan), label_horizons(labels))
    stats = with_trade_costs(stats, CostModel.from_replay(replay, CostConfig()))
    entry = build_entry_labels(features, stats, plan)
    position = build_position_labels(features, stats, labels, plan)
    return len(entry) + sum(len(v) for v in position.values())


def measure(impl: str, method: str) -> dict[str, float]:
    replay, features, manifest = inputs(DAYS)
    patches = [] if impl == "ours" else [
        mock.patch("trader_core.labels.base.compute_path_stats", reference_compute_path_stats)]
    for p in patches:
        p.start()
    small = inputs(2)
    run_labels(*small, method)  # warm-up (numba cache load)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    before = _rss_kb("VmRSS")
    usage, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    rows = run_labels(replay, features, manifest, method)
    seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - usage.ru_utime, after.ru_stime - usage.ru_stime
    return {"seconds": seconds, "cpu": user + system, "user": user, "system": system,
            "faults": after.ru_minflt - usage.ru_minflt, "peak_mb": (_rss_kb("VmHWM") - before) / 1024.0,
            "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "METHOD"), help=argparse.SUPPRESS)
    parser.add_argument("--ours-only", action="store_true", help="skip the (slow) reference")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes for ours; the fastest counts")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    for method in PLAN_METHODS:
        result = {}
        for impl in ("ours",) if args.ours_only else ("ours", "reference"):
            runs = [json.loads(subprocess.run([sys.executable, __file__, "--child", impl, method], check=True,
                                              capture_output=True, text=True).stdout.strip().splitlines()[-1])
                    for _ in range(args.repeats if impl == "ours" else 1)]
            result[impl] = min(runs, key=lambda run: run["seconds"])
        ours = result["ours"]
        verdict = "met" if ours["seconds"] <= TARGET_SECONDS else "MISSED"
        line = (f"labels_{method}_{DAYS}d: ours {ours['seconds']:.2f} s (target <= {TARGET_SECONDS:g} s: {verdict}; "
                f"cpu {ours['cpu']:.2f} s on {cpu_count()} CPU(s): user {ours['user']:.2f} s, system "
                f"{ours['system']:.2f} s for {ours['faults']:,} page faults; peak {ours['peak_mb']:.0f} MB)")
        if "reference" in result:
            ref = result["reference"]
            assert ref["rows"] == ours["rows"], (ref["rows"], ours["rows"])
            line += (f", reference {ref['seconds']:.2f} s (peak {ref['peak_mb']:.0f} MB), "
                     f"ratio {ref['seconds'] / ours['seconds']:.1f}, peak memory {ours['peak_mb'] / ref['peak_mb']:.2f}x")
        print(line, flush=True)


if __name__ == "__main__":
    main()

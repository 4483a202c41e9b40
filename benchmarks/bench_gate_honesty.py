"""Benchmark: does the release gate promote noise, and does it promote a real signal? (docs/trading.md)

Runs the whole chain to the gate (``trader run --no-experiments`` with the demo price plan, in process, one data
root) on N synthetic markets without signal and N with the default signal, one seed each, and prints how the gate
decided each run, the false-promotion rate (target 0 of 20, at most 1), the power (target >= 18 of 20) and the
wall time (target <= 30 min for 20 + 20). Every market is its own model line and its own sealed window, so the
runs never compete with or deflate each other.

    .venv/bin/python benchmarks/bench_gate_honesty.py [--seeds 20] [--days 40] [--signal 2.0]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_one(run_id: str, *, signal: float, seed: int, days: int) -> dict:
    from trader_assets import cli
    from trader_core import layout

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = cli.main(["run", run_id, "--config", str(ROOT / "configs" / "demo.json"), "--signal", str(signal),
                         "--seed", str(seed), "--days", str(days), "--no-experiments"])
    root = layout.run_root(run_id, layout.trader_home())
    result_file = root / "backtest/backtest_result.json"
    result = json.loads(result_file.read_text()) if result_file.exists() else {}
    validation = result.get("significance", {}).get("validation_locked", {})
    return {"run": run_id, "exit": code, "promoted": (root / layout.ARTIFACT_PATHS["release"]).exists(),
            "status": result.get("status", "no decision"), "reasons": result.get("status_reasons", []),
            "trades": result.get("metrics", {}).get("validation_locked", {}).get("trade_count", 0),
            "t": validation.get("statistic"), "deflated_t": validation.get("deflated_statistic")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--signal", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update({"TRADER_HOME": f"{tmp}/home", "DAGSTER_HOME": f"{tmp}/dagster"})
        start = time.perf_counter()
        rows = []
        for signal in (0.0, args.signal):
            for seed in range(1, args.seeds + 1):
                row = run_one(f"h{signal:g}-s{seed}".replace(".", "p"), signal=signal, seed=seed, days=args.days)
                rows.append(row | {"signal": signal})
                t = "n/a" if row["t"] is None else f"{row['t']:.2f}"
                print(f"  signal {signal:g} seed {seed:2d}: {row['status']:<11} promoted {str(row['promoted']):<5} "
                      f"validation trades {row['trades']:4d} t {t:>6}  {', '.join(row['reasons']) or '-'}",
                      flush=True)
        seconds = time.perf_counter() - start
    false_promotions = sum(r["promoted"] for r in rows if r["signal"] == 0)
    power = sum(r["promoted"] for r in rows if r["signal"] == args.signal)
    print(f"gate_false_promotions: {false_promotions} of {args.seeds} without signal (target 0, at most 1)")
    print(f"gate_power: {power} of {args.seeds} promoted at signal {args.signal:g} (target >= {0.9 * args.seeds:g})")
    print(f"gate_honesty_wall: {seconds / 60:.1f} min for {len(rows)} runs of {args.days} days x 2 symbols "
          f"(target <= 30 min)")


if __name__ == "__main__":
    main()

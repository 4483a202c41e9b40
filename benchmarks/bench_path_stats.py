"""Benchmark ``compute_path_stats`` against a reference written the way the original seed code was.

One symbol x 365 days of 1-minute bars (a random walk with wicks and spreads, 10% missing spreads),
horizon 45, both sides, for each plan method. The reference builds ``sliding_window_view`` windows
over the whole series per side and materialises every n x h window matrix (hit masks, nanquantile,
log-return std); FIXED finds first hits with ``argmax``, DYNAMIC loops over the h steps with
full-length arrays.

Each measurement runs in its own subprocess: data generation and a JIT warm-up happen first, then
peak RSS is reset (``/proc/self/clear_refs``, Linux) and the call is timed. ``peak`` is the RSS
high-water mark minus the RSS before the call; ``ratio`` is reference time / ours. Before measuring,
both implementations are checked to agree on a 10-day series.

Run from the repository root: ``.venv/bin/python benchmarks/bench_path_stats.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trader_core.contracts.labels import FIXED_TARGET_STOP, PATH_STAT_COLUMNS, PLAN_METHODS  # noqa: E402
from trader_core.labels.path_stats import PlanParams, compute_path_stats  # noqa: E402

DAYS = 365
HORIZON = 45
MINUTE_MS = 60_000


def synthetic_replay(days: int, seed: int = 7) -> pd.DataFrame:
    """One symbol of 1-minute bars: log random walk, exponential wicks, gamma spreads with NaNs."""
    rng = np.random.default_rng(seed)
    n = days * 1440
    close = 30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 6e-4, n)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    spread = rng.gamma(2.0, 0.6, n)
    spread[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "symbol": "BTC-USDT-PERP",
        "open_time_ms": 1_700_000_000_000 + np.arange(n, dtype=np.int64) * MINUTE_MS,
        "open": open_,
        "high": np.maximum(open_, close) * (1.0 + rng.exponential(4e-4, n)),
        "low": np.minimum(open_, close) * (1.0 - rng.exponential(4e-4, n)),
        "close": close,
        "spread_bps": spread,
    })


def bench_plan(method: str) -> PlanParams:
    """The plan both sides run: stops gap through the open (docs/labels.md), no share of the in-bar excess."""
    return PlanParams(method, target_bps=12.0, stop_bps=8.0, second_target_bps=24.0, trailing_stop_bps=10.0,
                      stop_fill_excess_share=0.0)


# --------------------------------------------------------------------------------------------- reference
def reference_path_stats(replay: pd.DataFrame, horizon: int, plan: PlanParams) -> pd.DataFrame:
    """The original's structure: per symbol and side, whole-series window matrices."""
    frames = []
    for symbol, group in replay.groupby("symbol", sort=True):
        for side in ("LONG", "SHORT"):
            frames.append(_reference_side(group, str(symbol), side, horizon, plan))
    return pd.concat(frames, ignore_index=True)


def _reference_side(group: pd.DataFrame, symbol: str, side: str, horizon: int, plan: PlanParams) -> pd.DataFrame:
    close, high, low, open_ = (group[c].to_numpy(dtype=float) for c in ("close", "high", "low", "open"))
    spread, open_ms = group["spread_bps"].to_numpy(dtype=float), group["open_time_ms"].to_numpy()
    entry, exit_price = close[:-horizon], close[horizon:]
    future_high, future_low = sliding_window_view(high[1:], horizon), sliding_window_view(low[1:], horizon)
    future_close = sliding_window_view(close[1:], horizon)
    future_open = sliding_window_view(open_[1:], horizon)
    valid = ((open_ms[horizon:] - open_ms[:-horizon] == horizon * MINUTE_MS) & np.isfinite(entry)
             & np.isfinite(future_high).all(axis=1) & np.isfinite(future_low).all(axis=1)
             & np.isfinite(future_close).all(axis=1))
    with np.errstate(all="ignore"):
        high_max, low_min = np.nanmax(future_high, axis=1), np.nanmin(future_low, axis=1)
        spread_p80 = np.nanquantile(sliding_window_view(spread[1:], horizon), 0.8, axis=1)
        log_returns = sliding_window_view(np.log(close[1:] / close[:-1]), horizon)
        vol = np.std(log_returns, axis=1, ddof=1) * 10000.0
    is_long = side == "LONG"
    future_return = (exit_price / entry - 1.0) * 10000.0 if is_long else (entry / exit_price - 1.0) * 10000.0
    up, down = (high_max / entry - 1.0) * 10000.0, (entry / low_min - 1.0) * 10000.0
    outcome = (_reference_fixed if plan.method == FIXED_TARGET_STOP else _reference_dynamic)(
        entry, future_return, future_high, future_low, future_open, horizon, plan, is_long)
    out = pd.DataFrame({
        "symbol": symbol, "open_time_ms": open_ms[:-horizon], "side": side, **outcome,
        "future_return_bps": future_return, "mfe_bps": np.maximum(up if is_long else down, 0.0),
        "mae_bps": np.maximum(down if is_long else up, 0.0), "future_spread_p80": spread_p80,
        "future_realized_vol_bps": vol,
    })
    return out.loc[valid, list(PATH_STAT_COLUMNS)].reset_index(drop=True)


def _first_hit_index(hit_window: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    hit_any = hit_window.any(axis=1)
    return hit_any, np.where(hit_any, hit_window.argmax(axis=1), horizon)


def _gap_fill(stop: np.ndarray, bar_open: np.ndarray, is_long: bool) -> np.ndarray:
    """A touched stop fills at the worse of its price and the bar's open (gap-through)."""
    return np.minimum(stop, bar_open) if is_long else np.maximum(stop, bar_open)


def _return_bps(entry: np.ndarray, price: np.ndarray, is_long: bool) -> np.ndarray:
    return ((price / entry - 1.0) if is_long else (entry / price - 1.0)) * 10000.0


def _reference_fixed(entry, future_return, future_high, future_low, future_open, horizon, plan, is_long) -> dict:
    t_bps, s_bps = plan.target_bps, plan.stop_bps
    if is_long:
        target_window = future_high >= (entry * (1.0 + t_bps / 10000.0))[:, None]
        stop_window = future_low <= (entry * (1.0 - s_bps / 10000.0))[:, None]
    else:
        target_window = future_low <= (entry * (1.0 - t_bps / 10000.0))[:, None]
        stop_window = future_high >= (entry * (1.0 + s_bps / 10000.0))[:, None]
    target_any, first_target = _first_hit_index(target_window, horizon)
    stop_any, first_stop = _first_hit_index(stop_window, horizon)
    stop_hit = stop_any & (first_stop <= first_target)
    target_hit = target_any & (first_target < first_stop)
    stop = entry * (1.0 - s_bps / 10000.0) if is_long else entry * (1.0 + s_bps / 10000.0)
    bar_open = future_open[np.arange(entry.size), np.minimum(first_stop, horizon - 1)]
    fill = _gap_fill(stop, bar_open, is_long)
    stop_edge = np.where(fill == stop, -s_bps, np.minimum(-s_bps, _return_bps(entry, fill, is_long)))
    return {
        "target_hit": target_hit.astype("int8"), "stop_hit": stop_hit.astype("int8"),
        "timeout_hit": (~(target_hit | stop_hit)).astype("int8"),
        "ambiguous_hit": (target_any & stop_any & (first_target == first_stop)).astype("int8"),
        "time_to_target_ms": np.where(target_hit, (first_target + 1) * MINUTE_MS, -1).astype("int64"),
        "time_to_stop_ms": np.where(stop_hit, (first_stop + 1) * MINUTE_MS, -1).astype("int64"),
        "time_to_exit_ms": np.where(target_hit, (first_target + 1) * MINUTE_MS,
                                    np.where(stop_hit, (first_stop + 1) * MINUTE_MS, horizon * MINUTE_MS)),
        "gross_edge_bps": np.where(target_hit, t_bps, np.where(stop_hit, stop_edge, future_return)),
    }


def _reference_dynamic(entry, future_return, future_high, future_low, future_open, horizon, plan, is_long) -> dict:
    n = entry.size
    sign = 1.0 if is_long else -1.0
    active, first_done, second_done = np.ones(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    bad_stop, trailing_exit = np.zeros(n, bool), np.zeros(n, bool)
    remaining, gross, mark = np.ones(n), np.zeros(n), entry.copy()
    first_idx, stop_idx, exit_idx = np.full(n, horizon + 1), np.full(n, horizon + 1), np.full(n, horizon)
    target1 = entry * (1.0 + sign * plan.target_bps / 10000.0)
    target2 = entry * (1.0 + sign * plan.second_target_bps / 10000.0)
    for step in range(horizon):
        h, l = future_high[:, step], future_low[:, step]
        trailing = mark * (1.0 - sign * plan.trailing_stop_bps / 10000.0)
        if plan.breakeven_after_first_target:
            trailing = np.maximum(trailing, entry) if is_long else np.minimum(trailing, entry)
        stop_price = np.where(first_done, trailing, entry * (1.0 - sign * plan.stop_bps / 10000.0))
        stop_now = active & ((l <= stop_price) if is_long else (h >= stop_price))
        stop_gross = _return_bps(entry, _gap_fill(stop_price, future_open[:, step], is_long), is_long)
        gross = np.where(stop_now, gross + remaining * stop_gross, gross)
        trailing_exit |= stop_now & first_done
        bad_stop |= stop_now & ~first_done
        stop_idx, exit_idx = np.where(stop_now, step, stop_idx), np.where(stop_now, step, exit_idx)
        remaining = np.where(stop_now, 0.0, remaining)
        active &= ~stop_now
        first_now = active & ~first_done & ((h >= target1) if is_long else (l <= target1))
        gross = np.where(first_now, gross + plan.partial_take_1_ratio * plan.target_bps, gross)
        remaining = np.where(first_now, remaining - plan.partial_take_1_ratio, remaining)
        first_done |= first_now
        first_idx = np.where(first_now, step, first_idx)
        second_now = active & first_done & ~second_done & ((h >= target2) if is_long else (l <= target2))
        gross = np.where(second_now, gross + plan.partial_take_2_ratio * plan.second_target_bps, gross)
        remaining = np.where(second_now, remaining - plan.partial_take_2_ratio, remaining)
        second_done |= second_now
        mark = np.maximum(mark, h) if is_long else np.minimum(mark, l)
    gross = np.where(active, gross + remaining * future_return, gross)
    exit_idx = np.where(active, horizon - 1, exit_idx)
    return {
        "target_hit": first_done.astype("int8"), "stop_hit": bad_stop.astype("int8"),
        "timeout_hit": active.astype("int8"), "ambiguous_hit": np.zeros(n, "int8"),
        "time_to_target_ms": np.where(first_done, (first_idx + 1) * MINUTE_MS, -1).astype("int64"),
        "time_to_stop_ms": np.where(bad_stop | trailing_exit, (stop_idx + 1) * MINUTE_MS, -1).astype("int64"),
        "time_to_exit_ms": ((exit_idx + 1) * MINUTE_MS).astype("int64"),
        "gross_edge_bps": gross,
    }


# --------------------------------------------------------------------------------------------- measuring
def _run(impl: str, replay: pd.DataFrame, plan: PlanParams) -> pd.DataFrame:
    if impl == "ours":
        return compute_path_stats(replay, horizon=HORIZON, plan=plan)
    return reference_path_stats(replay, HORIZON, plan)


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(impl: str, method: str) -> dict[str, float]:
    """Time and peak RSS delta of one call on the 365-day series (run in a fresh process)."""
    replay, plan = synthetic_replay(DAYS), bench_plan(method)
    _run(impl, replay.iloc[:1000], plan)  # JIT warm-up (loads the numba cache)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset the RSS high-water mark
    before = _rss_kb("VmRSS")
    start = time.perf_counter()
    _run(impl, replay, plan)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": (_rss_kb("VmHWM") - before) / 1024.0}


def check_agreement(days: int = 10) -> None:
    """Ours and the reference must agree on every column of a shorter series."""
    replay = synthetic_replay(days, seed=3)
    for method in PLAN_METHODS:
        ours, ref = _run("ours", replay, bench_plan(method)), _run("reference", replay, bench_plan(method))
        ours = ours.astype({"symbol": str, "side": str})  # ours stores them as categoricals
        pd.testing.assert_frame_equal(ours, ref.astype({"symbol": str, "side": str}), check_dtype=False,
                                      check_exact=False, rtol=1e-9, atol=1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    check_agreement()
    for method in PLAN_METHODS:
        result = {}
        for impl in ("ours", "reference"):
            proc = subprocess.run([sys.executable, __file__, "--child", impl, method],
                                  check=True, capture_output=True, text=True)
            result[impl] = json.loads(proc.stdout.strip().splitlines()[-1])
        ours, ref = result["ours"], result["reference"]
        print(f"path_stats_{method}_{DAYS}d: ours {ours['seconds']:.2f} s (peak {ours['peak_mb']:.0f} MB), "
              f"reference {ref['seconds']:.2f} s (peak {ref['peak_mb']:.0f} MB), "
              f"ratio {ref['seconds'] / ours['seconds']:.1f}", flush=True)


if __name__ == "__main__":
    main()

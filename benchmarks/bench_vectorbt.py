"""Side by side with vectorbt: entry signals to trades with a fixed target and stop, fees, one position per symbol.

The task: 2 symbols x 365 days of 1-minute bars (a seeded random walk), entry signals on a share of the
minutes, the demo's fixed plan (target 40 bps, stop 20 bps), 4 bps of fees per round trip, a fixed notional
per trade and at most one open position per symbol. Both sides produce the trades (entry and exit bar,
entry and exit price, side, P&L net of fees) and the net result; the benchmark asserts that they agree trade
by trade and prints the trade count, both net results and the ratio vectorbt time / our time (target >= 1:
ours faster). Each side is timed warm (after a first call that compiles or loads the JIT caches) as the best
of ``--reps`` calls, from its prepared inputs (built once, untimed) to its trades and net result.

Our side (``our_trades``) is the library's outcome kernel and its one-position rule:
``trader_core.labels.plan_outcomes.fixed_outcomes`` (the ``FIXED_TARGET_STOP_V1`` outcome of a trade opened
at a bar close: the kernel behind the path statistics, so behind every label, the PM search and the backtest)
and the rule of ``trader_core.pm.simulate.overlap_walk`` (one open trade per symbol: a kept trade blocks its
symbol until its entry + time to exit + ``add.cooldownMinutes``, docs/trading.md "Gates, sizing, overlap").
Two compositions give the same trades (asserted) and are both timed:

* walk-first (the ratio's figure): ``_walk_first``, a thin numba adapter in this file, walks each symbol's
  signals in time and calls ``fixed_outcomes`` only for a signal that finds its symbol free, applying
  ``overlap_walk``'s rule. Like vectorbt's bar loop it evaluates only the trades it takes.
* every-signal: ``fixed_outcomes`` on every signal row, then ``overlap_walk`` itself, as the pipeline composes
  them (its PM reads every row's outcome from the label tables). It pays for the signals it then skips.

``overlap_walk`` needs every candidate's exit time before it walks, which the pipeline has and a raw signal
stream has not; that is the one thing the adapter adds, and the pipeline would not call it, so it stays here
rather than in the library. ``compute_path_stats`` is not used (it evaluates every row and adds window
statistics the task does not need), nor ``simulate_trades`` (it needs a PM frame of model probabilities and
sizes trades by them). ``tests/core/test_bench_vectorbt.py`` checks both compositions against a bar-by-bar
reference of the rules below, without vectorbt.

vectorbt's side (``vectorbt_trades``) is ``vbt.Portfolio.from_signals`` with ``sl_stop`` / ``tp_stop``, its
exit trades (``pf.trades``) and net result (``pf.total_profit()``), given its fastest inputs (``vectorbt_inputs``);
it is timed with the numba engine (the default install) and, when ``vectorbt-rust`` is installed, with the
Rust engine too.

Semantic differences and how the setup neutralises them (vectorbt 1.2.0, ``simulate_from_signals_nb``):

* Entry price: both enter at the signal bar's close (vectorbt's default ``price``) and place the target and
  stop from that close (``stop_entry_price`` Close); neither uses the next bar's open. No difference.
* Stops and targets are checked from the bar after the entry on, in both. No difference.
* Stop and target touched in the same bar: both take the stop (vectorbt checks ``sl_stop`` before
  ``tp_stop``; ours lets the stop win the tie and flags ``ambiguous_hit``). No difference; the ties are counted.
* Stop gapped through (the bar opens beyond it): both fill at the open. Ours can also move the fill by a share
  of the bar's excess beyond an allowance (``stop_fill_excess_share``, 0.5 in the label config), which vectorbt
  has not: set to 0 here.
* Target gapped through: vectorbt fills at the (better) open, ours at the target price, never better
  (docs/labels.md "Stop fills"). Neutralised by the market: in the main scenarios every bar opens at the
  previous close (a 24/7 market, as the library assumes for a replay without opens), so nothing gaps; the
  ``gaps`` scenario gaps only downwards and trades only longs, so a gap can cross a stop but never a target.
* Short returns: vectorbt's short P&L is ``size * (entry - exit)``; ours books ``entry / exit - 1``, and exactly
  -S / +T at the stop / target price. The two agree at the stop and target prices, the only short exits in the
  setup (shorts never meet a gap, and no trade times out).
* Time exit: ours ends a trade at the plan's horizon, vectorbt 1.2.0's ``from_signals`` has no time stop.
  Neutralised: the horizon is one day, which no trade reaches at these barriers (asserted), and no signal
  falls in a symbol's last day (ours needs the whole window; vectorbt would leave the trade open).
* Fees: vectorbt's ``fees`` are a share of each order's notional, so the exit leg pays on the exit price; ours
  charges the cost model's flat ``fee_bps`` (4.0) of the entry notional per round trip. Neutralised: every
  trade has the same notional and vectorbt charges ``fixed_fees`` = notional x 2 bps per order.
* Sizing and cash: ours books a fixed notional per trade; vectorbt buys ``size_type="value"`` of the same
  notional with cash that never binds (``init_cash`` 1e12), so no order is shrunk.
* Signals while a position is open: both ignore them (vectorbt: accumulation off and
  ``upon_opposite_entry="ignore"``; its default would reverse the position).
* Re-entry on the exit bar: vectorbt's stop exit takes the whole bar, so its signal is ignored; ours would
  enter at that bar's close (the overlap rule frees the symbol at the exit). Neutralised by the PM's own knob,
  a cooldown of 1 minute (``add.cooldownMinutes``).

Install and run (vectorbt is an optional, benchmark-only extra; nothing in ``trader_core`` or
``trader_assets`` imports it, an import-linter contract refuses it):

    .venv/bin/uv pip install --python .venv/bin/python vectorbt==1.2.0 vectorbt-rust==1.2.0
    .venv/bin/python benchmarks/bench_vectorbt.py

(``vectorbt-rust`` is optional; ``.venv/bin/uv pip install --python .venv/bin/python -e '.[bench]'``
installs both, as the ``bench`` extra of pyproject.toml pins them.) vectorbt 1.2.0 installs
beside the pinned pandas 3.1.1, numpy 2.4.6 and numba 0.68.1 without changing any of them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trader_core.config import CostConfig  # noqa: E402
from trader_core.contracts.labels import FIXED_TARGET_STOP  # noqa: E402
from trader_core.contracts.replay import MINUTE_MS  # noqa: E402
from trader_core.labels.plan_outcomes import PlanParams, fixed_outcomes  # noqa: E402
from trader_core.pm.simulate import overlap_walk  # noqa: E402

DAYS = 365
SYMBOLS = ("BTC-USDT-PERP", "ETH-USDT-PERP")
#: The demo's fixed plan (configs/demo.json); no share of a stop's in-bar excess (vectorbt has none).
PLAN = PlanParams(FIXED_TARGET_STOP, target_bps=40.0, stop_bps=20.0, stop_fill_excess_share=0.0)
HORIZON = 1440  # one day: no trade of this plan lasts that long on this market (asserted)
COOLDOWN_MINUTES = 1
FEE_BPS = CostConfig().fee_bps  # per round trip, of the entry notional
NOTIONAL = 10_000.0
START_MS = 1_735_689_600_000  # 2025-01-01T00:00Z


@dataclass(frozen=True)
class Replay:
    """Replay columns, 1-D and sorted by symbol code, then contiguous minutes (as ``replay_1m`` stores them),
    and the signal column: +1 (long entry), -1 (short entry) or 0."""

    symbol: np.ndarray
    open_time_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    signal: np.ndarray


@dataclass(frozen=True)
class Market:
    """Bars and signals as (minutes, symbols) arrays, the layout vectorbt takes."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    signal: np.ndarray

    @property
    def open_time_ms(self) -> np.ndarray:
        return START_MS + np.arange(self.close.shape[0], dtype=np.int64) * MINUTE_MS

    def replay(self) -> Replay:
        n_bars, n_symbols = self.close.shape
        column = lambda a: np.ascontiguousarray(a.T).ravel()  # noqa: E731
        return Replay(np.repeat(np.arange(n_symbols), n_bars), np.tile(self.open_time_ms, n_symbols),
                      *(column(a) for a in (self.open, self.high, self.low, self.close, self.signal)))


def synthetic_market(*, days: int, n_symbols: int, seed: int, density: float, sides: tuple[int, ...],
                     gap_share: float, horizon: int) -> Market:
    """A log random walk (6 bps per minute) with wicks, entry signals on ``density`` of the minutes.

    A bar opens at the previous close, except ``gap_share`` of the bars, which open lower (mean gap 15 bps).
    Signals pick a side from ``sides`` at random and never fall in a symbol's last ``horizon`` minutes.
    """
    rng = np.random.default_rng(seed)
    shape = (days * 1440, n_symbols)
    gap = np.where(rng.random(shape) < gap_share, rng.exponential(15e-4, shape), 0.0)
    steps = np.log1p(-gap) + rng.normal(0.0, 6e-4, shape)
    close = 30_000.0 * np.exp(np.cumsum(steps, axis=0))
    open_ = np.vstack([close[:1], close[:-1] * (1.0 - gap[1:])])
    high = np.maximum(open_, close) * (1.0 + rng.exponential(4e-4, shape))
    low = np.minimum(open_, close) * (1.0 - rng.exponential(4e-4, shape))
    side = np.asarray(sides, dtype=np.int8)[rng.integers(0, len(sides), shape)]
    signal = np.where(rng.random(shape) < density, side, 0).astype(np.int8)
    signal[-horizon:] = 0
    return Market(open_, high, low, close, signal)


@dataclass(frozen=True)
class Trades:
    """Closed trades sorted by (symbol, entry bar); prices per unit, ``pnl`` in cash net of fees."""

    symbol: np.ndarray
    entry_bar: np.ndarray
    exit_bar: np.ndarray
    is_long: np.ndarray
    entry_price: np.ndarray
    exit_price: np.ndarray
    pnl: np.ndarray
    net: float

    def __len__(self) -> int:
        return int(self.symbol.size)


# --------------------------------------------------------------------------------------------- ours
def our_trades(replay: Replay, *, plan: PlanParams, horizon: int, cooldown_minutes: int, fee_bps: float,
               notional: float, walk_first: bool = True) -> tuple[Trades, int]:
    """The trades of the signals and the number of them whose exit bar touched both stop and target.

    ``fixed_outcomes`` gives a signal row its exit time and gross edge; a signal is kept only when its symbol
    is free (the previous kept entry + its time to exit + the cooldown). ``walk_first`` walks the signals and
    evaluates only those it keeps (``_walk_first``); otherwise every signal is evaluated, then the PM's
    ``overlap_walk`` keeps them, as the pipeline does with its label tables. A trade's P&L is
    ``notional * (gross_edge_bps - fee_bps) / 1e4`` and its exit price the one its gross edge books.
    A signal whose ``horizon`` window leaves its symbol's bars, and a kept trade that reaches the horizon,
    are refused (vectorbt has no time exit).
    """
    rows = _signal_rows(replay, horizon)
    is_long = replay.signal[rows] > 0
    flags, times = np.zeros((4, rows.size), dtype=np.int8), np.zeros((3, rows.size), dtype=np.int64)
    gross, future_return = np.empty(rows.size), np.empty(rows.size)
    prices = (replay.open, replay.high, replay.low, replay.close, horizon, plan.target_bps, plan.stop_bps,
              plan.stop_fill_excess_share, plan.stop_slippage_allowance_bps)
    outputs = (flags, times, gross, future_return)
    cooldown_ms = cooldown_minutes * MINUTE_MS
    if walk_first:
        kept = _walk_first(rows, is_long, replay.symbol, replay.open_time_ms, *prices, cooldown_ms, *outputs)
    else:
        for side in (True, False):
            dest = np.flatnonzero(is_long == side)
            fixed_outcomes(rows[dest], dest, *prices, side, *outputs)
        kept = overlap_walk(replay.symbol[rows], replay.open_time_ms[rows] * 1_000_000, np.arange(rows.size),
                            np.zeros(rows.size), times[2].astype(np.float64), float(horizon * MINUTE_MS),
                            float(cooldown_ms))
    if flags[2][kept].any():
        raise ValueError(f"a trade reached the {horizon}-minute horizon: vectorbt has no time exit")
    entry_rows, edge, long_ = rows[kept], gross[kept], is_long[kept]
    entry_price = replay.close[entry_rows]
    pnl = notional * (edge - fee_bps) / 10_000.0
    entry_bar = entry_rows - np.searchsorted(replay.symbol, replay.symbol[entry_rows])  # row in its symbol
    trades = Trades(replay.symbol[entry_rows], entry_bar, entry_bar + times[2][kept] // MINUTE_MS, long_, entry_price,
                    entry_price * (1.0 + np.where(long_, edge, -edge) / 10_000.0), pnl, float(pnl.sum()))
    return trades, int(flags[3][kept].sum())


def _signal_rows(replay: Replay, horizon: int) -> np.ndarray:
    """Rows with a signal; refuses one whose window of ``horizon`` minutes leaves its symbol's contiguous bars."""
    rows = np.flatnonzero(replay.signal)
    last = rows + horizon
    whole = last < replay.close.size
    whole[whole] = ((replay.symbol[last[whole]] == replay.symbol[rows[whole]])
                    & (replay.open_time_ms[last[whole]] - replay.open_time_ms[rows[whole]] == horizon * MINUTE_MS))
    if not whole.all():
        raise ValueError(f"a signal lies within {horizon} minutes of its symbol's last bar")
    return rows


@njit(cache=True)
def _walk_first(rows: np.ndarray, is_long: np.ndarray, symbol: np.ndarray, open_time_ms: np.ndarray,
                open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, horizon: int,
                target_bps: float, stop_bps: float, share: float, allowance_bps: float, cooldown_ms: int,
                flags: np.ndarray, times: np.ndarray, gross: np.ndarray, future_return: np.ndarray) -> np.ndarray:
    """The overlap rule of ``overlap_walk`` for one signal per (symbol, minute), calling ``fixed_outcomes`` only
    for the signals it keeps: indices (into ``rows``) of the kept signals, outcomes written at those indices."""
    kept = np.empty(rows.size, dtype=np.int64)
    count, current, free_at = 0, -1, np.int64(0)
    row, dest = np.empty(1, dtype=np.int64), np.empty(1, dtype=np.int64)
    for i in range(rows.size):
        r = rows[i]
        if symbol[r] != current:
            current, free_at = symbol[r], open_time_ms[r]
        if open_time_ms[r] < free_at:
            continue
        row[0], dest[0] = r, i
        fixed_outcomes(row, dest, open_, high, low, close, horizon, target_bps, stop_bps, share, allowance_bps,
                       is_long[i], flags, times, gross, future_return)
        kept[count] = i
        count += 1
        free_at = open_time_ms[r] + times[2, i] + cooldown_ms
    return kept[:count]


def run_ours(replay: Replay, walk_first: bool = True) -> tuple[Trades, int]:
    return our_trades(replay, plan=PLAN, horizon=HORIZON, cooldown_minutes=COOLDOWN_MINUTES, fee_bps=FEE_BPS,
                      notional=NOTIONAL, walk_first=walk_first)


# --------------------------------------------------------------------------------------------- vectorbt
def vectorbt_inputs(market: Market) -> dict:
    """vectorbt's inputs, its fastest call: ``close`` as a DataFrame with a symbol per column on a naive (UTC)
    1-minute DatetimeIndex, the other arrays as numpy arrays of the same shape.

    A tz-aware index costs vectorbt 1.2.0 seconds on pandas 3: its shape checks turn the index into an object
    array of Timestamps (docs/trading.md, "Side by side with vectorbt"). DataFrames for the other inputs cost it
    their alignment.
    """
    import pandas as pd

    index = pd.to_datetime(market.open_time_ms, unit="ms")
    return {"close": pd.DataFrame(market.close, index=index, columns=list(SYMBOLS[:market.close.shape[1]])),
            "open": market.open, "high": market.high, "low": market.low, "entries": market.signal > 0,
            "short_entries": market.signal < 0}


def vectorbt_trades(inputs: dict, engine: str) -> Trades:
    """``Portfolio.from_signals`` with the neutralised settings (module docstring) and its exit trades."""
    import vectorbt as vbt
    from vectorbt.portfolio.enums import TradeDirection, TradeStatus

    pf = vbt.Portfolio.from_signals(
        inputs["close"], entries=inputs["entries"], exits=False, short_entries=inputs["short_entries"],
        short_exits=False, open=inputs["open"], high=inputs["high"], low=inputs["low"],
        sl_stop=PLAN.stop_bps / 10_000.0, tp_stop=PLAN.target_bps / 10_000.0, size=NOTIONAL, size_type="value",
        fixed_fees=NOTIONAL * FEE_BPS / 2.0 / 10_000.0, upon_opposite_entry="ignore", init_cash=1e12,
        freq="1min", engine=engine)
    records = pf.trades.values
    records = records[np.lexsort((records["entry_idx"], records["col"]))]
    if np.any(records["status"] != TradeStatus.Closed):
        raise AssertionError("vectorbt left a trade open")
    return Trades(symbol=records["col"], entry_bar=records["entry_idx"], exit_bar=records["exit_idx"],
                  is_long=records["direction"] == TradeDirection.Long, entry_price=records["entry_price"],
                  exit_price=records["exit_price"], pnl=records["pnl"], net=float(pf.total_profit().sum()))


def vectorbt_engines() -> tuple[str, ...]:
    """numba (vectorbt's default install), and rust when vectorbt-rust is installed."""
    from vectorbt._engine import is_rust_available

    return ("numba", "rust") if is_rust_available() else ("numba",)


# --------------------------------------------------------------------------------------------- checks
def assert_same_trades(ours: Trades, theirs: Trades) -> None:
    """Same trades (symbol, side, entry and exit bar exactly; prices and P&L to 1e-9) and net result."""
    if len(ours) != len(theirs):
        raise AssertionError(f"trade counts differ: ours {len(ours)}, theirs {len(theirs)}")
    for name in ("symbol", "entry_bar", "exit_bar", "is_long"):
        mismatch = np.flatnonzero(getattr(ours, name) != getattr(theirs, name))
        if mismatch.size:
            raise AssertionError(f"{name} differs first at trade {mismatch[0]} ({mismatch.size} trades)")
    for name in ("entry_price", "exit_price"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(ours.pnl, theirs.pnl, rtol=1e-9, atol=1e-6, err_msg="pnl")
    np.testing.assert_allclose(ours.net, theirs.net, rtol=1e-9, err_msg="net result")


def gapped_stops(trades: Trades, stop_bps: float) -> int:
    """Trades that left beyond their stop price (the bar opened through it)."""
    sign = np.where(trades.is_long, 1.0, -1.0)
    stop = trades.entry_price * (1.0 - sign * stop_bps / 10_000.0)
    return int(np.sum(sign * (stop - trades.exit_price) > stop * 1e-9))


def best_seconds(call: Callable[[], object], reps: int) -> float:
    """Best wall time of ``reps`` warm calls (after one untimed call)."""
    call()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


#: name -> (share of minutes with a signal, sides, share of bars gapping down)
SCENARIOS = {
    "signals_2pct": (0.02, (1, -1), 0.0),
    "signals_every_minute": (1.0, (1, -1), 0.0),
    "gaps_long_2pct": (0.02, (1,), 0.01),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    engines = vectorbt_engines()
    for seed, (name, (density, sides, gap_share)) in enumerate(SCENARIOS.items(), start=1):
        market = synthetic_market(days=args.days, n_symbols=len(SYMBOLS), seed=seed, density=density, sides=sides,
                                  gap_share=gap_share, horizon=HORIZON)
        replay, inputs = market.replay(), vectorbt_inputs(market)
        ours, ties = run_ours(replay)
        assert_same_trades(ours, run_ours(replay, walk_first=False)[0])
        theirs = {engine: vectorbt_trades(inputs, engine) for engine in engines}
        for trades in theirs.values():
            assert_same_trades(ours, trades)
        ours_s = best_seconds(lambda: run_ours(replay), args.reps)
        every_s = best_seconds(lambda: run_ours(replay, walk_first=False), args.reps)
        timings = []
        for engine in engines:
            seconds = best_seconds(lambda: vectorbt_trades(inputs, engine), args.reps)
            timings.append(f"vectorbt[{engine}] {seconds:.4f} s, ratio {seconds / ours_s:.1f} "
                           f"({seconds / every_s:.1f} against every-signal)")
        print(f"vectorbt_{name}_{len(SYMBOLS)}x{args.days}d: {len(ours)} trades ({ties} stop+target bars, "
              f"{gapped_stops(ours, PLAN.stop_bps)} gapped stops), net ours {ours.net:.2f}, vectorbt {theirs['numba'].net:.2f}; "
              f"ours {ours_s:.4f} s (every-signal {every_s:.4f} s); {'; '.join(timings)}; target ratio >= 1",
              flush=True)

if __name__ == "__main__":
    main()

"""The vectorbt benchmark's adapter (``benchmarks/bench_vectorbt.py``) against a bar-by-bar reference, without vectorbt.

The reference follows vectorbt's ``from_signals`` rules as the benchmark sets them up (its module docstring): one
position per symbol, entry at the signal bar's close, from the next bar on the stop before the target, a price
gapped through fills at the open, otherwise at the stop or target price, the exit bar's signal ignored, a fixed
notional with fixed fees per order. Both of our compositions (walk-first, every-signal + ``overlap_walk``) must
give its trades and net result.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_vectorbt import (
    Market,
    PlanParams,
    Trades,
    assert_same_trades,
    gapped_stops,
    our_trades,
    synthetic_market,
)
from trader_core.contracts.labels import FIXED_TARGET_STOP

PLAN = PlanParams(FIXED_TARGET_STOP, target_bps=8.0, stop_bps=6.0, stop_fill_excess_share=0.0)  # tight: many ties
HORIZON, FEE_BPS, NOTIONAL = 240, 4.0, 10_000.0


def reference_trades(market: Market) -> tuple[Trades, dict[str, int]]:
    """vectorbt's bar loop, per symbol; also counts the events the comparison must cover."""
    rows, events = [], {"ties": 0, "exit_bar_signals": 0, "busy_signals": 0}
    for col in range(market.close.shape[1]):
        o, h, lo, c, signal = (a[:, col] for a in (market.open, market.high, market.low, market.close, market.signal))
        side, entry_bar = 0, -1
        for i in range(c.size):
            if side:
                entry = c[entry_bar]
                stop = entry * (1.0 - side * PLAN.stop_bps / 10_000.0)
                target = entry * (1.0 + side * PLAN.target_bps / 10_000.0)
                beyond = (lambda price, level: price <= level) if side > 0 else (lambda price, level: price >= level)
                worst, best = (lo[i], h[i]) if side > 0 else (h[i], lo[i])
                exit_price = (o[i] if beyond(o[i], stop) else stop if beyond(worst, stop)
                              else o[i] if beyond(target, o[i]) else target if beyond(target, best) else None)
                if exit_price is not None:
                    events["ties"] += int(beyond(worst, stop) and beyond(target, best))
                    events["exit_bar_signals"] += int(signal[i] != 0)
                    pnl = NOTIONAL * side * (exit_price / entry - 1.0) - NOTIONAL * FEE_BPS / 10_000.0
                    rows.append((col, entry_bar, i, side > 0, entry, exit_price, pnl))
                    side = 0
                    continue
                events["busy_signals"] += int(signal[i] != 0)
            elif signal[i]:
                side, entry_bar = int(signal[i]), i
        assert side == 0, "the reference left a trade open"
    columns = [np.array(values) for values in zip(*rows)]
    return Trades(*columns, net=float(columns[-1].sum())), events


@pytest.mark.parametrize(("sides", "gap_share"), [((1, -1), 0.0), ((1,), 0.05)], ids=["both-sides", "long-gaps"])
@pytest.mark.parametrize("walk_first", [True, False], ids=["walk-first", "every-signal"])
def test_adapter_gives_the_reference_trades(sides: tuple[int, ...], gap_share: float, walk_first: bool) -> None:
    market = synthetic_market(days=3, n_symbols=2, seed=5, density=0.3, sides=sides, gap_share=gap_share,
                              horizon=HORIZON)
    expected, events = reference_trades(market)
    ours, ties = our_trades(market.replay(), plan=PLAN, horizon=HORIZON, cooldown_minutes=1, fee_bps=FEE_BPS,
                            notional=NOTIONAL, walk_first=walk_first)
    assert_same_trades(ours, expected)
    assert ties == events["ties"] > 0
    assert events["exit_bar_signals"] > 0 and events["busy_signals"] > 0
    if gap_share:
        assert gapped_stops(ours, PLAN.stop_bps) > 0
    else:
        assert set(expected.is_long) == {True, False}


def test_adapter_refuses_a_signal_without_a_whole_window() -> None:
    market = synthetic_market(days=1, n_symbols=2, seed=5, density=0.0, sides=(1,), gap_share=0.0, horizon=HORIZON)
    market.signal[-HORIZON, 0] = 1
    with pytest.raises(ValueError, match="within 240 minutes"):
        our_trades(market.replay(), plan=PLAN, horizon=HORIZON, cooldown_minutes=1, fee_bps=FEE_BPS, notional=NOTIONAL)

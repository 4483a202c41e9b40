"""Stop fills that do not flatter (docs/labels.md "Stop fills"): worked cases by hand.

A stop fills at the worse of its price and the bar's open, then ``stop_fill_excess_share`` of the bar's
extreme beyond that fill by more than ``stop_slippage_allowance_bps``; targets fill at the target. The kernels
are checked against a slow reference over random bars in tests/core/test_path_stats.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader_core.config import CostConfig, EntryLabelConfig, LabelConfig
from trader_core.contracts.labels import DYNAMIC_TRAILING, FIXED_TARGET_STOP
from trader_core.errors import ConfigError
from trader_core.labels.path_stats import PlanParams, compute_path_stats
from trader_core.labels.price_plan import build_price_plan, plan_params
from trader_core.market.synthetic import SyntheticMarketConfig, generate_synthetic_market, regime_schedule

MIN = 60_000


def bars(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    """A one-symbol replay from (open, high, low, close) rows on a contiguous minute grid."""
    o, h, lo, c = (np.array(x, dtype=float) for x in zip(*rows))
    return pd.DataFrame({"symbol": "BTC-USDT-PERP", "open_time_ms": np.arange(len(rows), dtype=np.int64) * MIN,
                         "open": o, "high": h, "low": lo, "close": c, "spread_bps": 1.0})


def first_row(replay: pd.DataFrame, plan: PlanParams, side: str, horizon: int) -> pd.Series:
    return compute_path_stats(replay, horizon=horizon, plan=plan, sides=(side,)).iloc[0]


# A long entered at 100, then a crash bar that opens 4 % lower (a gap) and trades down to 92 inside the bar.
CRASH = bars([(100.0, 100.0, 100.0, 100.0), (96.0, 96.1, 92.0, 93.5), (93.5, 94.0, 93.0, 93.8)])


@pytest.mark.parametrize("method", [FIXED_TARGET_STOP, DYNAMIC_TRAILING])
@pytest.mark.parametrize(("share", "allowance", "fill"), [
    (0.0, 10.0, 96.0),  # the gap alone: the open
    (0.5, 10.0, 96.0 - 0.5 * (96.0 * (1 - 10 / 1e4) - 92.0)),  # = 94.048
    (1.0, 0.0, 92.0),  # all of the excess: the bar's low
])
def test_long_held_over_a_crash_books_the_gap_and_a_share_of_the_excess(method, share, allowance, fill):
    plan = PlanParams(method, 40.0, 20.0, trailing_stop_bps=25.0, stop_fill_excess_share=share,
                      stop_slippage_allowance_bps=allowance)
    row = first_row(CRASH, plan, "LONG", 2)
    assert (row["stop_hit"], row["time_to_exit_ms"]) == (1, MIN)
    assert row["gross_edge_bps"] == pytest.approx((fill / 100.0 - 1.0) * 1e4, abs=1e-9)
    assert row["gross_edge_bps"] <= -400.0  # at least the gap, never the -20 of the stop price


def test_the_default_share_books_the_crash_at_about_595_bps():
    row = first_row(CRASH, PlanParams(FIXED_TARGET_STOP, 40.0, 20.0), "LONG", 2)
    assert row["gross_edge_bps"] == pytest.approx(-595.2, abs=1e-9)  # fill 96 - 0.5 x (95.904 - 92) = 94.048


def test_the_short_takes_its_target_and_not_the_open_beyond_it():
    plan = PlanParams(FIXED_TARGET_STOP, 40.0, 20.0)
    row = first_row(CRASH, plan, "SHORT", 2)
    assert (row["target_hit"], row["gross_edge_bps"]) == (1, 40.0)  # the bar opened 400 bps beyond the target


def test_long_held_over_the_synthetic_crash():
    """The synthetic crash bar gaps at its open, so the long entered at the close before it books the gap
    and half of the low's excess beyond the open (default fills), here computed from that bar by hand."""
    cfg = SyntheticMarketConfig(symbols=("ETH-USDT-PERP",), days=1, seed=3, depth_levels=1)
    tables = generate_synthetic_market(cfg)["bars"]
    tc = int(regime_schedule(cfg).query("crash").index[0])
    window = tables.iloc[tc - 1:tc + 2]
    replay = bars(list(window[["open", "high", "low", "close"]].itertuples(index=False, name=None)))
    entry, crash = window.iloc[0], window.iloc[1]
    fill = crash["open"] - 0.5 * (crash["open"] * (1 - 10 / 1e4) - crash["low"])
    row = first_row(replay, PlanParams(FIXED_TARGET_STOP, 40.0, 20.0), "LONG", 2)
    assert row["gross_edge_bps"] == pytest.approx((fill / entry["close"] - 1) * 1e4, rel=1e-12)
    assert row["gross_edge_bps"] < (crash["open"] / entry["close"] - 1) * 1e4 < -100.0


@pytest.mark.parametrize(("trail", "stop_kind"), [(20.0, "trailing"), (100.0, "break-even")])
def test_dynamic_trailing_and_breakeven_stops_gap_through_at_the_open(trail, stop_kind):
    """Bar 1 takes the first target (+0.5 x 10) and marks 100.5; bar 2 opens at 99, below the stop (trailing
    100.5 x (1 - trail) = 100.299, or break-even 100 when the trail is wider): the rest fills at 99."""
    replay = bars([(100.0, 100.0, 100.0, 100.0), (100.0, 100.5, 100.0, 100.4), (99.0, 99.1, 98.95, 99.05)])
    plan = PlanParams(DYNAMIC_TRAILING, 10.0, 20.0, second_target_bps=60.0, trailing_stop_bps=trail)
    row = first_row(replay, plan, "LONG", 2)
    assert (row["target_hit"], row["stop_hit"], row["time_to_stop_ms"]) == (1, 0, 2 * MIN)
    assert row["gross_edge_bps"] == pytest.approx(5.0 + 0.5 * (99.0 / 100.0 - 1.0) * 1e4, abs=1e-9), stop_kind


def test_short_trailing_stop_gap_with_excess():
    """Mirror image: the first target at 99.9, low-water 99.5, trailing stop 99.5 x 1.002 = 99.699 (below the
    break-even 100); bar 2 opens at 101 and trades to 102: fill 101 + 0.5 x (102 - 101 x 1.001) = 101.4495."""
    replay = bars([(100.0, 100.0, 100.0, 100.0), (100.0, 100.0, 99.5, 99.6), (101.0, 102.0, 100.9, 101.5)])
    plan = PlanParams(DYNAMIC_TRAILING, 10.0, 20.0, second_target_bps=60.0, trailing_stop_bps=20.0)
    row = first_row(replay, plan, "SHORT", 2)
    assert row["gross_edge_bps"] == pytest.approx(5.0 + 0.5 * (100.0 / 101.4495 - 1.0) * 1e4, abs=1e-9)


@pytest.mark.parametrize("method", [FIXED_TARGET_STOP, DYNAMIC_TRAILING])
def test_targets_never_fill_better_than_the_target_on_a_gap(method):
    """Bar 1 opens at 101, beyond both targets (40 and 80 bps): the takes book 40 and 80, not the open's 100."""
    replay = bars([(100.0, 100.0, 100.0, 100.0), (101.0, 101.2, 100.9, 101.1), (101.1, 101.2, 101.0, 101.1)])
    plan = PlanParams(method, 40.0, 20.0, second_target_bps=80.0, trailing_stop_bps=25.0)
    row = first_row(replay, plan, "LONG", 1)
    expected = 40.0 if method == FIXED_TARGET_STOP else 0.5 * 40.0 + 0.25 * 80.0 + 0.25 * 110.0
    assert row["target_hit"] == 1
    assert row["gross_edge_bps"] == pytest.approx(expected, abs=1e-9)


def test_fixed_short_stop_is_never_booked_better_than_minus_s():
    """A short's return at its stop is -S / (1 + S/1e4) = -19.96 for S = 20: a fill just beyond the stop
    (an open at 100.2002) still books -20; a fill further out books its own, worse, return."""
    plan = PlanParams(FIXED_TARGET_STOP, 40.0, 20.0, stop_fill_excess_share=0.0)
    near = bars([(100.0, 100.0, 100.0, 100.0), (100.2002, 100.21, 100.2, 100.2), (100.2, 100.2, 100.2, 100.2)])
    far = near.assign(open=[100.0, 100.5, 100.2], high=[100.0, 100.5, 100.2])
    assert first_row(near, plan, "SHORT", 1)["gross_edge_bps"] == -20.0
    assert first_row(far, plan, "SHORT", 1)["gross_edge_bps"] == pytest.approx((100 / 100.5 - 1) * 1e4, abs=1e-9)


def test_overshoot_within_the_allowance_fills_at_the_stop():
    """The bar trades 9 bps beyond the stop, inside the 10 bps allowance: exactly -S, any share."""
    stop = 100.0 * (1 - 20 / 1e4)
    replay = bars([(100.0, 100.0, 100.0, 100.0), (100.0, 100.0, stop * (1 - 9 / 1e4), 99.9),
                   (99.9, 99.9, 99.9, 99.9)])
    row = first_row(replay, PlanParams(FIXED_TARGET_STOP, 40.0, 20.0, stop_fill_excess_share=1.0), "LONG", 1)
    assert row["gross_edge_bps"] == -20.0


# --------------------------------------------------------- share 0 keeps the original formulation's numbers
@st.composite
def flat_open_market(draw) -> pd.DataFrame:
    """Random bars that open at the previous close (no gap between bars), with wicks up to ~40 bps."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(2, 60))
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 5e-4, n)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(open_, close) * (1.0 + rng.exponential(8e-4, n))
    low = np.minimum(open_, close) * (1.0 - rng.exponential(8e-4, n))
    return bars(list(zip(open_, high, low, close)))


def _seed_fixed_gross(replay: pd.DataFrame, horizon: int, target_bps: float, stop_bps: float) -> np.ndarray:
    """The original FIXED_TARGET_STOP_V1 gross edge per LONG start row: +T, -S (stop wins a tie) or the timeout."""
    c, h, lo = (replay[k].to_numpy() for k in ("close", "high", "low"))
    out = []
    for t in range(len(c) - horizon):
        target, stop = c[t] * (1 + target_bps / 1e4), c[t] * (1 - stop_bps / 1e4)
        gross = (c[t + horizon] / c[t] - 1) * 1e4
        for k in range(t + 1, t + horizon + 1):
            if lo[k] <= stop or h[k] >= target:
                gross = -stop_bps if lo[k] <= stop else target_bps
                break
        out.append(gross)
    return np.array(out)


@settings(max_examples=60, deadline=None)
@given(replay=flat_open_market(), horizon=st.integers(1, 8), stop=st.sampled_from([5.0, 10.0, 20.0]))
def test_share_zero_without_gaps_reproduces_the_seed_fixed_plan(replay, horizon, stop):
    """A bar that opens at the previous close never opens beyond a fixed stop that was not yet touched."""
    plan = PlanParams(FIXED_TARGET_STOP, 15.0, stop, stop_fill_excess_share=0.0)
    ours = compute_path_stats(replay, horizon=horizon, plan=plan, sides=("LONG",))["gross_edge_bps"].to_numpy()
    np.testing.assert_array_equal(ours, _seed_fixed_gross(replay, horizon, 15.0, stop))


# ------------------------------------------------------------------ config and price plan
def test_entry_config_validates_the_fill_fields():
    for entry, key in ((EntryLabelConfig(stop_fill_excess_share=1.5), "stop_fill_excess_share"),
                       (EntryLabelConfig(stop_fill_excess_share=-0.1), "stop_fill_excess_share"),
                       (EntryLabelConfig(stop_slippage_allowance_bps=-1.0), "stop_slippage_allowance_bps")):
        with pytest.raises(ConfigError, match=key):
            LabelConfig(entry=entry)


def test_price_plan_carries_the_fill_fields_to_the_path_stats():
    entry = EntryLabelConfig(stop_fill_excess_share=0.25, stop_slippage_allowance_bps=4.0)
    plan = build_price_plan(entry, CostConfig())
    assert (plan.stop_fill_excess_share, plan.stop_slippage_allowance_bps) == (0.25, 4.0)
    assert (plan.to_json()["stopFillExcessShare"], plan.to_json()["stopSlippageAllowanceBps"]) == (0.25, 4.0)
    params = plan_params(plan)
    assert (params.stop_fill_excess_share, params.stop_slippage_allowance_bps) == (0.25, 4.0)
    row = plan.to_frame().iloc[0]
    assert (row["stop_fill_excess_share"], row["stop_slippage_allowance_bps"]) == (0.25, 4.0)
    assert plan.price_plan_config_hash != build_price_plan(EntryLabelConfig(), CostConfig()).price_plan_config_hash

"""Path statistics (docs/labels.md, "Path statistics"): the worked cases, the worked dynamic example, validity
rules, and the numba kernels against a slow per-row reference that follows the documented rules literally, plus
the stop fills of docs/labels.md (gap-through at the open, a share of the excess); tests/core/test_stop_fills.py
has worked cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader_core.config import EntryLabelConfig
from trader_core.contracts.labels import DYNAMIC_TRAILING, FIXED_TARGET_STOP, PATH_STAT_COLUMNS
from trader_core.errors import DataContractError
from trader_core.labels.path_stats import PlanParams, compute_path_stats, fill_path_stats, prepare_path_windows
from trader_core.labels.window_stats import window_stats

MIN = 60_000
INT_COLUMNS = ("open_time_ms", "target_hit", "stop_hit", "timeout_hit", "ambiguous_hit",
               "time_to_target_ms", "time_to_stop_ms", "time_to_exit_ms")
FLOAT_COLUMNS = ("gross_edge_bps", "future_return_bps", "mfe_bps", "mae_bps", "future_spread_p80",
                 "future_realized_vol_bps")
STOP_PRICE_FILLS = {"stop_fill_excess_share": 0.0}  # the worked cases: a stop fills at the stop unless the bar gaps


def _replay(close, high=None, low=None, *, symbol="BTC-USDT-PERP", minutes=None, spread=None,
            open_=None) -> pd.DataFrame:
    """A replay; without ``open_`` it has no ``open`` column (bars then open at the previous close)."""
    n = len(close)
    minutes = np.arange(n) if minutes is None else np.asarray(minutes)
    frame = pd.DataFrame({
        "symbol": symbol,
        "open_time_ms": minutes.astype(np.int64) * MIN,
        "high": np.asarray(close if high is None else high, dtype=float),
        "low": np.asarray(close if low is None else low, dtype=float),
        "close": np.asarray(close, dtype=float),
        "spread_bps": np.ones(n) if spread is None else np.asarray(spread, dtype=float),
    })
    return frame if open_ is None else frame.assign(open=np.asarray(open_, dtype=float))


# ---------------------------------------------------------------------------------- slow reference
def _reference_stop_fill(stop: float, bar_open: float, hi: float, lo: float, plan: PlanParams, is_long: bool) -> float:
    """docs/labels.md "Stop fills", literally: gap-through at the open, then a share of the excess."""
    share, allowance = plan.stop_fill_excess_share, plan.stop_slippage_allowance_bps / 10000.0
    if is_long:
        fill = bar_open if bar_open < stop else stop
        excess = fill * (1.0 - allowance) - lo
        return fill - share * excess if excess > 0 else fill
    fill = bar_open if bar_open > stop else stop
    excess = hi - fill * (1.0 + allowance)
    return fill + share * excess if excess > 0 else fill


def _reference_fixed(entry: float, exit_ret: float, os_, hs, ls, horizon: int, plan: PlanParams,
                     is_long: bool) -> dict:
    """FIXED_TARGET_STOP_V1, computed the original way (first-hit index per barrier), with stop fills."""
    t_bps, s_bps = plan.target_bps, plan.stop_bps
    if is_long:
        target, stop = entry * (1.0 + t_bps / 10000.0), entry * (1.0 - s_bps / 10000.0)
        target_hits, stop_hits = [x >= target for x in hs], [x <= stop for x in ls]
    else:
        target, stop = entry * (1.0 - t_bps / 10000.0), entry * (1.0 + s_bps / 10000.0)
        target_hits, stop_hits = [x <= target for x in ls], [x >= stop for x in hs]
    first_target = target_hits.index(True) if any(target_hits) else horizon
    first_stop = stop_hits.index(True) if any(stop_hits) else horizon
    stop_hit = any(stop_hits) and first_stop <= first_target
    target_hit = any(target_hits) and first_target < first_stop
    stop_gross = -s_bps
    if stop_hit:
        k = first_stop
        fill = _reference_stop_fill(stop, os_[k], hs[k], ls[k], plan, is_long)
        fill_ret = (fill / entry - 1.0) * 10000.0 if is_long else (entry / fill - 1.0) * 10000.0
        stop_gross = -s_bps if fill == stop else min(-s_bps, fill_ret)
    return {
        "target_hit": int(target_hit), "stop_hit": int(stop_hit), "timeout_hit": int(not (target_hit or stop_hit)),
        "ambiguous_hit": int(any(target_hits) and any(stop_hits) and first_target == first_stop),
        "time_to_target_ms": (first_target + 1) * MIN if target_hit else -1,
        "time_to_stop_ms": (first_stop + 1) * MIN if stop_hit else -1,
        "time_to_exit_ms": (first_target + 1) * MIN if target_hit else ((first_stop + 1) * MIN if stop_hit
                                                                        else horizon * MIN),
        "gross_edge_bps": t_bps if target_hit else (stop_gross if stop_hit else exit_ret),
    }


def _reference_dynamic(entry: float, exit_ret: float, os_, hs, ls, horizon: int, plan: PlanParams,
                       is_long: bool) -> dict:
    """DYNAMIC_TRAILING_V1 (docs/labels.md), one bar at a time, without early exit, with stop fills."""
    t_bps, s_bps, t2, trail = plan.target_bps, plan.stop_bps, plan.second_target_bps, plan.trailing_stop_bps
    r1, r2 = plan.partial_take_1_ratio, plan.partial_take_2_ratio
    active, remaining, gross = True, 1.0, 0.0
    first_done = second_done = bad_stop = trailing_exit = False
    mark, exit_idx, first_idx, stop_idx = entry, horizon, horizon + 1, horizon + 1
    for k in range(horizon):
        hi, lo = hs[k], ls[k]
        if is_long:
            trailing = mark * (1.0 - trail / 10000.0)
            if plan.breakeven_after_first_target:
                trailing = max(trailing, entry)
            stop = trailing if first_done else entry * (1.0 - s_bps / 10000.0)
            fill = _reference_stop_fill(stop, os_[k], hi, lo, plan, is_long)
            stop_now, stop_ret = lo <= stop, (fill / entry - 1.0) * 10000.0
            first_now, second_now = hi >= entry * (1.0 + t_bps / 10000.0), hi >= entry * (1.0 + t2 / 10000.0)
        else:
            trailing = mark * (1.0 + trail / 10000.0)
            if plan.breakeven_after_first_target:
                trailing = min(trailing, entry)
            stop = trailing if first_done else entry * (1.0 + s_bps / 10000.0)
            fill = _reference_stop_fill(stop, os_[k], hi, lo, plan, is_long)
            stop_now, stop_ret = hi >= stop, (entry / fill - 1.0) * 10000.0
            first_now, second_now = lo <= entry * (1.0 - t_bps / 10000.0), lo <= entry * (1.0 - t2 / 10000.0)
        if active and stop_now:
            gross += remaining * stop_ret
            trailing_exit, bad_stop = (True, bad_stop) if first_done else (trailing_exit, True)
            stop_idx = exit_idx = k
            remaining, active = 0.0, False
        if active and not first_done and first_now:
            gross += r1 * t_bps
            remaining -= r1
            first_done, first_idx = True, k
        if active and first_done and not second_done and second_now:
            gross += r2 * t2
            remaining -= r2
            second_done = True
        mark = max(mark, hi) if is_long else min(mark, lo)
    if active:
        gross += remaining * exit_ret
        exit_idx = horizon - 1
    return {
        "target_hit": int(first_done), "stop_hit": int(bad_stop), "timeout_hit": int(active), "ambiguous_hit": 0,
        "time_to_target_ms": (first_idx + 1) * MIN if first_done else -1,
        "time_to_stop_ms": (stop_idx + 1) * MIN if (bad_stop or trailing_exit) else -1,
        "time_to_exit_ms": (exit_idx + 1) * MIN,
        "gross_edge_bps": gross,
    }


def _reference_valid(g: pd.DataFrame, splits, t: int, horizon: int) -> bool:
    if t + horizon >= len(g):
        return False
    window = g.iloc[t + 1:t + horizon + 1]
    if g["open_time_ms"].iloc[t + horizon] - g["open_time_ms"].iloc[t] != horizon * MIN:
        return False
    prices = window[["bar_open", "high", "low", "close"]].to_numpy()
    if not np.isfinite(g["close"].iloc[t]) or not np.isfinite(prices).all():
        return False
    return splits is None or len(set(splits[t:t + horizon + 1])) == 1


def reference_path_stats(replay: pd.DataFrame, horizon: int, plan: PlanParams, split_ids=None) -> pd.DataFrame:
    """Slow per-row loop over symbols (sorted), sides and start rows, following docs/labels.md literally.

    Without an ``open`` column a bar opens at the previous close of its symbol.
    """
    rows = []
    for symbol, g in replay.groupby("symbol", sort=True):
        g = g.reset_index()
        g["bar_open"] = g["open"] if "open" in g else g["close"].shift(1)
        splits = None if split_ids is None else list(np.asarray(split_ids)[g["index"].to_numpy()])
        for side in ("LONG", "SHORT"):
            is_long = side == "LONG"
            for t in range(len(g)):
                if not _reference_valid(g, splits, t, horizon):
                    continue
                entry, exit_price = g["close"].iloc[t], g["close"].iloc[t + horizon]
                os_ = list(g["bar_open"].iloc[t + 1:t + horizon + 1])
                hs = list(g["high"].iloc[t + 1:t + horizon + 1])
                ls = list(g["low"].iloc[t + 1:t + horizon + 1])
                closes = g["close"].iloc[t:t + horizon + 1].to_numpy()
                spreads = g["spread_bps"].iloc[t + 1:t + horizon + 1].to_numpy()
                exit_ret = (exit_price / entry - 1.0) * 1e4 if is_long else (entry / exit_price - 1.0) * 1e4
                up, down = (max(hs) / entry - 1.0) * 1e4, (entry / min(ls) - 1.0) * 1e4
                if plan.method == FIXED_TARGET_STOP:
                    outcome = _reference_fixed(entry, exit_ret, os_, hs, ls, horizon, plan, is_long)
                else:
                    outcome = _reference_dynamic(entry, exit_ret, os_, hs, ls, horizon, plan, is_long)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    p80 = float(np.nanquantile(spreads, 0.8))
                    vol = float(np.std(np.log(closes[1:] / closes[:-1]), ddof=1) * 1e4) if horizon > 1 else np.nan
                rows.append({
                    "symbol": symbol, "open_time_ms": int(g["open_time_ms"].iloc[t]), "side": side, **outcome,
                    "future_return_bps": exit_ret,
                    "mfe_bps": max(up if is_long else down, 0.0), "mae_bps": max(down if is_long else up, 0.0),
                    "future_spread_p80": p80, "future_realized_vol_bps": vol,
                })
    return pd.DataFrame(rows, columns=list(PATH_STAT_COLUMNS))


def assert_same_stats(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(ours.columns) == list(PATH_STAT_COLUMNS)
    assert len(ours) == len(ref)
    assert ours["symbol"].tolist() == ref["symbol"].tolist()
    assert ours["side"].tolist() == ref["side"].tolist()
    for column in INT_COLUMNS:
        np.testing.assert_array_equal(ours[column].to_numpy(), ref[column].to_numpy().astype(np.int64), err_msg=column)
    for column in FLOAT_COLUMNS:
        np.testing.assert_allclose(ours[column].to_numpy(), ref[column].to_numpy(dtype=float),
                                   rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=column)


# -------------------------------------------------------------------------------- worked cases
def test_excursions_are_never_negative():
    replay = _replay([100.0, 101.0, 102.0, 103.0])
    stats = compute_path_stats(replay, horizon=2, plan=PlanParams(FIXED_TARGET_STOP, 500.0, 500.0))
    assert (stats["mae_bps"] >= 0).all() and (stats["mfe_bps"] >= 0).all()
    long, short = stats[stats["side"] == "LONG"], stats[stats["side"] == "SHORT"]
    assert len(long) == len(short) == 2
    assert (long["mae_bps"] == 0).all() and (short["mfe_bps"] == 0).all()
    assert (long["mfe_bps"] > 0).all() and (short["mae_bps"] > 0).all()


@pytest.mark.parametrize("fills", [STOP_PRICE_FILLS, {}], ids=["share_0", "default_fills"])
def test_long_stop_on_the_second_future_bar(fills):
    """The bar overshoots the stop by 2 bps, inside the default 10 bps allowance: -8 under either fill setting."""
    replay = _replay([100.0] * 5, low=[100.0, 99.95, 99.90, 100.0, 100.0])
    stats = compute_path_stats(replay, horizon=3, plan=PlanParams(FIXED_TARGET_STOP, 12.0, 8.0, **fills),
                               sides=("LONG",))
    first = stats.iloc[0]
    assert first["open_time_ms"] == 0
    assert first["stop_hit"] == 1 and first["target_hit"] == 0 and first["timeout_hit"] == 0
    assert first["time_to_stop_ms"] == 120_000 and first["time_to_exit_ms"] == 120_000
    assert first["gross_edge_bps"] == pytest.approx(-8.0)


WORKED_CLOSE = [100, 100.10, 100.18, 100.20, 100.20, 100.20, 100.20]
WORKED_HIGH = [100, 100.12, 100.22, 100.24, 100.24, 100.24, 100.24]
WORKED_PLAN = PlanParams(DYNAMIC_TRAILING, 10.0, 5.0, partial_take_1_ratio=0.5, partial_take_2_ratio=0.25,
                         second_target_bps=20.0, trailing_stop_bps=4.0, **STOP_PRICE_FILLS)


def test_worked_dynamic_example():
    """The example was worked without opens; these open no bar beyond its stop (bar 5 opens at its low, below
    the SHORT trailing stop of row 3), so its numbers hold exactly."""
    replay = _replay(WORKED_CLOSE, high=WORKED_HIGH, low=[100.0] * 7,
                     open_=[100, 100, 100.10, 100.18, 100.20, 100.0, 100.20])
    stats = compute_path_stats(replay, horizon=3, plan=WORKED_PLAN)
    long, short = stats[stats["side"] == "LONG"], stats[stats["side"] == "SHORT"]
    assert long["open_time_ms"].tolist() == short["open_time_ms"].tolist() == [0, MIN, 2 * MIN, 3 * MIN]
    row0 = long.iloc[0]
    assert round(row0["gross_edge_bps"], 4) == 8.9976
    assert (row0["time_to_exit_ms"], row0["target_hit"], row0["stop_hit"]) == (120_000, 1, 0)
    np.testing.assert_allclose(long["gross_edge_bps"].iloc[1:], -5.0)
    assert (long["stop_hit"].iloc[1:] == 1).all()
    np.testing.assert_allclose(short["gross_edge_bps"].iloc[:3].round(4), -4.9975)
    assert round(short["gross_edge_bps"].iloc[3], 4) == 12.9968
    assert short["target_hit"].iloc[3] == 1 and short["stop_hit"].iloc[3] == 0
    assert (stats["ambiguous_hit"] == 0).all()


def test_worked_example_with_bars_opening_at_the_previous_close():
    """Row 3 SHORT: bar 4 closes at 100.20, above the trailing stop min(100 x 1.0004, 100.20) = 100.04 that
    bar 5 checks, so bar 5 opens beyond it and the rest (0.5) fills at that open, 100.20: 5 + 0.5 x 0."""
    replay = _replay(WORKED_CLOSE, high=WORKED_HIGH, low=[100.0] * 7)
    stats = compute_path_stats(replay, horizon=3, plan=WORKED_PLAN)
    long, short = stats[stats["side"] == "LONG"], stats[stats["side"] == "SHORT"]
    assert short["gross_edge_bps"].iloc[3] == 5.0
    assert round(long["gross_edge_bps"].iloc[0], 4) == 8.9976  # bar 2 opens at 100.10, above its stop 100.07995
    np.testing.assert_allclose(short["gross_edge_bps"].iloc[:3].round(4), -4.9975)


def test_fixed_tie_goes_to_the_stop_and_is_ambiguous():
    replay = _replay([100.0] * 3, high=[100.0, 100.2, 100.0], low=[100.0, 99.8, 100.0])
    stats = compute_path_stats(replay, horizon=2, plan=PlanParams(FIXED_TARGET_STOP, 10.0, 10.0, **STOP_PRICE_FILLS),
                               sides=("LONG",))
    row = stats.iloc[0]
    assert (row["stop_hit"], row["target_hit"], row["ambiguous_hit"]) == (1, 0, 1)
    assert (row["time_to_stop_ms"], row["time_to_target_ms"], row["gross_edge_bps"]) == (MIN, -1, -10.0)


def test_output_dtypes_and_order():
    replay = pd.concat([_replay([100.0, 100.1, 100.2, 100.3], symbol=s) for s in ("A", "B")], ignore_index=True)
    stats = compute_path_stats(replay, horizon=2, plan=PlanParams(FIXED_TARGET_STOP, 5.0, 5.0))
    assert list(zip(stats["symbol"], stats["side"])) == [(s, side) for s in "AB" for side in ("LONG", "SHORT")
                                                         for _ in range(2)]
    assert all(stats[c].dtype == np.int8 for c in ("target_hit", "stop_hit", "timeout_hit", "ambiguous_hit"))
    assert all(stats[c].dtype == np.int64 for c in ("open_time_ms", "time_to_target_ms", "time_to_stop_ms",
                                                    "time_to_exit_ms"))
    assert all(stats[c].dtype == np.float64 for c in FLOAT_COLUMNS)
    assert pd.api.types.is_string_dtype(stats["symbol"]) and pd.api.types.is_string_dtype(stats["side"])


# ---------------------------------------------------------------------------------- validity
def test_gap_inside_the_window_drops_the_row():
    replay = _replay([100.0] * 6, minutes=[0, 1, 2, 4, 5, 6])
    stats = compute_path_stats(replay, horizon=2, plan=PlanParams(FIXED_TARGET_STOP, 5.0, 5.0), sides=("LONG",))
    assert stats["open_time_ms"].tolist() == [0, 4 * MIN]


def test_split_change_drops_the_row():
    replay = _replay([100.0] * 6)
    stats = compute_path_stats(replay, horizon=2, plan=PlanParams(FIXED_TARGET_STOP, 5.0, 5.0), sides=("LONG",),
                               split_ids=np.array(["fit", "fit", "fit", "tune", "tune", "tune"]))
    assert stats["open_time_ms"].tolist() == [0, 3 * MIN]


@pytest.mark.parametrize("column", ["high", "open"])
def test_non_finite_price_in_the_window_drops_the_row(column):
    replay = _replay([100.0] * 5, open_=[100.0] * 5)
    replay.loc[2, column] = np.nan
    stats = compute_path_stats(replay, horizon=1, plan=PlanParams(FIXED_TARGET_STOP, 5.0, 5.0), sides=("LONG",))
    assert stats["open_time_ms"].tolist() == [0, 2 * MIN, 3 * MIN]


def test_short_symbols_yield_no_rows():
    replay = pd.concat([_replay([100.0, 100.1, 100.2], symbol="A"), _replay([100.0, 100.1], symbol="B")],
                       ignore_index=True)
    stats = compute_path_stats(replay, horizon=2, plan=PlanParams(FIXED_TARGET_STOP, 5.0, 5.0))
    assert set(stats["symbol"]) == {"A"} and len(stats) == 2
    empty = compute_path_stats(replay, horizon=5, plan=PlanParams(DYNAMIC_TRAILING, 5.0, 5.0))
    assert empty.empty and list(empty.columns) == list(PATH_STAT_COLUMNS)


def test_unsorted_or_duplicate_rows_are_rejected():
    plan = PlanParams(FIXED_TARGET_STOP, 5.0, 5.0)
    with pytest.raises(DataContractError, match="not strictly increasing within a symbol"):
        compute_path_stats(_replay([100.0] * 3, minutes=[0, 2, 1]), horizon=1, plan=plan)
    with pytest.raises(DataContractError, match="not strictly increasing within a symbol"):
        compute_path_stats(_replay([100.0] * 3, minutes=[0, 1, 1]), horizon=1, plan=plan)
    swapped = pd.concat([_replay([100.0] * 2, symbol="B"), _replay([100.0] * 2, symbol="A")], ignore_index=True)
    with pytest.raises(DataContractError, match="not sorted by symbol"):
        compute_path_stats(swapped, horizon=1, plan=plan)


def test_plan_params_validation_and_defaults():
    with pytest.raises(ValueError, match="TRAILING_V9"):
        PlanParams("TRAILING_V9", 10.0, 5.0)
    with pytest.raises(ValueError, match="stop_bps"):
        PlanParams(FIXED_TARGET_STOP, 10.0, 0.0)
    plan = PlanParams(DYNAMIC_TRAILING, 10.0, 5.0, partial_take_1_ratio=1.5, partial_take_2_ratio=0.3)
    assert (plan.second_target_bps, plan.trailing_stop_bps) == (20.0, 5.0)
    assert (plan.partial_take_1_ratio, plan.partial_take_2_ratio) == (1.0, 0.0)
    assert PlanParams(DYNAMIC_TRAILING, 10.0, 5.0, partial_take_1_ratio=0.8).partial_take_2_ratio == pytest.approx(0.2)
    from_config = PlanParams.from_entry_config(EntryLabelConfig(), stop_bps=6.0)
    assert (from_config.method, from_config.target_bps, from_config.stop_bps) == (FIXED_TARGET_STOP, 12.0, 6.0)
    assert (from_config.second_target_bps, from_config.trailing_stop_bps) == (24.0, 10.0)


def test_stop_fill_fields_are_validated_and_follow_the_entry_config():
    for share in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError, match="stop_fill_excess_share"):
            PlanParams(FIXED_TARGET_STOP, 10.0, 5.0, stop_fill_excess_share=share)
    for allowance in (-1.0, float("inf")):
        with pytest.raises(ValueError, match="stop_slippage_allowance_bps"):
            PlanParams(FIXED_TARGET_STOP, 10.0, 5.0, stop_slippage_allowance_bps=allowance)
    default = PlanParams(FIXED_TARGET_STOP, 10.0, 5.0)
    config = EntryLabelConfig()
    assert (default.stop_fill_excess_share, default.stop_slippage_allowance_bps) == (
        config.stop_fill_excess_share, config.stop_slippage_allowance_bps) == (0.5, 10.0)
    plan = PlanParams.from_entry_config(EntryLabelConfig(stop_fill_excess_share=0.25, stop_slippage_allowance_bps=3))
    assert (plan.stop_fill_excess_share, plan.stop_slippage_allowance_bps) == (0.25, 3.0)


# ---------------------------------------------------------------------------------- kernel vs reference
@st.composite
def markets(draw):
    """Several symbols of random walks with wicks, coarse ticks (ties), missing minutes, NaN spreads and split
    ids; bars open at the previous close or gap away from it (up to ~30 bps at the larger scale), some wicks
    are 20x long, and some replays have no ``open`` column."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    tick = draw(st.sampled_from([0.0, 0.01, 0.05]))
    scale = draw(st.sampled_from([1e-4, 8e-4]))
    with_open = draw(st.booleans())
    frames, splits = [], []
    for symbol in ("A", "B", "C")[:draw(st.integers(1, 3))]:
        n = draw(st.integers(0, 40))
        close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, scale, n)))
        gaps = np.where(rng.random(n) < 0.3, rng.normal(0.0, 4.0 * scale, n), 0.0) if with_open else 0.0
        open_ = np.roll(close, 1) * np.exp(gaps)
        wick = rng.exponential(0.6 * scale, (2, n)) * np.where(rng.random((2, n)) < 0.1, 20.0, 1.0)
        high = np.maximum(close, open_) * (1.0 + wick[0])
        low = np.minimum(close, open_) * (1.0 - wick[1])
        if tick:
            open_, close, high, low = (np.round(x / tick) * tick for x in (open_, close, high, low))
        minutes = np.cumsum(1 + (rng.random(n) < 0.05) * rng.integers(1, 4, n))
        spread = np.where(rng.random(n) < 0.2, np.nan, rng.gamma(2.0, 0.5, n))
        frame = _replay(close, high, low, symbol=symbol, minutes=minutes, spread=spread,
                        open_=open_ if with_open else None)
        frame.loc[rng.random(n) < 0.02, "close"] = np.nan
        if with_open:
            frame.loc[rng.random(n) < 0.02, "open"] = np.nan
        frames.append(frame)
        splits.append(np.cumsum(rng.random(n) < 0.08) % 2)
    return pd.concat(frames, ignore_index=True), np.concatenate(splits)


@settings(max_examples=150, deadline=None)
@given(market=markets(), horizon=st.integers(1, 6), use_splits=st.booleans(),
       method=st.sampled_from([FIXED_TARGET_STOP, DYNAMIC_TRAILING]),
       target=st.sampled_from([3.0, 5.0, 10.0, 20.0]), stop=st.sampled_from([3.0, 5.0, 10.0]),
       trail=st.sampled_from([None, 0.0, 4.0]), r1=st.sampled_from([0.5, 0.7, 1.0]), r2=st.sampled_from([0.25, 0.5]),
       breakeven=st.booleans(), share=st.sampled_from([0.0, 0.5, 1.0]), allowance=st.sampled_from([0.0, 2.0, 10.0]))
def test_kernel_matches_the_slow_reference(market, horizon, use_splits, method, target, stop, trail, r1, r2,
                                           breakeven, share, allowance):
    replay, splits = market
    plan = PlanParams(method, target, stop, partial_take_1_ratio=r1, partial_take_2_ratio=r2,
                      trailing_stop_bps=trail, breakeven_after_first_target=breakeven,
                      stop_fill_excess_share=share, stop_slippage_allowance_bps=allowance)
    split_ids = splits if use_splits else None
    ours = compute_path_stats(replay, horizon=horizon, plan=plan, split_ids=split_ids)
    assert_same_stats(ours, reference_path_stats(replay, horizon, plan, split_ids))


@settings(max_examples=60, deadline=None)
@given(market=markets(), horizon=st.integers(1, 6), use_splits=st.booleans(), sides=st.sampled_from(
    [("LONG", "SHORT"), ("SHORT",)]), target=st.sampled_from([3.0, 10.0]), stop=st.sampled_from([3.0, 5.0]))
def test_prepared_windows_serve_every_plan_of_the_horizon(market, horizon, use_splits, sides, target, stop):
    replay, splits = market
    split_ids = splits if use_splits else None
    windows = prepare_path_windows(replay, horizon=horizon, split_ids=split_ids, sides=sides)
    for plan in (PlanParams(FIXED_TARGET_STOP, target, stop), PlanParams(DYNAMIC_TRAILING, target, stop),
                 PlanParams(FIXED_TARGET_STOP, target, stop)):
        ours = fill_path_stats(windows, plan)
        fresh = compute_path_stats(replay, horizon=horizon, plan=plan, split_ids=split_ids, sides=sides)
        pd.testing.assert_frame_equal(ours, fresh, check_exact=True)
        ours.loc[:, ["mfe_bps", "open_time_ms"]] = -1  # a filled frame owns its columns: the windows stay intact


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 200), horizon=st.integers(1, 50),
       block_rows=st.integers(1, 40))
def test_window_statistics_equal_a_per_row_loop_bit_for_bit(seed, n, horizon, block_rows):
    """The blocked kernel adds each window's terms in window order, so it equals a plain loop per start row
    exactly, whatever the block size and however the start rows are spread (runs, gaps, block boundaries)."""
    rng = np.random.default_rng(seed)
    size = n + horizon
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-3, size)))
    high = close * (1.0 + rng.exponential(1e-3, size))
    low = close * (1.0 - rng.exponential(1e-3, size))
    spread = np.where(rng.random(size) < 0.2, np.nan, np.round(rng.gamma(2.0, 0.5, size), 1))  # ties and gaps
    log_ret = np.concatenate(([np.nan], np.log(close[1:] / close[:-1])))
    idx = np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False))
    up, down, p80, vol = window_stats(idx, high, low, close, spread, log_ret, horizon, block_rows)
    for i, t in enumerate(idx):
        window = slice(t + 1, t + horizon + 1)
        mean = 0.0
        for x in log_ret[window]:
            mean += x
        mean /= horizon
        squares = 0.0
        for x in log_ret[window]:
            squares += (x - mean) * (x - mean)
        spreads = spread[window][~np.isnan(spread[window])]
        assert up[i] == max((max(high[window]) / close[t] - 1.0) * 10000.0, 0.0)
        assert down[i] == max((close[t] / min(low[window]) - 1.0) * 10000.0, 0.0)
        assert np.array_equal(p80[i], np.quantile(spreads, 0.8) if spreads.size else np.nan, equal_nan=True)
        assert np.array_equal(vol[i], math.sqrt(squares / (horizon - 1)) * 10000.0 if horizon > 1 else np.nan,
                              equal_nan=True)

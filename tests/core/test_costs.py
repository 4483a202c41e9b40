"""The cost model (docs/trading.md, "Cost model"): hand-computed funding and slippage cases, the flat fallback,
and the vectorized model against a slow per-trade reference that follows the rules literally."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader_core.config import CostConfig, EntryLabelConfig
from trader_core.contracts.labels import TRADE_COST_COLUMNS
from trader_core.costs import CostModel, cost_source_summary, with_trade_costs
from trader_core.errors import DataContractError
from trader_core.labels.price_plan import build_price_plan
from trader_core.pm.frame import entry_plan_outcome_frame
from trader_core.stages.trading import cost_model_section, cost_model_sources

MIN = 60_000
HOUR = 60 * MIN
SYM = "BTC-USDT-PERP"
DAY0 = int(pd.Timestamp("2026-01-01", tz="UTC").value // 1_000_000)


def _replay(minutes, *, symbol: str = SYM, start_ms: int = DAY0, spread=1.0, book=1, funding_bps=np.nan,
            funding=0, next_funding_ms=None) -> pd.DataFrame:
    minutes = np.asarray(minutes, dtype=np.int64)
    n = minutes.size
    next_ms = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ms, UTC]") if next_funding_ms is None else \
        pd.to_datetime(np.asarray(next_funding_ms, dtype=np.int64), unit="ms", utc=True)
    return pd.DataFrame({
        "symbol": symbol, "open_time_ms": start_ms + minutes * MIN,
        "spread_bps": np.broadcast_to(np.asarray(spread, dtype=float), n).copy(),
        "book_available": np.broadcast_to(np.asarray(book, dtype=np.int64), n).copy(),
        "funding_bps": np.broadcast_to(np.asarray(funding_bps, dtype=float), n).copy(),
        "funding_available": np.broadcast_to(np.asarray(funding, dtype=np.int64), n).copy(),
        "next_funding_time": next_ms,
    })


def _hourly_funding_replay() -> pd.DataFrame:
    """5 hours of minutes; settlements every hour (announced by next_funding_time); the bar opening at
    hour h holds the rate settled at h: 1.0 before 01:00, then 2.0, -3.0, 4.0, 5.0."""
    minutes = np.arange(300)
    rates = np.array([1.0, 2.0, -3.0, 4.0, 5.0])[minutes // 60]
    return _replay(minutes, spread=0.8, funding_bps=rates, funding=1,
                   next_funding_ms=DAY0 + (minutes // 60 + 1) * HOUR)


def _costs(replay: pd.DataFrame, entry_minute: int, held_minutes: int, *, long: bool,
           config: CostConfig = CostConfig()) -> dict[str, float]:
    model = CostModel.from_replay(replay, config)
    out = model.trade_costs(symbols=[SYM], open_time_ms=np.array([DAY0 + entry_minute * MIN]),
                            is_long=np.array([long]), time_to_exit_ms=np.array([held_minutes * MIN]))
    return {name: values[0].item() for name, values in out.items()}


def test_trade_crossing_two_settlements_pays_the_settled_rates_by_side():
    replay = _hourly_funding_replay()
    # entry close 00:31, exit close 02:31: settlements 01:00 (+2.0) and 02:00 (-3.0) are crossed
    long = _costs(replay, 30, 120, long=True)
    short = _costs(replay, 30, 120, long=False)
    assert long["cost_funding_bps"] == pytest.approx(-1.0)
    assert short["cost_funding_bps"] == pytest.approx(1.0)
    assert long["cost_slippage_bps"] == pytest.approx(0.8)  # 0.4 + 0.4
    assert long["cost_bps"] == pytest.approx(4.0 + 0.8 - 1.0)
    assert short["cost_bps"] == pytest.approx(4.0 + 0.8 + 1.0)
    assert long["cost_funding_from_table"] == short["cost_funding_from_table"] == 1
    assert long["cost_spread_legs"] == 2


def test_crossing_is_entry_close_exclusive_and_exit_close_inclusive():
    replay = _hourly_funding_replay()
    # entry close exactly 01:00 (not crossed), exit close exactly 02:00 (crossed, at the rate settled then)
    long = _costs(replay, 59, 60, long=True)
    assert long["cost_funding_bps"] == pytest.approx(-3.0)


def test_trade_crossing_no_settlement_pays_no_funding():
    long = _costs(_hourly_funding_replay(), 5, 30, long=True)
    assert long["cost_funding_bps"] == 0.0
    assert long["cost_funding_from_table"] == 1
    assert long["cost_bps"] == pytest.approx(4.0 + 0.8)


def test_slippage_is_half_spread_where_a_book_exists_and_flat_per_leg_where_not():
    spread = np.full(60, 0.6)
    spread[10], spread[20] = 1.4, 3.0
    book = np.ones(60, dtype=np.int64)
    book[20] = 0  # the exit row has no book: its leg is slippage_bps / 2
    costs = _costs(_replay(np.arange(60), spread=spread, book=book), 10, 10, long=False)
    assert costs["cost_slippage_bps"] == pytest.approx(0.7 + 1.0)
    assert costs["cost_spread_legs"] == 1
    no_spread = _costs(_replay(np.arange(60), spread=np.nan), 10, 10, long=False)
    assert no_spread["cost_slippage_bps"] == pytest.approx(2.0)
    assert no_spread["cost_spread_legs"] == 0


def test_no_funding_table_charges_the_flat_funding_and_says_flat():
    replay = _replay(np.arange(600), book=0)
    model = CostModel.from_replay(replay, CostConfig())
    stats = pd.DataFrame({"symbol": [SYM, SYM], "open_time_ms": [DAY0 + 470 * MIN] * 2, "side": ["LONG", "SHORT"],
                          "time_to_exit_ms": [45 * MIN, 20 * MIN]})  # the LONG crosses 08:00
    rows = with_trade_costs(stats, model)
    assert rows["cost_funding_bps"].tolist() == [0.5, 0.5]
    assert rows["cost_bps"].tolist() == pytest.approx([6.5, 6.5])
    summary = cost_source_summary(rows)
    assert (summary["funding_source"], summary["slippage_source"]) == ("flat", "flat")
    assert summary["funding_table_share"] == 0.0


def test_funding_table_without_announcements_uses_the_8h_utc_grid():
    rates = np.where(np.arange(600) >= 480, 7.0, 3.0)  # the bar opening at 08:00 holds the rate settled then
    replay = _replay(np.arange(600), funding_bps=rates, funding=1)
    assert _costs(replay, 470, 45, long=True)["cost_funding_bps"] == pytest.approx(7.0)
    assert _costs(replay, 470, 45, long=False)["cost_funding_bps"] == pytest.approx(-7.0)
    assert _costs(replay, 400, 45, long=True)["cost_funding_bps"] == 0.0


def test_a_crossed_settlement_without_a_known_rate_falls_back_to_flat():
    replay = _hourly_funding_replay()
    replay.loc[60, "funding_available"] = 0  # the bar that would carry the 01:00 rate
    costs = _costs(replay, 30, 60, long=True)
    assert costs["cost_funding_bps"] == 0.5 and costs["cost_funding_from_table"] == 0


def test_mixed_sources_are_reported_as_shares():
    replay = _hourly_funding_replay()
    replay.loc[replay.index >= 100, "book_available"] = 0
    model = CostModel.from_replay(replay, CostConfig())
    stats = pd.DataFrame({"symbol": SYM, "open_time_ms": DAY0 + np.array([10, 90, 150]) * MIN,
                          "side": ["LONG", "LONG", "SHORT"], "time_to_exit_ms": np.array([5, 20, 5]) * MIN})
    summary = cost_source_summary(with_trade_costs(stats, model))
    assert summary["spread_leg_share"] == pytest.approx(3 / 6)
    assert summary["slippage_source"] == "spread+flat" and summary["funding_source"] == "funding_table"


def test_unknown_symbol_is_refused():
    model = CostModel.from_replay(_replay(np.arange(10)), CostConfig())
    with pytest.raises(DataContractError, match="ETH"):
        model.trade_costs(symbols=["ETH-USDT-PERP"], open_time_ms=np.array([DAY0]), is_long=np.array([True]),
                          time_to_exit_ms=np.array([MIN]))


def test_categorical_symbols_are_priced_like_their_strings_and_an_unknown_one_is_refused():
    """The path statistics' symbol is categorical: its codes are looked up through its categories (in an order
    of their own, one of them unused), never by position."""
    replay = pd.concat([_replay(np.arange(10), spread=1.0), _replay(np.arange(10), symbol="ETH-USDT-PERP", spread=3.0)],
                       ignore_index=True)
    model = CostModel.from_replay(replay, CostConfig())
    symbols = ["ETH-USDT-PERP", SYM, SYM, "ETH-USDT-PERP"]
    trades = dict(open_time_ms=np.full(4, DAY0 + MIN), is_long=np.array([True, False, True, False]),
                  time_to_exit_ms=np.full(4, 3 * MIN))
    categories = ["XRP-USDT-PERP", "ETH-USDT-PERP", SYM]
    got = model.trade_costs(symbols=pd.Series(pd.Categorical(symbols, categories=categories)), **trades)
    expected = model.trade_costs(symbols=symbols, **trades)
    np.testing.assert_array_equal(got["cost_slippage_bps"], [3.0, 1.0, 1.0, 3.0])
    for name in TRADE_COST_COLUMNS:
        np.testing.assert_array_equal(got[name], expected[name])
    with pytest.raises(DataContractError, match="XRP"):
        model.trade_costs(symbols=pd.Series(pd.Categorical(["XRP-USDT-PERP"] * 4, categories=categories)), **trades)


# ----------------------------------------------------------------------------------- slow reference
def _reference(replay: pd.DataFrame, config: CostConfig, symbol: str, open_ms: int, is_long: bool,
               held_ms: int) -> dict[str, float]:
    """One trade, row by row, as the docstring of trader_core/costs.py states the rules."""
    rows = {(r.symbol, int(r.open_time_ms)): r for r in replay.itertuples(index=False)}
    legs, spread_legs = 0.0, 0
    for ms in (open_ms, open_ms + held_ms):
        row = rows.get((symbol, ms))
        if row is not None and row.book_available == 1 and np.isfinite(row.spread_bps):
            legs += max(row.spread_bps, 0.0) / 2
            spread_legs += 1
        else:
            legs += config.slippage_bps / 2
    mine = replay[replay["symbol"] == symbol]
    table = mine[mine["funding_available"] == 1]
    announced = [int(t.value // 1_000_000) for t in table["next_funding_time"] if not pd.isna(t)]
    if announced:
        settlements = set(announced)
    elif len(table):
        first, last = int(mine["open_time_ms"].min()), int(mine["open_time_ms"].max())
        settlements = {t for t in range(first - first % (8 * HOUR), last + 9 * HOUR, 8 * HOUR)}
    else:
        settlements = set()
    entry_close, exit_close = open_ms + MIN, open_ms + MIN + held_ms
    entry_row = rows.get((symbol, open_ms))
    from_table = entry_row is not None and entry_row.funding_available == 1
    total = 0.0
    for t in sorted(settlements):
        if entry_close < t <= exit_close:
            bar = rows.get((symbol, t - t % MIN))
            if bar is None or bar.funding_available != 1 or not np.isfinite(bar.funding_bps):
                from_table = False
            else:
                total += bar.funding_bps
    funding = (total if is_long else -total) if from_table else config.funding_cost_bps
    return {"cost_bps": config.fee_bps + legs + funding, "cost_slippage_bps": legs, "cost_funding_bps": funding,
            "cost_spread_legs": spread_legs, "cost_funding_from_table": int(from_table)}


@st.composite
def _market_and_trades(draw):
    parts = []
    for symbol in ("BTC-USDT-PERP", "ETH-USDT-PERP"):
        n = draw(st.integers(5, 80))
        minutes = np.cumsum(draw(st.lists(st.sampled_from([1, 1, 1, 2, 5]), min_size=n, max_size=n)))
        start = DAY0 + 7 * HOUR + draw(st.integers(0, 90)) * MIN  # windows around the 08:00 settlement
        interval = draw(st.sampled_from([None, 7, 13, 30]))  # None: the table announces no settlement times
        open_ms = start + minutes * MIN
        next_ms = None if interval is None else (open_ms // (interval * MIN) + 1) * interval * MIN
        flags = st.lists(st.sampled_from([0, 1, 1, 1, 1]), min_size=n, max_size=n)

        def values() -> np.ndarray:  # mostly finite, a few NaN
            finite = np.array(draw(st.lists(st.floats(-2, 6), min_size=n, max_size=n)))
            return np.where(np.array(draw(flags)) == 1, finite, np.nan)

        parts.append(_replay(minutes, symbol=symbol, start_ms=start, spread=values(), book=draw(flags),
                             funding_bps=values(), funding=draw(flags) if draw(st.booleans()) else 0,
                             next_funding_ms=next_ms))
    replay = pd.concat(parts, ignore_index=True)
    k = draw(st.integers(1, 25))
    picks = draw(st.lists(st.integers(0, len(replay) - 1), min_size=k, max_size=k))
    held = draw(st.lists(st.integers(0, 150), min_size=k, max_size=k))
    longs = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    trades = pd.DataFrame({"symbol": replay["symbol"].to_numpy()[picks],
                           "open_time_ms": replay["open_time_ms"].to_numpy()[picks],
                           "side": np.where(longs, "LONG", "SHORT"), "time_to_exit_ms": np.array(held) * MIN})
    return replay, trades


@settings(max_examples=150, deadline=None)
@given(_market_and_trades(), st.sampled_from([CostConfig(), CostConfig(fee_bps=2.0, slippage_bps=3.0,
                                                                        funding_cost_bps=1.0)]))
def test_vectorized_costs_equal_the_per_trade_reference(market, config):
    replay, trades = market
    got = with_trade_costs(trades, CostModel.from_replay(replay.sample(frac=1.0, random_state=0), config))
    for i, trade in enumerate(trades.itertuples(index=False)):
        expected = _reference(replay, config, trade.symbol, int(trade.open_time_ms), trade.side == "LONG",
                              int(trade.time_to_exit_ms))
        for name in TRADE_COST_COLUMNS:
            assert got[name].iloc[i] == expected[name], (name, trade)  # same additions in the same order


def test_backtest_cost_report_states_sources_per_split_over_labels_and_trades():
    labels = pd.DataFrame({
        "sample_id": ["a", "a", "b", "b"], "split_id": ["validation_locked"] * 2 + ["latest_stress"] * 2,
        "side": pd.Categorical(["LONG", "SHORT", "LONG", "SHORT"]),
        "cost_bps": [5.0, 6.0, 6.5, 7.5], "cost_slippage_bps": [1.0, 1.0, 2.0, 2.0],
        "cost_funding_bps": [0.0, 1.0, 0.5, 1.5], "cost_spread_legs": np.array([2, 2, 0, 0], dtype=np.int8),
        "cost_funding_from_table": np.array([1, 1, 0, 1], dtype=np.int8)})
    trades = pd.DataFrame({"sample_id": ["a"], "side": ["SHORT"], "eval_split": ["validation_locked"]})
    plan = build_price_plan(EntryLabelConfig(), CostConfig())
    report = cost_model_sources(labels, trades, plan, ("validation_locked", "latest_stress"))
    locked, stress = report["by_split"]["validation_locked"], report["by_split"]["latest_stress"]
    traded = locked["trades"]
    assert (traded["rows"], traded["avg_cost_bps"], traded["avg_funding_bps"]) == (1, 6.0, 1.0)
    assert (locked["labels"]["slippage_source"], locked["labels"]["funding_source"]) == ("spread", "funding_table")
    assert (stress["labels"]["slippage_source"], stress["labels"]["funding_source"]) == ("flat", "funding_table+flat")
    assert stress["labels"]["funding_table_share"] == 0.5 and stress["labels"]["avg_cost_bps"] == 7.0
    assert stress["trades"]["rows"] == 0 and stress["trades"]["slippage_source"] == "none"
    assert "| latest_stress | labels | 2 | 7 |" in cost_model_section(report)


def test_pm_frame_nets_each_rows_cost_and_refuses_a_missing_one():
    labels = pd.DataFrame({"sample_id": ["s0", "s0"], "side": ["LONG", "SHORT"], "gross_edge_bps": [10.0, -3.0],
                           "cost_bps": [4.9, 5.7], "target_hit": [1, 0], "stop_hit": [0, 0],
                           "time_to_target_ms": [MIN, -1], "time_to_stop_ms": [-1, -1],
                           "time_to_exit_ms": [MIN, 45 * MIN]})
    outcome = entry_plan_outcome_frame(labels).iloc[0]
    assert outcome["long_trade_net_edge_bps"] == pytest.approx(5.1)
    assert outcome["short_trade_net_edge_bps"] == pytest.approx(-8.7)
    with pytest.raises(DataContractError, match="cost_bps is missing"):
        entry_plan_outcome_frame(labels.assign(cost_bps=[4.9, np.nan]))

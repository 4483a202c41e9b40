import numpy as np
import pandas as pd
import pytest

from tests.conftest import FTX_CSV, require_real
from trader_core.config import ReplayConfig, RunSpec
from trader_core.config_mapping import from_mapping
from trader_core.contracts.replay import REPLAY_COLUMNS
from trader_core.errors import DataContractError
from trader_core.market.sources import load_raw_market, read_bar_csv
from trader_core.replay import build_replay, l1_ofi_parts


def test_synthetic_replay_satisfies_the_contract(small_raw):
    replay, report = build_replay(small_raw)
    assert list(replay.columns) == list(REPLAY_COLUMNS)
    assert len(replay) == 2 * 6 * 1440 == report.output_rows
    assert report.gaps == 0 and report.warnings == []
    for sym, g in replay.groupby("symbol"):
        assert (np.diff(g["open_time_ms"]) == 60_000).all()
    assert str(replay["event_time"].dt.tz) == "UTC"
    assert (replay["open_time_ms"] == (replay["event_time"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta("1ms")).all()
    assert replay[["book_available", "depth_available", "liquidation_available", "funding_available"]].min().min() == 1


def test_l1_ofi_parts_match_the_worked_example():
    bid, bid_sz = np.array([101, 101, 100.5]), np.array([2, 3, 4.0])
    ask, ask_sz = np.array([102, 101.5, 102.5]), np.array([5, 6, 7.0])
    pbid, pbid_sz = np.array([100, 101, 101.0]), np.array([1.5, 2, 3])
    pask, pask_sz = np.array([102, 102, 101.5]), np.array([4, 5, 6.0])
    b, a = l1_ofi_parts(bid, bid_sz, ask, ask_sz, pbid, pbid_sz, pask, pask_sz)
    np.testing.assert_allclose(b, [202, 101, -303])
    np.testing.assert_allclose(a, [-102, -609, 609])


def test_snapshot_at_the_close_instant_is_not_used_and_stale_ones_expire(raw_copy):
    bars = raw_copy["bars"]
    first = bars["open_time"].iloc[0]
    book = raw_copy["book_l1"]
    book = book[book["symbol"] == bars["symbol"].iloc[0]].iloc[:0]  # start from an empty book for one symbol
    one = pd.DataFrame({"symbol": [bars["symbol"].iloc[0]] * 2,
                        "ts": [first + pd.Timedelta(minutes=1), first + pd.Timedelta(seconds=30)],
                        "bid_price": [100.0, 99.0], "bid_size": [1.0, 1.0], "ask_price": [101.0, 100.0],
                        "ask_size": [1.0, 1.0]})
    raw_copy["book_l1"] = pd.concat([book, one]).sort_values("ts").reset_index(drop=True)
    replay, _ = build_replay(raw_copy, config=ReplayConfig(book_max_age_minutes=3))
    sym = replay[replay["symbol"] == bars["symbol"].iloc[0]]
    # minute 0 closes at +1 min: only the +30 s snapshot counts (the one stamped exactly at the close belongs later)
    assert sym["best_bid_price"].iloc[0] == 99.0
    assert sym["best_bid_price"].iloc[1] == 100.0
    assert sym["book_available"].iloc[:4].tolist() == [1, 1, 1, 1]
    assert sym["book_available"].iloc[4] == 0 and np.isnan(sym["spread_bps"].iloc[4])  # older than 3 min


def test_missing_optional_tables_are_flagged_not_invented(raw_copy):
    replay, report = build_replay({"bars": raw_copy["bars"]})
    for flag in ("liquidation_available", "book_available", "depth_available", "funding_available",
                 "mark_index_available", "open_interest_available"):
        assert (replay[flag] == 0).all()
    assert replay["liquidation_buy_notional_1m"].isna().all()
    assert replay["spread_bps"].isna().all() and replay["funding_bps"].isna().all()
    assert report.tables == ["bars"]


def test_complete_day_filter_and_visible_gaps_without_filling(raw_copy):
    """fill_no_trade_max_minutes=0 keeps the original rule: any missing minute makes the day incomplete."""
    bars = raw_copy["bars"]
    drop = bars.index[(bars["symbol"] == bars["symbol"].iloc[0])][1440 * 2 + 100: 1440 * 2 + 103]
    raw_copy["bars"] = bars.drop(drop)
    replay, report = build_replay(raw_copy, config=ReplayConfig(fill_no_trade_max_minutes=0))
    assert report.incomplete_days_dropped == 1 and report.incomplete_day_rows_dropped == 1440 - 3
    sym = replay[replay["symbol"] == bars["symbol"].iloc[0]]
    assert len(sym) == 5 * 1440 and sym["gap_minutes_before"].max() == 1440  # the whole day is a visible gap
    assert replay["bar_filled"].sum() == 0
    replay2, report2 = build_replay(raw_copy, config=ReplayConfig(complete_days_only=False,
                                                                  fill_no_trade_max_minutes=0))
    sym2 = replay2[replay2["symbol"] == bars["symbol"].iloc[0]]
    assert sym2["gap_minutes_before"].max() == 3 and report2.missing_minutes == 3
    assert any("gap" in w for w in report2.warnings)


def test_unsorted_input_is_sorted_and_exact_duplicates_dropped(raw_copy, small_raw):
    bars = raw_copy["bars"]
    shuffled = pd.concat([bars.sample(frac=1.0, random_state=3), bars.iloc[:5]])
    raw_copy["bars"] = shuffled
    replay, report = build_replay(raw_copy)
    expected, _ = build_replay(small_raw)
    pd.testing.assert_frame_equal(replay, expected)
    assert report.exact_duplicates_dropped == 5


def _mutate(raw, fn):
    raw = {k: v.copy() for k, v in raw.items()}
    fn(raw)
    return raw


BAD_INPUTS = {
    "missing column": (lambda r: r.__setitem__("bars", r["bars"].drop(columns=["close"])), "close"),
    "mistyped column": (lambda r: r["bars"].__setitem__("high", r["bars"]["high"].astype(str)), "bars.high"),
    "NaN price": (lambda r: r["bars"].loc.__setitem__((7, "close"), np.nan), "bars.close"),
    "inf price": (lambda r: r["bars"].loc.__setitem__((7, "open"), np.inf), "bars.open"),
    "zero price": (lambda r: r["bars"].loc.__setitem__((7, "low"), 0.0), "bars.low"),
    "high below low": (lambda r: r["bars"].loc.__setitem__((7, "high"), r["bars"].loc[7, "low"] * 0.99), "low <= open"),
    "conflicting duplicate minute": (lambda r: r.__setitem__("bars", pd.concat(
        [r["bars"], r["bars"].iloc[[3]].assign(close=lambda d: d["close"] * 1.0001,
                                               high=lambda d: d["high"] * 1.001)])), "different values"),
    "naive timestamps": (lambda r: r["bars"].__setitem__("open_time", r["bars"]["open_time"].dt.tz_localize(None)),
                         "naive"),
    "non-UTC zone": (lambda r: r["bars"].__setitem__("open_time", r["bars"]["open_time"].dt.tz_convert("Asia/Tokyo")),
                     "UTC"),
    "off-minute bar": (lambda r: r["bars"].__setitem__("open_time", r["bars"]["open_time"] + pd.Timedelta(seconds=5)),
                       "whole minute"),
    "negative volume": (lambda r: r["bars"].loc.__setitem__((9, "volume"), -1.0), "bars.volume"),
    "no bars table": (lambda r: r.pop("bars"), "bars"),
    "unknown table": (lambda r: r.__setitem__("trades_raw", r["bars"]), "unknown raw table"),
    "book NaN bid": (lambda r: r["book_l1"].loc.__setitem__((4, "bid_price"), np.nan), "book_l1.bid_price"),
    "bad liquidation side": (lambda r: r["liquidations"].__setitem__("side", "LONG"), "BUY/SELL"),
    "empty bars": (lambda r: r.__setitem__("bars", r["bars"].iloc[:0]), "no rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_raw_input_gets_a_clear_error(small_raw, case):
    mutate, needle = BAD_INPUTS[case]
    raw = _mutate(small_raw, mutate)
    with pytest.raises(DataContractError, match=needle):
        build_replay(raw)


def test_symbol_without_rows_and_window_too_short(small_raw):
    with pytest.raises(DataContractError, match=r"\['SOL-USDT-PERP'\] have no rows"):
        build_replay(small_raw, symbols=("BTC-USDT-PERP", "SOL-USDT-PERP"))
    start = small_raw["bars"]["open_time"].iloc[0] + pd.Timedelta(hours=3)
    with pytest.raises(DataContractError, match="no complete UTC day"):
        build_replay(small_raw, start=start, end=start + pd.Timedelta(hours=5))


def test_bar_csv_source_on_the_ftx_month():
    path = require_real(FTX_CSV)
    spec = from_mapping(RunSpec, {"run_id": "ftx", "source": {"kind": "csv", "path": str(path)},
                                  "symbols": ["BTC-PERP"], "start": None, "end": None})
    raw = load_raw_market(spec)
    assert len(raw["bars"]) == 45_031 and raw["bars"]["taker_buy_volume"].isna().all()
    replay, report = build_replay(raw)
    assert report.output_rows == 31 * 1440  # 2022-01-01 .. 2022-01-31 are complete; the partial edges are dropped
    assert report.incomplete_days_dropped == 2
    assert (replay["book_available"] == 0).all() and (replay["liquidation_available"] == 0).all()


def test_bar_csv_errors(tmp_path):
    bad = tmp_path / "bars.csv"
    bad.write_text("timestamp,open,high,low\n2022-01-01 00:00:00,1,2,0.5\n")
    with pytest.raises(DataContractError, match=r"\['close', 'volume'\]"):
        read_bar_csv(bad, "X")
    bad.write_text("timestamp,open,high,low,close,volume\nyesterday,1,2,0.5,1,1\n")
    with pytest.raises(DataContractError, match="timestamp"):
        read_bar_csv(bad, "X")

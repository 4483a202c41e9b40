"""Binance USD-M capture adapter: golden checks on the real capture and small synthetic captures."""

from __future__ import annotations

import bisect
import functools
import gzip
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import BINANCE_FEED, require_real
from trader_core.config import ReplayConfig
from trader_core.errors import ConfigError, DataContractError
from trader_core.market.binance_feed import (
    feed_quality,
    load_binance_feed,
    read_binance_feed,
)
from trader_core.market.symbols import binance_symbol, coin_m_contract_usd
from trader_core.replay import build_replay
from trader_core.splits import to_epoch_ms

SYMBOL = "BTC-USDT-PERP"
T0 = 1_723_161_240_000  # 2024-08-08 23:54:00 UTC, a minute open


# ------------------------------------------------------------------------------------------ references
@functools.cache
def _all_real_events() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    with gzip.open(require_real(BINANCE_FEED), "rt") as fh:
        for line in fh:
            obj = json.loads(line.split(" ", 1)[1])
            data = obj.get("data", obj)
            out.setdefault(data.get("e", "snapshot"), []).append(data)
    return out


def _real_events(kind: str) -> list[dict]:
    """The ``data`` payloads of one event type, in file order (read independently of the adapter)."""
    return _all_real_events()[kind]


@pytest.fixture(scope="module")
def real() -> dict:
    path = require_real(BINANCE_FEED)
    result = load_binance_feed(path, SYMBOL)
    return {"tables": result.tables, "quality": result.quality}


def test_bars_equal_a_plain_python_reference(real):
    ref: dict[int, dict] = {}
    for t in _real_events("trade"):
        minute = t["T"] // 60_000 * 60_000
        p, q = float(t["p"]), float(t["q"])
        bar = ref.setdefault(minute, {"open": p, "high": p, "low": p, "close": p, "volume": 0.0,
                                      "taker_buy_volume": 0.0, "taker_sell_volume": 0.0, "trade_count": 0})
        bar["high"], bar["low"], bar["close"] = max(bar["high"], p), min(bar["low"], p), p
        bar["volume"] += q
        bar["taker_sell_volume" if t["m"] else "taker_buy_volume"] += q
        bar["trade_count"] += 1
    bars = real["tables"]["bars"]
    assert len(bars) == 6 == len(ref)
    assert list(to_epoch_ms(bars["open_time"])) == sorted(ref) == [T0 + i * 60_000 for i in range(6)]
    assert str(bars["open_time"].dt.tz) == "UTC" and (bars["symbol"] == SYMBOL).all()
    for row, minute in zip(bars.itertuples(), sorted(ref)):
        want = ref[minute]
        for name in ("open", "high", "low", "close", "trade_count"):
            assert getattr(row, name) == want[name], (minute, name)
        for name in ("volume", "taker_buy_volume", "taker_sell_volume"):
            assert math.isclose(getattr(row, name), want[name], rel_tol=1e-9, abs_tol=1e-9), (minute, name)
    assert np.allclose(bars["taker_buy_volume"] + bars["taker_sell_volume"], bars["volume"], rtol=1e-12)
    assert real["quality"].trade_source == "trade"
    assert real["quality"].partial_minutes == ["2024-08-08T23:54:00+00:00"]  # capture starts at 23:54:16


def _l1_reference() -> dict[int, tuple]:
    ref: dict[int, tuple] = {}
    for t in _real_events("bookTicker"):
        ref[t["E"] // 60_000] = (t["E"], float(t["b"]), float(t["B"]), float(t["a"]), float(t["A"]))
    return ref


def _spread_micro(bid, bid_sz, ask, ask_sz):
    mid = (bid + ask) / 2
    return (ask - bid) / mid * 1e4, (ask * bid_sz + bid * ask_sz) / (bid_sz + ask_sz)


def test_book_l1_is_the_last_book_ticker_before_each_minute_close(real):
    ref = _l1_reference()
    book = real["tables"]["book_l1"]
    assert len(book) == len(ref) == 7  # 23:54 .. 00:00 (the capture's exchange clock reaches 00:00:00.709)
    for row, minute in zip(book.itertuples(), sorted(ref)):
        e, b, bs, a, as_ = ref[minute]
        assert int(to_epoch_ms(row.ts)) == e and e < (minute + 1) * 60_000
        assert (row.bid_price, row.bid_size, row.ask_price, row.ask_size) == (b, bs, a, as_)
        got = _spread_micro(row.bid_price, row.bid_size, row.ask_price, row.ask_size)
        assert np.allclose(got, _spread_micro(b, bs, a, as_), rtol=1e-12)
        assert 0 < got[0] < 1 and b <= got[1] <= a


def test_depth_book_is_continuous_sorted_and_matches_book_ticker_at_the_same_update_id(real):
    q = real["quality"]
    assert q.depth_breaks == 0 and q.depth_snapshots_used == 1 and q.crossed_depth_rows == 0
    assert q.depth_updates_applied + q.depth_updates_skipped == q.events["depthUpdate"] == 6551
    depth = real["tables"]["book_depth"]
    assert len(depth) == 7
    bid_p = depth[[f"bid_{i}_price" for i in range(20)]].to_numpy()
    ask_p = depth[[f"ask_{i}_price" for i in range(20)]].to_numpy()
    assert not np.isnan(bid_p).any() and not np.isnan(ask_p).any()  # a 1000-level snapshot fills 20 levels
    assert (bid_p[:, 0] < ask_p[:, 0]).all()
    assert (np.diff(bid_p, axis=1) < 0).all() and (np.diff(ask_p, axis=1) > 0).all()
    assert (depth[[c for c in depth.columns if c.endswith("_size")]].to_numpy() > 0).all()
    # bookTicker and depthUpdate share the update-id sequence: the rebuilt top of book after update u must
    # equal the last bookTicker with id <= u (an independent check of the whole diff replay)
    diffs = _real_events("depthUpdate")
    tickers = _real_events("bookTicker")
    ticker_ids = [t["u"] for t in tickers]
    for row in depth.itertuples():
        ts = int(to_epoch_ms(row.ts))
        u = [d["u"] for d in diffs if d["E"] == ts][-1]
        t = tickers[bisect.bisect_right(ticker_ids, u) - 1]
        assert (row.bid_0_price, row.bid_0_size, row.ask_0_price, row.ask_0_size) == (
            float(t["b"]), float(t["B"]), float(t["a"]), float(t["A"]))


def test_real_capture_goes_through_replay_with_book_features(real):
    replay, report = build_replay(real["tables"], config=ReplayConfig(complete_days_only=False))
    assert len(replay) == 6 and report.gaps == 0
    assert (replay["book_available"] == 1).all() and (replay["depth_available"] == 1).all()
    ref = _l1_reference()
    for row in replay.itertuples():
        _, b, bs, a, as_ = ref[row.open_time_ms // 60_000]
        spread, micro = _spread_micro(b, bs, a, as_)
        assert math.isclose(row.spread_bps, spread, rel_tol=1e-12)
        got_micro = _spread_micro(row.best_bid_price, row.best_bid_size, row.best_ask_price, row.best_ask_size)[1]
        assert math.isclose(got_micro, micro, rel_tol=1e-12)
    assert (replay["depth_bid_notional_5"] > 0).all() and (replay["depth_ask_notional_5"] > 0).all()


def test_real_quality_counts(real):
    q = real["quality"].as_dict()
    assert q["lines"] == 93_954
    assert q["events"] == {"depthUpdate": 6551, "bookTicker": 66089, "trade": 21313, "depthSnapshot": 1}
    assert q["crossed_l1_events"] == 0 and q["depth_breaks"] == 0 and q["duplicate_trades"] == 0


# ------------------------------------------------------------------------------------------ synthetic captures
def _trade(t: int, tid: int, p: float, q: float, m: bool, sym: str = "btcusdt") -> dict:
    return {"stream": f"{sym}@trade", "data": {"e": "trade", "E": t, "T": t, "s": sym.upper(), "t": tid,
                                               "p": f"{p:.2f}", "q": f"{q:.3f}", "X": "MARKET", "m": m}}


def _agg(t: int, aid: int, p: float, q: float, m: bool, first: int, last: int) -> dict:
    return {"stream": "btcusdt@aggTrade", "data": {"e": "aggTrade", "E": t, "T": t, "s": "BTCUSDT", "a": aid,
                                                   "p": f"{p:.2f}", "q": f"{q:.3f}", "f": first, "l": last, "m": m}}


def _ticker(e: int, u: int, b: float, bs: float, a: float, as_: float) -> dict:
    return {"stream": "btcusdt@bookTicker", "data": {"e": "bookTicker", "u": u, "s": "BTCUSDT", "b": str(b),
                                                     "B": str(bs), "a": str(a), "A": str(as_), "T": e, "E": e}}


def _diff(e: int, first: int, last: int, pu: int, bids: list, asks: list) -> dict:
    return {"stream": "btcusdt@depth@0ms", "data": {"e": "depthUpdate", "E": e, "T": e, "s": "BTCUSDT", "U": first,
                                                    "u": last, "pu": pu, "b": [[str(p), str(q)] for p, q in bids],
                                                    "a": [[str(p), str(q)] for p, q in asks]}}


def _snap(last_id: int, bids: list, asks: list) -> dict:
    return {"lastUpdateId": last_id, "E": T0, "T": T0, "bids": [[str(p), str(q)] for p, q in bids],
            "asks": [[str(p), str(q)] for p, q in asks]}


def _write(path: Path, events: list[dict | str], *, gz: bool = True) -> Path:
    lines = [e if isinstance(e, str) else f"{(T0 + i) * 1_000_000} {json.dumps(e)}" for i, e in enumerate(events)]
    text = "\n".join(lines) + "\n"
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


SNAP = _snap(100, [(99.0, 1.0), (98.0, 2.0), (97.0, 3.0)], [(101.0, 1.0), (102.0, 2.0)])


def _capture(tmp_path: Path, depth_events: list[dict], name: str = "cap.gz") -> Path:
    trades = [_trade(T0 + 1_000, 1, 100.0, 1.0, False), _trade(T0 + 61_000, 2, 100.5, 2.0, True)]
    return _write(tmp_path / name, trades + depth_events)


def test_synthetic_book_rules_levels_and_minute_snapshots(tmp_path):
    path = _capture(tmp_path, [
        _diff(T0 + 100, 90, 95, 80, [(99.0, 5.0)], []),       # u < lastUpdateId: dropped (older than the snapshot)
        SNAP,
        _diff(T0 + 200, 96, 105, 95, [(99.0, 0.0), (99.5, 4.0)], [(101.0, "0.000")]),  # U <= 100 <= u: first applied
        _diff(T0 + 59_999, 106, 110, 105, [(98.0, 2.5)], []),  # last diff of minute 0 (E < close)
        _diff(T0 + 60_000, 111, 120, 110, [(96.0, 1.0)], [(101.5, 7.0)]),  # exactly at the close: minute 1
    ])
    result = load_binance_feed(path, SYMBOL, depth_levels=4)
    depth = result.tables["book_depth"]
    assert list(to_epoch_ms(depth["ts"])) == [T0 + 59_999, T0 + 60_000]
    first = depth.iloc[0]
    assert [first[f"bid_{i}_price"] for i in range(3)] == [99.5, 98.0, 97.0]
    assert [first[f"bid_{i}_size"] for i in range(3)] == [4.0, 2.5, 3.0]
    assert np.isnan(first["bid_3_price"]) and np.isnan(first["ask_1_price"]) and np.isnan(first["ask_3_size"])
    assert first["ask_0_price"] == 102.0  # 101 removed by qty "0.000"
    second = depth.iloc[1]
    assert [second[f"ask_{i}_price"] for i in range(2)] == [101.5, 102.0] and second["bid_3_price"] == 96.0
    assert "bid_4_price" not in depth.columns
    q = result.quality
    assert (q.depth_updates_applied, q.depth_updates_skipped, q.depth_breaks) == (3, 1, 0)


def test_pu_break_raises_naming_the_update_ids(tmp_path):
    path = _capture(tmp_path, [SNAP, _diff(T0 + 200, 96, 105, 95, [], []),
                               _diff(T0 + 300, 110, 120, 107, [(99.0, 9.0)], [])])
    with pytest.raises(DataContractError, match=r"line 5.*pu=107.*u=105.*U=110, u=120"):
        read_binance_feed(path, SYMBOL)


def test_snapshot_that_predates_the_update_stream_is_a_break(tmp_path):
    path = _capture(tmp_path, [SNAP, _diff(T0 + 200, 150, 160, 140, [], [])])
    with pytest.raises(DataContractError, match=r"lastUpdateId=100.*U=150"):
        read_binance_feed(path, SYMBOL)


def test_resync_reports_the_break_and_continues_from_the_next_snapshot(tmp_path):
    events = [SNAP, _diff(T0 + 200, 96, 105, 95, [(99.0, 9.0)], []),
              _diff(T0 + 61_000, 110, 120, 107, [(99.0, 8.0)], []),        # break: pu 107 != 105
              _diff(T0 + 62_000, 121, 130, 120, [(99.0, 7.0)], []),        # before the new snapshot: skipped
              _snap(135, [(90.0, 1.0)], [(91.0, 1.0)]),
              _diff(T0 + 63_000, 131, 140, 130, [(90.5, 2.0)], [])]       # U <= 135 <= u: resynced
    path = _capture(tmp_path, events)
    with pytest.warns(UserWarning, match="1 depth continuity break"):
        tables = read_binance_feed(path, SYMBOL, on_gap="resync")
    result = load_binance_feed(path, SYMBOL, on_gap="resync")
    q = result.quality
    assert q.depth_breaks == 1 and "pu=107" in q.depth_break_details[0]
    assert feed_quality(path, SYMBOL)["depth_break_details"] == q.depth_break_details
    assert (q.depth_snapshots_used, q.depth_updates_applied, q.depth_updates_skipped) == (2, 2, 2)
    depth = tables["book_depth"]
    assert list(to_epoch_ms(depth["ts"])) == [T0 + 200, T0 + 63_000]  # the pre-break state, then the resynced book
    assert depth["bid_0_price"].tolist() == [99.0, 90.5] and depth["bid_0_size"].tolist() == [9.0, 2.0]
    assert depth["bid_1_price"].iloc[1] == 90.0 and depth["ask_0_price"].iloc[1] == 91.0


def test_resync_without_a_later_snapshot_leaves_the_rest_unavailable(tmp_path):
    path = _capture(tmp_path, [SNAP, _diff(T0 + 200, 96, 105, 95, [], []),
                               _diff(T0 + 61_000, 110, 120, 107, [], [])])
    result = load_binance_feed(path, SYMBOL, on_gap="resync")
    assert result.quality.depth_breaks == 1 and result.quality.depth_updates_skipped == 1
    assert list(to_epoch_ms(result.tables["book_depth"]["ts"])) == [T0 + 200]
    assert any("no depth rows" in n for n in result.quality.notes)


def test_malformed_lines_name_their_line_number(tmp_path):
    good = [_trade(T0 + 1_000, 1, 100.0, 1.0, False)]
    for bad in ("not-a-number {\"stream\": \"btcusdt@trade\"}", f"{T0} {{broken json", f"{T0}",
                f"{T0} " + json.dumps({"stream": "btcusdt@trade", "data": {"e": "trade", "T": T0}})):
        path = _write(tmp_path / "bad.gz", good + good + [bad] + good)
        with pytest.raises(DataContractError, match=r"line 3 is not"):
            read_binance_feed(path, SYMBOL)


def test_truncated_or_corrupt_gzip_and_missing_file(tmp_path):
    path = _write(tmp_path / "full.gz", [_trade(T0 + i, i, 100.0, 1.0, False) for i in range(2000)])
    data = path.read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataContractError, match=r"cut.gz: corrupt or truncated gzip file"):
        read_binance_feed(cut, SYMBOL)
    corrupt = tmp_path / "corrupt.gz"
    corrupt.write_bytes(data[:20] + b"\x00" * 50 + data[70:])
    with pytest.raises(DataContractError, match=r"corrupt or truncated gzip file"):
        read_binance_feed(corrupt, SYMBOL)
    with pytest.raises(ConfigError, match="is not a file"):
        read_binance_feed(tmp_path / "absent.gz", SYMBOL)


def test_wrong_symbol_capture_raises(tmp_path):
    path = _write(tmp_path / "eth.gz", [_trade(T0 + 1_000, 1, 3000.0, 1.0, False, sym="ethusdt")])
    with pytest.raises(DataContractError, match=r"ETHUSDT.*expected only BTCUSDT"):
        read_binance_feed(path, SYMBOL)
    assert len(read_binance_feed(path, "ETH-USDT-PERP")["bars"]) == 1


def test_no_trades_raises_and_bad_parameters_are_config_errors(tmp_path):
    path = _write(tmp_path / "book.gz", [_ticker(T0 + 5, 1, 99.0, 1.0, 101.0, 1.0)])
    with pytest.raises(DataContractError, match="no trade or aggTrade events"):
        read_binance_feed(path, SYMBOL)
    with pytest.raises(ConfigError, match="on_gap"):
        read_binance_feed(path, SYMBOL, on_gap="ignore")
    with pytest.raises(ConfigError, match="depth_levels"):
        read_binance_feed(path, SYMBOL, depth_levels=21)


def test_agg_trades_are_used_only_without_trades_and_plain_text_works(tmp_path):
    aggs = [_agg(T0 + 1_000, 1, 100.0, 1.0, False, 10, 12), _agg(T0 + 2_000, 2, 99.0, 0.5, True, 13, 13)]
    bars = read_binance_feed(_write(tmp_path / "agg.txt", aggs, gz=False), SYMBOL)["bars"]
    assert bars[["open", "high", "low", "close", "volume", "taker_buy_volume", "taker_sell_volume",
                 "trade_count"]].iloc[0].tolist() == [100.0, 100.0, 99.0, 99.0, 1.5, 1.0, 0.5, 4.0]
    both = load_binance_feed(_write(tmp_path / "both.gz", aggs + [_trade(T0 + 1_000, 7, 100.0, 1.0, False)]), SYMBOL)
    assert both.quality.trade_source == "trade" and both.quality.ignored_events == {"aggTrade": 2}
    assert both.tables["bars"]["volume"].tolist() == [1.0] and both.tables["bars"]["trade_count"].tolist() == [1.0]


def test_duplicate_trades_are_dropped_and_l1_at_the_close_belongs_to_the_next_minute(tmp_path):
    events = [_trade(T0 + 1_000, 1, 100.0, 1.0, False), _trade(T0 + 1_000, 1, 100.0, 1.0, False),
              _trade(T0 + 61_000, 2, 101.0, 1.0, True),
              _ticker(T0 + 30_000, 5, 99.0, 1.0, 101.0, 2.0), _ticker(T0 + 60_000, 6, 99.5, 1.0, 101.0, 2.0)]
    result = load_binance_feed(_write(tmp_path / "dup.gz", events), SYMBOL)
    assert result.quality.duplicate_trades == 1 and result.tables["bars"]["volume"].tolist() == [1.0, 1.0]
    book = result.tables["book_l1"]
    assert list(to_epoch_ms(book["ts"])) == [T0 + 30_000, T0 + 60_000]
    assert "book_depth" not in result.tables
    replay, _ = build_replay(result.tables, config=ReplayConfig(complete_days_only=False))
    assert replay["best_bid_price"].tolist() == [99.0, 99.5]
    assert pd.isna(replay["depth_bid_notional_5"]).all() and (replay["depth_available"] == 0).all()


# ------------------------------------------------------------------------------------------ COIN-M
def _coin_m(event: dict, name: str = "btcusd_perp") -> dict:
    """A USD-M event of the helpers above as the same event of a COIN-M perpetual's stream."""
    return {"stream": event["stream"].replace("btcusdt@", f"{name}@"), "data": {**event["data"], "s": name.upper()}}


def test_symbol_names_map_usd_m_unchanged_and_coin_m_to_usd_perp():
    assert [binance_symbol(s) for s in ("BTC-USDT-PERP", "ETH-USDC-PERP", "BTCUSDT", "btc-usd-perp",
                                        "ETH-USD-PERP", "BTCUSD_PERP")] == [
        "BTCUSDT", "ETHUSDC", "BTCUSDT", "BTCUSD_PERP", "ETHUSD_PERP", "BTCUSD_PERP"]
    assert [coin_m_contract_usd(s) for s in ("BTC-USD-PERP", "ETH-USD-PERP", "BTCUSD_PERP", "BTC-USDT-PERP")] == [
        100.0, 10.0, 100.0, None]


def test_coin_m_capture_converts_contracts_to_base_units(tmp_path):
    trades = [(T0 + 1_000, 1, 50_000.0, 3.0, False), (T0 + 2_000, 2, 40_000.0, 5.0, True),
              (T0 + 61_000, 3, 50_000.0, 1.0, False)]
    events = [_trade(*t, sym="btcusd_perp") for t in trades] + [
        _coin_m(_ticker(T0 + 30_000, 5, 49_999.0, 10.0, 50_001.0, 20.0)),
        _snap(100, [(49_999.0, 2.0)], [(50_001.0, 4.0)]),
        _coin_m(_diff(T0 + 200, 96, 105, 95, [(49_998.0, 8.0)], []))]
    result = load_binance_feed(_write(tmp_path / "coinm.gz", events), "BTC-USD-PERP")
    assert result.quality.contract_usd == 100.0
    bars = result.tables["bars"]
    coins = {tid: q * 100.0 / p for _, tid, p, q, _ in trades}  # q contracts of 100 USD at price p
    np.testing.assert_allclose(bars["volume"], [coins[1] + coins[2], coins[3]], rtol=1e-12)
    np.testing.assert_allclose(bars["taker_buy_volume"], [coins[1], coins[3]], rtol=1e-12)
    np.testing.assert_allclose(bars["taker_sell_volume"], [coins[2], 0.0], rtol=1e-12, atol=0)
    assert bars["trade_count"].tolist() == [2.0, 1.0] and bars["open"].tolist() == [50_000.0, 50_000.0]
    book = result.tables["book_l1"].iloc[0]
    np.testing.assert_allclose([book["bid_size"], book["ask_size"]], [10.0 * 100 / 49_999.0, 20.0 * 100 / 50_001.0],
                               rtol=1e-12)
    depth = result.tables["book_depth"].iloc[0]
    np.testing.assert_allclose([depth["bid_0_size"], depth["bid_1_size"], depth["ask_0_size"]],
                               [2.0 * 100 / 49_999.0, 8.0 * 100 / 49_998.0, 4.0 * 100 / 50_001.0], rtol=1e-12)
    with pytest.raises(DataContractError, match=r"BTCUSD_PERP.*expected only BTCUSDT"):
        read_binance_feed(tmp_path / "coinm.gz", SYMBOL)


def test_coin_m_altcoin_contracts_are_10_usd_and_usd_m_quantities_stay_as_given(tmp_path):
    eth = _write(tmp_path / "eth.gz", [_trade(T0 + 1_000, 1, 2_000.0, 7.0, False, sym="ethusd_perp")])
    np.testing.assert_allclose(read_binance_feed(eth, "ETH-USD-PERP")["bars"]["volume"], [7.0 * 10 / 2_000.0])
    usdm = load_binance_feed(_write(tmp_path / "usdm.gz", [_trade(T0 + 1_000, 1, 2_000.0, 7.0, False)]), SYMBOL)
    assert usdm.quality.contract_usd is None and usdm.tables["bars"]["volume"].tolist() == [7.0]

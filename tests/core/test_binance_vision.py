"""Binance data.vision adapter: every table type, header/µs detection, bad files, gaps, overlaps, landing, download.

Every fixture zip is written here into tmp_path (a few rows each); nothing touches the network.
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trader_core import io
from trader_core.config import ReplayConfig
from trader_core.contracts.raw import BARS, RAW_TABLES
from trader_core.errors import ArtifactError, ConfigError, DataContractError
from trader_core.market.binance_vision import (
    QUALITY_FILE,
    SOURCE,
    land_vision_month,
    load_binance_vision,
    read_binance_vision,
)
from trader_core.market.landing import (
    MARKER,
    complete_months,
    landing_root,
    read_landed,
)
from trader_core.market.sources import load_raw_market
from trader_core.market.vision_download import (
    BASE_URL,
    download_month,
    vision_relpath,
    vision_urls,
)
from trader_core.replay import build_replay
from trader_core.retrain import retrain_spec

BTC = "BTC-USDT-PERP"
MINUTE_MS = 60_000


def ms(ts: str) -> int:
    return int(pd.Timestamp(ts, tz="UTC").value // 1_000_000)


def utc(ts: str) -> pd.Timestamp:
    return pd.Timestamp(ts, tz="UTC")


def klines(start: str, minutes: int, *, base: float = 100.0, unit: str = "ms") -> pd.DataFrame:
    i = np.arange(minutes)
    open_time = ms(start) + i * MINUTE_MS
    close = base + 0.5 * i
    df = pd.DataFrame({
        "open_time": open_time, "open": close - 0.25, "high": close + 1.0, "low": close - 1.0, "close": close,
        "volume": 10.0 + i, "close_time": open_time + MINUTE_MS - 1, "quote_volume": (10.0 + i) * close,
        "count": 5 + i, "taker_buy_volume": 4.0 + 0.5 * i, "taker_buy_quote_volume": (4.0 + 0.5 * i) * close,
        "ignore": 0,
    })
    if unit == "us":
        df[["open_time", "close_time"]] *= 1000
    return df


def csv_text(df: pd.DataFrame, header: bool = True) -> str:
    return df.to_csv(index=False, header=header)


def write_zip(path: Path, text: str, *, member: str | None = None,
              compression: int = zipfile.ZIP_DEFLATED) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as zf:
        zf.writestr(member or path.with_suffix(".csv").name, text)
    return path


def put(root: Path, table: str, period: str, text: str, symbol: str = "BTCUSDT") -> Path:
    """Write ``text`` as ``table``'s zip for ``period`` in data.vision's layout under ``root``."""
    return write_zip(root / vision_relpath(symbol, table, period), text)


def expected_bars(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "open": df["open"], "high": df["high"], "low": df["low"], "close": df["close"], "volume": df["volume"],
        "taker_buy_volume": df["taker_buy_volume"], "taker_sell_volume": df["volume"] - df["taker_buy_volume"],
        "trade_count": df["count"].astype("float64"),
    }).reset_index(drop=True)


# ------------------------------------------------------------------------------------------ klines / bars
def test_headerless_and_headered_klines_map_to_bars(tmp_path: Path) -> None:
    day1, day2 = klines("2024-08-08", 3), klines("2024-08-09", 3, base=200.0)
    put(tmp_path, "klines", "2024-08-08", csv_text(day1, header=False))
    put(tmp_path, "klines", "2024-08-09", csv_text(day2, header=True))
    tables = read_binance_vision(tmp_path, [BTC])
    assert set(tables) == {"bars"}
    bars = tables["bars"]
    BARS.validate(bars)
    assert str(bars["open_time"].dtype) == "datetime64[us, UTC]" and bars["symbol"].dtype == "str"
    assert (bars["symbol"] == BTC).all()
    assert list(bars["open_time"]) == [utc("2024-08-08 00:00") + pd.Timedelta(minutes=k) for k in range(3)] + [
        utc("2024-08-09 00:00") + pd.Timedelta(minutes=k) for k in range(3)]
    pd.testing.assert_frame_equal(bars[expected_bars(day1).columns], expected_bars(pd.concat([day1, day2])))


def test_microsecond_timestamps_equal_millisecond_ones(tmp_path: Path) -> None:
    """2025+ files stamp times in µs; the same rows in ms and µs give the same tables."""
    trades = pd.DataFrame({"agg_trade_id": [1, 2], "price": [90.0, 91.0], "quantity": [1.0, 2.0],
                           "first_trade_id": [1, 2], "last_trade_id": [1, 3],
                           "transact_time": [ms("2025-01-02 00:00:05"), ms("2025-01-02 00:00:30.5")],
                           "is_buyer_maker": ["true", "false"]})
    ticker = pd.DataFrame({"update_id": [7], "best_bid_price": [99.0], "best_bid_qty": [1.0],
                           "best_ask_price": [99.5], "best_ask_qty": [2.0],
                           "transaction_time": [ms("2025-01-01 00:00:01.25")],
                           "event_time": [ms("2025-01-01 00:00:01.5")]})
    out = {}
    for unit, scale in (("ms", 1), ("us", 1000)):
        root = tmp_path / unit
        put(root, "klines", "2025-01-01", csv_text(klines("2025-01-01", 4, unit=unit)))
        t = trades.copy()
        t["transact_time"] *= scale
        put(root, "aggTrades", "2025-01-02", csv_text(t))
        b = ticker.copy()
        b[["transaction_time", "event_time"]] *= scale
        put(root, "bookTicker", "2025-01-01", csv_text(b))
        out[unit] = read_binance_vision(root, [BTC])
    assert out["us"]["bars"]["open_time"].iloc[0] == utc("2025-01-01 00:00")
    assert out["us"]["book_l1"]["ts"].iloc[0] == utc("2025-01-01 00:00:01.5")
    assert len(out["us"]["bars"]) == 5  # 4 kline minutes + 1 aggTrades minute
    for name in ("bars", "book_l1"):
        pd.testing.assert_frame_equal(out["ms"][name], out["us"][name])


@pytest.mark.parametrize(("value", "message"), [(1_723_075_200, "neither epoch milliseconds"),
                                                 ("soon", "not integer epoch times"),
                                                 (1_723_075_200_000.5, "not integer epoch times")])
def test_bad_epoch_times_are_refused(tmp_path: Path, value: object, message: str) -> None:
    df = klines("2024-08-08", 2).astype({"open_time": "object"})
    df.loc[1, "open_time"] = value
    path = put(tmp_path, "klines", "2024-08-08", csv_text(df, header=False))
    with pytest.raises(DataContractError, match=rf"{path.name}: klines.open_time: 1 value.*{message}"):
        read_binance_vision(tmp_path, [BTC])


# ------------------------------------------------------------------------------------------ every table
def test_every_table_maps_to_the_raw_contract(tmp_path: Path) -> None:
    day = "2024-08-08"
    put(tmp_path, "klines", day, csv_text(klines(day, 5)))
    mark = klines(day, 5, base=100.1)
    index = klines(day, 4, base=100.05)  # minute 4 has no index price
    for df in (mark, index):
        df[["volume", "quote_volume", "count", "taker_buy_volume", "taker_buy_quote_volume"]] = 0
    put(tmp_path, "markPriceKlines", day, csv_text(mark, header=False))
    put(tmp_path, "indexPriceKlines", day, csv_text(index))
    premium = klines(day, 5, base=0.0)
    premium[["open", "high", "low", "close"]] = [-0.0002, 0.0001, -0.0003, -0.0001]  # premiums can be <= 0
    put(tmp_path, "premiumIndexKlines", day, csv_text(premium))
    put(tmp_path, "aggTrades", day, "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,"
        f"is_buyer_maker\n1,100.0,1.0,1,1,{ms(day) + 1000},false\n")  # minute covered by klines: ignored
    put(tmp_path, "bookTicker", day,
        f"11,99.9,1.0,100.1,2.0,{ms(day) + 500},{ms(day) + 510}\n"
        f"12,99.8,1.5,100.2,2.5,{ms(day) + 505},{ms(day) + 510}\n"  # same event time: higher update_id wins
        f"13,99.7,3.0,100.3,1.0,{ms(day) + 61_000},{ms(day) + 61_002}\n")
    put(tmp_path, "bookDepth", day, "timestamp,percentage,depth,notional\n" + "".join(
        f"2024-08-08 00:00:08,{p},{abs(p) * 10.0},{abs(p) * 1000.0}\n" for p in (-5, -1, 1, 5)))
    put(tmp_path, "metrics", day,
        "create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,"
        "sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio\n"
        "2024-08-08 00:05:00,BTCUSDT,80010.5,4.8e9,1.1,1.2,1.3,0.9\n"
        "2024-08-08 00:00:00,BTCUSDT,80000.0,4.8e9,1.1,1.2,1.3,0.9\n"
        "2024-08-08 00:10:00,BTCUSDT,,,,,,\n")
    put(tmp_path, "fundingRate", "2024-08", "calc_time,funding_interval_hours,last_funding_rate\n"
        f"{ms(day) + 1},8,0.0001\n{ms(day) + 8 * 3_600_000},8,-0.00005\n")

    tables, info = load_binance_vision(tmp_path, [BTC])
    assert set(tables) == {"bars", "book_l1", "open_interest", "funding", "mark_index"}
    for name, df in tables.items():
        RAW_TABLES[name].validate(df)
        assert (df["symbol"] == BTC).all()
    sym = info["symbols"][BTC]
    assert sym["absent"] == []
    assert sym["bars_source"] == {"klines": 5, "aggTrades": 0}

    l1 = tables["book_l1"]
    assert list(l1["ts"]) == [utc("2024-08-08 00:00:00.510"), utc("2024-08-08 00:01:01.002")]
    assert list(l1["bid_price"]) == [99.8, 99.7] and list(l1["ask_size"]) == [2.5, 1.0]

    oi = tables["open_interest"]
    assert list(oi["ts"]) == [utc("2024-08-08 00:00"), utc("2024-08-08 00:05")]
    assert list(oi["open_interest"]) == [80000.0, 80010.5]
    assert sym["tables"]["metrics"]["rows_without_open_interest"] == 1

    funding = tables["funding"]
    assert list(funding["funding_rate"]) == [0.0001, -0.00005]
    assert funding["ts"].iloc[0] == utc("2024-08-08 00:00:00.001")
    assert list(funding["next_funding_time"]) == [utc("2024-08-08 08:00"), utc("2024-08-08 16:00")]

    mi = tables["mark_index"]
    assert len(mi) == 4 and sym["mark_index_unmatched_minutes"] == 1
    assert mi["ts"].iloc[0] == utc("2024-08-08 00:00:59.999")
    assert list(mi["mark_price"]) == list(mark["close"][:4]) and list(mi["index_price"]) == list(index["close"])

    assert "book_depth" not in tables  # percentage bands are not price levels: never faked
    assert sym["tables"]["bookDepth"]["rows"] == 4
    assert sym["tables"]["premiumIndexKlines"]["rows"] == 5
    assert any("bookDepth" in w and "book_depth" in w for w in info["warnings"])
    assert any("premiumIndexKlines" in w for w in info["warnings"])
    assert set(info["not_mapped"]) == {"bookDepth", "premiumIndexKlines"}
    assert info["raw_tables"]["bars"] == 5


def test_aggtrades_rebuild_bars_only_where_klines_are_absent(tmp_path: Path) -> None:
    put(tmp_path, "klines", "2024-08-08", csv_text(klines("2024-08-08", 2)))
    t0, t1 = ms("2024-08-08"), ms("2024-08-09")
    header = "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
    put(tmp_path, "aggTrades", "2024-08-08", header + f"1,555.0,9.0,1,1,{t0 + 1000},false\n")
    put(tmp_path, "aggTrades", "2024-08-09", header +  # unsorted on purpose; minute 1 has no trade
        f"13,100.0,0.5,13,15,{t1 + 59_999},false\n"
        f"11,101.0,1.0,10,11,{t1 + 1000},false\n"
        f"12,103.0,2.0,12,12,{t1 + 30_000},true\n"
        f"14,104.0,1.0,16,16,{t1 + 2 * MINUTE_MS + 5},true\n")
    tables, info = load_binance_vision(tmp_path, [BTC])
    bars = tables["bars"]
    assert info["symbols"][BTC]["bars_source"] == {"klines": 2, "aggTrades": 2}
    assert bars["close"].iloc[0] == klines("2024-08-08", 1)["close"].iloc[0]  # klines win over aggTrades
    rebuilt = bars[bars["open_time"] >= utc("2024-08-09")].reset_index(drop=True)
    assert list(rebuilt["open_time"]) == [utc("2024-08-09 00:00"), utc("2024-08-09 00:02")]
    first = rebuilt.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (101.0, 103.0, 100.0, 100.0)
    assert (first["volume"], first["taker_buy_volume"], first["taker_sell_volume"]) == (3.5, 1.5, 2.0)
    assert first["trade_count"] == 6.0
    assert rebuilt.iloc[1]["taker_buy_volume"] == 0.0 and rebuilt.iloc[1]["taker_sell_volume"] == 1.0
    BARS.validate(bars)


# ------------------------------------------------------------------------------------------ bad files
def test_truncated_zip_names_the_file(tmp_path: Path) -> None:
    path = put(tmp_path, "klines", "2024-08-08", csv_text(klines("2024-08-08", 50)))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ArtifactError, match=rf"{path.name}.*corrupt or truncated"):
        read_binance_vision(tmp_path, [BTC])


def test_corrupt_zip_content_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1m-2024-08-08.zip"
    write_zip(path, csv_text(klines("2024-08-08", 3), header=False), compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.index(b"100.5")
    data[at] = ord("9")  # same length, different bytes: the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=rf"{path.name}.*corrupt or truncated"):
        read_binance_vision(tmp_path, [BTC])


@pytest.mark.parametrize("members", [{"readme.txt": "x"}, {"a.csv": "1\n", "b.csv": "2\n"}])
def test_zip_must_hold_exactly_one_csv(tmp_path: Path, members: dict[str, str]) -> None:
    path = tmp_path / "BTCUSDT-1m-2024-08-08.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    with pytest.raises(ArtifactError, match=rf"{path.name}.*exactly one CSV"):
        read_binance_vision(tmp_path, [BTC])


@pytest.mark.parametrize("case", ["headerless_short", "header_short", "extra_field_in_row"])
def test_wrong_column_count_names_file_and_columns(tmp_path: Path, case: str) -> None:
    df = klines("2024-08-08", 3)
    if case == "headerless_short":
        text = csv_text(df.drop(columns="ignore"), header=False)
    elif case == "header_short":
        text = csv_text(df.drop(columns="ignore"))
    else:
        lines = csv_text(df).splitlines()
        lines[2] += ",7"
        text = "\n".join(lines) + "\n"
    path = put(tmp_path, "klines", "2024-08-08", text)
    with pytest.raises(DataContractError, match=rf"{path.name}.*12 columns.*'open_time'.*'ignore'"):
        read_binance_vision(tmp_path, [BTC])


def test_non_numeric_price_names_file_and_column(tmp_path: Path) -> None:
    df = klines("2024-08-08", 3).astype({"close": "object"})
    df.loc[1, "close"] = "abc"
    path = put(tmp_path, "klines", "2024-08-08", csv_text(df, header=False))
    with pytest.raises(DataContractError, match=rf"{path.name}: klines.close: 1 non-numeric value.*'abc'"):
        read_binance_vision(tmp_path, [BTC])


def test_metrics_symbol_must_match_the_file(tmp_path: Path) -> None:
    path = put(tmp_path, "metrics", "2024-08-08", "2024-08-08 00:05:00,ETHUSDT,1,1,1,1,1,1\n")
    put(tmp_path, "klines", "2024-08-08", csv_text(klines("2024-08-08", 2)))
    with pytest.raises(DataContractError, match=rf"{path.name}.*ETHUSDT.*expected BTCUSDT"):
        read_binance_vision(tmp_path, [BTC])


# ------------------------------------------------------------------------------------------ gaps, overlaps, window
def _february_with_a_hole(root: Path, missing: str = "2024-02-15", minutes: int = 3) -> None:
    for day in pd.date_range("2024-02-01", "2024-02-29", freq="D"):
        date = day.strftime("%Y-%m-%d")
        if date != missing:
            put(root, "klines", date, csv_text(klines(date, minutes), header=day.day % 2 == 0))


def test_month_with_a_missing_day_shows_the_gap(tmp_path: Path) -> None:
    _february_with_a_hole(tmp_path)
    tables, info = load_binance_vision(tmp_path, [BTC], utc("2024-02-01"), utc("2024-03-01"))
    bars = tables["bars"]
    sym = info["symbols"][BTC]
    assert sym["bars_missing_days"] == ["2024-02-15"]
    assert sym["tables"]["klines"]["missing_days"] == ["2024-02-15"]
    assert sym["tables"]["klines"]["daily_files"] == 28
    assert not (bars["open_time"].dt.strftime("%Y-%m-%d") == "2024-02-15").any()
    assert len(bars) == 28 * 3
    assert sym["bars_missing_minutes"] == 29 * 1440 - 28 * 3
    assert set(sym["absent"]) >= {"aggTrades", "metrics", "fundingRate"}


def test_daily_rows_override_monthly_rows(tmp_path: Path) -> None:
    monthly = pd.concat([klines("2024-08-08", 2), klines("2024-08-09", 2)])
    put(tmp_path, "klines", "2024-08", csv_text(monthly, header=False))
    daily = klines("2024-08-08", 2)
    daily.loc[1, ["close", "high"]] = [150.0, 151.0]  # minute 1 differs, minute 0 repeats exactly
    put(tmp_path, "klines", "2024-08-08", csv_text(daily))
    tables, info = load_binance_vision(tmp_path, [BTC])
    bars = tables["bars"]
    assert len(bars) == 4
    assert bars["close"].iloc[1] == 150.0 and bars["close"].iloc[0] == daily["close"].iloc[0]
    kinfo = info["symbols"][BTC]["tables"]["klines"]
    assert (kinfo["daily_files"], kinfo["monthly_files"]) == (1, 1)
    assert kinfo["repeated_rows_dropped"] == 1 and kinfo["monthly_rows_overridden_by_daily"] == 1


def test_conflicting_minutes_of_the_same_granularity_are_refused(tmp_path: Path) -> None:
    df = klines("2024-08-08", 2)
    clash = df.iloc[[1]].assign(close=120.0, high=121.0)
    path = put(tmp_path, "klines", "2024-08-08", csv_text(pd.concat([df, clash])))
    with pytest.raises(DataContractError, match=rf"same granularity.*{path.name}"):
        read_binance_vision(tmp_path, [BTC])


def test_window_is_half_open(tmp_path: Path) -> None:
    put(tmp_path, "klines", "2024-08-08", csv_text(klines("2024-08-08", 5)))
    put(tmp_path, "klines", "2024-08-09", csv_text(klines("2024-08-09", 5)))
    bars = read_binance_vision(tmp_path, [BTC], utc("2024-08-08 00:01"), utc("2024-08-08 00:03"))["bars"]
    assert list(bars["open_time"]) == [utc("2024-08-08 00:01"), utc("2024-08-08 00:02")]
    with pytest.raises(DataContractError, match="no bars"):
        read_binance_vision(tmp_path, [BTC], utc("2024-09-01"), utc("2024-10-01"))


def test_symbol_mapping_and_flat_folder(tmp_path: Path) -> None:
    day = "2024-08-08"
    write_zip(tmp_path / f"BTCUSDT-1m-{day}.zip", csv_text(klines(day, 3)))
    write_zip(tmp_path / f"ETHUSDT-1m-{day}.zip", csv_text(klines(day, 2, base=3000.0)))
    write_zip(tmp_path / f"SOLUSDT-1m-{day}.zip", csv_text(klines(day, 2)))
    write_zip(tmp_path / f"BTCUSDT-markPriceKlines-1m-{day}.zip", csv_text(klines(day, 3, base=100.2)))
    write_zip(tmp_path / f"BTCUSDT-indexPriceKlines-1m-{day}.zip", csv_text(klines(day, 3, base=100.1)))
    write_zip(tmp_path / f"BTCUSDT-trades-{day}.zip", "1,2,3\n")
    write_zip(tmp_path / f"BTCUSDT-5m-{day}.zip", "1,2,3\n")
    write_zip(tmp_path / "notes.zip", "1,2,3\n")
    tables, info = load_binance_vision(tmp_path, [BTC, "ETHUSDT"])
    bars = tables["bars"]
    assert bars.groupby("symbol").size().to_dict() == {BTC: 3, "ETHUSDT": 2}
    assert (tables["mark_index"]["symbol"] == BTC).all() and len(tables["mark_index"]) == 3
    assert tables["mark_index"]["mark_price"].iloc[0] == 100.2
    assert info["symbols"][BTC]["binance_symbol"] == "BTCUSDT"
    reasons = sorted(Path(s["file"]).name for s in info["skipped_files"])
    assert reasons == [f"BTCUSDT-5m-{day}.zip", f"BTCUSDT-trades-{day}.zip", "notes.zip"]
    with pytest.raises(ConfigError, match="cannot be mapped"):
        read_binance_vision(tmp_path, ["BTC?USDT"])
    with pytest.raises(ConfigError, match="not a folder"):
        read_binance_vision(tmp_path / "nope", [BTC])


# ------------------------------------------------------------------------------------------ landing
def test_land_vision_month_is_complete_and_feeds_retrain(tmp_path: Path) -> None:
    root, home = tmp_path / "vision", tmp_path / "home"
    _february_with_a_hole(root, minutes=2)
    put(root, "fundingRate", "2024-02",
        f"calc_time,funding_interval_hours,last_funding_rate\n{ms('2024-02-01')},8,1e-4\n")
    put(root, "klines", "2024-03-01", csv_text(klines("2024-03-01", 2)))  # outside the month: not landed
    marker = land_vision_month(root, "2024-02", [BTC], home=home)
    assert marker["source"] == SOURCE and marker["month"] == "2024-02" and marker["symbols"] == [BTC]
    assert marker["tables"]["bars"]["rows"] == 28 * 2 and set(marker["tables"]) == {"bars", "funding"}
    assert complete_months(home) == [marker]
    folder = landing_root(home) / SOURCE / "2024-02"
    assert (folder / MARKER).is_file()
    assert io.read_json(folder / QUALITY_FILE)["symbols"][BTC]["bars_missing_days"] == ["2024-02-15"]
    landed = read_landed(landing_root(home) / SOURCE, None, None)
    expected = read_binance_vision(root, [BTC], utc("2024-02-01"), utc("2024-03-01"))
    for name in ("bars", "funding"):
        pd.testing.assert_frame_equal(landed[name], expected[name])

    spec = retrain_spec(marker, home=home, config_path=None)
    assert spec.run_id == "retrain-2024-02" and spec.symbols == (BTC,)
    assert spec.source.kind == "landed" and spec.source.path == str(landing_root(home) / SOURCE)
    raw = load_raw_market(spec)
    pd.testing.assert_frame_equal(raw["bars"], expected["bars"])
    replay, report = build_replay(raw, symbols=spec.symbols, start=spec.start_ts, end=spec.end_ts,
                                  config=ReplayConfig(complete_days_only=False))
    span = (replay["open_time_ms"].iloc[-1] - replay["open_time_ms"].iloc[0]) // 60_000 + 1
    assert len(replay) == 28 * 2 and report.missing_minutes == span - len(replay)  # outages stay visible
    assert report.gaps == 28 - 1 and replay["bar_filled"].sum() == 0  # day-long holes are never filled


def test_land_refuses_a_month_without_bars(tmp_path: Path) -> None:
    root, home = tmp_path / "vision", tmp_path / "home"
    put(root, "klines", "2024-02-01", csv_text(klines("2024-02-01", 2)))
    put(root, "metrics", "2024-03-01", "2024-03-01 00:05:00,BTCUSDT,1,1,1,1,1,1\n")
    with pytest.raises(DataContractError, match="2024-03 has no bars"):
        land_vision_month(root, "2024-03", [BTC], home=home)
    with pytest.raises(DataContractError, match=r"no bars for \['ETH-USDT-PERP'\]"):
        land_vision_month(root, "2024-02", [BTC, "ETH-USDT-PERP"], home=home)
    with pytest.raises(ConfigError, match="YYYY-MM"):
        land_vision_month(root, "2024-2", [BTC], home=home)
    assert complete_months(home) == []


# ------------------------------------------------------------------------------------------ download
@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr("urllib.request.urlopen", refuse)


class FakeFetch:
    """url -> bytes from a dict (None = 404); records every request."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.calls = files, []

    def __call__(self, url: str) -> bytes | None:
        self.calls.append(url)
        return self.files.get(url)


def _zip_bytes(name: str, text: str) -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(Path(name).with_suffix(".csv").name, text)
    return buf.getvalue()


def _publish(files: dict[str, bytes], rel: str, text: str, *, checksum: str | None = None) -> str:
    url = f"{BASE_URL}/{rel}"
    data = _zip_bytes(str(Path(rel).name), text)
    files[url] = data
    files[url + ".CHECKSUM"] = f"{checksum or io.sha256_bytes(data)}  {Path(rel).name}\n".encode()
    return url


def test_vision_urls() -> None:
    daily = vision_urls(BTC, "klines", "2024-02", daily=True)
    assert len(daily) == 29
    assert daily[0] == f"{BASE_URL}/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-02-01.zip"
    assert vision_urls("ETHUSDT", "metrics", "2024-08", daily=True)[-1].endswith(
        "futures/um/daily/metrics/ETHUSDT/ETHUSDT-metrics-2024-08-31.zip")
    assert vision_urls(BTC, "fundingRate", "2024-08", daily=False) == [
        f"{BASE_URL}/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-08.zip"]
    with pytest.raises(ConfigError, match="monthly files only"):
        vision_urls(BTC, "fundingRate", "2024-08", daily=True)
    with pytest.raises(ConfigError, match="daily files only"):
        vision_urls(BTC, "bookDepth", "2024-08", daily=False)
    with pytest.raises(ConfigError, match="unknown data.vision table"):
        vision_urls(BTC, "trades", "2024-08", daily=False)
    with pytest.raises(ConfigError, match="YYYY-MM"):
        vision_urls(BTC, "klines", "2024-13", daily=False)


def test_download_month_verifies_skips_and_tolerates_404(tmp_path: Path) -> None:
    files: dict[str, bytes] = {}
    rel_k = vision_relpath(BTC, "klines", "2024-08")
    rel_f = vision_relpath(BTC, "fundingRate", "2024-08")
    rel_m = vision_relpath(BTC, "metrics", "2024-08-01")
    _publish(files, rel_k, csv_text(klines("2024-08-01", 3)))
    _publish(files, rel_f, f"calc_time,funding_interval_hours,last_funding_rate\n{ms('2024-08-01')},8,1e-4\n")
    _publish(files, rel_m, "2024-08-01 00:05:00,BTCUSDT,5,1,1,1,1,1\n")
    fetch = FakeFetch(files)
    dest = tmp_path / "dest"
    tables = ("klines", "markPriceKlines", "metrics", "fundingRate")
    report = download_month([BTC], "2024-08", dest, tables=tables, fetch=fetch)
    assert sorted(report["downloaded"]) == sorted([rel_k, rel_f, rel_m])
    assert len(report["missing"]) == 1 + 30  # markPriceKlines monthly + 30 metrics days
    assert f"{BASE_URL}/{vision_relpath(BTC, 'markPriceKlines', '2024-08')}" in report["missing"]
    for rel in (rel_k, rel_f, rel_m):
        assert (dest / rel).read_bytes() == files[f"{BASE_URL}/{rel}"]
        assert (dest / (rel + ".CHECKSUM")).is_file()
    assert not list(dest.rglob("*.tmp"))

    fetch.calls.clear()
    again = download_month([BTC], "2024-08", dest, tables=tables, fetch=fetch)
    assert sorted(again["skipped"]) == sorted([rel_k, rel_f, rel_m]) and again["downloaded"] == []
    assert again["missing"] and set(again["missing"]) <= set(fetch.calls)  # missing files are asked for again
    assert not [c for c in fetch.calls if rel_k in c]  # present and verified ones are not
    assert not [c for c in fetch.calls if rel_f in c]

    (dest / rel_k).write_bytes(b"damaged")
    third = download_month([BTC], "2024-08", dest, tables=("klines",), fetch=fetch)
    assert third["downloaded"] == [rel_k] and (dest / rel_k).read_bytes() == files[f"{BASE_URL}/{rel_k}"]

    tables_read, info = load_binance_vision(dest, [BTC])
    assert len(tables_read["bars"]) == 3 and len(tables_read["funding"]) == 1 and len(tables_read["open_interest"]) == 1
    assert info["symbols"][BTC]["tables"]["klines"]["monthly_files"] == 1


def test_download_refuses_bad_or_missing_checksums(tmp_path: Path) -> None:
    files: dict[str, bytes] = {}
    rel = vision_relpath(BTC, "klines", "2024-08")
    url = _publish(files, rel, csv_text(klines("2024-08-01", 3)), checksum="0" * 64)
    with pytest.raises(ArtifactError, match="does not match"):
        download_month([BTC], "2024-08", tmp_path, tables=("klines",), fetch=FakeFetch(files))
    assert not (tmp_path / rel).exists()
    del files[url + ".CHECKSUM"]
    with pytest.raises(ArtifactError, match="unverified"):
        download_month([BTC], "2024-08", tmp_path, tables=("klines",), fetch=FakeFetch(files))
    files[url + ".CHECKSUM"] = b"not a checksum\n"
    with pytest.raises(ArtifactError, match="not a sha256"):
        download_month([BTC], "2024-08", tmp_path, tables=("klines",), fetch=FakeFetch(files))
    assert not (tmp_path / rel).exists()
    with pytest.raises(ConfigError, match="unknown data.vision table"):
        download_month([BTC], "2024-08", tmp_path, tables=("trades",), fetch=FakeFetch(files))

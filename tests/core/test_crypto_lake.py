"""Crypto Lake adapter: small fixture lakes written with pandas into tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trader_core.config import ReplayConfig
from trader_core.errors import ArtifactError, ConfigError, DataContractError
from trader_core.features.build import build_feature_frame
from trader_core.market.crypto_lake import lake_inventory, level_columns, read_crypto_lake
from trader_core.replay import build_replay

EX = "BINANCE_FUTURES"
BTC, ETH = "BTC-USDT-PERP", "ETH-USDT-PERP"
DAYS = ("2024-03-01", "2024-03-02")
MINUTES = 5
EPOCH = pd.Timestamp(0, tz="UTC")


def _path(root: Path, table: str, symbol: str, day: str) -> Path:
    return root / f"table={table}" / f"exchange={EX}" / f"symbol={symbol}" / f"dt={day}" / "data.parquet"


def _write(root: Path, table: str, symbol: str, day: str, df: pd.DataFrame) -> Path:
    path = _path(root, table, symbol, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False)
    return path


def _times(day: str, seconds: np.ndarray) -> pd.Series:
    ms = np.sort(np.round(np.asarray(seconds) * 1000).astype(np.int64))  # whole milliseconds: exact in every unit
    return pd.Series(pd.Timestamp(day, tz="UTC") + pd.to_timedelta(ms, unit="ms"))


def _trades(day: str, symbol: str, seed: int, base: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 60
    t = _times(day, rng.uniform(0, MINUTES * 60, n).round(3))
    return pd.DataFrame({
        "received_time": t + pd.Timedelta(milliseconds=3), "origin_time": t, "symbol": symbol, "exchange": EX,
        "side": rng.choice(["buy", "sell"], n), "price": base + rng.normal(0, 5, n).round(1),
        "quantity": rng.uniform(0.001, 2.0, n).round(3), "trade_id": np.arange(n) + seed * 1000})


def _book(day: str, symbol: str, seed: int, base: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = _times(day, np.r_[np.arange(0, MINUTES * 60, 10.0), 59.999, 119.5])  # several per minute
    n = len(t)
    mid = base + rng.normal(0, 3, n).round(1)
    cols = {"received_time": t + pd.Timedelta(milliseconds=2), "origin_time": t, "symbol": symbol, "exchange": EX,
            "sequence_number": np.arange(n) + 10}
    for i in range(20):
        cols[f"bid_{i}_price"] = mid - 0.5 - 0.5 * i
        cols[f"bid_{i}_size"] = rng.uniform(0.1, 5, n).round(3)
        cols[f"ask_{i}_price"] = mid + 0.5 + 0.5 * i
        cols[f"ask_{i}_size"] = rng.uniform(0.1, 5, n).round(3)
    return pd.DataFrame(cols)


def _snapshots(day: str, symbol: str, step: float, column: str, values: np.ndarray | float) -> pd.DataFrame:
    t = _times(day, np.arange(0, MINUTES * 60, step))
    return pd.DataFrame({"origin_time": t, "received_time": t, "symbol": symbol, column: values})


def _liquidations(day: str, symbol: str) -> pd.DataFrame:
    return pd.DataFrame({"origin_time": _times(day, np.array([30.5, 95.0, 95.2])), "symbol": symbol,
                         "side": ["sell", "buy", "sell"], "price": [100.0, 101.0, 99.0], "quantity": [1.0, 2.0, 0.5]})


def make_lake(root: Path, days=DAYS, symbols=(BTC, ETH)) -> Path:
    for k, symbol in enumerate(symbols):
        base = 60_000.0 if symbol == BTC else 3_000.0
        for j, day in enumerate(days):
            seed = 10 * k + j + 1
            _write(root, "trades", symbol, day, _trades(day, symbol, seed, base))
            _write(root, "book", symbol, day, _book(day, symbol, seed, base))
            funding = _snapshots(day, symbol, 30.0, "funding_rate", 1e-4 * (k + 1))
            funding["next_funding_time"] = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=8)
            funding["mark_price"] = base
            _write(root, "funding", symbol, day, funding)
            _write(root, "open_interest", symbol, day,
                   _snapshots(day, symbol, 20.0, "open_interest", np.arange(MINUTES * 3) + 1000.0 * (j + 1)))
            _write(root, "liquidations", symbol, day, _liquidations(day, symbol))
    return root


def _expected_bars(root: Path, symbol: str, days=DAYS) -> pd.DataFrame:
    trades = pd.concat([pd.read_parquet(_path(root, "trades", symbol, d)) for d in days])
    rows = []
    for minute, g in trades.groupby(trades["origin_time"].dt.floor("min")):
        g = g.sort_values("origin_time")
        rows.append({"open_time": minute, "open": g["price"].iloc[0], "high": g["price"].max(),
                     "low": g["price"].min(), "close": g["price"].iloc[-1], "volume": g["quantity"].sum(),
                     "taker_buy_volume": g.loc[g["side"] == "buy", "quantity"].sum(),
                     "taker_sell_volume": g.loc[g["side"] == "sell", "quantity"].sum(),
                     "trade_count": float(len(g))})
    return pd.DataFrame(rows)


@pytest.fixture()
def lake(tmp_path: Path) -> Path:
    return make_lake(tmp_path / "lake")


def test_bars_are_ohlcv_with_the_taker_split(lake):
    raw = read_crypto_lake(lake, [BTC, ETH])
    assert set(raw) == {"bars", "book_depth", "book_l1", "funding", "open_interest", "liquidations"}
    bars = raw["bars"]
    assert str(bars["open_time"].dt.tz) == "UTC" and len(bars) == 2 * len(DAYS) * MINUTES
    for symbol in (BTC, ETH):
        got = bars[bars["symbol"] == symbol].drop(columns="symbol").reset_index(drop=True)
        want = _expected_bars(lake, symbol)
        pd.testing.assert_frame_equal(got, want[got.columns.tolist()], check_dtype=False, check_exact=False,
                                      rtol=1e-12)
    np.testing.assert_allclose(bars["taker_buy_volume"] + bars["taker_sell_volume"], bars["volume"])


def test_repeated_trade_ids_are_counted_once(lake):
    expected = read_crypto_lake(lake, [BTC])["bars"]
    path = _path(lake, "trades", BTC, DAYS[0])
    trades = pd.read_parquet(path)
    pd.concat([trades, trades.iloc[:7]]).to_parquet(path, index=False)  # e.g. overlapping day files
    assert len(pd.read_parquet(path)) == 67
    pd.testing.assert_frame_equal(read_crypto_lake(lake, [BTC])["bars"], expected)


def test_book_is_thinned_to_the_last_snapshot_of_each_minute(lake):
    raw = read_crypto_lake(lake, [BTC])
    depth, l1 = raw["book_depth"], raw["book_l1"]
    assert list(depth.columns) == ["symbol", "ts", *level_columns(20)]
    assert level_columns(1) == ["bid_0_price", "bid_0_size", "ask_0_price", "ask_0_size"]
    book = pd.concat([pd.read_parquet(_path(lake, "book", BTC, d)) for d in DAYS])
    last = book.sort_values("origin_time").groupby(book["origin_time"].dt.floor("min")).tail(1)
    assert len(depth) == len(DAYS) * MINUTES == len(last)
    assert depth["ts"].tolist() == last["origin_time"].tolist()
    assert depth["ts"].iloc[0] == pd.Timestamp(f"{DAYS[0]} 00:00:59.999", tz="UTC")  # the extra snapshot wins
    np.testing.assert_array_equal(depth[level_columns(20)].to_numpy(), last[level_columns(20)].to_numpy())
    np.testing.assert_array_equal(l1["ask_price"].to_numpy(), last["ask_0_price"].to_numpy())
    np.testing.assert_array_equal(l1["bid_size"].to_numpy(), last["bid_0_size"].to_numpy())
    shallow = read_crypto_lake(lake, [BTC], depth_levels=5)["book_depth"]
    assert list(shallow.columns) == ["symbol", "ts", *level_columns(5)]
    with pytest.raises(ConfigError, match="depth_levels"):
        read_crypto_lake(lake, [BTC], depth_levels=21)


def test_a_minute_straddling_two_day_files_keeps_its_last_snapshot(lake):
    path = _path(lake, "book", BTC, DAYS[1])
    late = _book(DAYS[0], BTC, 99, 60_000.0).iloc[[0]].assign(
        origin_time=pd.Timestamp(f"{DAYS[0]} 00:04:59.999", tz="UTC"))  # filed under the next day
    pd.concat([late, pd.read_parquet(path)]).to_parquet(path, index=False)
    depth = read_crypto_lake(lake, [BTC])["book_depth"]
    assert len(depth) == len(DAYS) * MINUTES
    row = depth[depth["ts"] == late["origin_time"].iloc[0]]
    assert len(row) == 1 and row["bid_3_size"].iloc[0] == late["bid_3_size"].iloc[0]


def test_funding_open_interest_and_liquidations(lake):
    raw = read_crypto_lake(lake, [BTC, ETH])
    funding, oi, liq = raw["funding"], raw["open_interest"], raw["liquidations"]
    assert len(funding) == len(oi) == 2 * len(DAYS) * MINUTES  # last observation per minute
    assert (funding.loc[funding["symbol"] == ETH, "funding_rate"] == 2e-4).all()
    assert funding["next_funding_time"].iloc[0] == pd.Timestamp(f"{DAYS[0]} 08:00", tz="UTC")
    first = oi[oi["symbol"] == BTC].iloc[0]
    assert first["ts"] == pd.Timestamp(f"{DAYS[0]} 00:00:40", tz="UTC") and first["open_interest"] == 1002.0
    assert liq["side"].tolist()[:3] == ["SELL", "BUY", "SELL"] and len(liq) == 2 * len(DAYS) * 3


def test_only_partitions_in_the_window_are_read(lake):
    bad = _path(lake, "trades", BTC, "2024-03-05")
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a parquet file")  # outside the window: must not be opened
    start, end = pd.Timestamp(DAYS[1], tz="UTC"), pd.Timestamp("2024-03-03", tz="UTC")
    raw = read_crypto_lake(lake, [BTC], start, end)
    assert (raw["bars"]["open_time"].dt.strftime("%Y-%m-%d") == DAYS[1]).all() and len(raw["bars"]) == MINUTES
    assert raw["book_depth"]["ts"].min() >= start and raw["liquidations"]["ts"].min() >= start
    mid = read_crypto_lake(lake, [BTC], pd.Timestamp(f"{DAYS[0]} 00:02", tz="UTC"),
                           pd.Timestamp(f"{DAYS[0]} 00:04"))  # naive end is read as UTC
    assert mid["bars"]["open_time"].dt.strftime("%H:%M").tolist() == ["00:02", "00:03"]
    with pytest.raises(ArtifactError, match=re.escape(str(bad))):
        read_crypto_lake(lake, [BTC])
    with pytest.raises(ConfigError, match="not before"):
        read_crypto_lake(lake, [BTC], end, start)


def test_missing_days_and_tables_are_reported_not_invented(tmp_path):
    root = make_lake(tmp_path / "lake", days=("2024-03-01", "2024-03-03"), symbols=(BTC,))
    _path(root, "book", BTC, "2024-03-03").unlink()
    inv = lake_inventory(root, [BTC], pd.Timestamp("2024-03-01", tz="UTC"), pd.Timestamp("2024-03-04", tz="UTC"))
    assert inv["expected_days"] == ["2024-03-01", "2024-03-02", "2024-03-03"]
    assert inv["tables"]["trades"][BTC] == {"days_present": ["2024-03-01", "2024-03-03"],
                                            "days_missing": ["2024-03-02"], "files": 2}
    assert inv["tables"]["book"][BTC]["days_missing"] == ["2024-03-02", "2024-03-03"]
    assert inv["complete"] is False and inv["tables_absent"] == [] and inv["symbols_present"] == [BTC]
    open_inv = lake_inventory(root, [BTC, ETH])  # open window: bounded by the days present
    assert open_inv["expected_days"] == inv["expected_days"]
    assert open_inv["tables"]["funding"][ETH]["days_missing"] == inv["expected_days"]
    raw = read_crypto_lake(root, [BTC])
    assert raw["book_depth"]["ts"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2024-03-01"]
    assert raw["bars"]["open_time"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2024-03-01", "2024-03-03"]
    for table in ("funding", "liquidations"):
        for path in (root / f"table={table}").rglob("*.parquet"):
            path.unlink()
    (root / "table=open_interest").rename(root / "elsewhere")
    raw = read_crypto_lake(root, [BTC])
    assert set(raw) == {"bars", "book_depth", "book_l1"}  # no file / no folder: unavailable, never empty-filled
    assert lake_inventory(root, [BTC])["tables_absent"] == ["open_interest"]


def test_corrupt_parquet_names_the_file(lake):
    path = _path(lake, "book", ETH, DAYS[1])
    path.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(ArtifactError, match=re.escape(str(path))):
        read_crypto_lake(lake, [BTC, ETH])


def test_missing_or_bad_columns_name_file_and_column(lake):
    path = _path(lake, "trades", BTC, DAYS[0])
    pd.read_parquet(path).drop(columns="quantity").to_parquet(path, index=False)
    with pytest.raises(DataContractError, match=re.escape(str(path)) + ".*'quantity'"):
        read_crypto_lake(lake, [BTC])
    book = _path(lake, "book", ETH, DAYS[0])
    pd.read_parquet(book).drop(columns="ask_19_size").to_parquet(book, index=False)
    with pytest.raises(DataContractError, match=re.escape(str(book)) + ".*'ask_19_size'"):
        read_crypto_lake(lake, [ETH])
    assert len(read_crypto_lake(lake, [ETH], depth_levels=19)["book_depth"]) == len(DAYS) * MINUTES
    trades = _path(lake, "trades", ETH, DAYS[1])
    pd.read_parquet(trades).assign(side="long").to_parquet(trades, index=False)
    with pytest.raises(DataContractError, match=re.escape(str(trades)) + ".*'side'.*'long'"):
        read_crypto_lake(lake, [ETH])


def _retime(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    out = df.copy()
    for col in ("origin_time", "received_time"):
        t = out[col]
        out[col] = {"naive": t.dt.tz_localize(None), "tokyo": t.dt.tz_convert("Asia/Tokyo"),
                    "int_ns": (t - EPOCH) // pd.Timedelta(1, "ns"),
                    "int_ms": (t - EPOCH) // pd.Timedelta(milliseconds=1)}[kind]
    if kind == "int_ns":  # Crypto Lake's raw file names (lakeapi renames them on load)
        out = out.rename(columns={"origin_time": "timestamp", "received_time": "receipt_timestamp",
                                  "quantity": "amount", "trade_id": "id"})
    return out


@pytest.mark.parametrize("kind", ["naive", "tokyo", "int_ns", "int_ms"])
def test_time_stamps_are_normalised_to_utc(lake, kind):
    expected = read_crypto_lake(lake, [BTC])
    for table in ("trades", "book"):
        for day in DAYS:
            path = _path(lake, table, BTC, day)
            _retime(pd.read_parquet(path), kind).to_parquet(path, index=False)
    got = read_crypto_lake(lake, [BTC])
    for name in ("bars", "book_depth", "book_l1"):
        pd.testing.assert_frame_equal(got[name], expected[name])
    assert str(got["bars"]["open_time"].dt.tz) == "UTC"


def test_unknown_symbol_and_symbol_without_trades(lake):
    with pytest.raises(DataContractError, match=r"\['SOL-USDT-PERP'\] not in the Crypto Lake.*symbols present"):
        read_crypto_lake(lake, [BTC, "SOL-USDT-PERP"])
    _write(lake, "book", "SOL-USDT-PERP", DAYS[0], _book(DAYS[0], "SOL-USDT-PERP", 5, 100.0))
    with pytest.raises(DataContractError, match=r"\['SOL-USDT-PERP'\] have no trades"):
        read_crypto_lake(lake, ["SOL-USDT-PERP"])
    with pytest.raises(DataContractError, match="no trades"):
        read_crypto_lake(lake, [BTC], pd.Timestamp("2024-04-01", tz="UTC"))
    with pytest.raises(DataContractError, match="symbols present: \\[\\]"):
        read_crypto_lake(lake, [BTC], exchange="BINANCE")
    with pytest.raises(ConfigError, match="not a directory"):
        read_crypto_lake(lake / "nope", [BTC])


def test_real_s3_layout_with_bare_table_folder_and_random_file_names(lake):
    for path in sorted(lake.glob("table=*/**/data.parquet")):
        path.rename(path.with_name("part-3f9a.parquet"))
    for folder in sorted(lake.glob("table=*")):
        folder.rename(lake / folder.name.removeprefix("table="))
    assert len(read_crypto_lake(lake, [BTC])["bars"]) == len(DAYS) * MINUTES


def test_lake_tables_feed_the_replay_with_book_available(lake):
    raw = read_crypto_lake(lake, [BTC, ETH])
    replay, report = build_replay(raw, config=ReplayConfig(complete_days_only=False))
    assert report.output_rows == 2 * len(DAYS) * MINUTES
    for flag in ("book_available", "depth_available", "funding_available", "open_interest_available",
                 "liquidation_available"):
        assert (replay[flag] == 1).all(), flag
    assert replay["mark_index_available"].eq(0).all()  # Crypto Lake funding has no index price
    book = raw["book_l1"]
    want = (book["ask_price"] - book["bid_price"]) / ((book["ask_price"] + book["bid_price"]) / 2) * 1e4
    np.testing.assert_allclose(replay["spread_bps"].to_numpy(), want.to_numpy())
    assert replay["level1_ofi_1m"].notna().sum() == len(replay) - 2  # first row of each symbol has no prior
    depth = raw["book_depth"]
    bid5 = sum(depth[f"bid_{i}_price"] * depth[f"bid_{i}_size"] for i in range(5))
    np.testing.assert_allclose(replay["depth_bid_notional_5"].to_numpy(), bid5.to_numpy())
    btc = replay[replay["symbol"] == BTC]
    assert btc["liquidation_sell_notional_1m"].iloc[0] == 100.0 and btc["liquidation_buy_notional_1m"].iloc[1] == 202.0
    assert btc["gap_minutes_before"].iloc[MINUTES] == 1440 - MINUTES  # day 2 follows a visible gap
    features = build_feature_frame(replay)
    for name in ("spread_bps", "book_microprice_basis_bps", "book_depth_imbalance_5", "book_pressure_taker_1m"):
        assert np.isfinite(features[name].to_numpy()).all() and features[name].abs().sum() > 0, name

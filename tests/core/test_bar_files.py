"""Bar-file layouts of the ``csv`` source: each layout reads back to the bars of the canonical bar CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FTX_CSV, require_real
from trader_core.config import BAR_LAYOUTS, ReplayConfig, RunSpec
from trader_core.config_mapping import from_mapping
from trader_core.errors import ConfigError, DataContractError
from trader_core.market.bar_files import (
    READERS,
    detect_layout,
    funding_files,
    read_bars,
    read_bars_file,
    read_funding_file,
)
from trader_core.market.sources import load_raw_market
from trader_core.replay import build_replay

SYMBOL = "BTC-PERP"
OHLCV = ["open", "high", "low", "close", "volume"]
TAKER = ["taker_buy_volume", "taker_sell_volume", "trade_count"]
REPLAY = ReplayConfig(complete_days_only=False)
EPOCH = pd.Timestamp(0, tz="UTC")


# ------------------------------------------------------------------------------------------ source bars
@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    """Two days of the real FTX bars plus taker/trade columns the kline layout carries (read with plain pandas)."""
    raw = pd.read_csv(require_real(FTX_CSV), nrows=2 * 1440)
    rng = np.random.default_rng(3)
    raw["taker_buy_volume"] = np.round(raw["volume"] * rng.uniform(0, 1, len(raw)), 4)
    raw["taker_sell_volume"] = raw["volume"] - raw["taker_buy_volume"]
    raw["trade_count"] = rng.integers(1, 500, len(raw))
    raw["open_time"] = pd.to_datetime(raw["timestamp"]).dt.tz_localize("UTC")
    return raw


def _since_epoch(times: pd.Series, unit: str) -> pd.Series:
    return (times - EPOCH) // pd.Timedelta(1, unit=unit)


def _kline_rows(src: pd.DataFrame, unit: str) -> pd.DataFrame:
    opens = _since_epoch(src["open_time"], unit)
    return pd.DataFrame({
        "open_time": opens, **{c: src[c] for c in OHLCV},
        "close_time": opens + pd.Timedelta(milliseconds=59_999) // pd.Timedelta(1, unit=unit),
        "quote_volume": src["volume"] * src["close"], "count": src["trade_count"],
        "taker_buy_volume": src["taker_buy_volume"],
        "taker_buy_quote_volume": src["taker_buy_volume"] * src["close"], "ignore": 0})


def _ohlcv(src: pd.DataFrame, time: pd.Series | np.ndarray, name: str = "timestamp") -> pd.DataFrame:
    return pd.DataFrame({name: time, **{c: src[c] for c in OHLCV}})


Writer = Callable[[pd.DataFrame, Path], None]
#: (layout, writer, carries the taker/trade columns); every file holds the same bars.
WRITERS: dict[str, tuple[str, Writer, bool]] = {
    "csv-iso-header-all-columns": ("bar-csv", lambda s, p: s[["timestamp", *OHLCV, *TAKER]].to_csv(p, index=False),
                                   True),
    "csv-iso-header": ("bar-csv", lambda s, p: s[["timestamp", *OHLCV]].to_csv(p, index=False), False),
    "csv-iso-no-header": ("bar-csv", lambda s, p: s[["timestamp", *OHLCV]].to_csv(p, index=False, header=False),
                          False),
    "csv-ms-header": ("bar-csv", lambda s, p: _ohlcv(s, _since_epoch(s["open_time"], "ms")).to_csv(p, index=False),
                      False),
    "csv-s-no-header": ("bar-csv", lambda s, p: _ohlcv(s, _since_epoch(s["open_time"], "s")).to_csv(
        p, index=False, header=False), False),
    "kline-ms-header": ("binance-kline-csv", lambda s, p: _kline_rows(s, "ms").to_csv(p, index=False), True),
    "kline-ms-no-header": ("binance-kline-csv", lambda s, p: _kline_rows(s, "ms").to_csv(p, index=False, header=False),
                           True),
    "kline-us-no-header": ("binance-kline-csv", lambda s, p: _kline_rows(s, "us").to_csv(p, index=False, header=False),
                           True),
    "freqtrade-json": ("freqtrade-json", lambda s, p: p.write_text(json.dumps(
        [[int(t), *row] for t, row in zip(_since_epoch(s["open_time"], "ms"), s[OHLCV].to_numpy().tolist())])),
        False),
    "freqtrade-feather-tz": ("freqtrade-feather", lambda s, p: _ohlcv(s, s["open_time"], "date").to_feather(p), False),
    "freqtrade-feather-ms": ("freqtrade-feather", lambda s, p: _ohlcv(
        s, _since_epoch(s["open_time"], "ms"), "date").to_feather(p), False),
}


@pytest.fixture(scope="module")
def canonical(source: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[bool, pd.DataFrame]:
    """Bars of the canonical bar CSV (header, ISO times), with and without the taker/trade columns."""
    folder = tmp_path_factory.mktemp("canonical")
    out = {}
    for with_taker in (True, False):
        path = folder / f"bars{int(with_taker)}.csv"
        source[["timestamp", *OHLCV, *(TAKER if with_taker else [])]].to_csv(path, index=False)
        out[with_taker] = read_bars(path, symbol=SYMBOL)
    return out


def test_canonical_csv_holds_the_source_values(source, canonical):
    bars = canonical[True]
    assert bars["open_time"].tolist() == source["open_time"].tolist()
    assert (bars["symbol"] == SYMBOL).all() and str(bars["open_time"].dt.tz) == "UTC"
    for name in OHLCV + TAKER:
        assert bars[name].dtype == np.float64
        np.testing.assert_array_equal(bars[name].to_numpy(), source[name].to_numpy(dtype=np.float64))
    assert canonical[False][TAKER].isna().all().all()


@pytest.mark.parametrize("case", sorted(WRITERS))
def test_every_layout_reads_back_to_the_canonical_bars_and_replay(case, source, canonical, tmp_path):
    layout, write, with_taker = WRITERS[case]
    path = tmp_path / f"BTC-{case}.data"  # the extension says nothing: the layout comes from the content
    write(source, path)
    assert detect_layout(path) == layout
    bars = read_bars(path, symbol=SYMBOL)
    pd.testing.assert_frame_equal(bars, canonical[with_taker])
    pd.testing.assert_frame_equal(read_bars(path, symbol=SYMBOL, layout=layout), bars)
    replay, report = build_replay({"bars": bars}, config=REPLAY)
    want, want_report = build_replay({"bars": canonical[with_taker]}, config=REPLAY)
    pd.testing.assert_frame_equal(replay, want)
    assert report.output_rows == want_report.output_rows == len(source)


def test_the_csv_source_reads_a_named_layout(source, canonical, tmp_path):
    path = tmp_path / "klines.csv"
    _kline_rows(source, "ms").to_csv(path, index=False, header=False)
    spec = from_mapping(RunSpec, {"run_id": "kl", "symbols": [SYMBOL], "start": None, "end": None,
                                  "source": {"kind": "csv", "path": str(path), "layout": "binance-kline-csv"}})
    raw = load_raw_market(spec)
    assert sorted(raw) == ["bars"]
    pd.testing.assert_frame_equal(raw["bars"], canonical[True])


# ------------------------------------------------------------------------------------------ small files
def _minutes(n: int, start: str = "2024-08-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="min", tz="UTC")


def _bars_csv(path: Path, times: pd.DatetimeIndex) -> Path:
    price = 100.0 + np.arange(len(times)) % 7
    pd.DataFrame({"timestamp": _since_epoch(pd.Series(times), "ms"), "open": price, "high": price + 1,
                  "low": price - 1, "close": price, "volume": 1.0}).to_csv(path, index=False)
    return path


def test_epoch_seconds_milliseconds_and_microseconds_read_to_the_same_times(tmp_path):
    times = pd.Series(_minutes(3))
    got = {}
    for unit in ("s", "ms", "us"):
        path = tmp_path / f"{unit}.csv"
        _ohlcv(pd.DataFrame({c: [1.0, 1.0, 1.0] for c in OHLCV}), _since_epoch(times, unit)).to_csv(path, index=False)
        got[unit] = read_bars(path, symbol=SYMBOL)["open_time"].tolist()
    assert got["s"] == got["ms"] == got["us"] == times.tolist()


def test_mixed_epoch_units_are_refused(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("timestamp,open,high,low,close,volume\n1722470400,1,2,0.5,1,1\n1722470460000,1,2,0.5,1,1\n")
    with pytest.raises(DataContractError, match=r"column 'timestamp' is not parseable as time .*found \['s', 'ms'\]"):
        read_bars(path, symbol=SYMBOL)


@pytest.mark.parametrize("text, why", [
    ("foo,bar,baz\n1,2,3\n", r"header \['foo', 'bar', 'baz'\]"),
    ("1722470400000,1,2,0.5\n", "4 columns without header"),
    ("open_time,open,high,low,close,volume\n1722470400000,1,2,0.5,1,1\n", r"header \['open_time'"),
])
def test_unknown_layout_is_one_line_listing_the_supported_layouts(tmp_path, text, why):
    path = tmp_path / "odd.csv"
    path.write_text(text)
    with pytest.raises(DataContractError, match=f"odd.csv: unknown bar file layout \\({why}") as err:
        detect_layout(path)
    message = str(err.value)
    assert "\n" not in message
    for layout in BAR_LAYOUTS:
        assert f"{layout} (" in message


def test_malformed_json_and_feather_name_the_file(tmp_path):
    ragged = tmp_path / "ragged.json"
    ragged.write_text("[[1722470400000, 1, 2, 0.5, 1, 1], [1722470460000, 1, 2]]")
    with pytest.raises(DataContractError, match=r"ragged.json: expected an array of \[ts, open, high, low, close"):
        read_bars(ragged, symbol=SYMBOL)
    flat = tmp_path / "flat.json"
    flat.write_text("[1722470400000, 1, 2]")
    with pytest.raises(DataContractError, match=r"flat.json: .*got an array of shape \(3,\)"):
        read_bars(flat, symbol=SYMBOL)
    csv = _bars_csv(tmp_path / "bars.csv", _minutes(2))
    with pytest.raises(DataContractError, match="bars.csv: unreadable feather file"):
        read_bars(csv, symbol=SYMBOL, layout="freqtrade-feather")
    with pytest.raises(ConfigError, match="source.layout: must be one of"):
        read_bars(csv, symbol=SYMBOL, layout="parquet")


def test_layout_names_are_the_config_names_and_the_spec_validates_them():
    assert tuple(READERS) == BAR_LAYOUTS
    with pytest.raises(ConfigError, match="source.layout: must be one of"):
        from_mapping(RunSpec, {"run_id": "x", "source": {"kind": "csv", "path": "a.csv", "layout": "xlsx"}})
    with pytest.raises(ConfigError, match="source.layout: applies to source 'csv' only"):
        from_mapping(RunSpec, {"run_id": "x", "source": {"kind": "lake", "path": "a", "layout": "bar-csv"}})


# ------------------------------------------------------------------------------------------ funding
RATES = [0.0001, -0.00005, 0.0002]
RATE_HOURS = [0, 8, 16]


def _funding_expected(rate_times: pd.DatetimeIndex, minutes: pd.DatetimeIndex) -> np.ndarray:
    """The rate in force at each bar close, by a plain search over the known series (bps)."""
    closes = minutes + pd.Timedelta(minutes=1)
    idx = np.searchsorted(rate_times.to_numpy(), closes.to_numpy(), side="left") - 1
    return np.asarray(RATES)[idx] * 1e4


def test_binance_funding_rate_csv_is_joined_with_its_interval(tmp_path):
    minutes = _minutes(1440)
    bars = _bars_csv(tmp_path / "BTCUSDT-1m-2024-08.csv", minutes)
    rate_times = pd.DatetimeIndex([minutes[0] + pd.Timedelta(hours=h) for h in RATE_HOURS])
    (tmp_path / "BTCUSDT-fundingRate-2024-08.csv").write_text(
        "calc_time,funding_interval_hours,last_funding_rate\n" + "".join(
            f"{ms},{hours},{rate}\n" for ms, hours, rate in zip(_since_epoch(pd.Series(rate_times), "ms"), [8, 8, 4],
                                                                RATES)))
    (tmp_path / "ETHUSDT-fundingRate-2024-08.csv").write_text("not read: another symbol\n")
    (tmp_path / "BTCUSDT-markPriceKlines-2024-08.csv").write_text("not read: not funding\n")
    tables = read_bars_file(bars, symbol="BTC-USDT-PERP")
    funding = tables["funding"]
    assert funding["ts"].tolist() == rate_times.tolist() and funding["funding_rate"].tolist() == RATES
    assert (funding["next_funding_time"] - funding["ts"]).tolist() == [pd.Timedelta(hours=h) for h in (8, 8, 4)]
    assert (funding["symbol"] == "BTC-USDT-PERP").all()
    replay, _ = build_replay(tables, config=REPLAY)
    np.testing.assert_allclose(replay["funding_bps"].to_numpy(), _funding_expected(rate_times, minutes), rtol=1e-12)
    assert (replay["funding_available"] == 1).all()


@pytest.mark.parametrize("fmt", ["feather", "csv", "json"])
def test_freqtrade_funding_is_joined_at_8_hours(tmp_path, fmt):
    minutes = _minutes(1440)
    bars_path = tmp_path / "BTC_USDT_USDT-1m-futures.feather"
    price = 100.0 + np.arange(len(minutes)) % 5
    pd.DataFrame({"date": minutes, "open": price, "high": price + 1, "low": price - 1, "close": price,
                  "volume": 2.0}).to_feather(bars_path)
    rate_times = pd.DatetimeIndex([minutes[0] + pd.Timedelta(hours=h) for h in RATE_HOURS])
    rates = pd.DataFrame({"date": rate_times, "open": RATES, "high": RATES, "low": RATES, "close": RATES,
                          "volume": 0.0})
    funding_path = tmp_path / f"BTC_USDT_USDT-8h-funding_rate.{fmt}"
    if fmt == "feather":
        rates.to_feather(funding_path)
    elif fmt == "csv":
        rates[["date", "open"]].to_csv(funding_path, index=False)
    else:
        ms = _since_epoch(pd.Series(rate_times), "ms")
        funding_path.write_text(json.dumps([[int(t), r, r, r, r, 0.0] for t, r in zip(ms, RATES)]))
    assert funding_files(bars_path) == [funding_path]
    tables = read_bars_file(bars_path, symbol="BTC-USDT-PERP")
    funding = tables["funding"]
    assert funding["ts"].tolist() == rate_times.tolist() and funding["funding_rate"].tolist() == RATES
    assert funding["next_funding_time"].tolist() == (rate_times + pd.Timedelta(hours=8)).tolist()
    replay, _ = build_replay(tables, config=REPLAY)
    np.testing.assert_allclose(replay["funding_bps"].to_numpy(), _funding_expected(rate_times, minutes), rtol=1e-12)


def test_no_sibling_funding_means_no_funding_table_and_an_unknown_funding_file_is_refused(tmp_path):
    bars = _bars_csv(tmp_path / "BTCUSDT-1m.csv", _minutes(3))
    assert sorted(read_bars_file(bars, symbol="BTC-USDT-PERP")) == ["bars"]
    odd = tmp_path / "BTCUSDT-funding.csv"
    odd.write_text("when,rate\n2024-08-01,0.0001\n")
    with pytest.raises(DataContractError, match=r"BTCUSDT-funding.csv: unknown funding file layout .*supported: "
                                                 r"binance-funding-rate-csv") as err:
        read_funding_file(odd, symbol="BTC-USDT-PERP")
    assert "\n" not in str(err.value)
    with pytest.raises(DataContractError, match="unknown funding file layout"):
        read_bars_file(bars, symbol="BTC-USDT-PERP")

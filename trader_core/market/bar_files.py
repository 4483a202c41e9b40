"""Bar files people have -> the raw ``bars`` table of the ``csv`` source (layouts and rules in docs/data.md).

Layouts (``detect_layout`` reads the content, never the file extension):

* ``freqtrade-feather``: an Arrow/Feather file (magic bytes) with columns ``date, open, high, low, close, volume``.
* ``freqtrade-json``: a JSON array of ``[ts, open, high, low, close, volume]`` arrays (first byte ``[``).
* otherwise a CSV, told apart by its first line (a header starts with a letter):

  - ``binance-kline-csv``: the 12 data.vision kline columns, with that exact header or without one. Parsed by
    ``vision_files`` (ms or µs per value, never seconds) and mapped by ``binance_vision`` the same way:
    ``taker_sell_volume = volume - taker_buy_volume``, ``trade_count = count``;
  - ``bar-csv``: a header holding ``timestamp`` (``timestamp, open, high, low, close, volume`` + optional
    ``taker_buy_volume, taker_sell_volume, trade_count``), or 6 columns without header in that order.

Anything else is a DataContractError listing these layouts. Columns a layout lacks are NaN.

Times (``_utc_times``): tz-aware values are converted to UTC; naive date-times and ISO text without an offset
are read as UTC (a documented repair: CSV and naive columns carry no zone). Epoch numbers must be whole and
take their unit from their magnitude, one unit per file: ``< 1e11`` seconds, ``< 1e14`` milliseconds,
``< 1e17`` microseconds. 1e11 s is the year 5138 and 1e11 ms is 1973, so real bar times never straddle a
bound; a file that mixes units is refused rather than guessed.

Funding next to the bars (``funding_files``): a file in the bar file's folder whose name starts with the bar
file's symbol stem (its name up to the first ``-``, e.g. ``BTCUSDT`` of ``BTCUSDT-1m-2024-08.csv``) followed by
``-``, contains ``funding`` (any case) and ends in ``.csv``, ``.json`` or ``.feather``. Every such file is read
(``read_funding_file``) and joined into one raw ``funding`` table (exactly repeated rows dropped):

* ``binance-funding-rate-csv``: data.vision ``fundingRate`` (``calc_time, funding_interval_hours,
  last_funding_rate``, header or not), mapped by ``binance_vision`` (``next_funding_time = calc_time`` floored
  to the minute ``+ funding_interval_hours``);
* ``freqtrade-funding``: feather, JSON (as the bars) or CSV with columns ``date, open``, ``open`` being the
  rate of the 8-hour funding interval that starts at ``date``: ``next_funding_time = date + 8 h``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from trader_core.contracts.raw import BARS, FUNDING
from trader_core.errors import ConfigError, DataContractError
from trader_core.market.binance_vision import kline_bars, vision_funding
from trader_core.market.vision_files import KLINE_COLUMNS, VISION_TABLES, read_vision_csv

OHLCV = ("open", "high", "low", "close", "volume")
CSV_TIME = "timestamp"
CSV_OPTIONAL = ("taker_buy_volume", "taker_sell_volume", "trade_count")
FEATHER_MAGIC = (b"ARROW1", b"FEA1")  # Feather v2 (Arrow IPC file) and v1
_EPOCH_UNITS = ("s", "ms", "us")
_EPOCH_BOUNDS = np.array([1e11, 1e14, 1e17])  # exclusive upper bound of each unit
_HEAD_BYTES = 1 << 16
FUNDING_INTERVAL = pd.Timedelta(hours=8)
FUNDING_SUFFIXES = (".csv", ".json", ".feather")
FUNDING_HINT = ("supported: binance-funding-rate-csv (calc_time,funding_interval_hours,last_funding_rate, header "
                "or not), freqtrade-funding (feather, JSON or CSV with columns date, open = the 8-hour rate)")
LAYOUT_HINT = ("supported: bar-csv (header timestamp,open,high,low,close,volume[,taker_buy_volume,"
               "taker_sell_volume,trade_count], or 6 columns in that order without header), binance-kline-csv "
               "(the 12 data.vision kline columns, header or not), freqtrade-json ([[ts, open, high, low, close, "
               "volume], ...]), freqtrade-feather (columns date, open, high, low, close, volume)")


# ------------------------------------------------------------------------------------------ public API
def detect_layout(path: Path) -> str:
    """The bar layout of ``path`` from its content (rules in the module docstring)."""
    path = Path(path)
    kind, fields = _sniff(path)
    if kind in ("feather", "json"):
        return f"freqtrade-{kind}"
    if fields[0][:1].isalpha():
        if tuple(fields) == KLINE_COLUMNS:
            return "binance-kline-csv"
        if CSV_TIME in fields:
            return "bar-csv"
        raise DataContractError(f"{path}: unknown bar file layout (header {fields}); {LAYOUT_HINT}")
    if len(fields) == len(OHLCV) + 1:
        return "bar-csv"
    if len(fields) == len(KLINE_COLUMNS):
        return "binance-kline-csv"
    raise DataContractError(f"{path}: unknown bar file layout ({len(fields)} columns without header); {LAYOUT_HINT}")


def read_bars(path: Path, *, symbol: str, layout: str | None = None) -> pd.DataFrame:
    """The ``bars`` table of a bar file of ``layout`` (None: detected); ``symbol`` comes from the run spec."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"source.path: {path} is not a file")
    if layout is not None and layout not in READERS:
        raise ConfigError(f"source.layout: must be one of {list(READERS)}, got {layout!r}")
    bars = READERS[layout or detect_layout(path)](path, symbol)
    return bars.astype({"symbol": "str", "open_time": "datetime64[us, UTC]"}
                       | {name: "float64" for name in BARS.names[2:]})[BARS.names]


def read_bars_file(path: Path, *, symbol: str, layout: str | None = None) -> dict[str, pd.DataFrame]:
    """``bars`` of the file plus, when sibling funding files exist (``funding_files``), ``funding``."""
    tables = {"bars": read_bars(path, symbol=symbol, layout=layout)}
    found = funding_files(Path(path))
    if found:
        funding = pd.concat([read_funding_file(f, symbol=symbol) for f in found], ignore_index=True)
        tables["funding"] = funding.drop_duplicates().sort_values("ts", kind="mergesort").reset_index(drop=True)
    return tables


def funding_files(bar_path: Path) -> list[Path]:
    """The funding files next to ``bar_path`` (naming rule in the module docstring)."""
    prefix = bar_path.stem.split("-", 1)[0] + "-"
    return sorted(p for p in bar_path.parent.iterdir()
                  if p != bar_path and p.is_file() and p.name.startswith(prefix) and "funding" in p.name.lower()
                  and p.suffix.lower() in FUNDING_SUFFIXES)


def read_funding_file(path: Path, *, symbol: str) -> pd.DataFrame:
    """The raw ``funding`` rows of one funding file, its layout detected from the content."""
    path = Path(path)
    kind, fields = _sniff(path)
    if kind == "feather":
        funding = _date_open_funding(_read_feather(path), symbol=symbol, path=path)
    elif kind == "json":
        funding = _date_open_funding(_read_json_rows(path), symbol=symbol, path=path)
    elif fields[0] == "calc_time" or (len(fields) == 3 and not fields[0][:1].isalpha()):
        funding = vision_funding(symbol, read_vision_csv(lambda: path.open("rb"), VISION_TABLES["fundingRate"],
                                                               path))
    elif {"date", "open"} <= set(fields):
        funding = _date_open_funding(_read_csv(path, header=True), symbol=symbol, path=path)
    else:
        raise DataContractError(f"{path}: unknown funding file layout (first line {fields}); {FUNDING_HINT}")
    return funding.astype({"symbol": "str", "ts": "datetime64[us, UTC]", "funding_rate": "float64",
                           "next_funding_time": "datetime64[us, UTC]"})[FUNDING.names]


# ------------------------------------------------------------------------------------------ file formats
def _utc_times(values: pd.Series, where: str) -> pd.Series:
    """Times of a column as UTC (microsecond resolution); ``where`` names the file and column in the error."""
    try:
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            times = values.dt.tz_convert("UTC")
        elif pd.api.types.is_datetime64_dtype(values):
            times = values.dt.tz_localize("UTC")
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            times = _epoch_times(values)
        else:
            times = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataContractError(f"{where} is not parseable as time ({exc})") from exc
    return pd.Series(times, index=values.index).astype("datetime64[us, UTC]")


def _epoch_times(values: pd.Series) -> pd.DatetimeIndex:
    """Epoch numbers as UTC times, the unit read from their magnitude (one unit per file, module docstring)."""
    v = values.to_numpy(dtype=np.float64)
    if not np.isfinite(v).all() or (v != np.round(v)).any():
        raise ValueError("epoch times must be whole numbers")
    units = np.unique(np.searchsorted(_EPOCH_BOUNDS, np.abs(v), side="right"))
    if len(units) > 1 or (len(units) and units[0] == len(_EPOCH_UNITS)):
        raise ValueError("epoch times must all be seconds (< 1e11), milliseconds (< 1e14) or microseconds "
                         f"(< 1e17); found {[(_EPOCH_UNITS + ('too large',))[u] for u in units]}")
    unit = _EPOCH_UNITS[units[0]] if len(units) else "ms"
    return pd.to_datetime(values.to_numpy(dtype=np.int64), unit=unit, utc=True)


def _sniff(path: Path) -> tuple[str, list[str]]:
    """``("feather" | "json" | "csv", first-line fields)`` of a file; fields only for CSV."""
    with Path(path).open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if head.startswith(FEATHER_MAGIC):
        return "feather", []
    if head.lstrip().startswith(b"["):
        return "json", []
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    if not first:
        raise DataContractError(f"{path}: unreadable CSV (the first line is empty); {LAYOUT_HINT}")
    return "csv", [f.strip().strip("\"'") for f in first.split(",")]


def _read_csv(path: Path, *, header: bool) -> pd.DataFrame:
    try:
        return pd.read_csv(path, header=0 if header else None)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataContractError(f"{path}: unreadable CSV ({exc})") from exc


def _read_feather(path: Path) -> pd.DataFrame:
    try:
        return pd.read_feather(path)
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid / ArrowIOError derive from these
        raise DataContractError(f"{path}: unreadable feather file ({exc})") from exc


def _read_json_rows(path: Path) -> pd.DataFrame:
    """A freqtrade JSON array of ``[ts, open, high, low, close, volume]`` as columns ``date`` + OHLCV."""
    expected = "expected an array of [ts, open, high, low, close, volume] arrays"
    try:
        rows = np.asarray(json.loads(Path(path).read_bytes()), dtype=np.float64)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataContractError(f"{path}: unreadable JSON ({exc})") from exc
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"{path}: {expected} ({exc})") from exc
    rows = rows.reshape(0, len(OHLCV) + 1) if rows.size == 0 else rows
    if rows.ndim != 2 or rows.shape[1] != len(OHLCV) + 1:
        raise DataContractError(f"{path}: {expected}, got an array of shape {rows.shape}")
    return pd.DataFrame(rows, columns=["date", *OHLCV])


def _numeric(df: pd.DataFrame, name: str, path: Path) -> np.ndarray:
    """Column ``name`` as float64; a text (or boolean) column is refused, empty cells stay NaN for replay."""
    if not pd.api.types.is_numeric_dtype(df[name]) or pd.api.types.is_bool_dtype(df[name]):
        raise DataContractError(f"{path}: column {name!r} is not numeric (dtype {df[name].dtype})")
    return df[name].to_numpy(dtype=np.float64)


# ------------------------------------------------------------------------------------------ layouts
def _ohlcv_bars(df: pd.DataFrame, *, time_column: str, symbol: str, path: Path) -> pd.DataFrame:
    required = [time_column, *OHLCV]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataContractError(f"{path}: missing column(s) {missing}; this layout needs {required}")
    bars = pd.DataFrame({"symbol": symbol, "open_time": _utc_times(df[time_column], f"{path}: column {time_column!r}")})
    for name in (*OHLCV, *CSV_OPTIONAL):
        bars[name] = _numeric(df, name, path) if name in df.columns else np.nan
    return bars


def _read_bar_csv(path: Path, symbol: str) -> pd.DataFrame:
    header = _sniff(path)[1][0][:1].isalpha()
    df = _read_csv(path, header=header)
    if not header:
        if df.shape[1] != len(OHLCV) + 1:
            raise DataContractError(f"{path}: a bar CSV without header has 6 columns ({CSV_TIME}, "
                                    f"{', '.join(OHLCV)}), this one has {df.shape[1]}")
        df.columns = [CSV_TIME, *OHLCV]
    return _ohlcv_bars(df, time_column=CSV_TIME, symbol=symbol, path=path)


def _read_kline_csv(path: Path, symbol: str) -> pd.DataFrame:
    return kline_bars(symbol, read_vision_csv(lambda: path.open("rb"), VISION_TABLES["klines"], path))


def _read_freqtrade_json(path: Path, symbol: str) -> pd.DataFrame:
    return _ohlcv_bars(_read_json_rows(path), time_column="date", symbol=symbol, path=path)


def _read_freqtrade_feather(path: Path, symbol: str) -> pd.DataFrame:
    return _ohlcv_bars(_read_feather(path), time_column="date", symbol=symbol, path=path)


#: One reader per name of ``trader_core.config.BAR_LAYOUTS`` (the names ``source.layout`` accepts).
READERS: dict[str, Callable[[Path, str], pd.DataFrame]] = {
    "bar-csv": _read_bar_csv, "binance-kline-csv": _read_kline_csv, "freqtrade-json": _read_freqtrade_json,
    "freqtrade-feather": _read_freqtrade_feather}


# ------------------------------------------------------------------------------------------ funding
def _date_open_funding(df: pd.DataFrame, *, symbol: str, path: Path) -> pd.DataFrame:
    missing = [c for c in ("date", "open") if c not in df.columns]
    if missing:
        raise DataContractError(f"{path}: missing column(s) {missing}; a freqtrade funding file needs ['date', 'open']")
    ts = _utc_times(df["date"], f"{path}: column 'date'")
    return pd.DataFrame({"symbol": symbol, "ts": ts, "funding_rate": _numeric(df, "open", path),
                         "next_funding_time": ts + FUNDING_INTERVAL})

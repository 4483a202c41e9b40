"""Binance data.vision USD-M futures files: the tables they hold, finding them in a folder, reading one zip.

Input: a local folder of data.vision zips, either in data.vision's own layout
(``futures/um/{daily,monthly}/<table>/<SYMBOL>/[1m/]<file>.zip``, as ``vision_download`` writes it) or flat.
The table comes from the nearest folder named like a table, else from the file name
(``<SYMBOL>-<table>-<date>.zip``; ``<SYMBOL>-1m-<date>.zip`` is ``klines``; a flat folder may name the other
kline tables ``<SYMBOL>-markPriceKlines-1m-<date>.zip``). ``<date>`` is ``YYYY-MM-DD`` (daily file) or
``YYYY-MM`` (monthly file). Only 1-minute kline files are read; other zips are listed in ``skipped_files``.
Each zip must hold exactly one CSV. A header row is detected by peeking the first line (a header starts with a
letter; data rows start with a digit or a sign). Epoch times are read per value: ``> 1e14`` is microseconds
(data.vision's 2025+ files), ``> 1e11`` milliseconds, anything smaller is refused (seconds are not a
data.vision format). Text times (``bookDepth``, ``metrics``) are UTC date-times.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from trader_core.errors import ArtifactError, ConfigError, DataContractError
from trader_core.market.landing import parse_month

INTERVAL = "1m"
KLINE_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
                 "taker_buy_volume", "taker_buy_quote_volume", "ignore")
_MS_MIN, _US_MIN = 1e11, 1e14


@dataclass(frozen=True)
class VisionTable:
    """One data.vision table: CSV columns, its time column and key, and the columns that must be numbers."""

    name: str
    columns: tuple[str, ...]
    time: str
    key: tuple[str, ...]
    numeric: tuple[str, ...] = ()  # numbers, never empty
    numeric_or_empty: tuple[str, ...] = ()
    epoch: tuple[str, ...] = ()  # epoch ms/us columns converted to UTC timestamps (``time`` included if epoch)
    kline: bool = False


def _kline_table(name: str, numeric: tuple[str, ...]) -> VisionTable:
    return VisionTable(name, KLINE_COLUMNS, "open_time", ("open_time",), numeric=numeric, epoch=("open_time",),
                       kline=True)


KLINE_PRICES = ("open", "high", "low", "close")
VISION_TABLES: dict[str, VisionTable] = {t.name: t for t in (
    _kline_table("klines", KLINE_PRICES + ("volume", "count", "taker_buy_volume")),
    _kline_table("markPriceKlines", KLINE_PRICES),
    _kline_table("indexPriceKlines", KLINE_PRICES),
    _kline_table("premiumIndexKlines", KLINE_PRICES),
    VisionTable("aggTrades", ("agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id",
                              "transact_time", "is_buyer_maker"), "transact_time", ("agg_trade_id",),
                numeric=("agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id"),
                epoch=("transact_time",)),
    VisionTable("bookTicker", ("update_id", "best_bid_price", "best_bid_qty", "best_ask_price", "best_ask_qty",
                               "transaction_time", "event_time"), "event_time", ("update_id",),
                numeric=("update_id", "best_bid_price", "best_bid_qty", "best_ask_price", "best_ask_qty"),
                epoch=("transaction_time", "event_time")),
    VisionTable("bookDepth", ("timestamp", "percentage", "depth", "notional"), "timestamp",
                ("timestamp", "percentage"), numeric=("percentage", "depth", "notional")),
    VisionTable("metrics", ("create_time", "symbol", "sum_open_interest", "sum_open_interest_value",
                            "count_toptrader_long_short_ratio", "sum_toptrader_long_short_ratio",
                            "count_long_short_ratio", "sum_taker_long_short_vol_ratio"), "create_time",
                ("create_time",), numeric_or_empty=("sum_open_interest",)),
    VisionTable("fundingRate", ("calc_time", "funding_interval_hours", "last_funding_rate"), "calc_time",
                ("calc_time",), numeric=("funding_interval_hours", "last_funding_rate"), epoch=("calc_time",)),
)}
KLINE_TABLES = tuple(n for n, t in VISION_TABLES.items() if t.kline)

_NAME = re.compile(r"^(?P<symbol>[A-Z0-9_]+)-(?P<kind>[A-Za-z]+|\d+[smhdwM])(?:-(?P<interval>\d+[smhdwM]))?"
                   r"-(?P<period>\d{4}-\d{2}(?:-\d{2})?)\.zip$")


@dataclass(frozen=True)
class VisionFile:
    path: Path
    table: str
    symbol: str  # Binance name
    daily: bool


# ------------------------------------------------------------------------------------------ files
def discover_vision_files(root: Path, names: set[str], start: pd.Timestamp | None,
                          end: pd.Timestamp | None) -> tuple[list[VisionFile], list[dict[str, str]]]:
    files, skipped = [], []
    for path in sorted(root.rglob("*.zip")):
        m = _NAME.match(path.name)
        if m is None:
            skipped.append({"file": str(path), "reason": "name is not <SYMBOL>-<table|1m>-<date>.zip"})
            continue
        if m["symbol"] not in names:
            continue
        kind, interval = m["kind"], m["interval"]
        if kind[0].isdigit():  # <SYMBOL>-1m-<date>: a kline table, named by its folder (klines by default)
            folders = reversed(path.relative_to(root).parts[:-1])
            table, interval = next((p for p in folders if p in KLINE_TABLES), "klines"), kind
        else:
            table = kind if kind in VISION_TABLES else None
        if table is None:
            skipped.append({"file": str(path), "reason": f"table {kind!r} is not read by this adapter"})
            continue
        if VISION_TABLES[table].kline and interval != INTERVAL:
            skipped.append({"file": str(path), "reason": f"{table} interval {interval} (only {INTERVAL} is read)"})
            continue
        daily = len(m["period"]) == 10
        try:
            lo = pd.Timestamp(m["period"], tz="UTC") if daily else parse_month(m["period"])
        except (ValueError, ConfigError):
            skipped.append({"file": str(path), "reason": f"invalid date {m['period']!r}"})
            continue
        hi = lo + (pd.Timedelta(days=1) if daily else pd.offsets.MonthBegin(1))
        if (start is None or hi > start) and (end is None or lo < end):
            files.append(VisionFile(path, table, m["symbol"], daily))
    return files, skipped


def read_vision_zip(path: Path, table: VisionTable) -> pd.DataFrame:
    """One data.vision zip as a typed frame of ``table``'s columns (times as UTC timestamps)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir() and i.filename.lower().endswith(".csv")]
            if len(members) != 1:
                raise ArtifactError(f"{path}: expected exactly one CSV in the zip, found {len(members)} "
                                    f"{[i.filename for i in members]}")
            return read_vision_csv(lambda: zf.open(members[0]), table, path)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ArtifactError(f"{path}: corrupt or truncated zip ({exc})") from exc


def read_vision_csv(open_csv: Callable[[], IO[bytes]], table: VisionTable, path: Path) -> pd.DataFrame:
    """A data.vision CSV (opened twice by ``open_csv``: to peek the header, then to read) as a typed frame.

    Shared by the zips and by plain CSV exports (``trader_core.market.bar_files``); ``path`` names the file in
    errors.
    """
    with open_csv() as fh:
        first = fh.readline().decode("utf-8", errors="replace").lstrip("\ufeff\"' ").rstrip()
    header = first[:1].isalpha()
    if header and len(first.split(",")) != len(table.columns):
        raise _columns_error(path, table, f"its header has {len(first.split(','))} fields")
    try:
        with open_csv() as fh:
            df = pd.read_csv(fh, header=None, skiprows=1 if header else 0, index_col=False)
    except pd.errors.EmptyDataError:
        if not header:
            raise DataContractError(f"{path}: the CSV is empty (no header, no rows)") from None
        df = pd.DataFrame({c: pd.Series(dtype="int64") for c in table.columns})
    except pd.errors.ParserError as exc:
        raise _columns_error(path, table, f"the CSV is malformed ({str(exc).strip()})") from exc
    except UnicodeDecodeError as exc:
        raise DataContractError(f"{path}: unreadable CSV ({exc})") from exc
    if df.shape[1] != len(table.columns):
        raise _columns_error(path, table, f"it has {df.shape[1]} columns")
    df.columns = list(table.columns)
    return _typed(df, table, path)


def _columns_error(path: Path, table: VisionTable, what: str) -> DataContractError:
    return DataContractError(f"{path}: {what}; a {table.name} CSV has {len(table.columns)} columns "
                             f"{list(table.columns)}")


def _typed(df: pd.DataFrame, table: VisionTable, path: Path) -> pd.DataFrame:
    where = f"{path}: {table.name}"
    for col in table.numeric + table.numeric_or_empty:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            num = pd.to_numeric(s.astype("string"), errors="coerce")
            bad = num.isna() & s.notna()
            if bad.any():
                raise DataContractError(f"{where}.{col}: {int(bad.sum())} non-numeric value(s), first "
                                        f"{s[bad].iloc[0]!r} (data row {int(np.flatnonzero(bad)[0]) + 1})")
            df[col] = num.astype("float64")
        if col in table.numeric and df[col].isna().any():
            raise DataContractError(f"{where}.{col}: {int(df[col].isna().sum())} empty value(s)")
    for col in table.epoch:
        df[col] = _epoch_utc(df[col], f"{where}.{col}")
    if not table.epoch or table.time not in table.epoch:
        try:
            df[table.time] = pd.to_datetime(df[table.time], format="ISO8601", utc=True).astype("datetime64[us, UTC]")
        except (ValueError, TypeError) as exc:
            raise DataContractError(f"{where}.{table.time}: not a UTC date-time ({exc})") from exc
    if "is_buyer_maker" in df.columns and not pd.api.types.is_bool_dtype(df["is_buyer_maker"]):
        flag = df["is_buyer_maker"].astype("string").str.lower().map({"true": True, "false": False})
        if flag.isna().any():
            raise DataContractError(f"{where}.is_buyer_maker: values other than true/false, first "
                                    f"{df['is_buyer_maker'][flag.isna()].iloc[0]!r}")
        df["is_buyer_maker"] = flag.astype(bool)
    return df


def _epoch_utc(s: pd.Series, where: str) -> pd.Series:
    """Epoch ms or us (per value, by magnitude) -> UTC timestamps at microsecond resolution."""
    if not pd.api.types.is_integer_dtype(s):
        num = pd.to_numeric(s.astype("string"), errors="coerce").astype("float64")
        bad = num.isna() | (num != num.round())
        if bad.any():
            raise DataContractError(f"{where}: {int(bad.sum())} value(s) are not integer epoch times, first "
                                    f"{s[bad].iloc[0]!r}")
        s = num.astype("int64")
    v = s.to_numpy(dtype=np.int64)
    bad = v <= _MS_MIN
    if bad.any():
        raise DataContractError(f"{where}: {int(bad.sum())} value(s) are neither epoch milliseconds (> 1e11) nor "
                                f"microseconds (> 1e14), first {int(v[bad][0])}")
    us = np.where(v > _US_MIN, v, v * 1000)
    return pd.Series(us.astype("datetime64[us]"), index=s.index).dt.tz_localize("UTC")


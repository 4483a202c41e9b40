"""Binance data.vision USD-M futures files -> the raw market contract (``trader_core.contracts.raw``).

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

Mapping (decisions marked [inferred]); every output's ``symbol`` is the run-spec id the caller asked for
(``BTC-USDT-PERP``), files are matched through ``binance_symbol`` (``BTCUSDT``):

* ``klines`` -> ``bars``: ``taker_sell_volume = volume - taker_buy_volume``, ``trade_count = count``.
* ``aggTrades`` -> ``bars`` only for minutes that no ``klines`` row covers (klines take precedence): OHLC of
  the trade prices in ``(transact_time, agg_trade_id)`` order, ``volume = sum(quantity)``, taker buys are the
  trades with ``is_buyer_maker = false``, ``trade_count = sum(last_trade_id - first_trade_id + 1)``. Minutes
  without a trade get no bar (klines would print a flat zero-volume bar; it is not invented here).
* ``bookTicker`` -> ``book_l1``: ``ts = event_time`` (when the update was published, the later of the two
  stamps) [inferred]; several updates in one stamp keep the one with the highest ``update_id``.
* ``bookDepth`` is **not mapped**: it is a cumulative depth profile per ``+-percentage`` band around the
  price, with no level prices, so it cannot fill ``book_depth``'s ``bid_{i}_price/size`` levels without
  inventing prices. It is read and validated, counted in the quality info and reported with a warning;
  ``book_depth`` stays absent (replay then marks it unavailable).
* ``metrics`` -> ``open_interest``: ``ts = create_time``, ``open_interest = sum_open_interest`` (base units,
  5-minute cadence); rows with an empty ``sum_open_interest`` are dropped and counted.
* ``fundingRate`` (monthly files) -> ``funding``: ``ts = calc_time``, ``funding_rate = last_funding_rate``,
  ``next_funding_time = calc_time floored to the minute + funding_interval_hours`` [inferred: the file does
  not carry it; the interval column does].
* ``markPriceKlines`` + ``indexPriceKlines`` -> ``mark_index``: the two closes joined on ``open_time`` (a
  minute present in only one of them has no row), ``ts = open_time + 59.999 s``, the kline close time as
  Binance stamps it (``close_time``): the close is known at the end of its minute, and replay's
  ``ts < bar close`` as-of rule pairs it with the same minute's bar (the synthetic source's convention).
* ``premiumIndexKlines`` is read and validated but has no raw-contract table: quality info only.

Overlaps: data is deduplicated per table on its natural key (kline ``open_time``, ``agg_trade_id``,
``update_id``, ``create_time``, ``calc_time``, ``(timestamp, percentage)``). Exactly repeated rows are
dropped; where a daily and a monthly file disagree the **daily** row wins [inferred: daily files are the
finer publication, republished on their own when corrected] and the overridden rows are counted; two rows of the same granularity with the
same key and different values are a DataContractError naming both files. Output is filtered to
``[start, end)`` on each table's own time column. Gaps are never filled: missing days are listed per table in
the quality info and the bars simply have no rows there (replay shows ``gap_minutes_before``).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from trader_core import io
from trader_core.contracts.raw import RAW_TABLES
from trader_core.errors import ArtifactError, ConfigError, DataContractError
from trader_core.market.landing import landing_root, parse_month, write_month
from trader_core.market.symbols import binance_symbol

SOURCE = "binance-vision"
QUALITY_FILE = "vision_quality.json"
INTERVAL = "1m"
KLINE_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
                 "taker_buy_volume", "taker_buy_quote_volume", "ignore")
_MS_MIN, _US_MIN = 1e11, 1e14
_CLOSE_OFFSET = pd.Timedelta(minutes=1) - pd.Timedelta(milliseconds=1)


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


_PRICES = ("open", "high", "low", "close")
VISION_TABLES: dict[str, VisionTable] = {t.name: t for t in (
    _kline_table("klines", _PRICES + ("volume", "count", "taker_buy_volume")),
    _kline_table("markPriceKlines", _PRICES),
    _kline_table("indexPriceKlines", _PRICES),
    _kline_table("premiumIndexKlines", _PRICES),
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
#: Tables read and validated but not mapped to a raw table (reported in the quality info, with a warning).
NOT_MAPPED = {"bookDepth": "a percentage-band depth profile without level prices: not mapped to book_depth",
              "premiumIndexKlines": "the raw contract has no premium index table: quality info only"}

_NAME = re.compile(r"^(?P<symbol>[A-Z0-9_]+)-(?P<kind>[A-Za-z]+|\d+[smhdwM])(?:-(?P<interval>\d+[smhdwM]))?"
                   r"-(?P<period>\d{4}-\d{2}(?:-\d{2})?)\.zip$")


@dataclass(frozen=True)
class VisionFile:
    path: Path
    table: str
    symbol: str  # Binance name
    daily: bool


# ------------------------------------------------------------------------------------------ public API
def load_binance_vision(root: Path, symbols: Sequence[str], start: pd.Timestamp | None = None,
                        end: pd.Timestamp | None = None) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Raw tables (only those with rows, each validated) and the quality info of ``root`` in ``[start, end)``.

    The info holds, per symbol: every data.vision table found (files, rows, first/last time, ``missing_days``,
    dropped/overridden duplicates) and the ``absent`` ones, ``bars_source`` (rows from klines / aggTrades),
    ``bars_missing_days`` and ``bars_missing_minutes``; plus ``raw_tables`` row counts, ``not_mapped``,
    ``skipped_files`` and ``warnings``. Absent data is reported, not raised; bad files raise ArtifactError /
    DataContractError naming the file. A naive bound is read as UTC.
    """
    root, start, end = Path(root), _utc(start), _utc(end)
    if not root.is_dir():
        raise ConfigError(f"binance-vision: {root} is not a folder")
    names = {binance_symbol(s): s for s in symbols}
    if len(names) != len(symbols):
        raise ConfigError(f"symbols: {list(symbols)} map to duplicate Binance names {sorted(names)}")
    files, skipped = _discover(root, set(names), start, end)
    info: dict[str, Any] = {"root": str(root), "start": _iso(start), "end": _iso(end), "symbols": {},
                            "not_mapped": NOT_MAPPED, "skipped_files": skipped, "warnings": []}
    parts: dict[str, list[pd.DataFrame]] = {}
    for name, symbol in names.items():
        sources, sym_info = {}, {"binance_symbol": name, "tables": {}, "absent": []}
        for table in VISION_TABLES.values():
            found = [f for f in files if f.symbol == name and f.table == table.name]
            if not found:
                sym_info["absent"].append(table.name)
                continue
            df, tinfo = _read_table(table, found, start, end)
            sources[table.name] = df
            sym_info["tables"][table.name] = tinfo
        for raw_name, frame in _map_symbol(symbol, sources, sym_info, start, end).items():
            parts.setdefault(raw_name, []).append(frame)
        for table_name, reason in NOT_MAPPED.items():
            if table_name in sources:
                info["warnings"].append(f"{symbol}: {table_name} read ({len(sources[table_name])} rows), {reason}")
        info["symbols"][symbol] = sym_info
    tables = {}
    for raw_name, frames in parts.items():
        df = pd.concat(frames, ignore_index=True)
        if df.empty:
            continue
        contract = RAW_TABLES[raw_name]
        df = df.sort_values(list(contract.key), kind="mergesort").reset_index(drop=True)
        contract.validate(df)
        tables[raw_name] = df
    info["raw_tables"] = {name: len(df) for name, df in sorted(tables.items())}
    return tables, info


def read_binance_vision(root: Path, symbols: Sequence[str], start: pd.Timestamp | None = None,
                        end: pd.Timestamp | None = None) -> dict[str, pd.DataFrame]:
    """The raw market tables of ``symbols`` from the data.vision zips under ``root``, filtered to ``[start, end)``."""
    tables, info = load_binance_vision(root, symbols, start, end)
    if "bars" not in tables:
        raise DataContractError(f"binance-vision {root}: no bars (klines or aggTrades) for {list(symbols)} in "
                                f"[{info['start']}, {info['end']})")
    return tables


def land_vision_month(root: Path, month: str, symbols: Sequence[str], home: Path | None = None) -> dict[str, Any]:
    """Land ``month`` of the data.vision zips under ``root``: quality file, tables, then the completion marker.

    Refuses (DataContractError) when any requested symbol has no bars in the month; other gaps are landed
    as they are and listed in ``vision_quality.json`` next to the tables.
    """
    start = parse_month(month)
    end = start + pd.offsets.MonthBegin(1)
    tables, info = load_binance_vision(root, symbols, start, end)
    bars = tables.get("bars")
    missing = [s for s in symbols if bars is None or not (bars["symbol"] == s).any()]
    if missing:
        raise DataContractError(f"binance-vision {root}: month {month} has no bars for {missing}; refusing to land it")
    folder = landing_root(home) / SOURCE / month
    io.write_json(folder / QUALITY_FILE, info)
    return write_month(folder, tables, source=SOURCE, month=month, symbols=list(symbols))


# ------------------------------------------------------------------------------------------ files
def _discover(root: Path, names: set[str], start: pd.Timestamp | None,
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


def _read_table(table: VisionTable, files: list[VisionFile], start: pd.Timestamp | None,
                end: pd.Timestamp | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read, window and deduplicate one table's files of one symbol (rule in the module docstring)."""
    frames = []
    for i, f in enumerate(files):
        df = read_vision_zip(f.path, table)
        if "symbol" in df.columns and len(df) and (df["symbol"].astype(str) != f.symbol).any():
            raise DataContractError(f"{f.path}: {table.name}.symbol holds "
                                    f"{sorted(set(df['symbol'].astype(str)) - {f.symbol})}, expected {f.symbol}")
        frames.append(df.assign(_rank=np.int8(0 if f.daily else 1), _file=np.int32(i)))
    df = pd.concat(frames, ignore_index=True)
    df = df[_in_window(df[table.time], start, end)]
    key = list(table.key)
    df = df.sort_values(key + ["_rank"], kind="mergesort")
    shared = df.duplicated(key, keep=False)  # usually none: the full-row comparison runs on these rows only
    repeated = pd.Series(False, index=df.index)
    repeated[shared] = df[shared].duplicated(list(table.columns), keep="first")
    df = df[~repeated]
    same = df.duplicated(key + ["_rank"], keep=False)
    if same.any():
        clash = df[same]
        first = clash.iloc[0]
        files_hit = sorted({files[i].path.name for i in clash.loc[(clash[key] == first[key]).all(axis=1), "_file"]})
        raise DataContractError(f"{table.name}: {int(same.sum())} rows share key {key} with different values in "
                                f"files of the same granularity, first {first[key].to_dict()} in {files_hit}")
    overridden = df.duplicated(key, keep="first")
    df = df[~overridden].drop(columns=["_rank", "_file"]).reset_index(drop=True)
    times = df[table.time]
    tinfo = {"daily_files": sum(f.daily for f in files), "monthly_files": sum(not f.daily for f in files),
             "rows": len(df), "repeated_rows_dropped": int(repeated.sum()),
             "monthly_rows_overridden_by_daily": int(overridden.sum()),
             "first": _iso(times.min()) if len(df) else None, "last": _iso(times.max()) if len(df) else None,
             "missing_days": _missing_days(times, start, end)}
    return df, tinfo


def _missing_days(times: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None) -> list[str]:
    """UTC dates in the window (or, unbounded, between the first and last row) with no row."""
    if times.empty and (start is None or end is None):
        return []
    lo = start.floor("D") if start is not None else times.min().floor("D")
    hi = (end - pd.Timedelta(microseconds=1)).floor("D") if end is not None else times.max().floor("D")
    present = set(times.dt.floor("D").unique())
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(lo, hi, freq="D") if d not in present]


# ------------------------------------------------------------------------------------------ mapping
def _map_symbol(symbol: str, src: dict[str, pd.DataFrame], info: dict[str, Any], start: pd.Timestamp | None,
                end: pd.Timestamp | None) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    kbars = kline_bars(symbol, src["klines"]) if "klines" in src else _frame(symbol, {})
    abars = _agg_bars(symbol, src["aggTrades"]) if "aggTrades" in src else _frame(symbol, {})
    if len(abars) and len(kbars):
        abars = abars[~abars["open_time"].isin(kbars["open_time"])]
    info["bars_source"] = {"klines": len(kbars), "aggTrades": len(abars)}
    if len(kbars) or len(abars):
        bars = pd.concat([b for b in (kbars, abars) if len(b)], ignore_index=True)
        out["bars"] = bars.sort_values("open_time", kind="mergesort").reset_index(drop=True)
        info["bars_missing_days"] = _missing_days(out["bars"]["open_time"], start, end)
        info["bars_missing_minutes"] = _missing_minutes(out["bars"]["open_time"], start, end)
    if "bookTicker" in src:
        bt = src["bookTicker"].sort_values(["event_time", "update_id"], kind="mergesort")
        bt = bt.drop_duplicates("event_time", keep="last")
        out["book_l1"] = _frame(symbol, {"ts": bt["event_time"], "bid_price": bt["best_bid_price"],
                                         "bid_size": bt["best_bid_qty"], "ask_price": bt["best_ask_price"],
                                         "ask_size": bt["best_ask_qty"]})
    if "metrics" in src:
        m = src["metrics"]
        m = m[m["sum_open_interest"].notna()]
        info["tables"]["metrics"]["rows_without_open_interest"] = len(src["metrics"]) - len(m)
        out["open_interest"] = _frame(symbol, {"ts": m["create_time"], "open_interest": m["sum_open_interest"]})
    if "fundingRate" in src:
        out["funding"] = vision_funding(symbol, src["fundingRate"])
    if "markPriceKlines" in src and "indexPriceKlines" in src:
        mark, index = src["markPriceKlines"], src["indexPriceKlines"]
        mi = mark[["open_time", "close"]].merge(index[["open_time", "close"]], on="open_time",
                                                suffixes=("_mark", "_index"))
        out["mark_index"] = _frame(symbol, {"ts": mi["open_time"] + _CLOSE_OFFSET, "mark_price": mi["close_mark"],
                                            "index_price": mi["close_index"]})
        info["mark_index_unmatched_minutes"] = len(mark) + len(index) - 2 * len(mi)
    if "bookDepth" in src:
        _check_book_depth(src["bookDepth"], symbol)
    return out


def _frame(symbol: str, columns: dict[str, pd.Series]) -> pd.DataFrame:
    """A raw-table frame: ``symbol`` (``str`` dtype, as the synthetic source), then ``columns`` (numbers as
    float64), index reset."""
    df = pd.DataFrame({name: s.reset_index(drop=True) for name, s in columns.items()})
    for name in df.columns:
        if pd.api.types.is_numeric_dtype(df[name]):
            df[name] = df[name].astype("float64")
    df.insert(0, "symbol", pd.Series([symbol] * len(df), dtype="str"))
    return df


def kline_bars(symbol: str, k: pd.DataFrame) -> pd.DataFrame:
    """``bars`` of a typed ``klines`` frame (mapping in the module docstring; shared with ``bar_files``)."""
    return _frame(symbol, {"open_time": k["open_time"], **{c: k[c] for c in _PRICES}, "volume": k["volume"],
                           "taker_buy_volume": k["taker_buy_volume"],
                           "taker_sell_volume": k["volume"] - k["taker_buy_volume"], "trade_count": k["count"]})


def vision_funding(symbol: str, f: pd.DataFrame) -> pd.DataFrame:
    """``funding`` of a typed ``fundingRate`` frame (mapping in the module docstring; shared with ``bar_files``)."""
    hours = pd.to_timedelta(f["funding_interval_hours"], unit="h")
    return _frame(symbol, {"ts": f["calc_time"], "funding_rate": f["last_funding_rate"],
                           "next_funding_time": f["calc_time"].dt.floor("min") + hours})


def _agg_bars(symbol: str, trades: pd.DataFrame) -> pd.DataFrame:
    """1-minute bars from aggregated trades (vectorized groupby; minutes without trades get no row)."""
    t = trades.sort_values(["transact_time", "agg_trade_id"], kind="mergesort")
    g = pd.DataFrame({"open_time": t["transact_time"].dt.floor("min"), "price": t["price"],
                      "volume": t["quantity"], "taker_buy_volume": t["quantity"].where(~t["is_buyer_maker"], 0.0),
                      "trade_count": t["last_trade_id"] - t["first_trade_id"] + 1})
    bars = g.groupby("open_time", sort=True).agg(
        open=("price", "first"), high=("price", "max"), low=("price", "min"), close=("price", "last"),
        volume=("volume", "sum"), taker_buy_volume=("taker_buy_volume", "sum"), trade_count=("trade_count", "sum"),
    ).reset_index()
    bars["taker_sell_volume"] = bars["volume"] - bars["taker_buy_volume"]
    return _frame(symbol, {c: bars[c] for c in RAW_TABLES["bars"].names if c != "symbol"})


def _check_book_depth(depth: pd.DataFrame, symbol: str) -> None:
    pct = depth["percentage"].to_numpy("float64")
    if ((np.abs(pct) > 100) | (pct == 0)).any():
        raise DataContractError(f"{symbol} bookDepth.percentage: values outside [-100, 0) and (0, 100]")
    for col in ("depth", "notional"):
        if (depth[col].to_numpy("float64") < 0).any():
            raise DataContractError(f"{symbol} bookDepth.{col}: negative values")


def _missing_minutes(times: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None) -> int:
    """Minutes in the window (unbounded: from the first bar's day to the end of the last bar's day) without a bar."""
    lo = start if start is not None else times.min().floor("D")
    hi = end if end is not None else times.max().floor("D") + pd.Timedelta(days=1)
    expected = int(np.ceil((hi - lo) / pd.Timedelta(minutes=1)))
    return max(expected - int(_in_window(times, lo, hi).sum()), 0)


def _in_window(times: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.Series:
    mask = pd.Series(True, index=times.index)
    if start is not None:
        mask &= times >= start
    if end is not None:
        mask &= times < end
    return mask


def _utc(ts: pd.Timestamp | str | None) -> pd.Timestamp | None:
    """A window bound as a UTC timestamp (a naive one is read as UTC)."""
    if ts is None:
        return None
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _iso(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None else pd.Timestamp(ts).isoformat()

"""Binance data.vision USD-M futures files -> the raw market contract (``trader_core.contracts.raw``).

Input: a local folder of data.vision zips; how they are found and read (layout, file names, header
and epoch rules) is described in ``trader_core.market.vision_files``.

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

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core import io
from trader_core.contracts.raw import RAW_TABLES
from trader_core.errors import ConfigError, DataContractError
from trader_core.market.landing import landing_root, parse_month, write_month
from trader_core.market.symbols import binance_symbol
from trader_core.market.vision_files import (
    KLINE_PRICES,
    VISION_TABLES,
    VisionFile,
    VisionTable,
    discover_vision_files,
    read_vision_zip,
)

SOURCE = "binance-vision"
QUALITY_FILE = "vision_quality.json"
_CLOSE_OFFSET = pd.Timedelta(minutes=1) - pd.Timedelta(milliseconds=1)
#: Tables read and validated but not mapped to a raw table (reported in the quality info, with a warning).
NOT_MAPPED = {"bookDepth": "a percentage-band depth profile without level prices: not mapped to book_depth",
              "premiumIndexKlines": "the raw contract has no premium index table: quality info only"}


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
    files, skipped = discover_vision_files(root, set(names), start, end)
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
    return _frame(symbol, {"open_time": k["open_time"], **{c: k[c] for c in KLINE_PRICES}, "volume": k["volume"],
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

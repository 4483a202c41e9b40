"""Crypto Lake adapter: a local copy of Crypto Lake parquet partitions -> the raw market contract.

Layout (docs/data.md, "Real data sources"):
``<root>/table=<name>/exchange=<EXCHANGE>/symbol=<SYMBOL>/dt=<YYYY-MM-DD>/data.parquet``.
Crypto Lake's own S3 layout (``<name>/exchange=.../symbol=.../dt=.../<random>.parquet``) is read too: the
table folder may be ``table=<name>`` (preferred) or ``<name>``, and every ``*.parquet`` file of a ``dt=``
folder is read. Symbols are Crypto Lake's perpetual names (``BTC-USDT-PERP``), the same strings as our
run-spec ids, so no mapping is applied. The default exchange is ``BINANCE_FUTURES``.

Tables read and what they become (each result is validated with its ``TableContract``):

* ``trades`` -> ``bars``: trades grouped by (symbol, 1-minute floor of origin_time) in time order: OHLC of
  ``price``, ``volume`` = sum of ``quantity``, ``taker_buy_volume`` / ``taker_sell_volume`` = quantity of
  ``side`` "buy" / "sell" (Crypto Lake's side is the aggressor side), ``trade_count`` = trades in the minute.
  A minute without trades has no bar (replay shows the gap; nothing is filled). Rows repeating a
  (symbol, trade_id) already seen (overlapping day files) are dropped. ``candles`` is **not** used:
  whether its time stamps mark the candle open or close cannot be confirmed, and it has no taker split.
* ``book`` -> ``book_depth`` (levels ``bid_{i}_price/size``, ``ask_{i}_price/size`` for i < depth_levels)
  and ``book_l1`` (level 0). Snapshots are thinned to the **last snapshot of each minute** (ts = its
  origin_time) to bound the size. This is lossless for replay, which takes the last snapshot before each
  bar close. book_l1 leaves out snapshots whose level 0 is empty or non-positive (a one-sided book).
* ``funding`` -> ``funding`` (``funding_rate``, ``next_funding_time`` or null when absent) and
  ``open_interest`` -> ``open_interest``, thinned the same way (last observation per minute). Crypto Lake's
  funding has ``mark_price`` but no index price, so no ``mark_index`` table is produced.
* ``liquidations`` -> ``liquidations`` (``side`` upper-cased to BUY / SELL: the liquidation order side).

Column names (confirmed from Crypto Lake's public samples and its lakeapi client): ``origin_time``,
``received_time``, ``sequence_number``, ``bid_{i}_price``/``size``, ``ask_{i}_price``/``size`` (i < 20),
and ``side``, ``price``, ``quantity``, ``trade_id`` for trades. Raw files use the older names ``timestamp``,
``receipt_timestamp``, ``amount``, ``id``, which lakeapi renames on load; both spellings are accepted.
**[inferred]** (not confirmed): funding ``funding_rate`` (cryptofeed's ``rate`` also accepted) and
``next_funding_time``; open_interest ``open_interest``; liquidations ``side``, ``price``, ``quantity``.

Time stamps: tz-aware values are converted to UTC; naive datetimes are read as UTC (documented repair:
Crypto Lake stores UTC and lakeapi returns naive values); integers/floats are epoch values whose unit
(s / ms / us / ns) follows their magnitude. Everything ends as ``datetime64[ns, UTC]``.

Window: only ``dt`` partitions overlapping ``[start, end)`` are read, then rows outside ``[start, end)``
(by origin_time) are dropped. A missing table folder means the source does not record the table: it is
absent from the result (replay flags it unavailable). Days missing inside the window are never invented:
``lake_inventory`` lists present and missing days per table and symbol.

Errors: an unreadable parquet file -> ArtifactError naming the file; a missing required column, a non-numeric
value column, a bad side or price -> DataContractError naming file and column; a requested symbol absent from
the lake, or without trades in the window -> DataContractError; bad arguments -> ConfigError.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from trader_core.contracts.raw import MAX_BOOK_LEVELS, RAW_TABLES
from trader_core.errors import ArtifactError, ConfigError, DataContractError

LAKE_TABLES = ("trades", "book", "funding", "open_interest", "liquidations")
DEFAULT_EXCHANGE = "BINANCE_FUTURES"
DAY = pd.Timedelta(days=1)

#: Canonical column -> accepted names in the file, in order of preference.
ALIASES: dict[str, tuple[str, ...]] = {
    "origin_time": ("origin_time", "timestamp"),
    "received_time": ("received_time", "receipt_timestamp"),
    "quantity": ("quantity", "amount"),
    "trade_id": ("trade_id", "id"),
    "funding_rate": ("funding_rate", "rate"),
}
TIME_COLUMNS = ("origin_time", "received_time", "next_funding_time")
OPTIONAL: dict[str, tuple[str, ...]] = {
    "trades": ("received_time", "trade_id"),
    "book": ("received_time", "sequence_number"),
    "funding": ("received_time", "next_funding_time"),
    "open_interest": ("received_time",),
    "liquidations": ("received_time",),
}
TIEBREAK = ("received_time", "sequence_number", "trade_id")  # order of rows sharing an origin_time
THINNED = ("book", "funding", "open_interest")  # snapshot tables: last observation per minute


def level_columns(levels: int) -> list[str]:
    """Crypto Lake depth columns for the first ``levels`` levels, bids then asks."""
    return [f"{side}_{i}_{field}" for side in ("bid", "ask") for i in range(levels) for field in ("price", "size")]


def _required(table: str, depth_levels: int) -> tuple[str, ...]:
    return {
        "trades": ("origin_time", "side", "price", "quantity"),
        "book": ("origin_time", *level_columns(depth_levels)),
        "funding": ("origin_time", "funding_rate"),
        "open_interest": ("origin_time", "open_interest"),
        "liquidations": ("origin_time", "side", "price", "quantity"),
    }[table]


# ------------------------------------------------------------------------------------------ arguments
def _utc(ts: pd.Timestamp | str | None, name: str) -> pd.Timestamp | None:
    if ts is None:
        return None
    try:
        ts = pd.Timestamp(ts)
    except ValueError as exc:
        raise ConfigError(f"{name}: {ts!r} is not a time stamp") from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _check_args(root: Path, symbols: Sequence[str], start: Any, end: Any
                ) -> tuple[Path, list[str], pd.Timestamp | None, pd.Timestamp | None]:
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"crypto lake root {root} is not a directory")
    if isinstance(symbols, str) or not symbols:
        raise ConfigError(f"symbols: give a non-empty list of symbols, got {symbols!r}")
    start_ts, end_ts = _utc(start, "start"), _utc(end, "end")
    if start_ts is not None and end_ts is not None and start_ts >= end_ts:
        raise ConfigError(f"window: start {start_ts} is not before end {end_ts}")
    return root, list(dict.fromkeys(symbols)), start_ts, end_ts


# ------------------------------------------------------------------------------------------ layout
def _table_root(root: Path, table: str, exchange: str) -> Path | None:
    for folder in (f"table={table}", table):
        path = root / folder / f"exchange={exchange}"
        if path.is_dir():
            return path
    return None


def _day(folder: Path) -> pd.Timestamp:
    text = folder.name.removeprefix("dt=")
    try:
        day = pd.Timestamp(text, tz="UTC")
    except ValueError:
        day = None
    if day is None or day.strftime("%Y-%m-%d") != text:
        raise ArtifactError(f"{folder}: partition folder is not dt=YYYY-MM-DD")
    return day


def _in_window(day: pd.Timestamp, start: pd.Timestamp | None, end: pd.Timestamp | None) -> bool:
    return (end is None or day < end) and (start is None or day + DAY > start)


def _day_files(table_root: Path, symbol: str, start: pd.Timestamp | None,
               end: pd.Timestamp | None) -> dict[str, list[Path]]:
    """{YYYY-MM-DD: parquet files} of one symbol's dt partitions overlapping [start, end)."""
    folder = table_root / f"symbol={symbol}"
    out: dict[str, list[Path]] = {}
    for day_dir in sorted(folder.glob("dt=*")) if folder.is_dir() else []:
        day = _day(day_dir)
        files = sorted(day_dir.glob("*.parquet"))
        if files and _in_window(day, start, end):
            out[day.strftime("%Y-%m-%d")] = files
    return out


def _symbols_present(roots: dict[str, Path]) -> list[str]:
    return sorted({p.name.removeprefix("symbol=") for r in roots.values() for p in r.glob("symbol=*") if p.is_dir()})


def _expected_days(present: set[str], start: pd.Timestamp | None, end: pd.Timestamp | None) -> list[str]:
    lo = start.floor("D") if start is not None else (pd.Timestamp(min(present), tz="UTC") if present else None)
    hi = (end - pd.Timedelta(1, "ns")).floor("D") if end is not None else (
        pd.Timestamp(max(present), tz="UTC") if present else None)
    if lo is None or hi is None or lo > hi:
        return []
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(lo, hi, freq="D")]


def lake_inventory(root: Path, symbols: Sequence[str], start: pd.Timestamp | None = None,
                   end: pd.Timestamp | None = None, exchange: str = DEFAULT_EXCHANGE) -> dict[str, Any]:
    """Tables, days present and days missing per (table, symbol) for the window ``[start, end)``.

    Expected days are the UTC days overlapping the window; an open side of the window is bounded by the
    first / last day present in any table. Absent table folders are listed in ``tables_absent``.
    """
    root, symbols, start, end = _check_args(root, symbols, start, end)
    roots = {t: r for t in LAKE_TABLES if (r := _table_root(root, t, exchange)) is not None}
    files = {t: {s: _day_files(r, s, start, end) for s in symbols} for t, r in roots.items()}
    expected = _expected_days({d for per in files.values() for days in per.values() for d in days}, start, end)
    tables = {t: {s: {"days_present": sorted(days), "days_missing": [d for d in expected if d not in days],
                      "files": sum(len(f) for f in days.values())}
                  for s, days in per.items()} for t, per in files.items()}
    return {
        "root": str(root), "exchange": exchange,
        "start": start.isoformat() if start is not None else None,
        "end": end.isoformat() if end is not None else None,
        "expected_days": expected,
        "tables": tables,
        "tables_absent": [t for t in LAKE_TABLES if t not in roots],
        "symbols_present": _symbols_present(roots),
        "complete": all(not v["days_missing"] for per in tables.values() for v in per.values()),
    }


# ------------------------------------------------------------------------------------------ reading
def _epoch_unit(magnitude: float) -> str:
    if magnitude < 1e11:
        return "s"
    if magnitude < 1e14:
        return "ms"
    return "us" if magnitude < 1e17 else "ns"


def _to_utc(series: pd.Series, path: Path, column: str) -> pd.Series:
    """Any stored time representation -> datetime64[ns, UTC] (see the module docstring)."""
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        out = series.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(dtype):
        out = series.dt.tz_localize("UTC")
    elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.abs(values[np.isfinite(values)])
        out = pd.to_datetime(series, unit=_epoch_unit(float(np.median(finite))) if finite.size else "ns", utc=True)
    else:
        raise DataContractError(f"{path}: column {column!r} is not a time stamp (dtype {dtype})")
    return out.astype("datetime64[ns, UTC]")


def _read_file(path: Path, table: str, symbol: str, required: tuple[str, ...],
               start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """One partition file -> canonical columns (required + optional), times in UTC, rows in the window."""
    try:
        parquet = pq.ParquetFile(path)
        names = set(parquet.schema_arrow.names)
    except (pa.ArrowException, OSError) as exc:
        raise ArtifactError(f"{path}: unreadable parquet file ({exc})") from exc
    source: dict[str, str] = {}
    for column in (*required, *OPTIONAL[table]):
        found = next((n for n in ALIASES.get(column, (column,)) if n in names), None)
        if found is not None:
            source[column] = found
        elif column in required:
            raise DataContractError(f"{path}: table {table!r} is missing required column {column!r}")
    try:
        raw = parquet.read(columns=list(source.values())).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise ArtifactError(f"{path}: unreadable parquet file ({exc})") from exc
    out = pd.DataFrame({"symbol": pd.Series(symbol, index=raw.index, dtype="str")})
    for column in (*required, *OPTIONAL[table]):
        if column not in source:
            out[column] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]") \
                if column in TIME_COLUMNS else np.nan
            continue
        values = raw[source[column]]
        if column in TIME_COLUMNS:
            out[column] = _to_utc(values, path, source[column])
        elif column == "side":
            out[column] = values.astype(str).str.lower()
        elif column == "trade_id":
            out[column] = values
        elif pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
            out[column] = values.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            raise DataContractError(f"{path}: column {source[column]!r} is not numeric (dtype {values.dtype})")
    _check_values(out, path, table)
    keep = np.ones(len(out), dtype=bool)
    if start is not None:
        keep &= (out["origin_time"] >= start).to_numpy()
    if end is not None:
        keep &= (out["origin_time"] < end).to_numpy()
    return out[keep]


def _check_values(frame: pd.DataFrame, path: Path, table: str) -> None:
    if frame["origin_time"].isna().any():
        raise DataContractError(f"{path}: {int(frame['origin_time'].isna().sum())} missing origin_time value(s)")
    if table not in ("trades", "liquidations"):
        return
    bad_side = ~frame["side"].isin(["buy", "sell"])
    if bad_side.any():
        raise DataContractError(f"{path}: column 'side' has {int(bad_side.sum())} value(s) not buy/sell, "
                                f"first {frame['side'][bad_side].iloc[0]!r}")
    price, qty = frame["price"].to_numpy(), frame["quantity"].to_numpy()
    if not (np.isfinite(price) & (price > 0)).all():
        raise DataContractError(f"{path}: column 'price' has non-positive or non-finite value(s)")
    if not (np.isfinite(qty) & (qty >= 0)).all():
        raise DataContractError(f"{path}: column 'quantity' has negative or non-finite value(s)")


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    order = ["symbol", "origin_time", *(c for c in TIEBREAK if c in frame.columns)]
    return frame.sort_values(order, kind="mergesort").reset_index(drop=True)


def _last_per_minute(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep the last row of each (symbol, minute) of a frame sorted by (symbol, time)."""
    minute = frame["origin_time"].dt.floor("min")
    last = ~pd.DataFrame({"s": frame["symbol"], "m": minute}).duplicated(keep="last").to_numpy()
    return frame[last].reset_index(drop=True)


def _read_table(table: str, files: dict[str, dict[str, list[Path]]], depth_levels: int,
                start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame | None:
    """Every window file of ``table`` for all symbols, sorted by (symbol, time); None if there is no file.

    Snapshot tables are thinned per file (bounding memory to one file) and again after concatenation
    (a minute can straddle two day files).
    """
    required = _required(table, depth_levels)
    thin = _last_per_minute if table in THINNED else (lambda frame: frame)
    frames = [thin(_sorted(_read_file(path, table, symbol, required, start, end)))
              for symbol, days in files.items() for day_files in days.values() for path in day_files]
    return thin(_sorted(pd.concat(frames, ignore_index=True))) if frames else None


# ------------------------------------------------------------------------------------------ tables
def trades_to_bars(trades: pd.DataFrame) -> pd.DataFrame:
    """1-minute bars from sorted canonical trades (symbol, origin_time, side buy/sell, price, quantity)."""
    if "trade_id" in trades.columns:
        trades = trades[~(trades["trade_id"].notna() & trades.duplicated(["symbol", "trade_id"]))]
    qty = trades["quantity"].to_numpy(dtype=np.float64)
    buy = (trades["side"] == "buy").to_numpy()
    work = pd.DataFrame({"symbol": trades["symbol"].to_numpy(), "open_time": trades["origin_time"].dt.floor("min"),
                         "price": trades["price"].to_numpy(dtype=np.float64), "quantity": qty,
                         "buy": np.where(buy, qty, 0.0), "sell": np.where(buy, 0.0, qty)})
    bars = work.groupby(["symbol", "open_time"], sort=True).agg(
        open=("price", "first"), high=("price", "max"), low=("price", "min"), close=("price", "last"),
        volume=("quantity", "sum"), taker_buy_volume=("buy", "sum"), taker_sell_volume=("sell", "sum"),
        trade_count=("price", "size")).reset_index()
    bars["symbol"] = bars["symbol"].astype("str")
    bars["trade_count"] = bars["trade_count"].astype(np.float64)
    return bars


def _book_tables(book: pd.DataFrame, depth_levels: int) -> dict[str, pd.DataFrame]:
    snaps = book.rename(columns={"origin_time": "ts"})
    depth = snaps[["symbol", "ts", *level_columns(depth_levels)]]
    l1 = snaps[["symbol", "ts", "bid_0_price", "bid_0_size", "ask_0_price", "ask_0_size"]].set_axis(
        ["symbol", "ts", "bid_price", "bid_size", "ask_price", "ask_size"], axis=1)
    valid = l1[["bid_price", "bid_size", "ask_price", "ask_size"]].notna().all(axis=1) \
        & (l1["bid_price"] > 0) & (l1["ask_price"] > 0)
    return {"book_depth": depth, "book_l1": l1[valid].reset_index(drop=True)}


def _snapshot_table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame.rename(columns={"origin_time": "ts"})[["symbol", "ts", *columns]]


def read_crypto_lake(root: Path, symbols: Sequence[str], start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None, *, exchange: str = DEFAULT_EXCHANGE,
                     depth_levels: int = MAX_BOOK_LEVELS) -> dict[str, pd.DataFrame]:
    """Raw market tables (``bars`` plus the optional tables the lake records) for ``symbols`` in [start, end)."""
    root, symbols, start, end = _check_args(root, symbols, start, end)
    if not 1 <= depth_levels <= MAX_BOOK_LEVELS:
        raise ConfigError(f"depth_levels: expected 1..{MAX_BOOK_LEVELS}, got {depth_levels}")
    roots = {t: r for t in LAKE_TABLES if (r := _table_root(root, t, exchange)) is not None}
    present = _symbols_present(roots)
    unknown = [s for s in symbols if s not in present]
    if unknown:
        raise DataContractError(f"{root}: symbol(s) {unknown} not in the Crypto Lake copy for exchange "
                                f"{exchange!r}; symbols present: {present}")
    if "trades" not in roots:
        raise DataContractError(f"{root}: no trades table (table=trades/exchange={exchange}); bars are built "
                                "from trades")
    frames = {t: _read_table(t, {s: _day_files(r, s, start, end) for s in symbols}, depth_levels, start, end)
              for t, r in roots.items()}
    trades = frames["trades"]
    with_trades = set() if trades is None else set(trades["symbol"].unique())
    missing = [s for s in symbols if s not in with_trades]
    if missing:
        raise DataContractError(f"{root}: symbol(s) {missing} have no trades in [{start}, {end}) "
                                f"(table=trades/exchange={exchange}); no bars can be built")
    out = {"bars": trades_to_bars(trades)}
    if frames.get("book") is not None:
        out.update(_book_tables(frames["book"], depth_levels))
    if frames.get("funding") is not None:
        out["funding"] = _snapshot_table(frames["funding"], ["funding_rate", "next_funding_time"])
    if frames.get("open_interest") is not None:
        out["open_interest"] = _snapshot_table(frames["open_interest"], ["open_interest"])
    if frames.get("liquidations") is not None:
        liq = frames["liquidations"].rename(columns={"origin_time": "ts"})
        out["liquidations"] = liq.assign(side=liq["side"].str.upper())[["symbol", "ts", "side", "price", "quantity"]]
    for name, frame in out.items():
        RAW_TABLES[name].validate(frame)
    return out

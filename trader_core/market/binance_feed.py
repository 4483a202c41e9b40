"""Binance USD-M or COIN-M futures websocket capture -> raw market tables (``bars``, ``book_l1``, ``book_depth``).

Input: a capture file of ``<local_timestamp_ns> <json>`` lines, read by ``trader_core.market.binance_feed_capture``
(the line format is described there).

Decisions:

* Clock: exchange times only. Trades are placed by their trade time ``T``; book events by their event
  time ``E``. The local receive stamp is checked to be an integer but not used (in the real capture the
  local clock runs ~1.3 s behind the exchange).
* Instrument: every stream name (``<symbol>@...``) and every ``s`` field must be
  ``binance_symbol(symbol)``; a capture of another (or of several) instruments is a DataContractError.
  The REST snapshot carries no symbol and is attributed to the capture's instrument.
* COIN-M (inverse) perpetuals (``BTC-USD-PERP`` -> ``BTCUSD_PERP``, see ``trader_core.market.symbols``): every
  quantity (trade ``q``, book sizes) is a number of contracts of ``contract_usd`` USD each (100 for BTC, 10
  for the others). The tables hold base units, as for USD-M: ``q`` contracts at price ``p`` are
  ``q * contract_usd / p`` coins. Their quote volume (``q * contract_usd`` USD) has no column in the bars
  contract and is not kept; ``FeedQuality.contract_usd`` records the face value used (None for USD-M).
* ``bars``: 1-minute bars from ``trade`` events, or from ``aggTrade`` events when the capture has no
  ``trade`` event (never both: with both, aggTrades are counted as ignored). Trades are ordered by
  (``T``, trade id) and de-duplicated on the trade id. ``m`` true = buyer is maker = taker sell.
  ``trade_count`` counts trades (an aggTrade counts ``l - f + 1``). Minutes without trades get no bar
  (replay shows them as gaps). The partial first/last minutes of the capture are **kept** (a live capture
  starts mid-minute); ``FeedQuality.partial_minutes`` lists them (a minute is partial when the first
  event of the capture is after its open or the last event is before its close).
* ``book_l1``: per minute, the last ``bookTicker`` with ``E`` in ``[open, close)``, stamped with its own
  ``E``. Strictly before the close because replay joins snapshots with ``ts < close`` (a snapshot
  stamped exactly at the close belongs to the next bar).
* ``book_depth``: the REST snapshot + ``depthUpdate`` diffs with the USD-M rules: diffs with
  ``u < lastUpdateId`` are dropped, the first applied diff must have ``U <= lastUpdateId <= u``, then
  every diff's ``pu`` must equal the previous applied diff's ``u``; quantity 0 removes a level. Diffs are
  taken in file order (ones buffered before the snapshot line still apply). Per minute, the book after
  the last diff with ``E`` in ``[open, close)``, stamped with that ``E``, top ``depth_levels`` levels per
  side (missing levels NaN). A continuity break is a DataContractError naming the update ids
  (``on_gap="raise"``) or, with ``on_gap="resync"``, the book is discarded until a later snapshot
  connects (the state before the break is still emitted; without such a snapshot the rest of the
  capture has no depth rows) and the break is counted in ``FeedQuality`` and warned about. A snapshot that
  precedes the update stream it should start (``U > lastUpdateId``) is a break too.
* Crossed books (bid >= ask) are kept and counted (bookTicker events and emitted depth rows).
* Other event types (e.g. ``markPrice``, ``forceOrder``) are counted and ignored.
"""

from __future__ import annotations

import heapq
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.raw import (
    BARS,
    BOOK_DEPTH,
    BOOK_L1,
    MAX_BOOK_LEVELS,
    depth_columns,
)
from trader_core.contracts.table import validate_frame
from trader_core.errors import ConfigError, DataContractError
from trader_core.market.binance_feed_capture import SNAPSHOT, Capture, check_capture_symbol, parse_capture
from trader_core.market.symbols import binance_symbol, coin_m_contract_usd

MINUTE_MS = 60_000
ON_GAP = ("raise", "resync")


@dataclass
class FeedQuality:
    """What the capture held and what the adapter did with it."""

    lines: int = 0
    contract_usd: float | None = None
    events: dict[str, int] = field(default_factory=dict)
    trade_source: str = ""
    ignored_events: dict[str, int] = field(default_factory=dict)
    duplicate_trades: int = 0
    coverage_start: str = ""
    coverage_end: str = ""
    partial_minutes: list[str] = field(default_factory=list)
    depth_snapshots_used: int = 0
    depth_updates_applied: int = 0
    depth_updates_skipped: int = 0
    depth_breaks: int = 0
    depth_break_details: list[str] = field(default_factory=list)
    crossed_l1_events: int = 0
    crossed_depth_rows: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FeedResult:
    tables: dict[str, pd.DataFrame]
    quality: FeedQuality


# ------------------------------------------------------------------------------------------ public API
def load_binance_feed(path: Path, symbol: str, *, depth_levels: int = MAX_BOOK_LEVELS,
                      on_gap: str = "raise") -> FeedResult:
    """Parse a capture into validated raw tables plus its :class:`FeedQuality`."""
    path = Path(path)
    if on_gap not in ON_GAP:
        raise ConfigError(f"on_gap: must be one of {list(ON_GAP)}, got {on_gap!r}")
    if not 1 <= depth_levels <= MAX_BOOK_LEVELS:
        raise ConfigError(f"depth_levels: must be in [1, {MAX_BOOK_LEVELS}], got {depth_levels}")
    if not path.is_file():
        raise ConfigError(f"source.path: {path} is not a file")
    exchange_name = binance_symbol(symbol)
    cap = parse_capture(path)
    check_capture_symbol(cap, exchange_name, path)
    quality = FeedQuality(lines=cap.lines, contract_usd=coin_m_contract_usd(symbol), events=dict(cap.counts))
    tables = {"bars": _bars(cap, symbol, path, quality)}
    if cap.tickers:
        tables["book_l1"] = _book_l1(cap, symbol, quality)
    if cap.diffs and cap.snapshots:
        depth = _book_depth(cap, symbol, depth_levels, on_gap, path, quality)
        if len(depth):
            tables["book_depth"] = depth
    elif cap.diffs or cap.snapshots:
        quality.notes.append("book_depth unavailable: the capture needs both a REST depth snapshot and depthUpdate "
                             f"events (snapshots={len(cap.snapshots)}, depthUpdates={len(cap.diffs)})")
    quality.ignored_events.update({k: v for k, v in cap.counts.items()
                                   if k not in ("trade", "aggTrade", "bookTicker", "depthUpdate", SNAPSHOT)})
    quality.coverage_start = _iso(cap.first_ms)
    quality.coverage_end = _iso(cap.last_ms)
    quality.partial_minutes = _partial_minutes(tables["bars"], cap)
    return FeedResult(tables, quality)


def read_binance_feed(path: Path, symbol: str, *, depth_levels: int = MAX_BOOK_LEVELS,
                      on_gap: str = "raise") -> dict[str, pd.DataFrame]:
    """Raw market tables of a capture (see the module docstring); warns when depth continuity broke."""
    result = load_binance_feed(path, symbol, depth_levels=depth_levels, on_gap=on_gap)
    if result.quality.depth_breaks:
        warnings.warn(f"{path}: {result.quality.depth_breaks} depth continuity break(s); the book was "
                      "discarded from each break until a later snapshot (if any) connected: "
                      + "; ".join(result.quality.depth_break_details), stacklevel=2)
    return result.tables


def feed_quality(path: Path, symbol: str, *, on_gap: str = "resync") -> dict[str, Any]:
    """Event counts, depth continuity breaks, crossed books and coverage of a capture, as a dict."""
    return load_binance_feed(path, symbol, on_gap=on_gap).quality.as_dict()


# ------------------------------------------------------------------------------------------ units and times
def _utc(ms: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(ms, dtype=np.int64), unit="ms", utc=True)


def _iso(ms: int | None) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat() if ms is not None else ""


def _base_units(qty: np.ndarray, price: np.ndarray, contract_usd: float | None) -> np.ndarray:
    """Quantities in base units: as given (USD-M), or COIN-M contracts converted at their price."""
    return qty if contract_usd is None else qty * contract_usd / price


# ------------------------------------------------------------------------------------------ tables
def _bars(cap: Capture, symbol: str, path: Path, quality: FeedQuality) -> pd.DataFrame:
    if cap.trades:
        rows, quality.trade_source = cap.trades, "trade"
        if cap.agg_trades:
            quality.ignored_events["aggTrade"] = len(cap.agg_trades)
    elif cap.agg_trades:
        rows, quality.trade_source = cap.agg_trades, "aggTrade"
    else:
        raise DataContractError(f"{path}: no trade or aggTrade events, so no bars can be built "
                                f"(events found: {dict(cap.counts)})")
    t = pd.DataFrame(rows, columns=["T", "id", "price", "qty", "m", "n"])
    t = t.sort_values(["T", "id"], kind="mergesort")
    dup = t.duplicated("id")
    quality.duplicate_trades = int(dup.sum())
    t = t[~dup]
    qty = _base_units(t["qty"].to_numpy(), t["price"].to_numpy(), quality.contract_usd)
    maker = t["m"].to_numpy(dtype=bool)
    t = t.assign(qty=qty, minute=t["T"] // MINUTE_MS * MINUTE_MS, buy=np.where(maker, 0.0, qty),
                 sell=np.where(maker, qty, 0.0))
    g = t.groupby("minute", sort=True).agg(open=("price", "first"), high=("price", "max"), low=("price", "min"),
                                           close=("price", "last"), volume=("qty", "sum"),
                                           taker_buy_volume=("buy", "sum"), taker_sell_volume=("sell", "sum"),
                                           trade_count=("n", "sum"))
    bars = pd.DataFrame({"symbol": symbol, "open_time": _utc(g.index.to_numpy())})
    for name in BARS.names[2:]:
        bars[name] = g[name].to_numpy(dtype=np.float64)
    BARS.validate(bars)
    return bars


def _book_l1(cap: Capture, symbol: str, quality: FeedQuality) -> pd.DataFrame:
    t = pd.DataFrame(cap.tickers, columns=["E", "u", "bid_price", "bid_size", "ask_price", "ask_size"])
    quality.crossed_l1_events = int((t["bid_price"] >= t["ask_price"]).sum())
    t = t.sort_values(["E", "u"], kind="mergesort")
    last = t.groupby(t["E"] // MINUTE_MS, sort=True).tail(1)
    book = pd.DataFrame({"symbol": symbol, "ts": _utc(last["E"].to_numpy())})
    for side in ("bid", "ask"):
        price = last[f"{side}_price"].to_numpy(dtype=np.float64)
        book[f"{side}_price"] = price
        book[f"{side}_size"] = _base_units(last[f"{side}_size"].to_numpy(dtype=np.float64), price,
                                           quality.contract_usd)
    BOOK_L1.validate(book)
    return book


def _apply(side: dict[float, float], levels: list) -> None:
    for price, qty in levels:
        q = float(qty)
        if q == 0.0:
            side.pop(float(price), None)
        else:
            side[float(price)] = q


def _top(side: dict[float, float], n: int, highest: bool) -> list[tuple[float, float]]:
    prices = heapq.nlargest(n, side) if highest else heapq.nsmallest(n, side)
    return [(p, side[p]) for p in prices]


def _book_depth(cap: Capture, symbol: str, levels: int, on_gap: str, path: Path,
                quality: FeedQuality) -> pd.DataFrame:
    snaps = sorted(cap.snapshots, key=lambda s: s[1])
    rows: dict[int, tuple[int, list, list]] = {}  # minute -> (E, top bids, top asks)
    bids: dict[float, float] | None = None
    asks: dict[float, float] = {}
    si, prev_u, last_e, resyncing = 0, 0, 0, False

    def emit() -> None:
        rows[last_e // MINUTE_MS] = (last_e, _top(bids, levels, True), _top(asks, levels, False))

    def gap(message: str) -> None:
        if on_gap == "raise":
            raise DataContractError(f"{path}: {message}; the depth book cannot be rebuilt "
                                    "(use on_gap='resync' to continue from the next snapshot)")
        quality.depth_breaks += 1
        quality.depth_break_details.append(message)

    for line, e, first_id, last_id, pu, b, a in cap.diffs:
        if bids is not None:
            if pu != prev_u:
                emit()
                gap(f"depthUpdate continuity break at line {line}: pu={pu} but the previous applied update "
                    f"ended at u={prev_u} (this update U={first_id}, u={last_id}, E={_iso(e)})")
                bids, resyncing = None, True
            elif e // MINUTE_MS != last_e // MINUTE_MS:
                emit()
        if bids is None:
            while si < len(snaps) and snaps[si][1] < first_id:
                if not resyncing:  # the capture's snapshot predates the update stream it should start
                    gap(f"depth snapshot lastUpdateId={snaps[si][1]} (line {snaps[si][0]}) does not connect to "
                        f"the update stream: the next update has U={first_id} > lastUpdateId (line {line})")
                si += 1
            if si == len(snaps) or last_id < snaps[si][1]:
                quality.depth_updates_skipped += 1
                continue
            snap_line, _, snap_bids, snap_asks = snaps[si]
            bids, asks = {}, {}
            try:
                _apply(bids, snap_bids)
                _apply(asks, snap_asks)
            except (ValueError, TypeError) as exc:
                raise DataContractError(f"{path}: line {snap_line}: bad depth snapshot level ({exc})") from exc
            si, resyncing = si + 1, False
            quality.depth_snapshots_used += 1
        try:
            _apply(bids, b)
            _apply(asks, a)
        except (ValueError, TypeError) as exc:
            raise DataContractError(f"{path}: line {line}: bad depthUpdate level ({exc})") from exc
        prev_u, last_e = last_id, e
        quality.depth_updates_applied += 1
    if bids is not None:
        emit()
    if bids is None:
        quality.notes.append("book_depth: no snapshot connected to the update stream after the last break (or at "
                             "the start); the rest of the capture has no depth rows")
    return _depth_frame(rows, symbol, levels, quality)


def _depth_frame(rows: dict[int, tuple[int, list, list]], symbol: str, levels: int,
                 quality: FeedQuality) -> pd.DataFrame:
    n = len(rows)
    values = {side: np.full((n, levels, 2), np.nan) for side in ("bid", "ask")}
    stamps = np.empty(n, dtype=np.int64)
    for r, minute in enumerate(sorted(rows)):
        stamps[r], top_bids, top_asks = rows[minute]
        for side, top in (("bid", top_bids), ("ask", top_asks)):
            if top:
                values[side][r, : len(top)] = top
    for side in ("bid", "ask"):
        values[side][:, :, 1] = _base_units(values[side][:, :, 1], values[side][:, :, 0], quality.contract_usd)
    depth = pd.DataFrame({"symbol": symbol, "ts": _utc(stamps)})
    for side in ("bid", "ask"):
        for i in range(levels):
            depth[f"{side}_{i}_price"] = values[side][:, i, 0]
            depth[f"{side}_{i}_size"] = values[side][:, i, 1]
    quality.crossed_depth_rows = int((depth["bid_0_price"] >= depth["ask_0_price"]).sum())
    validate_frame(depth, BOOK_DEPTH.name, BOOK_DEPTH.columns[:2] + depth_columns(levels), key=BOOK_DEPTH.key)
    return depth


def _partial_minutes(bars: pd.DataFrame, cap: Capture) -> list[str]:
    opens = (bars["open_time"].iloc[[0, -1]] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    first_open, last_open = (int(v) for v in opens)
    partial = []
    if cap.first_ms > first_open:
        partial.append(_iso(first_open))
    if cap.last_ms < last_open + MINUTE_MS and _iso(last_open) not in partial:
        partial.append(_iso(last_open))
    return partial

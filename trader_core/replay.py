"""Replay: raw market tables (the raw contract) -> one row per symbol-minute (the replay contract).

Rules, in order:
1. Every table present is validated against its contract (missing/mistyped columns, NaN/inf, naive
   time zones, non-positive prices -> DataContractError naming table and column). ``bars`` is required.
2. Bars must sit on whole minutes and satisfy low <= min(open, close) <= max(open, close) <= high and
   volume >= 0. Unsorted input is sorted (with a report warning). Rows repeated with identical values are
   dropped (counted in the report); a duplicated minute with *different* values is an error.
3. The window ``[start, end)`` and the symbol list are applied; a requested symbol without rows is an error.
4. Gap policy (``trader_core.minute_gaps``): runs of missing minutes up to ``fill_no_trade_max_minutes`` become
   flat no-trade bars (``bar_filled`` = 1); the complete-day filter (switchable) then keeps only (symbol, UTC
   day) groups with all 1440 minutes. The report lists every symbol-day: minutes present and filled, the
   longest gap, kept or dropped and why.
5. Snapshots are joined *as of the bar close*: the last observation with ``ts < open_time + 1 min``
   and no older than the table's max age; a missing or stale one leaves the value null and the matching
   ``*_available`` flag 0. Liquidations are summed per minute; when the source has no liquidation table,
   the notionals are null and ``liquidation_available`` is 0 (never invented zeros).
6. Nothing else is filled: minutes still missing show in ``gap_minutes_before``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core import minute_gaps
from trader_core.config import ReplayConfig
from trader_core.contracts.raw import BARS, RAW_TABLES
from trader_core.contracts.table import validate_frame
from trader_core.contracts.replay import MINUTE_MS, REPLAY, REPLAY_COLUMNS
from trader_core.errors import DataContractError
from trader_core.splits import ms_to_iso, to_epoch_ms

_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")

@dataclass
class ReplayReport:
    input_bar_rows: int = 0
    unsorted_input: bool = False
    exact_duplicates_dropped: int = 0
    rows_outside_window: int = 0
    incomplete_day_rows_dropped: int = 0
    incomplete_days_dropped: int = 0
    fill_no_trade_max_minutes: int = 0
    filled_minutes: int = 0
    filled_runs: int = 0
    days_kept: int = 0
    gap_runs_by_length: dict[str, int] = field(default_factory=dict)
    days: list[dict[str, Any]] = field(default_factory=list)
    output_rows: int = 0
    gaps: int = 0
    missing_minutes: int = 0
    rows_per_symbol: dict[str, int] = field(default_factory=dict)
    availability_share: dict[str, float] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)
    first_minute: str = ""
    last_minute: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def build_replay(raw: Mapping[str, pd.DataFrame | None], *, symbols: tuple[str, ...] | None = None,
                 start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
                 config: ReplayConfig = ReplayConfig()) -> tuple[pd.DataFrame, ReplayReport]:
    """Build the 1-minute replay from raw tables; returns (replay frame, report)."""
    report = ReplayReport()
    tables, bars = replay_bars(raw, symbols=symbols, start=start, end=end, config=config, report=report)
    out = _base_frame(bars)
    _join_book(out, tables.get("book_l1"), config.book_max_age_minutes)
    _join_depth(out, tables.get("book_depth"), config.book_max_age_minutes)
    _join_asof(out, tables.get("funding"), ["funding_rate", "next_funding_time"], "funding_available",
               config.funding_max_age_minutes)
    out["funding_bps"] = out.pop("funding_rate") * 1e4
    _join_asof(out, tables.get("mark_index"), ["mark_price", "index_price"], "mark_index_available",
               config.mark_index_max_age_minutes)
    _join_asof(out, tables.get("open_interest"), ["open_interest"], "open_interest_available",
               config.open_interest_max_age_minutes)
    _join_liquidations(out, tables.get("liquidations"))
    out = out[list(REPLAY_COLUMNS)]
    REPLAY.validate(out)
    _summarize(out, report)
    return out, report


def replay_bars(raw: Mapping[str, pd.DataFrame | None], *, symbols: tuple[str, ...] | None,
                start: pd.Timestamp | None, end: pd.Timestamp | None, config: ReplayConfig,
                report: ReplayReport) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The validated tables and the bars replay keeps (rules 1-4), filling ``report`` as it goes.

    ``trader check-data`` calls this alone: it decides every row of the replay without the snapshot joins.
    """
    tables = _validated_tables(raw, report)
    bars = _clean_bars(tables["bars"], report)
    bars = _apply_window(bars, symbols, start, end, report)
    return tables, _gap_policy(bars, config, report)


# ------------------------------------------------------------------------------------------ steps
def _validated_tables(raw: Mapping[str, pd.DataFrame | None], report: ReplayReport) -> dict[str, pd.DataFrame]:
    unknown = sorted(set(raw) - set(RAW_TABLES))
    if unknown:
        raise DataContractError(f"replay: unknown raw table(s) {unknown}; known: {sorted(RAW_TABLES)}")
    if raw.get("bars") is None:
        raise DataContractError("replay: the required raw table 'bars' is missing")
    tables = {}
    for name, df in raw.items():
        if df is None:
            continue
        if name == "bars":  # duplicate minutes are resolved by _clean_bars' rule, not rejected outright
            validate_frame(df, BARS.name, BARS.columns, positive=BARS.positive)
        else:
            RAW_TABLES[name].validate(df)
        tables[name] = df
    report.tables = sorted(tables)
    return tables


def _clean_bars(bars: pd.DataFrame, report: ReplayReport) -> pd.DataFrame:
    report.input_bar_rows = len(bars)
    if bars.empty:
        raise DataContractError("bars: the table has no rows")
    cols = BARS.names
    bars = bars[cols].reset_index(drop=True)
    bars["symbol"] = bars["symbol"].astype(str)
    ms = to_epoch_ms(bars["open_time"]).to_numpy(dtype=np.int64)
    off = ms % MINUTE_MS != 0
    if off.any():
        raise DataContractError(f"bars.open_time: {int(off.sum())} bar(s) not on a whole minute, first "
                                f"{bars['open_time'][off].iloc[0]}")
    bars["open_time_ms"] = ms
    o, h, low, c = (bars[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close"))
    bad = (h < np.maximum(o, c)) | (low > np.minimum(o, c)) | (h < low)
    if bad.any():
        first = bars.loc[bad, ["symbol", "open_time", "open", "high", "low", "close"]].iloc[0].to_dict()
        raise DataContractError(f"bars: {int(bad.sum())} bar(s) violate low <= open/close <= high, first {first}")
    for name in ("volume", "taker_buy_volume", "taker_sell_volume", "trade_count"):
        neg = bars[name].to_numpy(dtype=np.float64, na_value=np.nan) < 0
        if neg.any():
            raise DataContractError(f"bars.{name}: {int(neg.sum())} negative value(s)")
    bars = bars.sort_values(["symbol", "open_time_ms"], kind="mergesort")
    if not bars.index.is_monotonic_increasing:
        report.unsorted_input = True
        report.warnings.append("bars were not sorted by (symbol, open_time); sorted them")
    exact = bars.duplicated(cols, keep="first")
    if exact.any():
        report.exact_duplicates_dropped = int(exact.sum())
        report.warnings.append(f"dropped {int(exact.sum())} exactly repeated bar row(s)")
        bars = bars[~exact]
    conflict = bars.duplicated(["symbol", "open_time_ms"], keep=False)
    if conflict.any():
        first = bars.loc[conflict, ["symbol", "open_time"]].iloc[0].to_dict()
        raise DataContractError(f"bars: {int(conflict.sum())} rows share a (symbol, minute) with different values, "
                                f"first {first}; refusing to choose one")
    return bars.reset_index(drop=True)


def _apply_window(bars: pd.DataFrame, symbols: tuple[str, ...] | None, start: pd.Timestamp | None,
                  end: pd.Timestamp | None, report: ReplayReport) -> pd.DataFrame:
    keep = np.ones(len(bars), dtype=bool)
    if start is not None:
        keep &= bars["open_time_ms"].to_numpy() >= int(to_epoch_ms(start))
    if end is not None:
        keep &= bars["open_time_ms"].to_numpy() < int(to_epoch_ms(end))
    if symbols is not None:
        keep &= bars["symbol"].isin(list(symbols)).to_numpy()
        present = set(bars.loc[keep, "symbol"].unique())
        missing = [s for s in symbols if s not in present]
        if missing:
            have = sorted(bars["symbol"].unique())
            raise DataContractError(f"bars: symbol(s) {missing} have no rows in the window "
                                    f"[{start}, {end}); symbols in the data: {have}")
    report.rows_outside_window = int((~keep).sum())
    bars = bars[keep].reset_index(drop=True)
    if bars.empty:
        raise DataContractError(f"bars: no rows in the window [{start}, {end})")
    return bars


def _gap_policy(bars: pd.DataFrame, config: ReplayConfig, report: ReplayReport) -> pd.DataFrame:
    """Fill no-trade minutes, then apply the complete-day rule; the per-day table goes into the report."""
    runs = minute_gaps.missing_runs(bars)
    max_fill = config.fill_no_trade_max_minutes
    filled = minute_gaps.fill_no_trade_minutes(bars, runs, max_fill)
    days = minute_gaps.classify_days(filled, runs, max_fill_minutes=max_fill,
                                     complete_days_only=config.complete_days_only)
    report.fill_no_trade_max_minutes = max_fill
    report.gap_runs_by_length = minute_gaps.gap_length_counts(runs)
    report.days = days.to_dict("records")
    report.days_kept = int(days["kept"].sum())
    dropped = days[~days["kept"]]
    kept = days[days["kept"]]
    kept_day = (pd.to_datetime(kept["day"], utc=True) - _EPOCH) // pd.Timedelta(days=1)
    keep = pd.MultiIndex.from_arrays([filled["symbol"], filled["open_time_ms"] // minute_gaps.DAY_MS]).isin(
        pd.MultiIndex.from_arrays([kept["symbol"], kept_day]))
    is_filled = filled["bar_filled"].to_numpy() == 1
    report.filled_minutes = int((keep & is_filled).sum())
    report.filled_runs = int(minute_gaps.fillable(runs, max_fill).sum())
    report.incomplete_day_rows_dropped = int((~keep & ~is_filled).sum())
    report.incomplete_days_dropped = int((dropped["minutes_present"] > 0).sum())
    if report.filled_minutes:
        report.warnings.append(f"filled {report.filled_minutes} no-trade minute(s) (runs of up to {max_fill} missing "
                               "minutes) with flat bars at the previous close; flagged bar_filled and FILLED_BAR")
    if report.incomplete_days_dropped:
        reasons = dropped.loc[dropped["minutes_present"] > 0, "reason"].value_counts()
        report.warnings.append(f"complete-day filter dropped {report.incomplete_days_dropped} incomplete "
                               f"symbol-day(s) ({report.incomplete_day_rows_dropped} rows): "
                               + "; ".join(f"{n} x {r}" for r, n in reasons.items()))
    out = filled[keep].reset_index(drop=True)
    if out.empty:
        raise DataContractError(f"replay: no complete UTC day (1440 minutes) left after filling no-trade runs of up "
                                f"to {max_fill} minutes and the complete-day filter; check the data or set "
                                "replay.complete_days_only=false")
    return out


def _base_frame(bars: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "symbol": bars["symbol"].astype(str).to_numpy(),
        "event_time": pd.to_datetime(bars["open_time_ms"].to_numpy(), unit="ms", utc=True),
        "open_time_ms": bars["open_time_ms"].to_numpy(dtype=np.int64),
    })
    for name in ("open", "high", "low", "close", "volume", "taker_buy_volume", "taker_sell_volume", "trade_count"):
        out[name] = bars[name].to_numpy(dtype=np.float64, na_value=np.nan)
    out["bar_filled"] = bars["bar_filled"].to_numpy(dtype=np.int64)
    ms = out["open_time_ms"].to_numpy()
    new_symbol = np.r_[True, out["symbol"].to_numpy()[1:] != out["symbol"].to_numpy()[:-1]]
    gap = np.r_[0, np.diff(ms) // MINUTE_MS - 1]
    gap[new_symbol] = 0
    out["gap_minutes_before"] = gap.astype(np.int64)
    return out


def _asof(out: pd.DataFrame, table: pd.DataFrame, columns: list[str],
          max_age_minutes: int) -> tuple[pd.DataFrame, np.ndarray]:
    """As-of join of ``table`` columns onto bar closes (strictly before the close), with a staleness limit."""
    close_ms = out["open_time_ms"].to_numpy(dtype=np.int64) + MINUTE_MS
    left = pd.DataFrame({"symbol": out["symbol"].to_numpy(), "_key": close_ms, "_row": np.arange(len(out))})
    left = left.sort_values("_key", kind="mergesort")
    right = table[["symbol", *columns]].copy()
    right["symbol"] = right["symbol"].astype(str)
    right["_key"] = to_epoch_ms(table["ts"]).to_numpy(dtype=np.int64)
    right = right.sort_values("_key", kind="mergesort")
    merged = pd.merge_asof(left, right, on="_key", by="symbol", direction="backward", allow_exact_matches=False,
                           tolerance=max_age_minutes * MINUTE_MS)
    merged = merged.sort_values("_row", kind="mergesort").reset_index(drop=True)
    found = merged[columns[0]].notna().to_numpy()
    return merged[columns], found


def _join_asof(out: pd.DataFrame, table: pd.DataFrame | None, columns: list[str], flag: str,
               max_age_minutes: int) -> None:
    if table is None or table.empty:
        for name in columns:
            out[name] = (pd.Series(pd.NaT, index=out.index, dtype="datetime64[ms, UTC]")
                         if name.endswith("_time") else np.nan)
        out[flag] = np.zeros(len(out), dtype=np.int64)
        return
    values, found = _asof(out, table, columns, max_age_minutes)
    for name in columns:
        out[name] = values[name].to_numpy() if not name.endswith("_time") else values[name].array
    out[flag] = found.astype(np.int64)


def _join_book(out: pd.DataFrame, book: pd.DataFrame | None, max_age: int) -> None:
    cols = ["bid_price", "bid_size", "ask_price", "ask_size"]
    _join_asof(out, book, cols, "book_available", max_age)
    for name in cols:
        out[f"best_{name}"] = out.pop(name)
    bid, ask = out["best_bid_price"].to_numpy(), out["best_ask_price"].to_numpy()
    mid = (bid + ask) / 2
    out["spread_bps"] = (ask - bid) / mid * 1e4
    out["level1_ofi_1m"] = level1_ofi(out)


def level1_ofi(frame: pd.DataFrame) -> np.ndarray:
    """L1 snapshot-diff order flow imbalance (notional) between a row's snapshot and the previous row's.

    bid part = b*qb*[b >= b_prev] - b_prev*qb_prev*[b <= b_prev];
    ask part = a_prev*qa_prev*[a >= a_prev] - a*qa*[a <= a_prev]; OFI = bid part + ask part.
    The first row of each symbol (no previous snapshot) is NaN.
    """
    b, qb = frame["best_bid_price"].to_numpy(), frame["best_bid_size"].to_numpy()
    a, qa = frame["best_ask_price"].to_numpy(), frame["best_ask_size"].to_numpy()
    bid_part, ask_part = l1_ofi_parts(b[1:], qb[1:], a[1:], qa[1:], b[:-1], qb[:-1], a[:-1], qa[:-1])
    ofi = np.r_[np.nan, bid_part + ask_part]
    sym = frame["symbol"].to_numpy()
    ofi[np.r_[True, sym[1:] != sym[:-1]]] = np.nan
    return ofi


def l1_ofi_parts(bid: np.ndarray, bid_size: np.ndarray, ask: np.ndarray, ask_size: np.ndarray,
                 prev_bid: np.ndarray, prev_bid_size: np.ndarray, prev_ask: np.ndarray,
                 prev_ask_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bid part, ask part) of the L1 snapshot-diff OFI in quote notional (docs/data.md, "Replay rules")."""
    bid_part = np.where(bid >= prev_bid, bid * bid_size, 0.0) - np.where(bid <= prev_bid, prev_bid * prev_bid_size, 0.0)
    ask_part = np.where(ask >= prev_ask, prev_ask * prev_ask_size, 0.0) - np.where(ask <= prev_ask, ask * ask_size, 0.0)
    nan = np.isnan(bid) | np.isnan(prev_bid) | np.isnan(ask) | np.isnan(prev_ask)
    return np.where(nan, np.nan, bid_part), np.where(nan, np.nan, ask_part)


def _join_depth(out: pd.DataFrame, depth: pd.DataFrame | None, max_age: int) -> None:
    if depth is None or depth.empty:
        out["depth_bid_notional_5"] = np.nan
        out["depth_ask_notional_5"] = np.nan
        out["depth_available"] = np.zeros(len(out), dtype=np.int64)
        return
    levels = [i for i in range(5) if f"bid_{i}_price" in depth.columns and f"ask_{i}_price" in depth.columns]
    notional = pd.DataFrame({"symbol": depth["symbol"], "ts": depth["ts"]})
    for side in ("bid", "ask"):
        parts = [depth[f"{side}_{i}_price"].to_numpy(dtype=np.float64, na_value=np.nan)
                 * depth[f"{side}_{i}_size"].to_numpy(dtype=np.float64, na_value=np.nan) for i in levels]
        notional[f"depth_{side}_notional_5"] = np.nansum(np.vstack(parts), axis=0)
    _join_asof(out, notional, ["depth_bid_notional_5", "depth_ask_notional_5"], "depth_available", max_age)


def _join_liquidations(out: pd.DataFrame, liq: pd.DataFrame | None) -> None:
    if liq is None:
        out["liquidation_buy_notional_1m"] = np.nan
        out["liquidation_sell_notional_1m"] = np.nan
        out["liquidation_available"] = np.zeros(len(out), dtype=np.int64)
        return
    side = liq["side"].astype(str).str.upper()
    bad = ~side.isin(["BUY", "SELL"])
    if bad.any():
        raise DataContractError(f"liquidations.side: {int(bad.sum())} value(s) not BUY/SELL, first {side[bad].iloc[0]!r}")
    minute = to_epoch_ms(liq["ts"]).to_numpy(dtype=np.int64) // MINUTE_MS * MINUTE_MS
    agg = (pd.DataFrame({"symbol": liq["symbol"].astype(str).to_numpy(), "open_time_ms": minute,
                         "side": side.to_numpy(), "notional": (liq["price"] * liq["quantity"]).to_numpy(dtype=np.float64)})
           .pivot_table(index=["symbol", "open_time_ms"], columns="side", values="notional", aggfunc="sum",
                        fill_value=0.0))
    agg = agg.reindex(columns=["BUY", "SELL"], fill_value=0.0)
    key = pd.MultiIndex.from_arrays([out["symbol"], out["open_time_ms"]])
    joined = agg.reindex(key, fill_value=0.0)
    out["liquidation_buy_notional_1m"] = joined["BUY"].to_numpy(dtype=np.float64)
    out["liquidation_sell_notional_1m"] = joined["SELL"].to_numpy(dtype=np.float64)
    out["liquidation_available"] = np.ones(len(out), dtype=np.int64)


def _summarize(out: pd.DataFrame, report: ReplayReport) -> None:
    gaps = out["gap_minutes_before"].to_numpy()
    report.output_rows = len(out)
    report.gaps = int((gaps > 0).sum())
    report.missing_minutes = int(gaps.sum())
    report.rows_per_symbol = {str(k): int(v) for k, v in out["symbol"].value_counts(sort=False).items()}
    for flag in ("liquidation_available", "book_available", "depth_available", "funding_available",
                 "mark_index_available", "open_interest_available"):
        report.availability_share[flag] = float(out[flag].mean()) if len(out) else 0.0
    missing = [f.removesuffix("_available") for f, share in report.availability_share.items() if share == 0.0]
    partial = {f.removesuffix("_available"): 1.0 - share for f, share in report.availability_share.items()
               if 0.0 < share <= 0.99}  # below 1 % unavailable (e.g. warm-up before the first OI print) is not news
    if missing:
        report.warnings.append(f"inputs unavailable for the whole window: {', '.join(missing)}; their features are "
                               "neutral (0) and the rows PARTIAL_OPTIONAL, never invented")
    if partial:
        report.warnings.append("inputs partly unavailable: " + ", ".join(f"{k} on {v:.1%} of rows"
                                                                        for k, v in partial.items()))
    if report.gaps:
        report.warnings.append(f"{report.gaps} gap(s) in the minute grid ({report.missing_minutes} missing minutes); "
                               "kept visible in gap_minutes_before; feature windows spanning them are GAP_WINDOW")
    report.first_minute = ms_to_iso(int(out["open_time_ms"].min()))
    report.last_minute = ms_to_iso(int(out["open_time_ms"].max()))

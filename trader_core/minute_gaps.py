"""Gap policy of replay: fill no-trade minutes, classify each symbol-day, report it (docs/data.md, "Gap policy").

Real 1-minute exports leave out minutes without trades. A run of missing minutes between two bars of a
symbol that is at most ``max_fill_minutes`` long is such a *no-trade* run: each of its minutes becomes a
flat bar at the previous close (open = high = low = close), zero volume, zero taker volumes and trade
count 0 where the source records them (NaN where it does not), marked ``bar_filled = 1``. That is how
exchanges write their own klines for quiet minutes, and it is the only value replay ever adds.

Anything else is an *outage*: a longer run, or the minutes of the first and last UTC day of a symbol
before its first bar or after its last one (nothing is known there, not even the previous close). A day
touched by an outage is incomplete; the complete-day rule (``replay.complete_days_only``, default) drops
it, otherwise it is kept with the gap visible in ``gap_minutes_before`` and the feature rows whose
windows span the gap flagged ``GAP_WINDOW`` (``trader_core.features.build``). Label windows never span a
gap: path statistics need a contiguous minute grid (docs/labels.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_core.contracts.replay import MINUTE_MS, MINUTES_PER_DAY

DAY_MS = MINUTES_PER_DAY * MINUTE_MS
#: Upper bounds (minutes) of the gap-length buckets shown by the replay report and ``trader check-data``.
GAP_BUCKETS = (1, 2, 3, 7, 15, 60, 1440)
_COUNTED = ("taker_buy_volume", "taker_sell_volume", "trade_count")


def missing_runs(bars: pd.DataFrame) -> pd.DataFrame:
    """Runs of missing minutes of bars sorted by (symbol, open_time_ms) with unique keys.

    One row per run: ``symbol``, ``start_ms`` (first missing minute), ``minutes``, ``after_row`` (position of
    the bar before the run; -1 for a leading edge) and ``edge`` (before the first / after the last bar).
    """
    sym = bars["symbol"].to_numpy()
    ms = bars["open_time_ms"].to_numpy(dtype=np.int64)
    same = sym[1:] == sym[:-1]
    steps = (ms[1:] - ms[:-1]) // MINUTE_MS - 1
    inner = np.flatnonzero(same & (steps > 0))
    first = np.flatnonzero(np.r_[True, ~same])
    last = np.flatnonzero(np.r_[~same, True])
    lead = (ms[first] % DAY_MS) // MINUTE_MS
    trail = MINUTES_PER_DAY - 1 - (ms[last] % DAY_MS) // MINUTE_MS
    parts = [
        (sym[inner], ms[inner] + MINUTE_MS, steps[inner], inner, False),
        (sym[first], ms[first] - lead * MINUTE_MS, lead, np.full(len(first), -1), True),
        (sym[last], ms[last] + MINUTE_MS, trail, last, True),
    ]
    runs = pd.DataFrame({
        "symbol": np.concatenate([p[0] for p in parts]).astype(object),
        "start_ms": np.concatenate([p[1] for p in parts]).astype(np.int64),
        "minutes": np.concatenate([p[2] for p in parts]).astype(np.int64),
        "after_row": np.concatenate([p[3] for p in parts]).astype(np.int64),
        "edge": np.concatenate([np.full(len(p[0]), p[4]) for p in parts]),
    })
    runs = runs[runs["minutes"] > 0]
    return runs.sort_values(["symbol", "start_ms"], kind="mergesort").reset_index(drop=True)


def fillable(runs: pd.DataFrame, max_fill_minutes: int) -> np.ndarray:
    """No-trade runs: between two bars and at most ``max_fill_minutes`` long (0 disables filling)."""
    return (~runs["edge"].to_numpy()) & (runs["minutes"].to_numpy() <= max_fill_minutes)


def fill_no_trade_minutes(bars: pd.DataFrame, runs: pd.DataFrame, max_fill_minutes: int) -> pd.DataFrame:
    """``bars`` plus one flat bar per minute of every no-trade run, with ``bar_filled`` (1 = filled).

    Returns only the columns replay builds from (``symbol``, ``open_time_ms``, prices, volumes), sorted by
    (symbol, open_time_ms). Present bars are passed through unchanged.
    """
    columns = ["symbol", "open_time_ms", "open", "high", "low", "close", "volume", *_COUNTED]
    present = bars[columns].assign(bar_filled=np.zeros(len(bars), dtype=np.int64))
    todo = runs[fillable(runs, max_fill_minutes)]
    reps = todo["minutes"].to_numpy()
    if not reps.sum():
        return present.reset_index(drop=True)
    prev = np.repeat(todo["after_row"].to_numpy(), reps)
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    close = bars["close"].to_numpy(dtype=np.float64)[prev]
    filled = pd.DataFrame({
        "symbol": bars["symbol"].to_numpy()[prev],
        "open_time_ms": np.repeat(todo["start_ms"].to_numpy(), reps) + offset * MINUTE_MS,
        "open": close, "high": close, "low": close, "close": close,
        "volume": np.zeros(len(prev)),
    })
    for name in _COUNTED:  # zero where the source records the count, NaN (not recorded) where it does not
        recorded = bars[name].to_numpy(dtype=np.float64, na_value=np.nan)[prev]
        filled[name] = np.where(np.isnan(recorded), np.nan, 0.0)
    filled["bar_filled"] = np.ones(len(prev), dtype=np.int64)
    out = pd.concat([present, filled], ignore_index=True)
    return out.sort_values(["symbol", "open_time_ms"], kind="mergesort").reset_index(drop=True)


def classify_days(bars: pd.DataFrame, runs: pd.DataFrame, *, max_fill_minutes: int,
                  complete_days_only: bool) -> pd.DataFrame:
    """One row per symbol-day from the first to the last day of each symbol, with the keep decision.

    ``bars`` are the filled bars (with ``bar_filled``). Columns: symbol, day (YYYY-MM-DD), minutes_present,
    minutes_filled, longest_gap_minutes (the longest missing run touching the day, whole run, before filling),
    kept, reason.
    """
    day = bars["open_time_ms"].to_numpy() // DAY_MS
    counts = (pd.DataFrame({"symbol": bars["symbol"].to_numpy(), "day": day,
                            "minutes_filled": bars["bar_filled"].to_numpy()})
              .groupby(["symbol", "day"], sort=True)["minutes_filled"].agg(["size", "sum"])
              .rename(columns={"size": "rows", "sum": "minutes_filled"}))
    touched = _runs_by_day(runs)
    days = counts.join(touched, how="outer").sort_index()
    rows = days["rows"].fillna(0).to_numpy(dtype=np.int64)
    filled = days["minutes_filled"].fillna(0).to_numpy(dtype=np.int64)
    longest = days["longest_gap_minutes"].fillna(0).to_numpy(dtype=np.int64)
    edge = days["edge"].fillna(False).to_numpy(dtype=bool)
    complete = rows == MINUTES_PER_DAY
    kept = complete | ((not complete_days_only) & (rows > filled))
    reason = np.select(
        [complete & (filled == 0), complete, kept, rows == filled, edge],
        ["complete", "complete after filling no-trade minutes", "kept with an outage gap (its windows masked)",
         "no bars", "edge of the data: minutes before the first or after the last bar"],
        default=f"outage gap longer than {max_fill_minutes} minutes")
    index = days.index
    return pd.DataFrame({
        "symbol": index.get_level_values("symbol").astype(str),
        "day": pd.to_datetime(index.get_level_values("day").to_numpy(dtype=np.int64) * DAY_MS, unit="ms",
                              utc=True).strftime("%Y-%m-%d"),
        "minutes_present": rows - filled, "minutes_filled": filled, "longest_gap_minutes": longest,
        "kept": kept, "reason": reason,
    })


def _runs_by_day(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (symbol, day) a run touches: the longest run touching it and whether an edge run does."""
    start = runs["start_ms"].to_numpy()
    minutes = runs["minutes"].to_numpy()
    first_day = start // DAY_MS
    span = (start + (minutes - 1) * MINUTE_MS) // DAY_MS - first_day + 1
    rep = np.repeat(np.arange(len(runs)), span)
    offset = np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    per_day = pd.DataFrame({
        "symbol": runs["symbol"].to_numpy()[rep], "day": first_day[rep] + offset,
        "longest_gap_minutes": minutes[rep],
        "edge": runs["edge"].to_numpy()[rep],
    })
    return per_day.groupby(["symbol", "day"], sort=True).agg(
        {"longest_gap_minutes": "max", "edge": "any"})


def gap_length_counts(runs: pd.DataFrame) -> dict[str, int]:
    """Runs of missing minutes between bars, counted by length bucket ("1", "2", "3", "4-7", ..., ">1440")."""
    minutes = runs.loc[~runs["edge"], "minutes"].to_numpy()
    lows = (1,) + tuple(b + 1 for b in GAP_BUCKETS[:-1])
    names = [str(hi) if lo == hi else f"{lo}-{hi}" for lo, hi in zip(lows, GAP_BUCKETS)]
    counts = np.histogram(minutes, bins=[0.5, *[b + 0.5 for b in GAP_BUCKETS], np.inf])[0]
    return dict(zip([*names, f">{GAP_BUCKETS[-1]}"], (int(c) for c in counts)))

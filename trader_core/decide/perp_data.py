"""The decision minute of a perp champion: the newest bar of each symbol closed by the decision time, and its
features built by the pipeline's own code from the rows before it (docs/decide.md).

* Decision time: ``--at``; else the end of the run's window for the synthetic source (the synthetic market is a
  function of its window, regenerated whole, and counts as fresh at its end); else the clock.
* Source: the run spec of the release. The synthetic market regenerates the run's window; every other source
  (landed months, bar files, recordings) is read whole, so months landed after training are seen.
* Freshness: per symbol, the newest bar that closed by the decision time; refused when it closed more than
  ``max_age`` before it.
* History: the last ``HISTORY_ROWS`` rows of each symbol up to that bar (the longest feature window, from the
  feature contract), replayed from the day before them with the run's replay rules except the complete-day
  filter: the day of a decision is not complete yet. Fewer rows are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from trader_core.config import RunSpec
from trader_core.decide.base import DEFAULT_MAX_AGE, DecisionRefused, DecisionRequest
from trader_core.features import HISTORY_ROWS, build_feature_frame
from trader_core.market.sources import RawTables, load_raw_market
from trader_core.replay import build_replay

MINUTE = pd.Timedelta(minutes=1)
#: Minutes replayed before the newest bar: the feature history plus a day for minutes missing in the data.
REPLAY_SPAN = pd.Timedelta(minutes=HISTORY_ROWS) + pd.Timedelta(days=1)


@dataclass(frozen=True)
class DecisionMinute:
    """The decision time and one feature row per symbol (META + FEATURE_ORDER, plus ``close``), in the run's
    symbol order."""

    decision_time: pd.Timestamp
    rows: pd.DataFrame


def decision_time(spec: RunSpec, request: DecisionRequest) -> pd.Timestamp:
    if request.at is not None:
        return request.at
    if spec.source.kind == "synthetic":
        return spec.end_ts
    return request.now if request.now is not None else pd.Timestamp.now(tz="UTC")


def decision_minute(spec: RunSpec, request: DecisionRequest) -> DecisionMinute:
    """Read the source, refuse stale data or too little history, build the features of the decision minute."""
    when = decision_time(spec, request)
    end = when.floor("min")  # a bar that opens before this minute has closed by ``when``
    raw = newest_market(spec)
    newest = _newest_bars(raw["bars"], spec.symbols, end, when)
    _refuse_stale(newest, when, request.age_limit(DEFAULT_MAX_AGE))
    replay, _ = build_replay(raw, symbols=spec.symbols, start=newest.min() - REPLAY_SPAN, end=end,
                             config=replace(spec.replay, complete_days_only=False))
    history = replay.groupby("symbol", sort=False).tail(HISTORY_ROWS).reset_index(drop=True)
    _refuse_short(history, newest)
    features = build_feature_frame(history)
    last = features.groupby("symbol", sort=False).tail(1).index
    rows = features.loc[last].assign(close=history.loc[last, "close"].to_numpy())
    order = {symbol: i for i, symbol in enumerate(spec.symbols)}
    rows = rows.sort_values("symbol", key=lambda s: s.map(order)).reset_index(drop=True)
    return DecisionMinute(when, rows)


def newest_market(spec: RunSpec) -> RawTables:
    """The raw tables of the run's source as they are now: the synthetic window regenerated, any other source
    read whole (module docstring)."""
    return load_raw_market(spec if spec.source.kind == "synthetic" else replace(spec, start=None, end=None))


def _newest_bars(bars: pd.DataFrame, symbols: tuple[str, ...], end: pd.Timestamp, when: pd.Timestamp) -> pd.Series:
    """Open time of each symbol's newest bar opening before ``end``; refused for a symbol without one."""
    opens = pd.to_datetime(bars["open_time"], utc=True)
    closed = bars[(opens < end).to_numpy() & bars["symbol"].isin(list(symbols)).to_numpy()]
    newest = pd.to_datetime(closed["open_time"], utc=True).groupby(closed["symbol"].astype(str)).max()
    missing = [s for s in symbols if s not in newest.index]
    if missing:
        raise DecisionRefused(f"no bar of {', '.join(missing)} closed by the decision time {_iso(when)}")
    return newest.reindex(list(symbols))


def _refuse_stale(newest: pd.Series, when: pd.Timestamp, max_age: pd.Timedelta) -> None:
    age = when - (newest + MINUTE)
    stale = age[age > max_age]
    if len(stale):
        symbol = stale.idxmax()
        raise DecisionRefused(f"stale data: the newest {symbol} bar closed at {_iso(newest[symbol] + MINUTE)}, "
                              f"{_span(stale[symbol])} before the decision time {_iso(when)} (max age "
                              f"{_span(max_age)}; --max-age to allow more, --at for a past decision)")


def _refuse_short(history: pd.DataFrame, newest: pd.Series) -> None:
    counts = history.groupby("symbol", sort=False).size().reindex(newest.index, fill_value=0)
    short = counts[counts < HISTORY_ROWS]
    if len(short):
        symbol = short.index[0]
        raise DecisionRefused(f"{symbol}: {int(short.iloc[0])} rows of history up to {_iso(newest[symbol])} "
                              f"(replayed from {_span(REPLAY_SPAN)} before it); the features need {HISTORY_ROWS} "
                              f"(their longest window)")


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(delta: pd.Timedelta) -> str:
    """A duration in days, hours and whole minutes (seconds below a minute): 3 d 4 h, 2 h 5 min, 40 s."""
    if delta < MINUTE:
        return f"{delta.total_seconds():.0f} s"
    minutes = int(delta // MINUTE)
    parts = (f"{minutes // 1440} d" if minutes >= 1440 else "", f"{minutes % 1440 // 60} h" if minutes % 1440 >= 60
             else "", f"{minutes % 60} min" if minutes % 60 else "")
    return " ".join(p for p in parts if p)

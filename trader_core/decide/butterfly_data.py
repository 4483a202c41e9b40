"""The decision day of a butterfly champion: its candidate butterflies, priced and featured by the pipeline's own
functions on the daily data up to the decision date (docs/decide.md, "Butterfly lines").

* Source: the release's run spec (``butterfly.source.market_of``): the synthetic market of its ``butterfly``
  section (a function of its window, regenerated whole), its daily CSV, or every landed month.
* Decision time: ``--at``; else the newest date of the data for the synthetic source (fresh at its own end, as
  for perp); else the clock. A daily bar is dated at midnight UTC of its session and the decision is made on the
  newest bar dated at or before the decision time (after that session's close).
* Freshness: refused when that bar is older than ``max_age`` (default ``DAILY_MAX_AGE``, 3 days: Friday's bar
  is fresh until Monday's midnight; a holiday Monday needs ``--max-age 4d``).
* Candidates: ``sampling.decision_candidates`` (every symbol with a bar on the date and the samples' 61 rows of
  history; DTE drawn as a sample's), priced by ``positions.price_positions`` and featured by
  ``features.build_features`` on the daily table of the data cut at the decision date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trader_core.butterfly.features import build_features
from trader_core.butterfly.pipeline import daily
from trader_core.butterfly.positions import price_positions
from trader_core.butterfly.sampling import decision_candidates
from trader_core.butterfly.source import market_of
from trader_core.config import RunSpec
from trader_core.contracts.butterfly import MIN_HISTORY_ROWS, evaluation_days
from trader_core.decide.base import DecisionRefused, DecisionRequest

#: Default ``--max-age`` of butterfly decisions: a weekend between two daily bars is not stale.
DAILY_MAX_AGE = pd.Timedelta(days=3)
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class DecisionDay:
    """The decision time, the date decided on, and its candidates: priced positions (``sample_id, date, symbol,
    dte, ...`` and ``eval_date``) and their features (same order)."""

    decision_time: pd.Timestamp
    date: pd.Timestamp
    positions: pd.DataFrame
    features: pd.DataFrame


def decision_day(spec: RunSpec, request: DecisionRequest) -> DecisionDay:
    """Read the source, refuse stale data or a day without candidates, price and feature the candidates."""
    market = market_of(spec, whole=True)
    bars = market["bars"]
    when = _decision_time(spec, request, bars["date"].max())
    dates = bars["date"][(bars["date"] <= when).to_numpy()]
    if dates.empty:
        raise DecisionRefused(f"no daily bar dated at or before the decision time {_iso(when)} (the data starts "
                              f"{bars['date'].min():%Y-%m-%d})")
    date = dates.max()
    max_age = request.age_limit(DAILY_MAX_AGE)
    if when - date > max_age:
        raise DecisionRefused(f"stale data: the newest daily bar is dated {date:%Y-%m-%d}, {_days(when - date)} "
                              f"before the decision time {_iso(when)} (max age {_days(max_age)}; --max-age to "
                              f"allow more, --at for a past decision)")
    cut = {"bars": bars[(bars["date"] <= date).to_numpy()].reset_index(drop=True),
           "vix": market["vix"][(market["vix"]["date"] <= date).to_numpy()].reset_index(drop=True)}
    table = daily(cut, spec.butterfly)
    candidates = decision_candidates(table, date, spec.butterfly.pricing, spec.butterfly.sampling)
    if candidates.empty:
        raise DecisionRefused(f"no candidate on {date:%Y-%m-%d}: no symbol has a bar on it with "
                              f"{MIN_HISTORY_ROWS} bars of history (the features' longest window)")
    positions = price_positions(candidates, table, spec.butterfly.pricing)
    positions["eval_date"] = positions["date"] + pd.to_timedelta(evaluation_days(positions["dte"].to_numpy()),
                                                                 unit="D")
    return DecisionDay(decision_time=when, date=date, positions=positions,
                       features=build_features(positions, table))


def outcome_table(spec: RunSpec) -> pd.DataFrame:
    """The daily table of the whole data of the source: what the labels of logged positions are read from."""
    return daily(market_of(spec, whole=True), spec.butterfly)


def _decision_time(spec: RunSpec, request: DecisionRequest, newest: pd.Timestamp) -> pd.Timestamp:
    if request.at is not None:
        return request.at
    if spec.source.kind == "synthetic":
        return newest
    return request.now if request.now is not None else pd.Timestamp.now(tz="UTC")


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _days(delta: pd.Timedelta) -> str:
    """A duration in days and hours: 3 d, 4 d 6 h, 5 h."""
    days, hours = int(delta // DAY), int(np.floor((delta % DAY) / pd.Timedelta(hours=1)))
    return " ".join(p for p in (f"{days} d" if days else "", f"{hours} h" if hours or not days else "") if p)

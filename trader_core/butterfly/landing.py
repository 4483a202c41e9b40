"""Landing months of daily bars for the butterfly strategy, in the landing folder's layout (docs/retraining.md):
months of the synthetic daily market, or of a daily-bar CSV (``market.load_daily_csv``: bars plus the index rows).

Markers carry the butterfly strategy's tag, so the retraining sensor builds a butterfly run for them. Each month
is a calendar-month slice of one series (the synthetic market is generated once per call, the CSV read once), so
consecutive months join up; a month the series does not reach is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from trader_core.butterfly.market import load_daily_csv
from trader_core.butterfly.pipeline import generate_market
from trader_core.butterfly_config import ButterflyConfig
from trader_core.contracts.butterfly import STRATEGY
from trader_core.errors import ConfigError, DataContractError
from trader_core.market.landing import landing_root, parse_month, write_month

SYNTHETIC_SOURCE = "butterfly-synthetic"
CSV_SOURCE = "butterfly-csv"


def land_butterfly_synthetic_months(months: list[str], config: ButterflyConfig,
                                    home: Path | None = None) -> list[dict[str, Any]]:
    """Land months of the synthetic daily butterfly market of ``config``; returns their markers in order."""
    return _land_months(generate_market(config), months, source=SYNTHETIC_SOURCE,
                        origin="the synthetic butterfly series", home=home)


def land_butterfly_csv_month(month: str, path: Path, *, symbols: Sequence[str] | None = None,
                             home: Path | None = None) -> dict[str, Any]:
    """Land ``month`` of the daily-bar CSV at ``path`` (every symbol of the file, or ``symbols``)."""
    market = load_daily_csv(path)
    if symbols:
        absent = sorted(set(symbols) - set(market["bars"]["symbol"]))
        if absent:
            raise DataContractError(f"{path}: no bars for symbol(s) {absent}")
        market["bars"] = market["bars"][market["bars"]["symbol"].isin(symbols)].reset_index(drop=True)
    return _land_months(market, [month], source=CSV_SOURCE, origin=f"the daily bars of {path}", home=home)[0]


def _land_months(market: dict[str, pd.DataFrame], months: list[str], *, source: str, origin: str,
                 home: Path | None) -> list[dict[str, Any]]:
    """Write each month's slice of ``market`` under ``<landing>/<source>/<month>``; ConfigError for a month without
    bars or index values."""
    markers = []
    for month in months:
        start = parse_month(month)
        end = start + pd.offsets.MonthBegin(1)
        tables = {name: df[(df["date"] >= start) & (df["date"] < end)].reset_index(drop=True)
                  for name, df in market.items()}
        empty = [name for name in ("bars", "vix") if tables[name].empty]
        if empty:
            dates = market["bars"]["date"]
            raise ConfigError(f"month {month}: no {' or '.join(empty)} rows in {origin} "
                              f"({dates.min():%Y-%m-%d} .. {dates.max():%Y-%m-%d})")
        markers.append(write_month(landing_root(home) / source / month, tables, source=source, month=month,
                                   symbols=sorted(tables["bars"]["symbol"].astype(str).unique()),
                                   strategy_tag=STRATEGY))
    return markers

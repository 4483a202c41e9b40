"""Landing months of the synthetic daily butterfly market, in the landing folder's layout (docs/retraining.md).

Markers carry the butterfly strategy's tag, so the retraining sensor builds a butterfly run for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from trader_core.butterfly.pipeline import generate_market
from trader_core.butterfly_config import ButterflyConfig
from trader_core.contracts.butterfly import STRATEGY
from trader_core.errors import ConfigError
from trader_core.market.landing import landing_root, parse_month, write_month

BUTTERFLY_SOURCE = "butterfly-synthetic"


def land_butterfly_synthetic_months(months: list[str], config: ButterflyConfig,
                                    home: Path | None = None) -> list[dict[str, Any]]:
    """Land months of the synthetic daily butterfly market of ``config`` (the series is generated once and
    sliced by date); returns their markers in order."""
    market = generate_market(config)
    markers = []
    for month in months:
        start = parse_month(month)
        end = start + pd.offsets.MonthBegin(1)
        tables = {name: df[(df["date"] >= start) & (df["date"] < end)].reset_index(drop=True)
                  for name, df in market.items()}
        if tables["bars"].empty:
            raise ConfigError(f"month {month}: outside the synthetic butterfly series "
                              f"({market['bars']['date'].min():%Y-%m-%d} .. {market['bars']['date'].max():%Y-%m-%d})")
        markers.append(write_month(landing_root(home) / BUTTERFLY_SOURCE / month, tables, source=BUTTERFLY_SOURCE,
                                   month=month, symbols=sorted(tables["bars"]["symbol"].astype(str).unique()),
                                   strategy_tag=STRATEGY))
    return markers

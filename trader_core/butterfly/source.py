"""The daily market of a butterfly run spec's source: the synthetic market of its ``butterfly`` section, the user's
daily CSV (``source.path``) or landed daily months. Training reads the run's window of landed months; a decision
reads every landed month (``whole=True``), so months landed after training are seen (docs/decide.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trader_core.butterfly.market import load_daily_csv, validate_market
from trader_core.butterfly.pipeline import generate_market
from trader_core.config import RunSpec
from trader_core.errors import ConfigError
from trader_core.market.landing import read_landed


def market_of(spec: RunSpec, *, whole: bool = False) -> dict[str, pd.DataFrame]:
    """Daily bars + index of ``spec``'s source (landed months: the run's window, or all of them with ``whole``)."""
    if spec.source.kind == "synthetic":
        return generate_market(spec.butterfly)
    if spec.source.kind == "csv":
        return load_daily_csv(Path(spec.source.path or ""))
    if spec.source.kind == "landed":
        start, end = (None, None) if whole else (spec.start_ts, spec.end_ts)
        return validate_market(read_landed(Path(spec.source.path or ""), start, end, ("bars", "vix")),
                               "landed butterfly months")
    raise ConfigError(f"source.kind: the butterfly strategy reads 'synthetic', 'csv' or 'landed' (daily bars), "
                      f"got {spec.source.kind!r}")

"""The landing folder: where new months of raw market data arrive, one complete month at a time.

Layout: ``<TRADER_HOME>/market/landing/<source>/<YYYY-MM>/<table>.parquet`` in the raw market contract,
plus ``_COMPLETE.json`` written **last** (symbols, tables, row counts and sha256 of every file). A month
without the marker is still being written and is ignored; a month whose files do not match the marker
is refused on read. Any source can land data here (``land_synthetic_month`` does it for the synthetic
market; the real-data adapters write the same layout).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from collections.abc import Collection
from typing import Any

import pandas as pd

from trader_core import io, layout
from trader_core.contracts.raw import RAW_TABLES
from trader_core.errors import ArtifactError, ConfigError, DataContractError
from trader_core.market.synthetic import SyntheticMarketConfig, generate_synthetic_market
from trader_core.splits import to_epoch_ms

MARKER = "_COMPLETE.json"
#: Landed synthetic months are slices of one fixed series (anchor + SYNTHETIC_SERIES_DAYS), so every month
#: continues the previous one: the generator's regimes and crash depend on the length of the series.
SYNTHETIC_ANCHOR = "2026-01-01"
SYNTHETIC_SERIES_DAYS = 731


def landing_root(home: Path | None = None) -> Path:
    return (home or layout.trader_home()) / "market" / "landing"


def parse_month(month: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(f"{month}-01", tz="UTC")
    except ValueError as exc:
        raise ConfigError(f"month {month!r} is not YYYY-MM") from exc
    if ts.strftime("%Y-%m") != month:
        raise ConfigError(f"month {month!r} is not YYYY-MM")
    return ts


def write_month(folder: Path, tables: dict[str, pd.DataFrame], *, source: str, month: str,
                symbols: list[str], strategy_tag: str | None = None) -> dict[str, Any]:
    """Write a month's tables, then its completion marker (last). ``strategy_tag`` is the marker's ``strategy``
    key, which tells the retraining sensor the graph the month feeds; a strategy plug-in declares its tag
    (``Strategy.landing_tag``: none for the perp chain's raw market tables, whose markers never had one)."""
    entries = {name: {"rows": len(df), "sha256": io.write_parquet(folder / f"{name}.parquet", df)}
               for name, df in sorted(tables.items())}
    tag = {} if strategy_tag is None else {"strategy": strategy_tag}
    marker = {"source": source, "month": month, "symbols": symbols, "tables": entries, **tag}
    io.write_json(folder / MARKER, marker)
    return marker


def land_synthetic_month(month: str, config: SyntheticMarketConfig, home: Path | None = None) -> dict[str, Any]:
    """Land ``month`` of the fixed synthetic series (SYNTHETIC_ANCHOR + SYNTHETIC_SERIES_DAYS)."""
    return land_synthetic_months([month], config, home)[0]


def land_synthetic_months(months: list[str], config: SyntheticMarketConfig,
                          home: Path | None = None) -> list[dict[str, Any]]:
    """Land several months of one synthetic series (generated once); returns their markers in order."""
    for month in months:
        _series_bounds(month)  # refuse before generating
    series = SyntheticSeries(config)
    return [series.land(month, home) for month in months]


class SyntheticSeries:
    """The landable synthetic series of one config (SYNTHETIC_ANCHOR + SYNTHETIC_SERIES_DAYS), generated once, so
    that its months can be landed one at a time (the walk-forward lands a month, retrains, lands the next)."""

    def __init__(self, config: SyntheticMarketConfig):
        self.config = config
        self.tables = generate_synthetic_market(dataclasses.replace(config, start=SYNTHETIC_ANCHOR,
                                                                    days=SYNTHETIC_SERIES_DAYS))
        self._times = {name: to_epoch_ms(df["open_time" if name == "bars" else "ts"]).to_numpy()
                       for name, df in self.tables.items()}

    def month_tables(self, month: str) -> dict[str, pd.DataFrame]:
        lo, hi = _series_bounds(month)
        return {name: df[(self._times[name] >= lo) & (self._times[name] < hi)].reset_index(drop=True)
                for name, df in self.tables.items()}

    def land(self, month: str, home: Path | None = None) -> dict[str, Any]:
        """Write ``month`` to the landing folder (marker last); returns its marker."""
        return write_month(landing_root(home) / "synthetic" / month, self.month_tables(month), source="synthetic",
                           month=month, symbols=list(self.config.symbols))


def _series_bounds(month: str) -> tuple[int, int]:
    """[start, end) of ``month`` in epoch ms, refused outside the landable series."""
    anchor = pd.Timestamp(SYNTHETIC_ANCHOR, tz="UTC")
    start = parse_month(month)
    end = start + pd.offsets.MonthBegin(1)
    if start < anchor or end > anchor + pd.Timedelta(days=SYNTHETIC_SERIES_DAYS):
        raise ConfigError(f"month {month}: the landable synthetic series starts at {SYNTHETIC_ANCHOR} and spans "
                          f"{SYNTHETIC_SERIES_DAYS} days")
    return int(to_epoch_ms(start)), int(to_epoch_ms(end))


def complete_months(home: Path | None = None) -> list[dict[str, Any]]:
    """Markers of every complete landed month, sorted by (month, source)."""
    root = landing_root(home)
    markers = [io.read_json(p) for p in root.glob(f"*/*/{MARKER}")] if root.exists() else []
    return sorted(markers, key=lambda m: (m["month"], m["source"]))


def read_landed(source_root: Path, start: pd.Timestamp | None, end: pd.Timestamp | None,
                tables: Collection[str] = tuple(RAW_TABLES)) -> dict[str, pd.DataFrame]:
    """Concatenate the complete months of one landed source that overlap [start, end), verifying hashes;
    ``tables`` are the table names the caller accepts (the raw market contract by default)."""
    months = sorted(p.parent for p in Path(source_root).glob(f"*/{MARKER}"))
    if start is not None or end is not None:
        months = [m for m in months
                  if (end is None or parse_month(m.name) < end)
                  and (start is None or parse_month(m.name) + pd.offsets.MonthBegin(1) > start)]
    if not months:
        raise DataContractError(f"{source_root}: no complete landed month in [{start}, {end})")
    parts: dict[str, list[pd.DataFrame]] = {}
    for folder in months:
        marker = io.read_json(folder / MARKER)
        for name, entry in marker["tables"].items():
            if name not in tables:
                raise DataContractError(f"{folder}: unknown table {name!r}")
            path = folder / f"{name}.parquet"
            if not path.is_file() or io.sha256_file(path) != entry["sha256"]:
                raise ArtifactError(f"{path}: missing or not matching {MARKER}")
            parts.setdefault(name, []).append(pd.read_parquet(path))
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}

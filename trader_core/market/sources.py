"""Data sources: every source returns the raw market tables of ``trader_core.contracts.raw``.

``synthetic`` (the default, ``trader_core.market.synthetic``), ``csv`` (bar CSV) and ``landed`` (complete
months of the landing folder, ``trader_core.market.landing``) are available here.
The Binance data.vision, Binance feed and Crypto Lake adapters are separate modules; a source kind
without an adapter fails with a clear ConfigError instead of producing anything.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import pandas as pd

from trader_core.config import RunSpec
from trader_core.errors import ConfigError, DataContractError

RawTables = dict[str, pd.DataFrame]

CSV_REQUIRED = ("timestamp", "open", "high", "low", "close", "volume")
CSV_OPTIONAL = ("taker_buy_volume", "taker_sell_volume", "trade_count")


def _synthetic(spec: RunSpec) -> RawTables:
    from trader_core.market.synthetic import SyntheticMarketConfig, generate_synthetic_market

    day0 = spec.start_ts.floor("D")
    days = math.ceil((spec.end_ts - day0) / pd.Timedelta(days=1))
    cfg = SyntheticMarketConfig(symbols=tuple(spec.symbols), start=day0.strftime("%Y-%m-%d"), days=days,
                                seed=spec.source.seed, signal=spec.source.signal,
                                depth_levels=spec.source.depth_levels,
                                volatility_regimes=spec.source.volatility_regimes)
    return generate_synthetic_market(cfg)


def read_bar_csv(path: Path, symbol: str) -> pd.DataFrame:
    """Read a bar CSV (``timestamp, open, high, low, close, volume`` + optional taker/trade columns).

    ``timestamp`` is an ISO date-time or epoch milliseconds; values without a UTC offset are read as UTC
    (documented repair: CSV has no time-zone type). The symbol comes from the run spec.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"source.path: {path} is not a file")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataContractError(f"{path}: unreadable CSV ({exc})") from exc
    missing = [c for c in CSV_REQUIRED if c not in df.columns]
    if missing:
        raise DataContractError(f"{path}: missing column(s) {missing}; a bar CSV needs {list(CSV_REQUIRED)}")
    ts = df["timestamp"]
    try:
        if pd.api.types.is_numeric_dtype(ts):
            times = pd.to_datetime(ts.astype("int64"), unit="ms", utc=True)
        else:
            times = pd.to_datetime(ts, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"{path}: column 'timestamp' is not parseable as time ({exc})") from exc
    bars = pd.DataFrame({"symbol": symbol, "open_time": times})
    for name in ("open", "high", "low", "close", "volume"):
        if not pd.api.types.is_numeric_dtype(df[name]):
            raise DataContractError(f"{path}: column {name!r} is not numeric (dtype {df[name].dtype})")
        bars[name] = df[name].astype("float64")
    for name in CSV_OPTIONAL:
        bars[name] = df[name].astype("float64") if name in df.columns else float("nan")
    return bars


def _csv(spec: RunSpec) -> RawTables:
    if len(spec.symbols) != 1:
        raise ConfigError(f"symbols: a bar CSV holds one instrument; give exactly one symbol, got {list(spec.symbols)}")
    return {"bars": read_bar_csv(Path(spec.source.path or ""), spec.symbols[0])}


def _landed(spec: RunSpec) -> RawTables:
    from trader_core.market.landing import read_landed

    return read_landed(Path(spec.source.path or ""), spec.start_ts, spec.end_ts)


SOURCES: dict[str, Callable[[RunSpec], RawTables]] = {"synthetic": _synthetic, "csv": _csv, "landed": _landed}


def load_raw_market(spec: RunSpec) -> RawTables:
    """Load the raw market tables for ``spec`` from its source."""
    try:
        loader = SOURCES[spec.source.kind]
    except KeyError:
        raise ConfigError(f"source.kind: no adapter for {spec.source.kind!r} in this version; "
                          f"available: {sorted(SOURCES)}") from None
    return loader(spec)

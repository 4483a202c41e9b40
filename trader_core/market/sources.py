"""Data sources: every source returns the raw market tables of ``trader_core.contracts.raw``.

Kinds (``source.kind`` of a run spec, ``trader run --source``):

* ``synthetic`` (default): ``trader_core.market.synthetic``;
* ``csv``: a bar file of one symbol in one of the ``trader_core.market.bar_files`` layouts (bar CSV, Binance
  kline CSV, freqtrade JSON/feather; ``source.layout`` or detected), plus a sibling funding file if any;
* ``binance-vision``: a folder of data.vision USD-M zips (``trader_core.market.binance_vision``);
* ``binance-feed``: a raw websocket capture, one symbol (``trader_core.market.binance_feed``);
* ``lake``: a Crypto Lake parquet folder (``trader_core.market.crypto_lake``);
* ``landed``: complete months of the landing folder (``trader_core.market.landing``).

The adapters are imported lazily so a run only loads the one it uses. ``start``/``end`` of the spec bound
every reader; a source without them is read whole.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import pandas as pd

from trader_core.config import RunSpec
from trader_core.errors import ConfigError

RawTables = dict[str, pd.DataFrame]


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
    """The ``bars`` table of a bar file, its layout detected (``trader_core.market.bar_files``, docs/data.md)."""
    from trader_core.market.bar_files import read_bars

    return read_bars(path, symbol=symbol)


def _csv(spec: RunSpec) -> RawTables:
    from trader_core.market.bar_files import read_bars_file

    return read_bars_file(Path(spec.source.path or ""), symbol=_single_symbol(spec, "a bar file"),
                          layout=spec.source.layout)


def _landed(spec: RunSpec) -> RawTables:
    from trader_core.market.landing import read_landed

    return read_landed(Path(spec.source.path or ""), spec.start_ts, spec.end_ts)


def _single_symbol(spec: RunSpec, what: str) -> str:
    if len(spec.symbols) != 1:
        raise ConfigError(f"symbols: {what} holds one instrument; give exactly one symbol, got {list(spec.symbols)}")
    return spec.symbols[0]


def _binance_vision(spec: RunSpec) -> RawTables:
    from trader_core.market.binance_vision import read_binance_vision

    return read_binance_vision(Path(spec.source.path or ""), spec.symbols, spec.start_ts, spec.end_ts)


def _binance_feed(spec: RunSpec) -> RawTables:
    from trader_core.market.binance_feed import read_binance_feed

    symbol = _single_symbol(spec, "a Binance feed capture")
    return read_binance_feed(Path(spec.source.path or ""), symbol, depth_levels=spec.source.depth_levels)


def _lake(spec: RunSpec) -> RawTables:
    from trader_core.market.crypto_lake import read_crypto_lake

    return read_crypto_lake(Path(spec.source.path or ""), spec.symbols, spec.start_ts, spec.end_ts,
                            depth_levels=spec.source.depth_levels)


SOURCES: dict[str, Callable[[RunSpec], RawTables]] = {
    "synthetic": _synthetic, "csv": _csv, "binance-vision": _binance_vision, "binance-feed": _binance_feed,
    "lake": _lake, "landed": _landed}


def load_raw_market(spec: RunSpec) -> RawTables:
    """Load the raw market tables for ``spec`` from its source."""
    try:
        loader = SOURCES[spec.source.kind]
    except KeyError:
        raise ConfigError(f"source.kind: no adapter for {spec.source.kind!r} in this version; "
                          f"available: {sorted(SOURCES)}") from None
    return loader(spec)

"""Per-symbol fan-out: split a replay into symbol slices, run a per-symbol stage on each, merge exactly.

The features and the label path statistics are computed per symbol (windows never cross a symbol), so
running them on each symbol's rows and merging the parts reproduces the single-process result byte for
byte (``tests/core/test_fanout.py``). The Dagster layer maps these over symbols (``DynamicOut``) so the
multiprocess or Dask executors run symbols in parallel.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd
from pandas.api.types import union_categoricals

from trader_core.errors import DataContractError

_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def mapping_key(symbol: str) -> str:
    """A Dagster mapping key for ``symbol`` (letters, digits and underscores only)."""
    return _KEY_UNSAFE.sub("_", symbol)


def symbol_slices(replay: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(symbol, rows) in ascending symbol order; the replay is sorted by (symbol, open_time_ms)."""
    if replay.empty:
        raise DataContractError("fan-out: the replay is empty")
    symbols = replay["symbol"].astype(str).to_numpy()
    keys = [mapping_key(s) for s in dict.fromkeys(symbols)]
    if len(set(keys)) != len(keys):
        raise DataContractError(f"fan-out: symbols {sorted(set(symbols))} collide as mapping keys {keys}")
    return [(str(symbol), part.reset_index(drop=True))
            for symbol, part in replay.groupby(symbols, sort=True)]


def in_symbol_order(parts: Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    """Per-symbol parts sorted by symbol (the order parts are collected in is not guaranteed)."""
    return sorted(parts, key=lambda p: str(p["symbol"].iloc[0]) if len(p) else "")


def merge_symbol_frames(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-symbol frames in the given (symbol) order; categorical columns keep one category set."""
    if not parts:
        raise DataContractError("fan-out: nothing to merge")
    merged = pd.concat(parts, ignore_index=True)
    for column in parts[0].columns:
        if isinstance(parts[0][column].dtype, pd.CategoricalDtype):  # categories in order of first appearance
            merged[column] = union_categoricals([p[column] for p in parts])
    return merged


def merge_path_stats(parts: Sequence[pd.DataFrame], horizons: Sequence[int]) -> pd.DataFrame:
    """Per-symbol path statistics back in the single-process order: horizon-major, then symbol, then time."""
    return merge_symbol_frames([p[p["horizon_minutes"] == h] for h in horizons for p in parts])

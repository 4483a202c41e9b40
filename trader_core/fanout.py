"""Per-symbol fan-out: split a replay into symbol slices, run a per-symbol stage on each, merge exactly.

The features and the label path statistics are computed per symbol (windows never cross a symbol), so
running them on each symbol's rows and merging the parts in order (``merge_in_order``) reproduces the
single-process result byte for byte (``tests/core/test_fanout.py``). The Dagster layer maps these over symbols
(``DynamicOut``) so the multiprocess or Dask executors run symbols in parallel; the parts are stored as they are
(``trader_core.parts``) and merged only when read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


def merge_symbol_frames(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-symbol frames in the given (symbol) order; categorical columns keep one category set."""
    if not parts:
        raise DataContractError("fan-out: nothing to merge")
    merged = pd.concat(parts, ignore_index=True)
    for column in parts[0].columns:
        if isinstance(parts[0][column].dtype, pd.CategoricalDtype):  # categories in order of first appearance
            merged[column] = union_categoricals([p[column] for p in parts])
    return merged


@dataclass(frozen=True)
class BlockOrder:
    """The merged frame's rows grouped by ``column`` in the order of ``values`` first, then by symbol (each
    symbol's rows of one value keep their order)."""

    column: str
    values: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "values": list(self.values)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BlockOrder:
        return cls(column=str(data["column"]), values=tuple(int(v) for v in data["values"]))


def path_stats_blocks(horizons: Sequence[int]) -> BlockOrder:
    """Path statistics are horizon-major (then symbol, then time), as the single-process stage builds them."""
    return BlockOrder(column="horizon_minutes", values=tuple(int(h) for h in horizons))


def merge_in_order(parts: Sequence[pd.DataFrame], blocks: BlockOrder | None) -> pd.DataFrame:
    """Per-symbol parts (in symbol order) merged in the single-process row order."""
    if blocks is None:
        return merge_symbol_frames(parts)
    return merge_symbol_frames([p[p[blocks.column] == v] for v in blocks.values for p in parts])

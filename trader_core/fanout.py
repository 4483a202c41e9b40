"""Per-symbol fan-out: run a per-symbol stage on each symbol's replay rows, merge exactly.

The features and the label path statistics are computed per symbol (windows never cross a symbol), so
running them on each symbol's rows and merging the parts in order (``merge_in_order``) reproduces the
single-process result byte for byte (``tests/core/test_fanout.py``). The Dagster layer maps these over symbols
(``DynamicOut``) so the multiprocess or Dask executors run symbols in parallel; the parts are stored as they are
(``trader_core.parts``) and merged only when read. The fan-out never loads the stored replay: it lists the
symbols from the replay's symbol column and hands each symbol step a ``ReplaySlice``, and each step reads only
its own rows (docs/scaling.md, "Per-symbol parts").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandas.api.types import union_categoricals

from trader_core import io
from trader_core.errors import ArtifactError, DataContractError

_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def mapping_key(symbol: str) -> str:
    """A Dagster mapping key for ``symbol`` (letters, digits and underscores only)."""
    return _KEY_UNSAFE.sub("_", symbol)


def _check_mapping_keys(symbols: Sequence[str]) -> None:
    """Refuse no symbols, and symbols whose mapping keys collide (two steps would share a key)."""
    if not len(symbols):
        raise DataContractError("fan-out: the replay is empty")
    keys = [mapping_key(s) for s in symbols]
    if len(set(keys)) != len(keys):
        raise DataContractError(f"fan-out: symbols {sorted(symbols)} collide as mapping keys {keys}")


def symbol_slices(replay: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(symbol, rows) in ascending symbol order, of a replay in memory sorted by (symbol, open_time_ms)."""
    symbols = replay["symbol"].astype(str).to_numpy()
    _check_mapping_keys(list(dict.fromkeys(symbols)))
    return [(str(symbol), part.reset_index(drop=True))
            for symbol, part in replay.groupby(symbols, sort=True)]


@dataclass(frozen=True)
class ReplaySlice:
    """One symbol's rows of the stored replay, not yet read: what the fan-out hands each symbol step."""

    path: str
    sha256: str
    symbol: str

    def read(self) -> pd.DataFrame:
        """The symbol's rows, exactly as they are in the replay read whole (order, dtypes); the file is checked
        against the hash its manifest recorded when the fan-out listed the symbols."""
        try:
            data = Path(self.path).read_bytes()
        except FileNotFoundError as exc:
            raise ArtifactError(f"{self.path}: replay missing") from exc
        actual = io.sha256_bytes(data)
        if actual != self.sha256:
            raise ArtifactError(f"{self.path}: sha256 {actual[:12]} does not match its manifest ({self.sha256[:12]})")
        rows = pd.read_parquet(BytesIO(data), filters=[("symbol", "==", self.symbol)])
        if rows.empty:
            raise DataContractError(f"{self.path}: no rows of {self.symbol}")
        return rows

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "symbol": self.symbol}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReplaySlice:
        return cls(path=str(data["path"]), sha256=str(data["sha256"]), symbol=str(data["symbol"]))


@dataclass(frozen=True)
class StoredReplay:
    """The stored replay as the fan-out step receives it: its path and manifest hash, never its rows."""

    path: str
    sha256: str

    @classmethod
    def from_path(cls, path: Path) -> StoredReplay:
        """The replay at ``path``; refused when it has no manifest (it was never completely written)."""
        return cls(path=str(path), sha256=str(io.read_manifest(path)["sha256"]))

    def symbol_rows(self) -> dict[str, int]:
        """Rows per symbol in ascending symbol order, from the symbol column alone."""
        try:
            counts = pc.value_counts(pq.read_table(self.path, columns=["symbol"]).column("symbol"))
        except (OSError, pa.ArrowException) as exc:
            raise ArtifactError(f"{self.path}: unreadable parquet ({exc})") from exc
        rows = dict(sorted(zip(map(str, counts.field("values").to_pylist()), counts.field("counts").to_pylist())))
        _check_mapping_keys(list(rows))
        return rows

    def slice(self, symbol: str) -> ReplaySlice:
        return ReplaySlice(path=self.path, sha256=self.sha256, symbol=symbol)


def replay_rows(replay: pd.DataFrame | ReplaySlice) -> pd.DataFrame:
    """A symbol step's replay rows: read from the stored replay, or as given (a frame in memory)."""
    return replay.read() if isinstance(replay, ReplaySlice) else replay


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

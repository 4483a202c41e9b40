"""Per-symbol stored parts of the fan-out assets (docs/scaling.md, "Per-symbol parts").

A parts artifact is a folder ``<stage>/<name>.parts/`` with one parquet per symbol, written by that symbol's
step straight to its final place (atomically) and named ``<mapping key>-<sha256[:16]>.parquet``: a new part
never overwrites a part that the current manifest lists, so until the merge writes the new manifest the
previous artifact stays complete and readable. The manifest ``<stage>/<name>.manifest.json`` is written last:
each part (symbol, file, sha256, row count) in symbol order, ``sha256`` (the hash of that list), the row count,
the columns and the block order of the merged rows (path statistics are horizon-major). ``read_frame`` loads
the artifact back as exactly the single-process frame and refuses a part that does not match the manifest.

The merged frame's content hash (``io.frame_hash``) is combined from the per-part row hashes the symbol steps
compute (``PartDigest``), so the merge never reads every column nor writes the frame again; so are the
verdicts of the table contract's rules (``trader_core.part_checks``), which the asset checks report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from trader_core import io
from trader_core.contracts.table import TableContract, Verdict
from trader_core.errors import ArtifactError, DataContractError
from trader_core.fanout import BlockOrder, mapping_key, merge_in_order
from trader_core.layout import PARTS_SUFFIX
from trader_core.part_checks import combined_verdicts, part_figures

LAYOUT = "symbol_parts"


@dataclass(frozen=True)
class PartEntry:
    """One stored part as the manifest lists it."""

    symbol: str
    file: str
    sha256: str
    row_count: int

    def to_json(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "file": self.file, "sha256": self.sha256, "row_count": self.row_count}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PartEntry:
        return cls(symbol=str(data["symbol"]), file=str(data["file"]), sha256=str(data["sha256"]),
                   row_count=int(data["row_count"]))


@dataclass(frozen=True)
class PartDigest:
    """What a symbol's step hands to the merge: its stored part, the dtype header, the row hashes in block
    order (``block_rows`` rows per block value; one block without a block order), the part's figures for
    the contract checks (``part_checks.part_figures``; None without a contract) and the tables the merge's
    figures are combined from (the feature report's ``features.report_parts.part_tables``, the path
    statistics' hit counts)."""

    entry: PartEntry
    header: tuple[tuple[str, str], ...]
    row_hashes: np.ndarray
    block_rows: tuple[int, ...]
    checks: dict[str, Any] | None = None
    tables: dict[str, pa.Table] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Everything but the row hashes and the tables (stored beside as tables; their names listed)."""
        return {"entry": self.entry.to_json(), "header": [list(h) for h in self.header],
                "block_rows": list(self.block_rows), "checks": self.checks, "tables": sorted(self.tables)}

    @classmethod
    def from_json(cls, data: dict[str, Any], row_hashes: np.ndarray,
                  tables: dict[str, pa.Table] | None = None) -> PartDigest:
        return cls(entry=PartEntry.from_json(data["entry"]), header=tuple((str(c), str(t)) for c, t in data["header"]),
                   row_hashes=np.asarray(row_hashes, dtype=np.uint64),
                   block_rows=tuple(int(n) for n in data["block_rows"]), checks=data.get("checks"),
                   tables=tables or {})


@dataclass(frozen=True)
class PartsManifest:
    """The manifest of a parts artifact (written last by the run IO manager)."""

    artifact: str
    parts: tuple[PartEntry, ...]
    columns: tuple[str, ...]
    blocks: BlockOrder | None

    @property
    def row_count(self) -> int:
        return sum(p.row_count for p in self.parts)

    @property
    def sha256(self) -> str:
        """The combined hash: sha256 of the canonical JSON of the part list (each part's file hash in it)."""
        return io.sha256_json_obj([p.to_json() for p in self.parts])

    def to_json(self) -> dict[str, Any]:
        return {"artifact": self.artifact, "layout": LAYOUT, "parts": [p.to_json() for p in self.parts],
                "sha256": self.sha256, "row_count": self.row_count, "columns": list(self.columns),
                "blocks": self.blocks.to_json() if self.blocks else None}

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: Path) -> PartsManifest:
        if data.get("layout") != LAYOUT or not data.get("parts"):
            raise ArtifactError(f"{io.manifest_path(source)}: not a per-symbol parts manifest")
        manifest = cls(artifact=str(data["artifact"]), parts=tuple(PartEntry.from_json(p) for p in data["parts"]),
                       columns=tuple(data["columns"]),
                       blocks=BlockOrder.from_json(data["blocks"]) if data.get("blocks") else None)
        if manifest.sha256 != data.get("sha256"):
            raise ArtifactError(f"{io.manifest_path(source)}: its part list does not match its sha256")
        return manifest

    @classmethod
    def from_path(cls, folder: Path) -> PartsManifest:
        """The manifest of the parts artifact ``folder`` (an input that needs only the manifest loads this)."""
        return cls.from_json(io.read_manifest(folder), source=folder)


def write_part(folder: Path, frame: pd.DataFrame, *, blocks: BlockOrder | None = None,
               contract: TableContract | None = None,
               tables: Callable[[pd.DataFrame], dict[str, pa.Table]] | None = None) -> PartDigest:
    """Store one symbol's rows as a part of the artifact ``folder`` (atomic write) and digest it, with the
    figures that decide ``contract``'s rules and the merge's ``tables`` of the part when given."""
    symbols = frame["symbol"].astype(str).unique()
    if len(symbols) != 1:
        raise DataContractError(f"{folder.name}: a part holds the rows of one symbol, got {sorted(symbols)}")
    hashes = io.row_hashes(frame)
    if blocks is None:
        ordered, block_rows = hashes, (len(frame),)
    else:
        masks = [(frame[blocks.column] == v).to_numpy() for v in blocks.values]
        block_rows = tuple(int(m.sum()) for m in masks)
        if sum(block_rows) != len(frame):
            raise DataContractError(
                f"{folder.name}: {symbols[0]} has rows outside {blocks.column} {list(blocks.values)}")
        ordered = np.concatenate([hashes[m] for m in masks])
    data = io.parquet_bytes(frame)
    sha = io.sha256_bytes(data)
    name = f"{mapping_key(str(symbols[0]))}-{sha[:16]}.parquet"
    io.atomic_write_bytes(folder / name, data)
    return PartDigest(entry=PartEntry(symbol=str(symbols[0]), file=name, sha256=sha, row_count=len(frame)),
                      header=tuple((c, t) for c, t in io.dtype_header(frame)), row_hashes=ordered,
                      block_rows=block_rows,
                      checks=None if contract is None else part_figures(frame, contract=contract, blocks=blocks),
                      tables={} if tables is None else tables(frame))


def in_symbol_order(digests: Sequence[PartDigest]) -> list[PartDigest]:
    """The digests sorted by symbol (the order the merge collects them in is not guaranteed); one per symbol."""
    ordered = sorted(digests, key=lambda d: d.entry.symbol)
    symbols = [d.entry.symbol for d in ordered]
    if not ordered or len(set(symbols)) != len(symbols):
        raise DataContractError(f"fan-out: expected one part per symbol, got {symbols}")
    return ordered


def parts_manifest(folder: Path, digests: Sequence[PartDigest], *, blocks: BlockOrder | None = None) -> PartsManifest:
    """The manifest of the parts in ``digests`` (symbol order); every part must have the same columns and dtypes."""
    ordered = in_symbol_order(digests)
    headers = {d.header for d in ordered}
    if len(headers) != 1:
        raise DataContractError(f"{folder.name}: the parts differ in columns or dtypes")
    return PartsManifest(artifact=folder.name, parts=tuple(d.entry for d in ordered),
                         columns=tuple(c for c, _ in ordered[0].header), blocks=blocks)


def data_hash(digests: Sequence[PartDigest]) -> str:
    """``io.frame_hash`` of the merged frame, from the parts' row hashes (block-major, then symbol)."""
    ordered = in_symbol_order(digests)
    offsets = [np.concatenate([[0], np.cumsum(d.block_rows)]) for d in ordered]
    segments = (d.row_hashes[o[b]:o[b + 1]] for b in range(len(ordered[0].block_rows))
                for d, o in zip(ordered, offsets, strict=True))
    return io.combined_frame_hash([list(h) for h in ordered[0].header], segments)


def contract_verdicts(digests: Sequence[PartDigest], *, contract: TableContract) -> dict[str, Verdict] | None:
    """Every rule of ``contract`` decided on the merged frame from the parts' figures; None when a part has
    none (``part_checks.decided_from_parts``)."""
    ordered = in_symbol_order(digests)
    if any(d.checks is None for d in ordered):
        return None
    return combined_verdicts([d.checks for d in ordered], contract=contract)


def write_manifest(folder: Path, manifest: PartsManifest) -> dict[str, Any]:
    """Write the manifest last (every part must be in place) and then delete the parts it does not list."""
    missing = [p.file for p in manifest.parts if not (folder / p.file).is_file()]
    if missing:
        raise ArtifactError(f"{folder}: parts {missing} missing; the manifest is not written")
    body = manifest.to_json()
    io.write_json(io.manifest_path(folder), body)
    listed = {p.file for p in manifest.parts}
    for stale in folder.glob("*.parquet"):
        if stale.name not in listed:
            stale.unlink(missing_ok=True)
    return body


def read_manifest(folder: Path) -> PartsManifest:
    """The manifest of the parts artifact ``folder``; refused when missing (the artifact was never complete)."""
    return PartsManifest.from_path(folder)


def read_parts(folder: Path, *, columns: Sequence[str] | None = None,
               manifest: PartsManifest | None = None) -> pd.DataFrame:
    """The merged frame of a parts artifact (only ``columns`` when given), each part checked against the manifest."""
    manifest = manifest or read_manifest(folder)
    blocks = manifest.blocks
    wanted = None if columns is None else list(dict.fromkeys([*columns, *([blocks.column] if blocks else [])]))
    merged = merge_in_order([_read_part(folder, entry, wanted) for entry in manifest.parts], blocks)
    return merged if columns is None else merged[list(columns)]


def read_head(folder: Path, *, rows: int, manifest: PartsManifest | None = None) -> pd.DataFrame:
    """The first ``rows`` rows of the merged frame (for a preview), read from the first part when it holds them;
    categorical columns then carry that part's categories only."""
    manifest = manifest or read_manifest(folder)
    first = _read_part(folder, manifest.parts[0], None, rows=rows)
    if manifest.blocks is not None:
        first = first[first[manifest.blocks.column] == manifest.blocks.values[0]]
    if len(first) < rows:
        return read_parts(folder, manifest=manifest).head(rows)
    return first.head(rows).reset_index(drop=True)


def part_columns(folder: Path, manifest: PartsManifest) -> list[list[str]]:
    """The column names of each stored part, from its parquet schema (the file's footer, not its rows)."""
    columns = []
    for entry in manifest.parts:
        try:
            columns.append(pq.read_schema(folder / entry.file).names)
        except FileNotFoundError as exc:
            raise ArtifactError(f"{folder / entry.file}: part missing (listed in "
                                f"{io.manifest_path(folder).name})") from exc
        except (OSError, pa.ArrowException) as exc:
            raise ArtifactError(f"{folder / entry.file}: unreadable parquet ({exc})") from exc
    return columns


def read_frame(path: Path) -> pd.DataFrame:
    """The one reader of a stored table: a parts artifact (``layout.PARTS_SUFFIX``) or a verified parquet file."""
    path = Path(path)
    return read_parts(path) if path.suffix == PARTS_SUFFIX else io.read_parquet(path)


def _read_part(folder: Path, entry: PartEntry, columns: list[str] | None, *, rows: int | None = None) -> pd.DataFrame:
    """A part checked against its manifest entry; only its first ``rows`` rows when given (not decoding the rest)."""
    path = folder / entry.file
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ArtifactError(f"{path}: part missing (listed in {io.manifest_path(folder).name})") from exc
    actual = io.sha256_bytes(data)
    if actual != entry.sha256:
        raise ArtifactError(f"{path}: sha256 {actual[:12]} does not match its manifest ({entry.sha256[:12]})")
    try:
        if rows is None:
            return pd.read_parquet(BytesIO(data), columns=columns)
        first = next(pq.ParquetFile(BytesIO(data)).iter_batches(batch_size=rows, columns=columns))
        return pa.Table.from_batches([first]).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise ArtifactError(f"{path}: unreadable parquet ({exc})") from exc

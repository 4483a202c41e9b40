"""Atomic artifact IO with content hashes and manifests.

Every write goes to a temporary file in the target folder and is renamed into place, so a reader never
sees a half-written file. A manifest (``<file>.manifest.json``) is written last and records the file's
sha256; ``read_*_verified`` refuse a file whose bytes do not match it. Outputs are deterministic: no
timestamps inside artifacts, canonical JSON, parquet written without pandas index metadata.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from trader_core.contracts.features import canonical_json
from trader_core.errors import ArtifactError
from trader_core.report import jsonable

MANIFEST_SUFFIX = ".manifest.json"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename). Returns the sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha256_bytes(data)


def write_text(path: Path, text: str) -> str:
    return atomic_write_bytes(path, text.encode("utf-8"))


def json_bytes(obj: Any) -> bytes:
    """Pretty, deterministic JSON (sorted keys) for files people read."""
    return (json.dumps(jsonable(obj), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def write_json(path: Path, obj: Any) -> str:
    """Write JSON atomically; returns the sha256 of its canonical form (independent of indentation)."""
    atomic_write_bytes(path, json_bytes(obj))
    return hashlib.sha256(canonical_json(jsonable(obj)).encode("utf-8")).hexdigest()


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """zstd parquet; dictionary encoding only for non-float columns (on float columns it tripled the write
    time of the feature frame and made the file 1.5x larger: almost every value is distinct)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    dictionary = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=True, use_dictionary=dictionary or False)
    return sink.getvalue().to_pybytes()


def arrow_ipc_bytes(df: pd.DataFrame) -> bytes:
    """Uncompressed Arrow IPC (feather v2): for scratch data between the steps of one run, about twice as fast
    to write and read as zstd parquet; not for artifacts (larger, and not the repository's stored format)."""
    sink = pa.BufferOutputStream()
    feather.write_feather(pa.Table.from_pandas(df, preserve_index=False), sink, compression="uncompressed")
    return sink.getvalue().to_pybytes()


def arrow_table_bytes(table: pa.Table) -> bytes:
    """An Arrow table as uncompressed Arrow IPC in one record batch (scratch data; ``map_arrow_table`` reads it
    back without a copy)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks(), max_chunksize=max(table.num_rows, 1))
    return sink.getvalue().to_pybytes()


def map_arrow_table(path: Path) -> pa.Table:
    """An Arrow IPC file memory-mapped: columns are read from the page cache only where they are used."""
    return pa.ipc.open_file(pa.memory_map(str(path))).read_all()


def read_arrow_ipc(path: Path) -> pd.DataFrame:
    return feather.read_table(path).to_pandas()


def write_parquet(path: Path, df: pd.DataFrame) -> str:
    """Write ``df`` as parquet atomically; returns the sha256 of the file bytes (deterministic)."""
    return atomic_write_bytes(path, parquet_bytes(df))


def manifest_path(path: Path) -> Path:
    path = Path(path)
    return path.with_name(path.name.split(".")[0] + MANIFEST_SUFFIX) if path.suffix else path / "manifest.json"


def write_manifest(path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    """Write the manifest of artifact ``path`` (last): file name, sha256, size and ``payload``."""
    path = Path(path)
    body = {"artifact": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size, **jsonable(payload)}
    write_json(manifest_path(path), body)
    return body


def read_manifest(path: Path) -> dict[str, Any]:
    mpath = manifest_path(path)
    if not mpath.exists():
        raise ArtifactError(f"{path}: no manifest ({mpath.name}); the artifact was never completely written")
    try:
        manifest = json.loads(mpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{mpath}: corrupt manifest ({exc})") from exc
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{mpath}: corrupt manifest (a JSON {type(manifest).__name__}, expected an object)")
    return manifest


def verify_artifact(path: Path) -> dict[str, Any]:
    """Check ``path`` exists and matches its manifest hash; returns the manifest."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: artifact missing")
    manifest = read_manifest(path)
    actual = sha256_file(path)
    if actual != manifest.get("sha256"):
        raise ArtifactError(f"{path}: sha256 {actual[:12]} does not match its manifest ({str(manifest.get('sha256'))[:12]})")
    return manifest


def read_parquet(path: Path, *, verify: bool = True) -> pd.DataFrame:
    if verify:
        verify_artifact(path)
    try:
        return pd.read_parquet(path)
    except (OSError, pa.ArrowException) as exc:
        raise ArtifactError(f"{path}: unreadable parquet ({exc})") from exc


def read_json(path: Path, *, verify: bool = False) -> Any:
    if verify:
        verify_artifact(path)
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ArtifactError(f"{path}: not found") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: corrupt JSON ({exc})") from exc


def sha256_json_obj(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj`` (after converting numpy/pandas scalars)."""
    return hashlib.sha256(canonical_json(jsonable(obj)).encode("utf-8")).hexdigest()


def frame_hash(df: pd.DataFrame) -> str:
    """Content hash of a frame (column names, dtypes and values; index ignored), independent of file format."""
    return combined_frame_hash(dtype_header(df), [row_hashes(df)])


def dtype_header(df: pd.DataFrame) -> list[list[str]]:
    """Column names and dtypes as ``frame_hash`` hashes them."""
    return [[str(c), str(t)] for c, t in df.dtypes.items()]


def row_hashes(df: pd.DataFrame) -> np.ndarray:
    """One uint64 per row, from the row's values only (categoricals by value, not code), so the row hashes of
    a frame cut into parts are the parts' row hashes in the same order."""
    return pd.util.hash_pandas_object(df, index=False).to_numpy()


def combined_frame_hash(header: list[list[str]], blocks: Iterable[np.ndarray]) -> str:
    """``frame_hash`` of the frame whose dtype header is ``header`` and whose row hashes are ``blocks`` in order."""
    h = hashlib.sha256()
    h.update(canonical_json(header).encode("utf-8"))
    for block in blocks:
        h.update(np.ascontiguousarray(block, dtype=np.uint64).tobytes())
    return h.hexdigest()

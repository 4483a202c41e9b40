"""The decision log of a model line: ``<TRADER_HOME>/decisions/<line>.parquet`` (docs/decide.md).

One row per decision (``trader_core.contracts.decisions``), in the order they were made. An append keeps the
rows whose ``decision_key`` is new and rewrites the file atomically (temp file + rename) under an exclusive
lock on ``<line>.parquet.lock``, so a reader never sees half a file and two writers never lose each other's rows.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from trader_core import io, layout
from trader_core.contracts.table import TableContract
from trader_core.errors import ArtifactError

DECISIONS_DIR = "decisions"


@dataclass(frozen=True)
class Appended:
    path: Path
    added: int
    already_logged: int


def log_path(line: str, home: Path | None = None) -> Path:
    return (home or layout.trader_home()) / DECISIONS_DIR / f"{line}.parquet"


def read_decisions(path: Path, contract: TableContract) -> pd.DataFrame:
    """The log's rows (an empty frame with the contract's columns before the first decision)."""
    if not Path(path).exists():
        return pd.DataFrame({name: pd.Series(dtype=_empty_dtype(contract, name)) for name in contract.names})
    try:
        frame = pd.read_parquet(path)
    except (OSError, pa.ArrowException) as exc:
        raise ArtifactError(f"{path}: unreadable decision log ({exc})") from exc
    contract.validate(frame, extra_ok=False)
    return frame


def append_decisions(path: Path, rows: pd.DataFrame, contract: TableContract) -> Appended:
    """Append the rows whose key is not logged yet; returns how many were added and how many were there."""
    contract.validate(rows, extra_ok=False)
    with _locked(path):
        logged = read_decisions(path, contract)
        new = ~rows.set_index(list(contract.key)).index.isin(logged.set_index(list(contract.key)).index)
        if new.any():
            combined = pd.concat([logged, rows[new]], ignore_index=True) if len(logged) else rows[new]
            io.write_parquet(path, combined[contract.names].reset_index(drop=True))
    return Appended(Path(path), int(new.sum()), int((~new).sum()))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = Path(path).with_name(Path(path).name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _empty_dtype(contract: TableContract, name: str) -> str:
    column = contract.column(name)
    return {"timestamp": "datetime64[ms, UTC]", "float": "float64", "int": "int64", "str": "str",
            "bool": "bool"}[column.kind]

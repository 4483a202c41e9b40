"""The ledger of looks at sealed data (docs/trading.md, "Significance and looks").

Every evaluation of a configuration on a sealed window (the backtest of validation_locked and latest_stress, the
sealed metrics the model assets show, experiment figures of sealed splits) is a look that spends the sealed
data's credibility. Each is appended to ``<TRADER_HOME>/ledger/sealed_looks.jsonl`` keyed by the **window** it
looks at (the source identity, the symbols and the sealed split boundaries) and the **configuration** (the run
spec without its run id). The gate deflates its significance by the number of distinct configurations recorded
on the window (``looks``), so re-running one configuration costs nothing and changing it after a look costs.

Appends are single ``write`` calls of one line on a file opened with O_APPEND (atomic for lines this short on a
local file system), so concurrent runs never interleave; a line already present is not written again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from trader_core import io, layout
from trader_core.config import RunSpec
from trader_core.config_mapping import to_mapping
from trader_core.contracts.features import canonical_json, sha256_json
from trader_core.errors import ArtifactError

LEDGER_FILE = Path("ledger") / "sealed_looks.jsonl"
#: The kinds of look; each names what read the sealed rows.
LOOK_KINDS = ("backtest", "model_metrics", "experiment")


def ledger_path(home: Path) -> Path:
    return home / LEDGER_FILE


def window_key(spec: RunSpec, sealed_boundaries: Mapping[str, Any]) -> str:
    """The sealed window a run looks at: what market (source identity and symbols) and which sealed rows."""
    return sha256_json({"source": to_mapping(spec.source), "symbols": list(spec.symbols),
                        "strategy": spec.strategy, "sealed_boundaries": sealed_boundaries})


def config_key(spec: RunSpec) -> str:
    """The configuration evaluated: the whole run spec but its run id."""
    mapping = to_mapping(spec)
    mapping.pop("run_id")
    return sha256_json(mapping)


def record_look(home: Path, *, window: str, config: str, run_id: str, kind: str, what: str) -> int:
    """Append one look (unless the same one is recorded) and return the window's distinct configurations."""
    if kind not in LOOK_KINDS:
        raise ValueError(f"unknown look kind {kind!r}; known: {LOOK_KINDS}")
    entry = {"window": window, "config": config, "run_id": run_id, "kind": kind, "what": what}
    entries = read_looks(home)
    if entry not in entries:
        path = ledger_path(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (canonical_json(entry) + "\n").encode())
        finally:
            os.close(fd)
        entries.append(entry)
    return distinct_configs(entries, window)


def record_run_look(run_dir: Path, spec: RunSpec, home: Path, *, kind: str, what: str) -> int:
    """Record a look of run ``spec`` at its sealed window (from the run's split lock); returns the look number."""
    lock_file = run_dir / layout.SPLIT_LOCK_FILE
    if not lock_file.exists():
        raise ArtifactError(f"{lock_file}: no split lock; the sealed window of run {spec.run_id!r} is unknown")
    window = window_key(spec, io.read_json(lock_file)["sealed_boundaries"])
    return record_look(home, window=window, config=config_key(spec), run_id=spec.run_id, kind=kind, what=what)


def read_looks(home: Path) -> list[dict[str, Any]]:
    path = ledger_path(home)
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ArtifactError(f"{path}:{number}: corrupt ledger line ({exc})") from exc
    return entries


def distinct_configs(entries: list[Mapping[str, Any]], window: str) -> int:
    return len({e["config"] for e in entries if e["window"] == window})

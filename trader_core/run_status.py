"""The last status of each run, on disk: what `trader runs` lists without opening the Dagster instance.

``<TRADER_HOME>/trader-v4/run_status/<run_id>.json`` holds the newest Dagster run of the partition: its
status (``STARTED``, then Dagster's ``SUCCESS``, ``FAILURE`` or ``CANCELED``), its Dagster run id, job and
times. `trader run` and `trader walk-forward` write it when a run starts and when it ends; the run status
sensors of the code location write it for runs launched elsewhere (the UI, the retraining sensor) while the
daemon runs. It sits beside the run folders, not in them, so a run's artifacts do not change with its status.
What each status means, and what it cannot tell: docs/runs.md, "The last status".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from trader_core import io, layout

STARTED = "STARTED"
#: Dagster's final run statuses: a record holding one of them is not replaced by the same run's STARTED.
FINAL_STATUSES = ("SUCCESS", "FAILURE", "CANCELED")


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    status: str
    dagster_run_id: str
    job: str
    spec_hash: str
    started_at: str  # ISO 8601, UTC, milliseconds: equal formats compare as text
    updated_at: str


def utc_iso(timestamp: float | None = None) -> str:
    """An epoch timestamp (default: now) as the records' ISO time."""
    moment = datetime.now(timezone.utc) if timestamp is None else datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.isoformat(timespec="milliseconds")


def status_path(run_id: str, home: Path | None = None) -> Path:
    return layout.runs_root(home).parent / "run_status" / f"{layout.validate_run_id(run_id)}.json"


def record_run_status(record: RunStatus, home: Path | None = None) -> bool:
    """Write ``record`` atomically unless the stored one is newer: a Dagster run that started later, or the same
    run's final status when ``record`` is its STARTED (the sensors may report events late). True if written."""
    stored = _read(status_path(record.run_id, home))
    if stored is not None:
        if stored.dagster_run_id != record.dagster_run_id and stored.started_at > record.started_at:
            return False
        if stored.dagster_run_id == record.dagster_run_id and stored.status in FINAL_STATUSES \
                and record.status == STARTED:
            return False
    io.write_json(status_path(record.run_id, home), asdict(record))
    return True


def last_run_status(run_id: str, *, spec_hash: str, home: Path | None = None) -> RunStatus | None:
    """The run's recorded status; None when there is none, or when it was recorded for another spec (the run
    id was deleted and created again)."""
    record = _read(status_path(run_id, home))
    return record if record is not None and record.spec_hash == spec_hash else None


def _read(path: Path) -> RunStatus | None:
    return RunStatus(**io.read_json(path)) if path.exists() else None

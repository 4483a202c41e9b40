"""Each run partition's last status on disk (trader_core.run_status), so that `trader runs` reads it without
Dagster (docs/runs.md, "The last status").

`trader run` and `trader walk-forward` materialize through ``execute_recorded``, which records the run when it
starts and when it ends. The run status sensors record runs launched from the UI or by a sensor; they see the
CLI's runs too and leave those records as they are or rewrite the same status. They run in the Dagster daemon:
while it is off nothing is recorded, and on its return they catch up on the events they missed (Dagster's run
status sensor cursor).
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import dagster as dg

from trader_core import layout, run_status, runs
from trader_core.errors import ConfigError

PARTITION_TAG = "dagster/partition"
#: The Dagster run statuses a sensor records; their values are trader_core.run_status's statuses.
RECORDED = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED)


def execute_recorded(job: dg.JobDefinition, *, instance: dg.DagsterInstance, partition_key: str, home: Path,
                     **kwargs: Any) -> dg.ExecuteInProcessResult:
    """``job.execute_in_process`` of one run partition, with its status recorded before it starts and when it
    ends; an exception out of it (not a step's failure: those are in the result; e.g. Ctrl-C) is a FAILURE."""
    now = run_status.utc_iso()
    started = run_status.RunStatus(
        run_id=partition_key, status=run_status.STARTED, dagster_run_id=str(uuid.uuid4()), job=job.name,
        spec_hash=runs.load_spec(partition_key, home).spec_hash, started_at=now, updated_at=now)
    run_status.record_run_status(started, home)
    try:
        result = job.execute_in_process(instance=instance, partition_key=partition_key,
                                        run_id=started.dagster_run_id, **kwargs)
    except BaseException:
        _record_end(started, "FAILURE", home)
        raise
    _record_end(started, result.dagster_run.status.value, home)
    return result


def _record_end(started: run_status.RunStatus, status: str, home: Path) -> None:
    run_status.record_run_status(dataclasses.replace(started, status=status, updated_at=run_status.utc_iso()), home)


def record_from_sensor(context: dg.RunStatusSensorContext, status: str) -> dg.SkipReason | None:
    """Record ``status`` for the run partition of ``context``'s Dagster run, when it is one of this home's runs."""
    dagster_run = context.dagster_run
    run_id = dagster_run.tags.get(PARTITION_TAG)
    home = layout.trader_home()
    if run_id is None or not layout.RUN_ID_PATTERN.match(run_id) or not runs.spec_path(run_id, home).exists():
        return dg.SkipReason(f"run {dagster_run.run_id} is not a run partition of {home}")
    try:
        spec_hash = runs.load_spec(run_id, home).spec_hash
    except ConfigError as exc:
        return dg.SkipReason(f"{run_id}: {exc}")
    record = context.instance.get_run_record_by_id(dagster_run.run_id)
    started = (record.start_time or record.create_timestamp.timestamp()) if record is not None else None
    ended = record.end_time if record is not None and status in run_status.FINAL_STATUSES else None
    written = run_status.record_run_status(run_status.RunStatus(
        run_id=run_id, status=status, dagster_run_id=dagster_run.run_id, job=dagster_run.job_name,
        spec_hash=spec_hash, started_at=run_status.utc_iso(started),
        updated_at=run_status.utc_iso(ended or started)), home)
    return None if written else dg.SkipReason(f"{run_id} already has a newer status")


def _status_sensor(dagster_status: dg.DagsterRunStatus) -> dg.RunStatusSensorDefinition:
    status = dagster_status.value

    @dg.run_status_sensor(run_status=dagster_status, name=f"record_run_{status.lower()}",
                          default_status=dg.DefaultSensorStatus.RUNNING,
                          description=f"Records {status} in trader-v4/run_status/<run>.json for `trader runs`.")
    def _sensor(context: dg.RunStatusSensorContext) -> dg.SkipReason | None:
        return record_from_sensor(context, status)

    return _sensor


RUN_STATUS_SENSORS = [_status_sensor(dagster_status) for dagster_status in RECORDED]

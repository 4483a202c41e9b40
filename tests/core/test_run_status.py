"""The last status of a run on disk (trader_core.run_status): what `trader runs` lists."""

import dataclasses

from trader_core import io, run_status
from trader_core.run_status import RunStatus


def status(*, dagster_run_id: str = "d1", value: str = "STARTED", started_at: str = "2026-12-08T00:00:00.000+00:00",
           spec_hash: str = "h1") -> RunStatus:
    return RunStatus(run_id="r1", status=value, dagster_run_id=dagster_run_id, job="retrain_job", spec_hash=spec_hash,
                     started_at=started_at, updated_at=started_at)


def test_a_recorded_status_reads_back_for_its_spec_only(tmp_path):
    assert run_status.last_run_status("r1", spec_hash="h1", home=tmp_path) is None
    assert run_status.record_run_status(status(), tmp_path)
    assert run_status.last_run_status("r1", spec_hash="h1", home=tmp_path) == status()
    assert io.read_json(run_status.status_path("r1", tmp_path))["status"] == "STARTED"
    # the run id was deleted and created again with another spec: the old status is not its status
    assert run_status.last_run_status("r1", spec_hash="h2", home=tmp_path) is None


def test_the_end_of_a_run_replaces_its_start(tmp_path):
    run_status.record_run_status(status(), tmp_path)
    ended = dataclasses.replace(status(value="FAILURE"), updated_at="2026-12-08T00:05:00.000+00:00")
    assert run_status.record_run_status(ended, tmp_path)
    assert run_status.last_run_status("r1", spec_hash="h1", home=tmp_path) == ended


def test_a_late_start_does_not_replace_the_same_runs_end(tmp_path):
    run_status.record_run_status(status(value="SUCCESS"), tmp_path)
    assert not run_status.record_run_status(status(), tmp_path)
    assert run_status.last_run_status("r1", spec_hash="h1", home=tmp_path).status == "SUCCESS"


def test_an_older_runs_late_report_does_not_replace_a_newer_run(tmp_path):
    newer = status(dagster_run_id="d2", started_at="2026-12-08T01:00:00.000+00:00")
    run_status.record_run_status(newer, tmp_path)
    assert not run_status.record_run_status(status(value="SUCCESS"), tmp_path)
    assert run_status.last_run_status("r1", spec_hash="h1", home=tmp_path) == newer


def test_a_newer_run_replaces_an_older_runs_end(tmp_path):
    run_status.record_run_status(status(value="SUCCESS"), tmp_path)
    newer = status(dagster_run_id="d2", started_at="2026-12-08T01:00:00.000+00:00")
    assert run_status.record_run_status(newer, tmp_path)
    assert run_status.last_run_status("r1", spec_hash="h1", home=tmp_path) == newer


def test_utc_iso_sorts_as_time():
    assert run_status.utc_iso(0.0) == "1970-01-01T00:00:00.000+00:00"
    assert run_status.utc_iso(9.5) > run_status.utc_iso(1.25)

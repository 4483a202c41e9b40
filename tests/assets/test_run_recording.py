"""The run status sensors record the last status of runs launched outside the CLI (docs/runs.md)."""

import dagster as dg

from trader_assets.definitions import defs
from trader_assets.run_recording import RECORDED, record_from_sensor
from trader_core import run_status
from trader_core.registration import register_run


@dg.op
def noop() -> None:
    return None


@dg.job
def tiny_job() -> None:
    noop()


def sensor_context(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.RunStatusSensorContext:
    result = tiny_job.execute_in_process(instance=instance, tags=tags)
    event = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
    return dg.build_run_status_sensor_context(sensor_name="record_run_success", dagster_event=event,
                                              dagster_instance=instance,
                                              dagster_run=instance.get_run_by_id(result.run_id))


def test_a_run_of_a_partition_gets_its_status_recorded(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("TRADER_HOME", str(home))
    spec = register_run(run_id="ui1", sections={}, home=home).spec
    with dg.instance_for_test() as instance:
        context = sensor_context(instance, {"dagster/partition": "ui1"})
        assert record_from_sensor(context, "SUCCESS") is None
        record = run_status.last_run_status("ui1", spec_hash=spec.spec_hash, home=home)
        assert (record.status, record.dagster_run_id, record.job) == ("SUCCESS", context.dagster_run.run_id, "tiny_job")
        run = instance.get_run_record_by_id(context.dagster_run.run_id)
        assert record.updated_at == run_status.utc_iso(run.end_time) > record.started_at

        # the same run's STARTED, reported late, leaves its end in place
        assert isinstance(record_from_sensor(context, run_status.STARTED), dg.SkipReason)
        assert run_status.last_run_status("ui1", spec_hash=spec.spec_hash, home=home).status == "SUCCESS"


def test_a_run_outside_the_run_partitions_is_skipped(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("TRADER_HOME", str(home))
    with dg.instance_for_test() as instance:
        assert isinstance(record_from_sensor(sensor_context(instance, {}), "SUCCESS"), dg.SkipReason)
        assert isinstance(record_from_sensor(sensor_context(instance, {"dagster/partition": "nope"}), "SUCCESS"),
                          dg.SkipReason)
    assert not run_status.status_path("nope", home).parent.exists()


def test_the_code_location_runs_one_sensor_per_recorded_status():
    assert {status.value for status in RECORDED} == {run_status.STARTED, *run_status.FINAL_STATUSES}
    for status in RECORDED:
        sensor = defs.resolve_sensor_def(f"record_run_{status.value.lower()}")
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING

"""Runs created from the UI: the ``register_run`` job writes the spec and adds the partition, refused like the CLI."""

import json

import dagster as dg
import pytest

from trader_assets import cli
from trader_assets.definitions import defs
from trader_core import layout, runs
from trader_core.config import EntryLabelConfig, RunSpec, SourceSpec
from trader_core.config_mapping import to_mapping


def launch(instance: dg.DagsterInstance, config: dict) -> dg.ExecuteInProcessResult:
    """What the launchpad does: the register_run job with ``config`` as its op config."""
    return defs.resolve_job_def("register_run").execute_in_process(
        instance=instance, raise_on_error=False, run_config={"ops": {"register_run_spec": {"config": config}}})


def failure(result: dg.ExecuteInProcessResult) -> str:
    """The one line the failed registration step reports."""
    (event,) = [e for e in result.all_events if e.is_step_failure]
    return event.step_failure_data.user_failure_data.description


def cli_error(capsys, argv: list[str]) -> str:
    """The one line ``trader`` prints for a refused command (without its ``trader: error:`` prefix)."""
    capsys.readouterr()  # drop the job's log lines
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err.removeprefix("trader: error: ").rstrip("\n")


def test_the_job_writes_the_spec_with_the_defaults_and_adds_the_partition(homes):
    config = {"run_id": "ui1", "symbols": ["BTC-USDT-PERP"], "start": "2026-01-01", "end": "2026-01-07",
              "source": {"seed": 3}, "labels": {"continue": {"horizon_minutes": 30}}}
    with dg.instance_for_test() as instance:
        assert launch(instance, config).success
        assert instance.get_dynamic_partitions("runs") == ["ui1"]
        spec = runs.load_spec("ui1", homes)
        expected = RunSpec(run_id="ui1", symbols=("BTC-USDT-PERP",), start="2026-01-01", end="2026-01-07",
                           source=SourceSpec(seed=3))
        assert spec.labels.continue_.horizon_minutes == 30  # the launchpad key is the spec's key, "continue"
        assert {k: v for k, v in spec.to_dict().items() if k != "labels"} == {
            k: v for k, v in to_mapping(expected).items() if k != "labels"}  # every other section at its default
        written = (layout.run_root("ui1", homes) / layout.RUN_SPEC_FILE).read_bytes()
        assert launch(instance, config).success  # the same spec again: reused, nothing rewritten
        assert (layout.run_root("ui1", homes) / layout.RUN_SPEC_FILE).read_bytes() == written
        assert instance.get_dynamic_partitions("runs") == ["ui1"]


def test_the_launchpad_shows_every_section_at_its_default():
    schema = defs.resolve_job_def("register_run").run_config_schema.config_type
    op_config = schema.fields["ops"].config_type.fields["register_run_spec"].config_type.fields["config"]
    defaults = json.loads(op_config.config_type.fields["labels"].default_value_as_json_str)
    assert defaults["entry"]["target_bps"] == EntryLabelConfig().target_bps
    assert set(op_config.config_type.fields) == set(to_mapping(RunSpec(run_id="x"))) - {"version"}


def test_a_changed_spec_is_refused_with_the_cli_message(homes, capsys):
    with dg.instance_for_test() as instance:
        assert launch(instance, {"run_id": "ui2", "source": {"seed": 3}}).success
        written = runs.spec_path("ui2", homes).read_bytes()
        refused = launch(instance, {"run_id": "ui2", "source": {"seed": 4}})
    message = cli_error(capsys, ["run", "ui2", "--seed", "4"])
    assert "source.seed: 3 -> 4" in message and "new run id" in message
    assert not refused.success and failure(refused) == message
    assert runs.spec_path("ui2", homes).read_bytes() == written


@pytest.mark.parametrize("config, cli_args, needle", [
    ({"labels": {"entry": {"target_bp": 40}}}, None, "labels.entry.target_bp"),
    ({"source": {"kind": "lake", "path": "/nonexistent"}}, ["--source", "lake", "--path", "/nonexistent"],
     "source.path: /nonexistent does not exist"),
])
def test_unknown_keys_and_a_missing_path_are_refused_with_the_cli_message(homes, tmp_path, capsys, config, cli_args,
                                                                           needle):
    if cli_args is None:  # sections the CLI takes from --config
        (tmp_path / "cfg.json").write_text(json.dumps(config))
        cli_args = ["--config", str(tmp_path / "cfg.json")]
    message = cli_error(capsys, ["run", "ui3", *cli_args])
    with dg.instance_for_test() as instance:
        refused = launch(instance, {"run_id": "ui3", **config})
        assert instance.get_dynamic_partitions("runs") == []
    assert needle in message and not refused.success and failure(refused) == message
    assert not runs.spec_path("ui3", homes).exists()

"""The `trader` CLI: create and materialize a run, reuse it, refuse changed specs, list and show runs."""

import json

import pytest

from trader_assets import cli
from trader_core import layout



def test_run_reuse_refuse_list_and_show(homes, capsys):
    args = ["run", "cli1", "--days", "6", "--symbols", "BTC-USDT-PERP", "--seed", "3", "--no-experiments"]
    assert cli.main(args) == 1  # 6 days are too few trades for the sealed backtest: promotion is refused
    captured = capsys.readouterr()
    out = captured.out
    assert "blocking checks failed: backtest_status_pass" in captured.err
    root = layout.run_root("cli1", homes)
    assert f"artifacts: {root}" in out
    assert f"feature report: {root / layout.FEATURE_REPORT_FILE}" in out
    assert "-> feature_frame" in out and "check split_locked_unchanged: passed" in out
    spec = json.loads((root / "run_spec.json").read_text())
    assert spec["end"] == "2026-01-07" and spec["source"]["seed"] == 3

    assert cli.main(["run", "cli1", "--select", "split_manifest"]) == 0  # reuses the stored spec
    assert "reusing its spec" in capsys.readouterr().out

    assert cli.main(["run", "cli1", "--signal", "0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "source.signal: 2.0 -> 0.0" in err and "new run id" in err

    assert cli.main(["runs"]) == 0
    listing = capsys.readouterr().out
    assert "cli1" in listing and "SUCCESS" in listing  # the last run (--select split_manifest) succeeded

    assert cli.main(["show", "cli1"]) == 0
    shown = capsys.readouterr().out
    assert "feature/feature_frame.parts" in shown and "split/validation_lock.json" in shown


@pytest.mark.parametrize("argv, needle", [
    (["run", "x1", "--days", "2"], "too short for the split plan"),
    (["run", "x2", "--signal", "-1"], "source.signal"),
    (["run", "x3", "--source", "lake", "--path", "/nonexistent"], "source.path: /nonexistent does not exist"),
    (["run", "x4", "--select", "nope"], "unknown asset"),
    (["run", "bad/id"], "run id"),
    (["show", "never"], "no run 'never'"),
])
def test_errors_are_one_line(homes, capsys, argv, needle):
    assert cli.main(argv) != 0
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert not list(layout.runs_root(homes).glob("*/run_spec.json"))  # nothing written


@pytest.mark.parametrize("content, needle", [
    ("{not json", "not valid JSON"),
    ('{"run_id": "other"}', "run spec sections only"),
    ('{"labels": {"entry": {"target_bp": 40}}}', "labels.entry.target_bp"),
    ('[1, 2]', "must hold a JSON object"),
])
def test_bad_config_file_is_one_line_and_writes_nothing(homes, tmp_path, capsys, content, needle):
    path = tmp_path / "cfg.json"
    path.write_text(content)
    assert cli.main(["run", "cfgbad", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert not (layout.run_root("cfgbad", homes) / "run_spec.json").exists()


def test_missing_config_file(homes, capsys):
    assert cli.main(["run", "cfgmissing", "--config", "/nonexistent/cfg.json"]) == 1
    assert "not found" in capsys.readouterr().err


def test_flags_become_sections_where_the_strategy_reads_them(homes):
    def sections(*argv: str) -> dict:
        args = cli.build_parser().parse_args(["run", "flags", *argv])
        return cli.sections_from_args(args, None)

    assert sections("--strategy", "butterfly", "--signal", "0", "--seed", "5") == {
        "strategy": "butterfly", "butterfly": {"synthetic": {"signal": 0.0, "seed": 5}}}
    assert sections("--signal", "0", "--seed", "5") == {"source": {"signal": 0.0, "seed": 5}}
    assert sections("--start", "2026-02-01", "--days", "6") == {"start": "2026-02-01", "end": "2026-02-07"}
    assert sections("--source", "lake", "--path", "/x") == {"source": {"kind": "lake", "path": "/x"},
                                                          "start": None, "end": None}


def test_a_run_records_its_status_when_it_starts_and_ends(homes, capsys, monkeypatch):
    import dagster as dg

    from trader_core import run_status

    recorded = []
    record = run_status.record_run_status
    monkeypatch.setattr(run_status, "record_run_status",
                        lambda status, home: recorded.append(status) or record(status, home))
    window = ["--days", "6", "--symbols", "BTC-USDT-PERP"]
    assert cli.main(["run", "st1", *window, "--select", "raw_market"]) == 0
    assert [r.status for r in recorded] == ["STARTED", "SUCCESS"]
    assert recorded[0].dagster_run_id == recorded[1].dagster_run_id
    spec_hash = json.loads((layout.run_root("st1", homes) / "run_spec.json").read_text())["spec_hash"]
    assert run_status.last_run_status("st1", spec_hash=spec_hash, home=homes) == recorded[1]
    instance = dg.DagsterInstance.get()  # the Dagster run it names is the run that succeeded
    assert instance.get_run_by_id(recorded[1].dagster_run_id).status == dg.DagsterRunStatus.SUCCESS

    assert cli.main(["run", "st2", *window, "--select", "replay_1m"]) == 1  # its input was never materialized
    assert [r.status for r in recorded[2:]] == ["STARTED", "FAILURE"]

    def interrupted(*_args, **_kwargs):
        raise RuntimeError("the run stopped")

    monkeypatch.setattr(dg.JobDefinition, "execute_in_process", interrupted)
    assert cli.main(["run", "st1"]) == 2
    assert [r.status for r in recorded[4:]] == ["STARTED", "FAILURE"]
    capsys.readouterr()

    assert cli.main(["runs"]) == 0
    listing = {line.split()[0]: line.split()[3] for line in capsys.readouterr().out.splitlines()[1:]}
    assert listing == {"st1": "FAILURE", "st2": "FAILURE"}

"""Run registration: a new run id gets its spec written once, an existing one is reused or refused, in one line."""

import pytest

from trader_core import layout, runs
from trader_core.config import RunSpec
from trader_core.config_mapping import to_mapping
from trader_core.errors import ConfigError
from trader_core.registration import default_sections, new_spec, register_run, spec_sections


def test_a_new_run_gets_the_defaults_merged_with_its_sections(tmp_path):
    first = register_run(run_id="r1", sections={"source": {"seed": 3}, "labels": {"continue": {"horizon_minutes": 30}}},
                         home=tmp_path)
    assert first.created
    expected = to_mapping(RunSpec(run_id="r1"))
    expected["source"]["seed"], expected["labels"]["continue"]["horizon_minutes"] = 3, 30
    assert runs.load_spec("r1", tmp_path).to_dict() == expected == first.spec.to_dict()


def test_an_existing_run_is_reused_unless_its_spec_would_change(tmp_path):
    register_run(run_id="r2", sections={"source": {"seed": 3}}, home=tmp_path)
    written = runs.spec_path("r2", tmp_path).read_bytes()
    again = register_run(run_id="r2", sections={"symbols": list(RunSpec(run_id="r2").symbols)}, home=tmp_path)
    assert not again.created and again.spec.source.seed == 3  # merged onto the stored spec, not the defaults
    with pytest.raises(ConfigError, match=r"^run 'r2' exists with a different spec \(source.seed: 3 -> 4\); "
                                          r"its splits are locked: use a new run id$"):
        register_run(run_id="r2", sections={"source": {"seed": 4}}, home=tmp_path)
    assert runs.spec_path("r2", tmp_path).read_bytes() == written


@pytest.mark.parametrize("sections, message", [
    ({"labels": {"entry": {"target_bp": 40}}}, "unknown config key(s) ['labels.entry.target_bp']"),
    ({"source": {"kind": "lake", "path": "/nonexistent"}}, "source.path: /nonexistent does not exist"),
    ({"source": {"kind": "nope"}}, "source.kind: must be one of"),
    ({"run_id": "other"}, "the sections must not hold run_id"),
])
def test_refusals_write_nothing(tmp_path, sections, message):
    with pytest.raises(ConfigError) as refused:
        register_run(run_id="r3", sections=sections, home=tmp_path)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert not layout.run_root("r3", tmp_path).exists()


def test_new_spec_writes_nothing_and_sections_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADER_HOME", str(tmp_path))
    spec = new_spec(run_id="r4", sections={"symbols": ["BTC-USDT-PERP"]})
    assert spec.symbols == ("BTC-USDT-PERP",) and not layout.runs_root(tmp_path).exists()
    assert spec_sections(RunSpec(run_id="r4")) == default_sections("r4") and "run_id" not in default_sections("r4")

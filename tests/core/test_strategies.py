"""Strategy plug-ins: what each declares, how runs, names and landed months find theirs, and the refusals."""

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from trader_core import layout, release
from trader_core.config import STRATEGY_SPECS, RunSpec
from trader_core.config_mapping import from_mapping
from trader_core.contracts.models import MODELS
from trader_core.errors import ConfigError
from trader_core.market.landing import write_month
from trader_core.retrain import retrain_spec
from trader_core.strategies import (STRATEGIES, strategy_named, strategy_of, strategy_of_marker,
                                    strategy_of_retrain_run)
from trader_core.strategies.butterfly import BUTTERFLY
from trader_core.strategies.perp import PERP

NAMES = ("perp", "butterfly")
RUN_SPEC_KEYS = {f.metadata.get("key", f.name) for f in dataclasses.fields(RunSpec)}


def test_the_registry_holds_the_two_strategies_of_the_run_spec():
    assert set(STRATEGIES) == set(NAMES) == set(STRATEGY_SPECS)
    assert STRATEGIES["perp"] is PERP and STRATEGIES["butterfly"] is BUTTERFLY


@pytest.mark.parametrize("name", NAMES)
def test_each_strategy_declares_its_sections_job_and_folders(name):
    strategy = strategy_named(name)
    assert strategy.name == name
    assert strategy.spec is STRATEGY_SPECS[name]
    assert "source" in strategy.sections and set(strategy.sections) <= RUN_SPEC_KEYS
    assert set(strategy.synthetic_section[:1]) <= set(strategy.sections)
    assert strategy.job.endswith("_job") and strategy.job_with_experiments.endswith("_job")
    assert strategy.folders and strategy.retrain_prefix.startswith("retrain-")


def test_the_strategies_own_disjoint_folders_that_cover_every_artifact():
    artifact_folders = {path.split("/")[0] for path in layout.ARTIFACT_PATHS.values()}
    assert set(PERP.folders).isdisjoint(BUTTERFLY.folders)
    assert set(PERP.folders) | set(BUTTERFLY.folders) == artifact_folders


def test_only_the_butterfly_reads_its_section():
    assert "butterfly" in BUTTERFLY.sections and "butterfly" not in PERP.sections
    assert {"symbols", "labels", "split"} <= set(PERP.sections)
    assert not {"symbols", "labels", "split"} & set(BUTTERFLY.sections)


def test_an_unknown_strategy_is_refused_with_one_clear_line():
    with pytest.raises(ConfigError) as name_err:
        strategy_named("options")
    with pytest.raises(ConfigError) as spec_err:
        from_mapping(RunSpec, {"run_id": "x", "strategy": "options"})
    with pytest.raises(ConfigError) as marker_err:
        strategy_of_marker({"source": "s", "month": "2026-03", "strategy": "options"})
    for err in (name_err, spec_err, marker_err):
        message = str(err.value)
        assert len(message.splitlines()) == 1 and "'options'" in message
        assert "perp" in message and "butterfly" in message


def test_each_strategy_refuses_the_sources_it_cannot_read():
    with pytest.raises(ConfigError, match=r"source.kind: the butterfly strategy reads .*daily bars.*got 'lake'"):
        from_mapping(RunSpec, {"run_id": "x", "strategy": "butterfly", "source": {"kind": "lake", "path": "/l"}})
    assert from_mapping(RunSpec, {"run_id": "x", "source": {"kind": "lake", "path": "/l"}}).source.kind == "lake"


def test_the_perp_rules_do_not_bind_a_butterfly_run():
    perp_only = {"run_id": "x", "symbols": [], "start": None, "end": None}
    with pytest.raises(ConfigError, match="symbols: at least one symbol"):
        from_mapping(RunSpec, perp_only)
    assert strategy_of(from_mapping(RunSpec, {**perp_only, "strategy": "butterfly"})) is BUTTERFLY


@pytest.mark.parametrize("strategy", [PERP, BUTTERFLY], ids=NAMES)
def test_a_landed_month_finds_its_strategy_by_its_marker_tag(tmp_path, strategy):
    marker = write_month(tmp_path / "m", {"bars": pd.DataFrame({"x": [1.0]})}, source="src", month="2026-03",
                         symbols=["A"], strategy_tag=strategy.landing_tag)
    assert strategy_of_marker(marker) is strategy
    spec = retrain_spec(marker, home=tmp_path, config_path=None)
    assert strategy_of(spec) is strategy and spec.run_id == f"{strategy.retrain_prefix}2026-03"
    assert spec.source.kind == "landed" and Path(spec.source.path).name == "src"


def test_perp_markers_keep_their_original_form(tmp_path):
    marker = write_month(tmp_path / "m", {}, source="src", month="2026-03", symbols=["A"],
                         strategy_tag=PERP.landing_tag)
    assert "strategy" not in marker


@pytest.mark.parametrize("strategy", [PERP, BUTTERFLY], ids=NAMES)
def test_a_release_bundle_holds_only_the_strategys_artifacts_and_run_spec(tmp_path, strategy):
    files = strategy.release_files(tmp_path)
    rels = [Path(src).relative_to(tmp_path) for src in files.values()]
    assert rels.count(Path(layout.RUN_SPEC_FILE)) == 1
    artifacts = [rel for rel in rels if rel != Path(layout.RUN_SPEC_FILE)]
    assert artifacts and all(rel.parts[0] in strategy.folders for rel in artifacts), artifacts
    spec = from_mapping(RunSpec, {"run_id": "x", "strategy": strategy.name})
    with pytest.raises(release.ReleaseRefused, match="release bundle incomplete"):
        release.release_files(spec, tmp_path)
    for src in files.values():
        Path(src).parent.mkdir(parents=True, exist_ok=True)
        Path(src).write_text("x")
    assert release.release_files(spec, tmp_path) == files


def test_the_perp_bundle_holds_every_model():
    files = PERP.release_files(Path("/run"))
    assert {files[f"model/{m.lower()}/{m.lower()}.onnx"] for m in MODELS} == {
        layout.model_onnx_path(Path("/run"), m) for m in MODELS}


def test_a_synthetic_butterfly_line_is_its_own_market():
    def line(**sections):
        return release.model_line(from_mapping(RunSpec, {"run_id": "x", "strategy": "butterfly", **sections}))

    base = line()
    synthetic = from_mapping(RunSpec, {"run_id": "x", "strategy": "butterfly"}).butterfly.synthetic
    assert base.definition["symbols"] == sorted(synthetic.symbols)
    assert base.definition["source"]["seed"] == synthetic.seed
    assert line(source={"seed": 99}) == base  # the perp market's knobs do not draw the daily market
    assert line(butterfly={"synthetic": {"seed": 99}}) != base


def test_a_retrain_run_id_names_its_strategy():
    assert strategy_of_retrain_run(PERP.retrain_run_id("2026-03")) is PERP
    assert strategy_of_retrain_run(BUTTERFLY.retrain_run_id("2026-03")) is BUTTERFLY
    assert strategy_of_retrain_run("demo") is None


def test_a_plugin_refuses_a_run_of_another_strategy_in_one_line():
    fly = from_mapping(RunSpec, {"run_id": "fly", "strategy": "butterfly"})
    assert BUTTERFLY.require(fly) is fly
    with pytest.raises(ConfigError) as err:
        PERP.require(fly)
    assert len(str(err.value).splitlines()) == 1 and "'fly'" in str(err.value) and "strategy: perp" in str(err.value)

"""Lazy imports (docs/layers.md): the code location and the read-only CLI commands never load the model libraries.

Each probe runs in a fresh interpreter and reports ``sys.modules`` afterwards, so a module-level import of a
model library anywhere under the definitions or the CLI's read path fails these tests.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trader_core import layout, release, run_status, stages
from trader_core.registration import register_run
from trader_core.strategies import strategy_of

ROOT = Path(__file__).resolve().parents[2]
#: The models' libraries: they load in the step (or the command) that uses them, never at import.
MODEL_LIBRARIES = ("sklearn", "scipy", "matplotlib", "onnx", "onnxruntime", "numba", "arch")
#: What `trader runs`, `trader show` and `trader releases` never load: Dagster too (its import alone takes longer
#: than their 1 s target) and LightGBM (not a dependency today; listed so that adding it cannot reach them).
NOT_ON_THE_READ_PATH = ("dagster", "lightgbm", *MODEL_LIBRARIES)
PASS = {"status": "PASS", "status_reasons": [], "metrics": {}}


def loaded_after(code: str, env: dict[str, str]) -> set[str]:
    """Top-level packages in ``sys.modules`` after ``code`` ran in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint('MODULES ' + json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    return {name.split(".")[0] for name in json.loads(line.removeprefix("MODULES "))}


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """A data root with two runs, one of them promoted (its release bundle holds placeholder files)."""
    tmp = tmp_path_factory.mktemp("lazy")
    home = tmp / "home"
    register_run(run_id="other", sections={}, home=home)
    spec = register_run(run_id="demo", sections={}, home=home).spec
    files = strategy_of(spec).release_files(layout.run_root("demo", home))
    for path in files.values():
        if not path.exists():  # the run spec is the real one
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(path.name)
    release.promote(files, run_id="demo", spec_hash=spec.spec_hash, backtest=PASS, line=release.model_line(spec),
                    home=home)
    run_status.record_run_status(run_status.RunStatus(
        run_id="demo", status="SUCCESS", dagster_run_id="d1", job="retrain_job", spec_hash=spec.spec_hash,
        started_at=run_status.utc_iso(0.0), updated_at=run_status.utc_iso(60.0)), home)
    return {**os.environ, "TRADER_HOME": str(home), "DAGSTER_HOME": str(tmp / "dagster"), "PYTHONPATH": str(ROOT)}


def test_the_stage_modules_load_the_model_libraries(env):
    """The control of the probes below: once every stage module is loaded, the model libraries are in
    ``sys.modules`` (arch loads inside the significance functions only)."""
    loaded = loaded_after("from trader_core import stages\nfor name in stages._MODULES:\n    getattr(stages, name)", env)
    assert set(MODEL_LIBRARIES) - {"arch"} <= loaded


def test_the_code_location_loads_no_model_library(env):
    loaded = loaded_after("import trader_assets.definitions", env)
    assert "dagster" in loaded
    assert sorted(loaded & set(MODEL_LIBRARIES)) == []


@pytest.mark.parametrize("argv, output", [
    (["runs"], "SUCCESS      1970-01-01 00:01:00"),  # the status recorded on disk, not the Dagster instance's
    (["show", "demo"], "run folder:"),
    (["releases"], "champions:"),
])
def test_read_only_commands_load_neither_dagster_nor_a_model_library(env, argv, output):
    code = ("import contextlib, io\nfrom trader_assets import cli\nout = io.StringIO()\n"
            f"with contextlib.redirect_stdout(out):\n    assert cli.main({argv!r}) == 0\n"
            f"assert {output!r} in out.getvalue(), out.getvalue()")
    loaded = loaded_after(code, env)
    assert sorted(loaded & set(NOT_ON_THE_READ_PATH)) == []


def _stage_functions(module: str) -> set[str]:
    tree = ast.parse((ROOT / "trader_core" / "stages" / f"{module}.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.endswith("_stage")}


def test_every_stage_function_is_reachable_from_the_package():
    """An asset body calls ``stages.<name>``: a stage function missing from the package's table would fail
    only when its step runs."""
    for module, names in stages._EXPORTS.items():
        assert _stage_functions(module) <= set(names), module
        for name in names:
            assert getattr(stages, name) is getattr(getattr(stages, module), name)


def _stage_references(node: ast.AST) -> tuple[str, ...] | None:
    """``("model_stage",)`` for ``stages.model_stage``, ``("butterfly", "model_stage")`` for
    ``stages.butterfly.model_stage``; None for anything else."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "stages":
        return (node.attr,)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
        inner = _stage_references(node.value)
        return None if inner is None else (*inner, node.attr)
    return None


def test_every_stage_the_dagster_layer_calls_exists():
    references = {ref for path in (ROOT / "trader_assets").rglob("*.py") for node in ast.walk(ast.parse(path.read_text()))
                  if (ref := _stage_references(node)) is not None}
    assert {("model_stage",), ("butterfly", "model_stage"), ("read_split_lock",)} <= references
    unresolved = []
    for ref in sorted(references):
        target = stages
        for name in ref:
            target = getattr(target, name, None)
        if target is None:
            unresolved.append(".".join(ref))
    assert unresolved == []

"""Releases: refused unless PASS, immutable, content-addressed re-runs, atomic champion and rollback (per model
line: tests/core/test_release_lines.py)."""

import json

import pytest

from trader_core import release
from trader_core.config import RunSpec
from trader_core.errors import ArtifactError

PASS = {"status": "PASS", "status_reasons": [], "metrics": {}}
LINE = release.Line("majors", {"strategy": "perp", "name": "majors"})


def bundle(tmp_path, tag: str) -> dict:
    files = {}
    for rel in ("model/direction/direction.onnx", "model/feature_order.json", "run_spec.json"):
        src = tmp_path / "src" / tag / rel
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(f"{tag}:{rel}")
        files[rel] = src
    return files


def test_promotion_refused_unless_backtest_passed(tmp_path):
    with pytest.raises(release.ReleaseRefused, match="latest_stress_profit_factor_below_1"):
        release.promote(bundle(tmp_path, "a"), run_id="r", spec_hash="h", home=tmp_path, line=LINE,
                        backtest={"status": "FAIL", "status_reasons": ["latest_stress_profit_factor_below_1"]})
    assert not (tmp_path / "releases").exists() or not list((tmp_path / "releases").glob("r0*"))


def test_versions_champion_rollback_and_immutability(tmp_path):
    first = release.promote(bundle(tmp_path, "a"), run_id="run-a", spec_hash="h1", backtest=PASS, home=tmp_path,
                            line=LINE)
    assert first.version == "r0001-run-a" and not first.reused
    assert release.champion(tmp_path, "majors")["version"] == "r0001-run-a"
    again = release.promote(bundle(tmp_path, "a"), run_id="run-a", spec_hash="h1", backtest=PASS, home=tmp_path,
                            line=LINE)
    assert again.version == first.version and again.reused  # identical content: no duplicate
    second = release.promote(bundle(tmp_path, "b"), run_id="run-b", spec_hash="h2", backtest=PASS, home=tmp_path,
                             line=LINE)
    assert second.version == "r0002-run-b" and second.manifest["replaced_champion"] == "r0001-run-a"
    assert release.champion(tmp_path, "majors") == {"line": "majors", "definition": LINE.definition,
                                                    "version": "r0002-run-b", "path": str(second.path),
                                                    "previous": ["r0001-run-a"]}
    onnx = second.path / "model/direction/direction.onnx"
    assert oct(onnx.stat().st_mode & 0o777) == "0o444"  # read-only for everyone (the mode, since root bypasses it)
    pointer = release.rollback(tmp_path, "majors")
    assert pointer["version"] == "r0001-run-a" and pointer["rolled_back_from"] == "r0002-run-b"
    with pytest.raises(release.ReleaseRefused, match="no previous champion"):
        release.rollback(tmp_path, "majors")
    manifest = json.loads((first.path / release.MANIFEST).read_text())
    assert set(manifest["files"]) == {"model/direction/direction.onnx", "model/feature_order.json", "run_spec.json"}
    assert [r["version"] for r in release.list_releases(tmp_path)] == ["r0001-run-a", "r0002-run-b"]


def test_tampered_release_is_detected_and_cannot_become_champion(tmp_path):
    first = release.promote(bundle(tmp_path, "a"), run_id="run-a", spec_hash="h", backtest=PASS, home=tmp_path,
                            line=LINE)
    release.promote(bundle(tmp_path, "b"), run_id="run-b", spec_hash="h", backtest=PASS, home=tmp_path, line=LINE)
    target = first.path / "run_spec.json"
    target.chmod(0o644)
    target.write_text("tampered")
    with pytest.raises(ArtifactError, match="run_spec.json"):
        release.verify_release(first.path)
    with pytest.raises(ArtifactError):
        release.rollback(tmp_path, "majors")
    assert release.champion(tmp_path, "majors")["version"] == "r0002-run-b"  # unchanged


def test_incomplete_bundle_is_refused(tmp_path):
    with pytest.raises(release.ReleaseRefused, match="missing"):
        release.release_files(RunSpec(run_id="empty"), tmp_path)



def test_each_strategy_has_its_own_champion(tmp_path):
    fly_line = release.Line("butterfly-synthetic-x", {"strategy": "butterfly", "symbols": ["SPY"], "source": {}})
    perp = release.promote(bundle(tmp_path, "p"), run_id="perp", spec_hash="h1", backtest=PASS, home=tmp_path,
                           line=LINE)
    fly = release.promote(bundle(tmp_path, "b"), run_id="fly", spec_hash="h2", backtest=PASS, home=tmp_path,
                          line=fly_line)
    assert release.champion(tmp_path, "majors")["version"] == perp.version
    assert release.champion(tmp_path, fly_line.name)["version"] == fly.version
    assert {r["version"]: r["strategy"] for r in release.list_releases(tmp_path)} == {
        perp.version: "perp", fly.version: "butterfly"}
    with pytest.raises(release.ReleaseRefused, match="run 'fly2' does not belong to line 'majors'"):
        # a butterfly bundle can never become the perp champion
        release.promote(bundle(tmp_path, "c"), run_id="fly2", spec_hash="h3", backtest=PASS, home=tmp_path,
                        line=release.Line("majors", fly_line.definition))
    assert release.champion(tmp_path, "majors")["version"] == perp.version
    assert len(release.list_releases(tmp_path)) == 2  # refused before a bundle was written

"""Releases: refused unless PASS, immutable, content-addressed re-runs, atomic champion and rollback."""

import json
import os

import pytest

from trader_core import release
from trader_core.errors import ArtifactError

PASS = {"status": "PASS", "status_reasons": [], "metrics": {}}


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
        release.promote(bundle(tmp_path, "a"), run_id="r", spec_hash="h", home=tmp_path,
                        backtest={"status": "FAIL", "status_reasons": ["latest_stress_profit_factor_below_1"]})
    assert not (tmp_path / "releases").exists() or not list((tmp_path / "releases").glob("r0*"))


def test_versions_champion_rollback_and_immutability(tmp_path):
    first = release.promote(bundle(tmp_path, "a"), run_id="run-a", spec_hash="h1", backtest=PASS, home=tmp_path)
    assert first.version == "r0001-run-a" and not first.reused
    assert release.champion(tmp_path)["version"] == "r0001-run-a"
    again = release.promote(bundle(tmp_path, "a"), run_id="run-a", spec_hash="h1", backtest=PASS, home=tmp_path)
    assert again.version == first.version and again.reused  # identical content: no duplicate
    second = release.promote(bundle(tmp_path, "b"), run_id="run-b", spec_hash="h2", backtest=PASS, home=tmp_path)
    assert second.version == "r0002-run-b"
    assert release.champion(tmp_path) == {"version": "r0002-run-b", "path": str(second.path),
                                          "previous": ["r0001-run-a"]}
    onnx = second.path / "model/direction/direction.onnx"
    assert not os.access(onnx, os.W_OK) or os.geteuid() == 0  # read-only (root may still write)
    assert oct(onnx.stat().st_mode & 0o777) == "0o444"
    pointer = release.rollback(tmp_path)
    assert pointer["version"] == "r0001-run-a" and pointer["rolled_back_from"] == "r0002-run-b"
    with pytest.raises(release.ReleaseRefused, match="no previous champion"):
        release.rollback(tmp_path)
    manifest = json.loads((first.path / release.MANIFEST).read_text())
    assert set(manifest["files"]) == {"model/direction/direction.onnx", "model/feature_order.json", "run_spec.json"}
    assert [r["version"] for r in release.list_releases(tmp_path)] == ["r0001-run-a", "r0002-run-b"]


def test_tampered_release_is_detected_and_cannot_become_champion(tmp_path):
    first = release.promote(bundle(tmp_path, "a"), run_id="run-a", spec_hash="h", backtest=PASS, home=tmp_path)
    release.promote(bundle(tmp_path, "b"), run_id="run-b", spec_hash="h", backtest=PASS, home=tmp_path)
    target = first.path / "run_spec.json"
    target.chmod(0o644)
    target.write_text("tampered")
    with pytest.raises(ArtifactError, match="run_spec.json"):
        release.verify_release(first.path)
    with pytest.raises(ArtifactError):
        release.rollback(tmp_path)
    assert release.champion(tmp_path)["version"] == "r0002-run-b"  # unchanged


def test_incomplete_bundle_is_refused(tmp_path):
    with pytest.raises(release.ReleaseRefused, match="missing"):
        release.bundle_files(tmp_path, {})



def test_each_strategy_has_its_own_champion(tmp_path):
    perp = release.promote(bundle(tmp_path, "p"), run_id="perp", spec_hash="h1", backtest=PASS, home=tmp_path)
    fly = release.promote(bundle(tmp_path, "b"), run_id="fly", spec_hash="h2", backtest=PASS, home=tmp_path,
                          strategy="butterfly")
    assert release.champion(tmp_path)["version"] == perp.version
    assert release.champion(tmp_path, "butterfly")["version"] == fly.version
    assert (tmp_path / "releases" / "champion-butterfly.json").exists()
    assert {r["version"]: r["strategy"] for r in release.list_releases(tmp_path)} == {
        perp.version: "perp", fly.version: "butterfly"}
    with pytest.raises(release.ReleaseRefused, match="is a 'butterfly' bundle"):
        release.set_champion(fly.version, tmp_path)  # a butterfly bundle can never become the perp champion

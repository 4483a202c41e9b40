"""Release bundles under ``<TRADER_HOME>/releases/``: immutable, hashed, with an atomic champion pointer.

Layout of a perp release ``r0001-<run_id>/`` (read-only once written; a butterfly release holds its own
files, see ``trader_core.butterfly``):

    release_manifest.json            every file's sha256, versions, run spec hash, code version, backtest status
    model/<name>/<name>.onnx         the four models (InferenceEngine.from_bundle(<release>/model) loads them)
    model/feature_order.json         the input contract
    model/model_train_manifest.json  metrics of every head
    feature/feature_schema.json, label/price_plan_context.json, pm/position_manager_config.json,
    backtest/backtest_result.json, run_spec.json
    monitoring/reference_profile.json  the fit_inner profile drift is measured against (trader_core.monitoring)

A release is assembled in a temporary folder and renamed into place, so a half-written release never
exists. Promoting a bundle whose content equals an existing release reuses that release (a re-run is
idempotent); any other promotion creates the next version and never overwrites one. Each strategy has
its own champion pointer (``champion.json`` for perp, ``champion-<strategy>.json`` otherwise) naming the
current release and the stack of earlier champions; it is replaced atomically, and ``rollback`` restores
the previous champion. A release's manifest records its strategy; a pointer only accepts its own.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from trader_core import __version__, io, layout
from trader_core.contracts.features import sha256_json
from trader_core.contracts.models import MODELS
from trader_core.contracts.versions import CALIBRATION_BUNDLE_VERSION, MODEL_BUNDLE_VERSION
from trader_core.errors import ArtifactError, TraderError

MANIFEST = "release_manifest.json"
CHAMPION = "champion.json"
DEFAULT_STRATEGY = "perp"


def champion_file(strategy: str = DEFAULT_STRATEGY) -> str:
    """One champion per strategy: ``champion.json`` (perp) or ``champion-<strategy>.json``."""
    return CHAMPION if strategy == DEFAULT_STRATEGY else f"champion-{strategy}.json"


class ReleaseRefused(TraderError):
    """Promotion is refused (backtest not PASS or a bundle file does not match its hash)."""


@dataclass(frozen=True)
class Release:
    version: str
    path: Path
    manifest: dict[str, Any]
    reused: bool


def releases_root(home: Path | None = None) -> Path:
    return (home or layout.trader_home()) / "releases"


def code_version() -> str:
    """Package version plus the git commit of the checkout when there is one."""
    try:
        commit = subprocess.run(["git", "-C", str(layout.PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return f"{__version__}+{commit}"


def bundle_files(run_dir: Path, files: Mapping[str, Path]) -> dict[str, Path]:
    """Release-relative path -> source file, for the models of a run plus the given extra files."""
    out = {f"model/{m.lower()}/{m.lower()}.onnx": layout.model_onnx_path(run_dir, m) for m in MODELS}
    out.update(files)
    missing = [str(p) for p in out.values() if not Path(p).is_file()]
    if missing:
        raise ReleaseRefused(f"release bundle incomplete: missing {missing}")
    return out


def promote(files: Mapping[str, Path], *, run_id: str, spec_hash: str, backtest: Mapping[str, Any],
            home: Path | None = None, strategy: str = DEFAULT_STRATEGY) -> Release:
    """Create (or reuse) the release for ``files`` and make it its strategy's champion. Refuses unless backtest PASS."""
    if backtest.get("status") != "PASS":
        raise ReleaseRefused(f"run {run_id!r}: backtest status {backtest.get('status')!r} "
                             f"({', '.join(backtest.get('status_reasons', [])) or 'no reasons'}); promotion refused")
    root = releases_root(home)
    root.mkdir(parents=True, exist_ok=True)
    hashes = {rel: io.sha256_file(Path(src)) for rel, src in sorted(files.items())}
    content_hash = sha256_json(hashes)
    existing = _find_by_content(root, content_hash)
    if existing is not None:
        set_champion(existing.version, home, strategy)
        return Release(existing.version, existing.path, existing.manifest, reused=True)
    manifest = {
        "model_bundle_version": MODEL_BUNDLE_VERSION, "calibration_bundle_version": CALIBRATION_BUNDLE_VERSION,
        "run_id": run_id, "strategy": strategy, "run_spec_hash": spec_hash, "code_version": code_version(),
        "content_hash": content_hash,
        "backtest_status": backtest["status"], "backtest_metrics": backtest.get("metrics", {}), "files": hashes,
    }
    staging = root / f".staging-{uuid.uuid4().hex}"
    try:
        for rel, src in files.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, staging / rel)
        version = _claim_version(root, run_id, staging, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    path = root / version
    _make_read_only(path)
    set_champion(version, home, strategy)
    return Release(version, path, io.read_json(path / MANIFEST), reused=False)


def _claim_version(root: Path, run_id: str, staging: Path, manifest: dict[str, Any]) -> str:
    """Rename the staged bundle to the next free version (atomic; retried if another process won)."""
    for _ in range(100):
        number = 1 + max((int(p.name[1:5]) for p in root.glob("r[0-9][0-9][0-9][0-9]-*") if p.is_dir()), default=0)
        version = f"r{number:04d}-{run_id}"
        io.write_json(staging / MANIFEST, {**manifest, "version": version})
        try:
            os.rename(staging, root / version)
            return version
        except OSError:
            continue
    raise ArtifactError(f"{root}: could not claim a release version")


def _make_read_only(path: Path) -> None:
    for item in sorted(path.rglob("*"), reverse=True):
        item.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
                                                                   if item.is_dir() else 0))
    path.chmod(0o555)


def _find_by_content(root: Path, content_hash: str) -> Release | None:
    for path in sorted(root.glob("r[0-9][0-9][0-9][0-9]-*")):
        manifest_file = path / MANIFEST
        if manifest_file.is_file():
            manifest = io.read_json(manifest_file)
            if manifest.get("content_hash") == content_hash:
                return Release(path.name, path, manifest, reused=True)
    return None


def verify_release(path: Path) -> dict[str, Any]:
    """Raise ArtifactError unless every file of the release matches its recorded sha256."""
    manifest = io.read_json(Path(path) / MANIFEST)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ArtifactError(f"{Path(path) / MANIFEST}: corrupt release manifest (no 'files' mapping)")
    bad = [rel for rel, sha in manifest["files"].items()
           if not (Path(path) / rel).is_file() or io.sha256_file(Path(path) / rel) != sha]
    if bad:
        raise ArtifactError(f"release {Path(path).name}: file(s) {bad} missing or not matching their sha256")
    return manifest


def champion(home: Path | None = None, strategy: str = DEFAULT_STRATEGY) -> dict[str, Any] | None:
    pointer = releases_root(home) / champion_file(strategy)
    return io.read_json(pointer) if pointer.exists() else None


def set_champion(version: str, home: Path | None = None, strategy: str = DEFAULT_STRATEGY) -> dict[str, Any]:
    """Make ``version`` the strategy's champion (atomic replace of its pointer; the old one goes on the stack)."""
    root = releases_root(home)
    manifest = verify_release(root / version)
    if manifest.get("strategy", DEFAULT_STRATEGY) != strategy:
        raise ReleaseRefused(f"release {version} is a {manifest.get('strategy', DEFAULT_STRATEGY)!r} bundle, not "
                             f"{strategy!r}")
    current = champion(home, strategy) or {"version": None, "previous": []}
    if current["version"] == version:
        return current
    previous = ([current["version"]] if current["version"] else []) + current["previous"]
    pointer = {"version": version, "path": str(root / version), "previous": previous}
    io.write_json(root / champion_file(strategy), pointer)
    return pointer


def rollback(home: Path | None = None, strategy: str = DEFAULT_STRATEGY) -> dict[str, Any]:
    """Restore the strategy's previous champion (atomic); raises when there is none."""
    root = releases_root(home)
    current = champion(home, strategy)
    if not current or not current["previous"]:
        raise ReleaseRefused("no previous champion to roll back to")
    version, rest = current["previous"][0], current["previous"][1:]
    verify_release(root / version)
    pointer = {"version": version, "path": str(root / version), "previous": rest, "rolled_back_from": current["version"]}
    io.write_json(root / champion_file(strategy), pointer)
    return pointer


def list_releases(home: Path | None = None) -> list[dict[str, Any]]:
    root = releases_root(home)
    out = []
    for path in sorted(root.glob("r[0-9][0-9][0-9][0-9]-*")):
        manifest = io.read_json(path / MANIFEST)
        strategy = manifest.get("strategy", DEFAULT_STRATEGY)
        current = (champion(home, strategy) or {}).get("version")
        out.append({"version": path.name, "run_id": manifest["run_id"], "strategy": strategy,
                    "champion": path.name == current,
                    "backtest_status": manifest["backtest_status"], "content_hash": manifest["content_hash"][:12]})
    return out

"""Release bundles under ``<TRADER_HOME>/releases/``: immutable, hashed, with an atomic champion pointer.

Layout of a perp release ``r0001-<run_id>/`` (read-only once written; each strategy declares its bundle,
``Strategy.release_files`` in ``trader_core.strategies``, and its model line's universe and market):

    release_manifest.json            every file's sha256, versions, run spec hash, code version, backtest status,
                                     the model line, the champion it replaced, whether a price-plan change was accepted
    model/<name>/<name>.onnx         the four models (InferenceEngine.from_bundle(<release>/model) loads them)
    model/feature_order.json         the input contract
    model/model_train_manifest.json  metrics of every head
    feature/feature_schema.json, label/price_plan_context.json, pm/position_manager_config.json,
    backtest/backtest_result.json, run_spec.json
    monitoring/reference_profile.json  the fit_inner profile drift is measured against (trader_core.monitoring)

A release is assembled in a temporary folder and renamed into place, so a half-written release never
exists. Promoting a bundle whose content equals an existing release reuses that release (a re-run is
idempotent); any other promotion creates the next version and never overwrites one.

A champion belongs to a **model line** (``model_line``): the ``release.line`` of the run spec, or by
default the strategy, symbol universe and data source, never the window, so the monthly retrains of one
market compete with each other and only within it. Each line has its pointer ``champions/<line>.json``
naming the line's definition, its current release and the stack of earlier champions; it is replaced
atomically, and ``rollback`` restores the line's previous champion. A release's manifest records its
line; a pointer only accepts releases of its own line definition. The one-champion-per-strategy
pointers of earlier versions (``champion.json``, ``champion-<strategy>.json``) are no longer read.

A release promoted as **canary** (``release.promote_as``) leaves the champion in place: the line's
``canaries/<line>.json`` names it with its share of the line's decisions (docs/decide.md, Canary).
``promote_canary`` makes it the champion (the old one goes on the stack, so ``rollback`` restores it) and
``drop_canary`` removes it; a release that becomes champion by any way stops being the canary.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Mapping

from trader_core import __version__, io, layout
from trader_core.config import RunSpec
from trader_core.contracts.features import sha256_json
from trader_core.contracts.versions import CALIBRATION_BUNDLE_VERSION, MODEL_BUNDLE_VERSION
from trader_core.errors import ArtifactError, TraderError
from trader_core.release_manifest import MANIFEST, verify_release
from trader_core.strategies import strategy_of

CHAMPIONS_DIR = "champions"
CANARIES_DIR = "canaries"
DEFAULT_STRATEGY = "perp"


class ReleaseRefused(TraderError):
    """Promotion is refused (backtest not PASS or a bundle file does not match its hash)."""


@dataclass(frozen=True)
class Line:
    """A model line: its name (the pointer's file name) and what it stands for."""

    name: str
    definition: dict[str, Any]


def model_line(spec: RunSpec) -> Line:
    """The line whose champion ``spec`` challenges: ``release.line`` when named, else derived from the strategy,
    symbol universe and source (never the window: the retrains of one market share it)."""
    if spec.release.line:
        return Line(spec.release.line, {"strategy": spec.strategy, "name": spec.release.line})
    strategy = strategy_of(spec)
    definition = {"strategy": spec.strategy, "symbols": sorted(strategy.line_universe(spec)),
                  "source": strategy.line_market(spec)}
    return Line(f"{spec.strategy}-{spec.source.kind}-{sha256_json(definition)[:10]}", definition)


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


def release_files(spec: RunSpec, run_dir: Path) -> dict[str, Path]:
    """The run's release bundle as its strategy declares it (``Strategy.release_files``)."""
    return _complete(strategy_of(spec).release_files(run_dir))


def _complete(files: dict[str, Path]) -> dict[str, Path]:
    missing = [str(p) for p in files.values() if not Path(p).is_file()]
    if missing:
        raise ReleaseRefused(f"release bundle incomplete: missing {missing}")
    return files


def promote(files: Mapping[str, Path], *, run_id: str, spec_hash: str, backtest: Mapping[str, Any], line: Line,
            home: Path | None = None, plan_change_accepted: bool = False,
            canary_share: float | None = None) -> Release:
    """Create (or reuse) the release for ``files`` and make it its line's champion, or with ``canary_share`` its
    canary (the champion stays). Refuses unless backtest PASS, and a canary without a champion to challenge."""
    if backtest.get("status") != "PASS":
        raise ReleaseRefused(f"run {run_id!r}: backtest status {backtest.get('status')!r} "
                             f"({', '.join(backtest.get('status_reasons', [])) or 'no reasons'}); promotion refused")
    current = _line_champion(home, line.name, line.definition, f"run {run_id!r}")
    if canary_share is not None and current["version"] is None:
        raise ReleaseRefused(f"run {run_id!r}: line {line.name!r} has no champion for a canary to challenge; "
                             f"promote it as champion (release.promote_as)")
    point = set_champion if canary_share is None else partial(set_canary, share=canary_share)
    root = releases_root(home)
    root.mkdir(parents=True, exist_ok=True)
    hashes = {rel: io.sha256_file(Path(src)) for rel, src in sorted(files.items())}
    content_hash = sha256_json(hashes)
    existing = _find_by_content(root, content_hash)
    if existing is not None:
        point(existing.version, home)
        return Release(existing.version, existing.path, existing.manifest, reused=True)
    manifest = {
        "model_bundle_version": MODEL_BUNDLE_VERSION, "calibration_bundle_version": CALIBRATION_BUNDLE_VERSION,
        "run_id": run_id, "strategy": line.definition["strategy"], "run_spec_hash": spec_hash,
        "code_version": code_version(), "content_hash": content_hash,
        "line": line.name, "line_definition": line.definition,
        "replaced_champion": current["version"] if canary_share is None else None,
        **({} if canary_share is None else {"canary_of": current["version"]}),
        "plan_change_accepted": plan_change_accepted,
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
    point(version, home)
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


def _pointer_file(root: Path, line: str) -> Path:
    return root / CHAMPIONS_DIR / f"{line}.json"


def champion(home: Path | None, line: str) -> dict[str, Any] | None:
    """The line's champion pointer (version, path, previous, line definition), None before its first release."""
    return _read_pointer(_pointer_file(releases_root(home), line))


def champions(home: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every line's champion pointer, by line name."""
    return _read_pointers(releases_root(home) / CHAMPIONS_DIR)


def _read_pointer(path: Path) -> dict[str, Any] | None:
    return io.read_json(path) if path.exists() else None


def _read_pointers(folder: Path) -> dict[str, dict[str, Any]]:
    """The pointers of a folder by line name (champions or canaries)."""
    return {p.stem: io.read_json(p) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def set_champion(version: str, home: Path | None = None) -> dict[str, Any]:
    """Make ``version`` its line's champion (atomic replace of the line's pointer; the old one goes on the stack)."""
    root = releases_root(home)
    manifest = verify_release(root / version)
    if "line" not in manifest:
        raise ReleaseRefused(f"release {version} records no model line (made before lines existed)")
    line, definition = manifest["line"], manifest["line_definition"]
    current = _line_champion(home, line, definition, f"release {version}")
    if current["version"] != version:
        previous = ([current["version"]] if current["version"] else []) + current["previous"]
        current = _write_pointer(root, line, definition, version, previous=previous)
    if (canary(home, line) or {}).get("version") == version:  # the canary became champion
        _canary_file(root, line).unlink()
    return current


def _line_champion(home: Path | None, line: str, definition: dict[str, Any], what: str) -> dict[str, Any]:
    """The line's pointer (an empty one before its first champion); refuses ``what`` of another line definition."""
    current = champion(home, line) or {"version": None, "previous": [], "definition": definition}
    if current["definition"] != definition:
        raise ReleaseRefused(f"{what} does not belong to line {line!r}: its definition {definition} differs from "
                             f"the line's {current['definition']}")
    return current


def rollback(home: Path | None, line: str) -> dict[str, Any]:
    """Restore the line's previous champion (atomic); raises when there is none."""
    root = releases_root(home)
    current = champion(home, line)
    if not current or not current["previous"]:
        raise ReleaseRefused(f"line {line!r}: no previous champion to roll back to")
    version, rest = current["previous"][0], current["previous"][1:]
    verify_release(root / version)
    return _write_pointer(root, line, current["definition"], version, previous=rest,
                          rolled_back_from=current["version"])


def _write_pointer(root: Path, line: str, definition: dict[str, Any], version: str, *, previous: list[str],
                   **extra: Any) -> dict[str, Any]:
    pointer = {"line": line, "definition": definition, "version": version, "path": str(root / version),
               "previous": previous, **extra}
    io.write_json(_pointer_file(root, line), pointer)
    return pointer


def _canary_file(root: Path, line: str) -> Path:
    return root / CANARIES_DIR / f"{line}.json"


def canary(home: Path | None, line: str) -> dict[str, Any] | None:
    """The line's canary pointer (version, path, share, the champion it challenged), None when it has none."""
    return _read_pointer(_canary_file(releases_root(home), line))


def canaries(home: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every line's canary pointer, by line name."""
    return _read_pointers(releases_root(home) / CANARIES_DIR)


def set_canary(version: str, home: Path | None = None, *, share: float) -> dict[str, Any]:
    """Make ``version`` its line's canary with ``share`` of the decisions (replacing an earlier canary); the
    champion stays. Refused for a line without a champion and for the champion itself."""
    if not 0 < share < 1:
        raise ReleaseRefused(f"release {version}: canary share must be in (0, 1), got {share}")
    root = releases_root(home)
    manifest = verify_release(root / version)
    if "line" not in manifest:
        raise ReleaseRefused(f"release {version} records no model line (made before lines existed)")
    line, definition = manifest["line"], manifest["line_definition"]
    current = _line_champion(home, line, definition, f"release {version}")
    if current["version"] is None:
        raise ReleaseRefused(f"release {version}: line {line!r} has no champion for a canary to challenge")
    if current["version"] == version:
        raise ReleaseRefused(f"release {version} is already the champion of line {line!r}")
    pointer = {"line": line, "definition": definition, "version": version, "path": str(root / version),
               "share": share, "champion": current["version"],
               "replaced_canary": (canary(home, line) or {}).get("version")}
    io.write_json(_canary_file(root, line), pointer)
    return pointer


def _require_canary(home: Path | None, line: str) -> dict[str, Any]:
    pointer = canary(home, line)
    if pointer is None:
        raise ReleaseRefused(f"line {line!r} has no canary")
    return pointer


def promote_canary(home: Path | None, line: str) -> dict[str, Any]:
    """Make the line's canary its champion (the old champion goes on the stack, as any promotion) and clear it."""
    return set_champion(_require_canary(home, line)["version"], home)


def drop_canary(home: Path | None, line: str) -> dict[str, Any]:
    """Remove the line's canary (the champion is untouched); returns the dropped pointer."""
    pointer = _require_canary(home, line)
    _canary_file(releases_root(home), line).unlink()
    return pointer


def resolve_line(home: Path | None, line: str | None) -> str:
    """``line`` when given (it must have a champion), else the only line there is."""
    lines = sorted(champions(home))
    if line is not None and line in lines:
        return line
    if line is None and len(lines) == 1:
        return lines[0]
    if not lines:
        raise ReleaseRefused(f"no model line has a champion under {releases_root(home)}")
    what = f"unknown line {line!r}" if line is not None else "several model lines, choose one with --line"
    raise ReleaseRefused(f"{what}: {', '.join(lines)}")


def list_releases(home: Path | None = None) -> list[dict[str, Any]]:
    root = releases_root(home)
    current = {pointer["version"] for pointer in champions(home).values()}
    shares = {pointer["version"]: pointer["share"] for pointer in canaries(home).values()}
    out = []
    for path in sorted(root.glob("r[0-9][0-9][0-9][0-9]-*")):
        manifest = io.read_json(path / MANIFEST)
        out.append({"version": path.name, "run_id": manifest["run_id"],
                    "strategy": manifest.get("strategy", DEFAULT_STRATEGY), "line": manifest.get("line"),
                    "champion": path.name in current, "canary_share": shares.get(path.name),
                    "backtest_status": manifest["backtest_status"], "content_hash": manifest["content_hash"][:12]})
    return out

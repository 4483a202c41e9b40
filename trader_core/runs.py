"""Run specs on disk: created once, hashed, and locked at the first materialization.

``run_spec.json`` carries its own ``spec_hash``; a hand edit that breaks it is refused. The first
materialization of a run writes ``run_lock.json`` with that hash; afterwards every stage refuses a spec
whose hash differs, so a run's artifacts always come from one spec. A changed spec needs a new run id.
"""

from __future__ import annotations

from pathlib import Path

from trader_core import io, layout
from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping, read_json_object, to_mapping
from trader_core.errors import ConfigError

RUN_LOCK_FILE = "run_lock.json"


def spec_path(run_id: str, home: Path | None = None) -> Path:
    return layout.run_root(run_id, home) / layout.RUN_SPEC_FILE


def spec_changes(old: object, new: object, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two spec mappings, as 'key: old -> new'."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            out += spec_changes(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else key)
        return out
    return [] if old == new else [f"{prefix}: {old!r} -> {new!r}"]


def save_new_spec(spec: RunSpec, home: Path | None = None) -> Path:
    """Write the spec of a new run (refuses to replace an existing one)."""
    path = spec_path(spec.run_id, home)
    if path.exists():
        raise ConfigError(f"run {spec.run_id!r} already has a spec at {path}")
    io.write_json(path, spec.to_dict() | {"spec_hash": spec.spec_hash})
    return path


def load_spec(run_id: str, home: Path | None = None) -> RunSpec:
    """Load a run's spec, verifying its self-hash and the run lock."""
    path = spec_path(run_id, home)
    if not path.exists():
        raise ConfigError(f"run {run_id!r} has no run spec at {path}; create it with `trader run {run_id}`")
    data = read_json_object(path, "run spec")
    stored_hash = data.pop("spec_hash", None)
    spec = from_mapping(RunSpec, data)
    if spec.run_id != run_id:
        raise ConfigError(f"{path}: run_id {spec.run_id!r} does not match the run {run_id!r}")
    if stored_hash is not None and stored_hash != spec.spec_hash:
        raise ConfigError(f"{path}: edited by hand (content hash {spec.spec_hash[:12]} != recorded "
                          f"{stored_hash[:12]}); a changed spec needs a new run id")
    lock = layout.run_root(run_id, home) / RUN_LOCK_FILE
    if lock.exists():
        locked = io.read_json(lock)
        if locked.get("spec_hash") != spec.spec_hash:
            changes = spec_changes(locked.get("spec", {}), to_mapping(spec))
            raise ConfigError(f"run {run_id!r} was materialized with another spec (changed: {'; '.join(changes)}); "
                              "a changed spec needs a new run id")
    return spec


def lock_spec(spec: RunSpec, home: Path | None = None) -> None:
    """Record the spec a run is materialized with (first time only)."""
    lock = layout.run_root(spec.run_id, home) / RUN_LOCK_FILE
    if not lock.exists():
        io.write_json(lock, {"spec_hash": spec.spec_hash, "spec": spec.to_dict()})

"""Run registration: the one way a run id gets its stored spec, for the CLI, the sensor and the UI's job.

A new run id gets the defaults merged with the given sections (section by section, ``merge_sections``) and
its spec written once; an existing run id reuses its stored spec and refuses any section that would change
it, because its split boundaries are locked (docs/splits.md). Every refusal is one ConfigError line, so the
CLI and the UI show the same text. The Dagster partition is added by the caller (trader_assets.registration).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from trader_core import runs
from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping, merge_sections, to_mapping
from trader_core.errors import ConfigError
from trader_core.market.sources import SOURCES


@dataclass(frozen=True)
class Registration:
    """The run's stored spec and whether this registration wrote it."""

    spec: RunSpec
    created: bool


def default_sections(run_id: str) -> dict[str, Any]:
    """Every run spec section at its default (the run id validated, not included)."""
    return spec_sections(RunSpec(run_id=run_id))


def stored_sections(run_id: str, *, home: Path) -> dict[str, Any] | None:
    """The stored spec's sections of ``run_id``, or None for a new run id."""
    return spec_sections(runs.load_spec(run_id, home)) if runs.spec_path(run_id, home).exists() else None


def register_run(*, run_id: str, sections: Mapping[str, Any], home: Path) -> Registration:
    """Create or reuse the spec of ``run_id``: ``sections`` merged onto the stored spec (or the defaults).

    Refused (ConfigError, one line, nothing written) for a change to an existing run's spec, unknown keys, an
    invalid value, a source kind without an adapter, and a data path that does not exist.
    """
    stored = stored_sections(run_id, home=home)
    if stored is None:
        spec = new_spec(run_id=run_id, sections=sections)
        runs.save_new_spec(spec, home)
        return Registration(spec=spec, created=True)
    spec = _merged(run_id, stored, sections)
    changes = runs.spec_changes(stored, spec_sections(spec))
    if changes:
        raise ConfigError(f"run {run_id!r} exists with a different spec ({'; '.join(changes)}); "
                          "its splits are locked: use a new run id")
    return Registration(spec=spec, created=False)


def new_spec(*, run_id: str, sections: Mapping[str, Any]) -> RunSpec:
    """The spec a new run id would get (nothing written): defaults merged with ``sections``, its source readable."""
    spec = _merged(run_id, default_sections(run_id), sections)
    if spec.source.kind not in SOURCES:
        raise ConfigError(f"source.kind: no adapter for {spec.source.kind!r} in this version; "
                          f"available: {sorted(SOURCES)}")
    if spec.source.path and not Path(spec.source.path).exists():
        raise ConfigError(f"source.path: {spec.source.path} does not exist")
    return spec


def _merged(run_id: str, base: Mapping[str, Any], sections: Mapping[str, Any]) -> RunSpec:
    if "run_id" in sections:
        raise ConfigError(f"run {run_id!r}: the sections must not hold run_id (the run id is given apart)")
    return from_mapping(RunSpec, {"run_id": run_id, **merge_sections(base, sections)})


def spec_sections(spec: RunSpec) -> dict[str, Any]:
    """The sections of ``spec`` (all but its run id), e.g. to register a spec built elsewhere."""
    return {key: value for key, value in to_mapping(spec).items() if key != "run_id"}

"""The run a stage works for: id, artifact folder, data root and its spec, loaded once per step."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trader_core import runs
from trader_core.config import RunSpec
from trader_core.layout import run_root


@dataclass(frozen=True)
class RunContext:
    """What a stage needs to know about its run; built once per step so the spec is read and verified once."""

    run_id: str
    run_dir: Path
    home: Path
    spec: RunSpec

    @classmethod
    def load(cls, run_id: str, home: Path) -> RunContext:
        """The run's context, its spec verified against its self-hash and the run lock (``runs.load_spec``)."""
        return cls(run_id=run_id, run_dir=run_root(run_id, home), home=home, spec=runs.load_spec(run_id, home))

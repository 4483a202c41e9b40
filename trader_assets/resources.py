"""Resources: the data root and the run specs stored in it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from trader_core import runs
from trader_core.config import RunSpec
from trader_core.layout import run_root, trader_home
from trader_core.run_context import RunContext


class TraderHome(dg.ConfigurableResource):
    """The data root (``$TRADER_HOME``, default ``data/`` in the checkout) and per-run specs."""

    home: str = ""

    @property
    def path(self) -> Path:
        return Path(self.home).resolve() if self.home else trader_home()

    def run_dir(self, run_id: str) -> Path:
        return run_root(run_id, self.path)

    def run_spec(self, run_id: str) -> RunSpec:
        """The run's spec, verified against its self-hash and the run lock."""
        return runs.load_spec(run_id, self.path)

    def context(self, run_id: str) -> RunContext:
        """The run's context for one step: its spec is loaded (and verified) once, here."""
        return RunContext.load(run_id, self.path)

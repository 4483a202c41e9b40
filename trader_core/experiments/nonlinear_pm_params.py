"""The nonlinear PM probe's arguments (docs/experiments.md, "Nonlinear PM probe").

Kept apart from the experiment (and its model libraries) so that the Dagster layer builds the launchpad config
without loading them (docs/layers.md, "Lazy imports")."""

from __future__ import annotations

import math
from dataclasses import dataclass

from trader_core.errors import ConfigError

MODES = ("direction_entry_tree", "entry_tree_only")
ENTRY_FILTERS = ("direction_label", "side_opportunity")


@dataclass(frozen=True)
class NonlinearPmParams:
    """Defaults (docs/experiments.md, "Nonlinear PM probe")."""

    probe_mode: str = "direction_entry_tree"
    entry_train_filter: str = "direction_label"
    entry_opportunity_bps: float = 40.0
    min_fit_rows: int = 1000

    def __post_init__(self) -> None:
        if self.probe_mode not in MODES:
            raise ConfigError(f"probe_mode: expected one of {MODES}, got {self.probe_mode!r}")
        if self.entry_train_filter not in ENTRY_FILTERS:
            raise ConfigError(f"entry_train_filter: expected one of {ENTRY_FILTERS}, got {self.entry_train_filter!r}")
        bps = self.entry_opportunity_bps
        if isinstance(bps, bool) or not isinstance(bps, (int, float)) or not math.isfinite(bps):
            raise ConfigError(f"entry_opportunity_bps: expected a finite number, got {bps!r}")
        if isinstance(self.min_fit_rows, bool) or not isinstance(self.min_fit_rows, int) or self.min_fit_rows < 2:
            raise ConfigError(f"min_fit_rows: expected an integer >= 2, got {self.min_fit_rows!r}")

    @property
    def stem(self) -> str:
        return "nonlinear_pm_probe" + ("" if self.probe_mode == "direction_entry_tree" else f"_{self.probe_mode}")

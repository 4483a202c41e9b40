"""The good-trade structure's arguments (docs/experiments.md, "Good-trade structure").

Kept apart from the experiment (and its model libraries) so that the Dagster layer builds the launchpad config
without loading them (docs/layers.md, "Lazy imports")."""

from __future__ import annotations

import math
from dataclasses import dataclass

from trader_core.errors import ConfigError
from trader_core.experiments.param_checks import check_count, check_fractions


@dataclass(frozen=True)
class GoodTradeParams:
    """Defaults (docs/experiments.md, "Good-trade structure")."""

    min_good_edge_bps: float = 3.0
    bad_edge_bps: float = -3.0
    top_fractions: tuple[float, ...] = (0.01, 0.05, 0.10)
    min_auc_rows: int = 1000

    def __post_init__(self) -> None:
        for name in ("min_good_edge_bps", "bad_edge_bps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"{name}: expected a finite number, got {value!r}")
        object.__setattr__(self, "top_fractions", check_fractions("top_fractions", self.top_fractions))
        check_count("min_auc_rows", self.min_auc_rows, 2)

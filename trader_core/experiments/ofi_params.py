"""The OFI experiment's arguments (docs/experiments.md, "OFI experiment").

Kept apart from the experiment (and its model libraries) so that the Dagster layer builds the launchpad config
without loading them (docs/layers.md, "Lazy imports")."""

from __future__ import annotations

from dataclasses import dataclass

from trader_core.errors import ConfigError


@dataclass(frozen=True)
class OfiParams:
    """Defaults (docs/experiments.md, "OFI experiment"): LogisticRegression(max_iter=500), HuberRegressor(0.001, 1.35, 500), no row cap."""

    max_rows_per_split: int = 0  # 0 = all rows; else the last N rows of each split by event_time
    logistic_max_iter: int = 500
    huber_alpha: float = 0.001
    huber_epsilon: float = 1.35
    huber_max_iter: int = 500

    def __post_init__(self) -> None:
        for name, low in (("max_rows_per_split", 0), ("logistic_max_iter", 1), ("huber_max_iter", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"ofi.{name}: expected an integer >= {low}, got {value!r}")
        if not self.huber_alpha >= 0:
            raise ConfigError(f"ofi.huber_alpha: must be >= 0, got {self.huber_alpha}")
        if not self.huber_epsilon > 1.0:
            raise ConfigError(f"ofi.huber_epsilon: must be > 1, got {self.huber_epsilon}")

"""The entry screens' arguments (docs/experiments.md, "Entry feature screen" and "Entry condition-pair
screen").

Kept apart from the experiment (and its model libraries) so that the Dagster layer builds the launchpad config
without loading them (docs/layers.md, "Lazy imports")."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from trader_core.errors import ConfigError


def _min_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name}: must be an integer >= 1, got {value!r}")


@dataclass(frozen=True)
class FeatureScreenParams:
    min_bucket_rows: int = 300

    def __post_init__(self) -> None:
        _min_count("min_bucket_rows", self.min_bucket_rows)


@dataclass(frozen=True)
class PairScreenParams:
    min_seed_rows: int = 300
    min_pair_rows: int = 150
    max_seed_conditions_per_side: int = 32
    max_buckets_per_feature: int = 2

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            _min_count(name, value)

"""The price-plan and dynamic exit searches' grids (docs/experiments.md, "Price-plan search" and "Dynamic exit
search").

Kept apart from the experiment (and its model libraries) so that the Dagster layer builds the launchpad config
without loading them (docs/layers.md, "Lazy imports")."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trader_core.errors import ConfigError


def _positive_axis(name: str, values: Sequence[float], *, allow_zero: bool = False) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    if not out:
        raise ConfigError(f"{name}: the grid axis is empty")
    if any(not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero) for v in out):
        raise ConfigError(f"{name}: every value must be finite and {'>= 0' if allow_zero else '> 0'}, got {out}")
    return out


def _horizon_axis(name: str, values: Sequence[int]) -> tuple[int, ...]:
    out = tuple(values)
    if not out:
        raise ConfigError(f"{name}: the grid axis is empty")
    if any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in out):
        raise ConfigError(f"{name}: every horizon must be an integer >= 1, got {out}")
    return tuple(int(h) for h in out)


@dataclass(frozen=True)
class PricePlanSearchParams:
    """The price-plan grid (docs/experiments.md, "Price-plan search"). ``horizon_minutes`` None = max hold."""

    targets_bps: tuple[float, ...] = (20.0, 30.0, 40.0, 60.0, 80.0)
    stops_bps: tuple[float, ...] = (10.0, 15.0, 20.0, 30.0, 40.0)
    horizon_minutes: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets_bps", _positive_axis("targets_bps", self.targets_bps))
        object.__setattr__(self, "stops_bps", _positive_axis("stops_bps", self.stops_bps))
        if self.horizon_minutes is not None:
            _horizon_axis("horizon_minutes", (self.horizon_minutes,))


@dataclass(frozen=True)
class DynamicExitParams:
    """Dynamic exit default grid (docs/experiments.md, "Dynamic exit search"): 3 horizons x 3 targets x 3 stops x 3 trails x 1 x 1 x 1 = 81 plans."""

    horizons: tuple[int, ...] = (30, 45, 60)
    targets_bps: tuple[float, ...] = (8.0, 12.0, 16.0)
    stops_bps: tuple[float, ...] = (4.0, 6.0, 8.0)
    trailing_stops_bps: tuple[float, ...] = (4.0, 8.0, 12.0)
    second_target_multipliers: tuple[float, ...] = (2.0,)
    take1_ratios: tuple[float, ...] = (0.50,)
    take2_ratios: tuple[float, ...] = (0.25,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "horizons", _horizon_axis("horizons", self.horizons))
        for name in ("targets_bps", "stops_bps", "second_target_multipliers"):
            object.__setattr__(self, name, _positive_axis(name, getattr(self, name)))
        for name in ("trailing_stops_bps", "take1_ratios", "take2_ratios"):
            object.__setattr__(self, name, _positive_axis(name, getattr(self, name), allow_zero=True))
        for name in ("take1_ratios", "take2_ratios"):
            if any(v > 1 for v in getattr(self, name)):
                raise ConfigError(f"{name}: ratios must be in [0, 1], got {getattr(self, name)}")

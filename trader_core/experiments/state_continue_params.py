"""The state-continue experiment's arguments (docs/experiments.md, "State continue"), apart from its rows and
models so both can read them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from trader_core.config import ContinueLabelConfig
from trader_core.errors import ConfigError

REGRESSOR_KINDS = ("huber", "ridge")


def parse_ages(value: str | Sequence[int]) -> tuple[int, ...]:
    """Sorted unique positive ages from ``"5,15,30"`` or a sequence; anything else raises ConfigError."""
    items = value.split(",") if isinstance(value, str) else list(value)
    ages = []
    for item in items:
        try:
            age = int(str(item).strip()) if not isinstance(item, (bool, float)) else None
        except ValueError:
            age = None
        if age is None or age <= 0:
            raise ConfigError(f"state_continue.ages_minutes: expected positive integers, got {value!r}")
        ages.append(age)
    if not ages:
        raise ConfigError("state_continue.ages_minutes: at least one age is required")
    return tuple(sorted(set(ages)))


@dataclass(frozen=True)
class StateContinueParams:
    """The experiment's arguments with their defaults; ``ages_minutes`` accepts ``"5,15,30"`` or a sequence."""

    ages_minutes: str | tuple[int, ...] = (5, 15, 30)
    max_rows_per_split: int = 0  # 0 = all rows; else the last N rows of each split by event_time
    regressor_kind: str = "huber"
    ridge_alpha: float = 10.0
    huber_alpha: float = 0.001
    huber_epsilon: float = 1.35
    huber_max_iter: int = 1000
    regression_target_clip_bps: float = 0.0  # 0 = off
    continue_horizon_minutes: int = ContinueLabelConfig.horizon_minutes
    min_continue_edge_bps: float = ContinueLabelConfig.min_expected_continue_edge_bps

    def __post_init__(self) -> None:
        object.__setattr__(self, "ages_minutes", parse_ages(self.ages_minutes))
        check_regressor(self.regressor_kind)
        for name in ("max_rows_per_split", "huber_max_iter", "continue_horizon_minutes"):
            value, low = getattr(self, name), 0 if name == "max_rows_per_split" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"state_continue.{name}: expected an integer >= {low}, got {value!r}")
        for name, ok in (("ridge_alpha", self.ridge_alpha > 0), ("huber_alpha", self.huber_alpha >= 0),
                         ("huber_epsilon", self.huber_epsilon > 1.0),
                         ("regression_target_clip_bps", self.regression_target_clip_bps >= 0),
                         ("min_continue_edge_bps", math.isfinite(self.min_continue_edge_bps))):
            if not ok:
                raise ConfigError(f"state_continue.{name}: out of range: {getattr(self, name)!r}")


def check_regressor(kind: str) -> None:
    if kind not in REGRESSOR_KINDS:
        raise ConfigError(f"state_continue.regressor_kind: must be one of {REGRESSOR_KINDS}, got {kind!r}")

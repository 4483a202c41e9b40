"""The split plan (its own module so strategy configs can use it without importing the run spec)."""

from __future__ import annotations

from dataclasses import dataclass

from trader_core.errors import require as _require




@dataclass(frozen=True)
class SplitPlan:
    """Chronological split plan: day-aligned fractions of the window plus an embargo before each later split."""

    fit_fraction: float = 0.60
    tune_fraction: float = 0.15
    validation_fraction: float = 0.125
    stress_fraction: float = 0.125
    embargo_minutes: int = 60

    @property
    def fractions(self) -> tuple[float, float, float, float]:
        return (self.fit_fraction, self.tune_fraction, self.validation_fraction, self.stress_fraction)

    def __post_init__(self) -> None:
        _require(all(f > 0 for f in self.fractions), "split", "every split fraction must be > 0")
        _require(abs(sum(self.fractions) - 1.0) < 1e-9, "split", f"fractions must sum to 1, got {sum(self.fractions)}")
        # up to 60 days: daily strategies (the butterfly's 30-45 day labels) need an embargo of their longest horizon
        _require(0 <= self.embargo_minutes <= 60 * 1440, "split.embargo_minutes", "must be in [0, 86400]")

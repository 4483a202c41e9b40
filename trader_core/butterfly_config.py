"""ButterflyConfig: the butterfly strategy's typed, frozen configuration (defaults = the seed's where it has one).

Sections: ``synthetic`` (the synthetic market), ``pricing`` (strikes, DTE, Black-Scholes), ``sampling``
(volatility-regime stratified sample dates), ``model`` (logistic regression), ``decision`` (trade rule and
the backtest's PASS rule) and ``split`` (the project's SplitPlan, with a 45-day embargo by default).
Load from JSON-like data with ``trader_core.config_mapping.from_mapping(ButterflyConfig, data)`` (unknown keys are
rejected with their dotted path); every invalid value raises ConfigError naming ``butterfly.<section>.<field>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from trader_core.contracts.butterfly import MIN_HISTORY_ROWS, VIX_HIGH, VIX_LOW, evaluation_days
from trader_core.errors import ConfigError
from trader_core.split_plan import SplitPlan

MINUTES_PER_DAY = 1440
DEFAULT_SYMBOLS: tuple[str, ...] = tuple(f"SYN{i:02d}" for i in range(1, 21))


def _require(cond: bool, key: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"butterfly.{key}: {message}")


@dataclass(frozen=True)
class SyntheticSection:
    """The synthetic daily market (``trader_core.butterfly.market``): 20 tickers x 2016 trading days (8 years, so
    each sealed split spans about a year)."""

    seed: int = 7
    signal: float = 1.0
    start: str = "2021-01-04"
    trading_days: int = 2016
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS

    def __post_init__(self) -> None:
        _require(self.seed >= 0, "synthetic.seed", f"must be >= 0, got {self.seed}")
        _require(self.signal >= 0, "synthetic.signal", f"must be >= 0, got {self.signal}")
        _require(self.trading_days >= 2 * MIN_HISTORY_ROWS, "synthetic.trading_days",
                 f"must be >= {2 * MIN_HISTORY_ROWS}, got {self.trading_days}")
        _require(len(self.symbols) > 0, "synthetic.symbols", "at least one symbol is required")
        _require(len(set(self.symbols)) == len(self.symbols), "synthetic.symbols",
                 f"duplicates in {list(self.symbols)}")
        _require(all(isinstance(s, str) and s.strip() for s in self.symbols), "synthetic.symbols",
                 "every symbol must be a non-empty string")
        try:
            ts = pd.Timestamp(self.start)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"butterfly.synthetic.start: cannot parse {self.start!r} ({exc})") from exc
        _require(ts == ts.normalize(), "synthetic.start", f"must be a date (00:00), got {self.start!r}")


@dataclass(frozen=True)
class PricingSection:
    """Strikes: center = spot on the strike grid, wings = center -+ wing_k spot hv sqrt(DTE/365) (grid-rounded);
    DTE per sample uniform in [dte_min, dte_max]; Black-Scholes with a constant rate."""

    hv_window: int = 20
    wing_k: float = 1.0
    risk_free_rate: float = 0.0
    dte_min: int = 30
    dte_max: int = 45

    def __post_init__(self) -> None:
        _require(2 <= self.hv_window < MIN_HISTORY_ROWS, "pricing.hv_window",
                 f"must be in [2, {MIN_HISTORY_ROWS - 1}], got {self.hv_window}")
        _require(0 < self.wing_k <= 5, "pricing.wing_k", f"must be in (0, 5], got {self.wing_k}")
        _require(-0.05 <= self.risk_free_rate <= 0.25, "pricing.risk_free_rate",
                 f"must be in [-0.05, 0.25], got {self.risk_free_rate}")
        _require(7 <= self.dte_min <= self.dte_max <= 60, "pricing.dte_min/dte_max",
                 f"need 7 <= dte_min <= dte_max <= 60, got {self.dte_min}..{self.dte_max}")

    @property
    def longest_horizon_days(self) -> int:
        """Calendar days from the analysis date to the latest evaluation date."""
        return int(evaluation_days(self.dte_max))


@dataclass(frozen=True)
class SamplingSection:
    """Sample dates per volatility regime (the seed's 40/60/40), each x the universe size."""

    seed: int = 7
    low_days: int = 40
    normal_days: int = 60
    high_days: int = 40
    low_threshold: float = VIX_LOW
    high_threshold: float = VIX_HIGH

    def __post_init__(self) -> None:
        for name in ("low_days", "normal_days", "high_days"):
            _require(getattr(self, name) >= 0, f"sampling.{name}", f"must be >= 0, got {getattr(self, name)}")
        _require(self.low_days + self.normal_days + self.high_days > 0, "sampling", "at least one sample day")
        _require(self.seed >= 0, "sampling.seed", f"must be >= 0, got {self.seed}")
        _require(0 < self.low_threshold < self.high_threshold, "sampling.low_threshold/high_threshold",
                 f"need 0 < low < high, got {self.low_threshold}, {self.high_threshold}")

    @property
    def counts(self) -> tuple[int, int, int]:
        return (self.low_days, self.normal_days, self.high_days)


@dataclass(frozen=True)
class ModelSection:
    """Multinomial logistic regression with balanced class weights on standardized features."""

    logistic_c: float = 1.0
    max_iter: int = 2000

    def __post_init__(self) -> None:
        _require(self.logistic_c > 0, "model.logistic_c", f"must be > 0, got {self.logistic_c}")
        _require(self.max_iter > 0, "model.max_iter", f"must be > 0, got {self.max_iter}")


@dataclass(frozen=True)
class DecisionSection:
    """Trade rule (E[ROI] > min_expected_roi, top max_trades_per_day per day) and the backtest PASS rule."""

    min_expected_roi: float = 0.15
    max_trades_per_day: int = 5
    min_trades: int = 20
    min_excess_t: float = 2.0

    def __post_init__(self) -> None:
        _require(self.max_trades_per_day >= 1, "decision.max_trades_per_day",
                 f"must be >= 1, got {self.max_trades_per_day}")
        _require(self.min_trades >= 1, "decision.min_trades", f"must be >= 1, got {self.min_trades}")
        _require(self.min_excess_t >= 0, "decision.min_excess_t", f"must be >= 0, got {self.min_excess_t}")


@dataclass(frozen=True)
class ButterflySplitPlan(SplitPlan):
    """The project's split plan with a 45-day default embargo (>= the 40-day longest label horizon)."""

    embargo_minutes: int = 45 * MINUTES_PER_DAY


@dataclass(frozen=True)
class ButterflyConfig:
    synthetic: SyntheticSection = field(default_factory=SyntheticSection)
    pricing: PricingSection = field(default_factory=PricingSection)
    sampling: SamplingSection = field(default_factory=SamplingSection)
    model: ModelSection = field(default_factory=ModelSection)
    decision: DecisionSection = field(default_factory=DecisionSection)
    split: ButterflySplitPlan = field(default_factory=ButterflySplitPlan)

    def __post_init__(self) -> None:
        _require(self.split.embargo_minutes >= self.longest_horizon_minutes, "split.embargo_minutes",
                 f"{self.split.embargo_minutes} is shorter than the longest label horizon "
                 f"({self.longest_horizon_minutes} min = {self.pricing.longest_horizon_days} days)")

    @property
    def longest_horizon_minutes(self) -> int:
        return self.pricing.longest_horizon_days * MINUTES_PER_DAY

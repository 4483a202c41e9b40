"""Typed, frozen configs with seed defaults, strict loading and canonical hashing.

``from_mapping(cls, data)`` builds a (nested) frozen dataclass from JSON-like data. Unknown keys are
rejected with the full dotted key path; missing keys take the defaults, so a file that only sets
``{"labels": {"entry": {"min_expected_net_edge_bps": 3.0}}}`` still yields every default section
(docs/labels.md, "Label config": merged section by section). ``config_hash`` is the sha256 of the canonical JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from trader_core.contracts.labels import ENTRY_TARGET_METHODS, PLAN_METHODS
from trader_core.contracts.versions import RUN_SPEC_VERSION
from trader_core.errors import ConfigError
from trader_core.errors import require as _require
from trader_core.butterfly_config import ButterflyConfig
from trader_core.config_mapping import OMIT_DEFAULT, config_hash, from_mapping, read_json_object, to_mapping
from trader_core.split_plan import SplitPlan

SOURCE_KINDS = ("synthetic", "csv", "binance-vision", "binance-feed", "lake", "landed")
#: Bar-file layouts of the ``csv`` source (readers in ``trader_core.market.bar_files``; see docs/data.md).
BAR_LAYOUTS = ("bar-csv", "binance-kline-csv", "freqtrade-json", "freqtrade-feather")




# --------------------------------------------------------------------------------------------- labels
@dataclass(frozen=True)
class DirectionLabelConfig:
    horizon_minutes: int = 45
    long_threshold_bps: float = 5.0
    short_threshold_bps: float = -5.0


@dataclass(frozen=True)
class EntryLabelConfig:
    max_hold_minutes: int = 45
    target_bps: float = 12.0
    stop_bps: float = 8.0
    min_expected_net_edge_bps: float = 3.0
    plan_method: str = "FIXED_TARGET_STOP_V1"
    target_method: str = "PRICE_PLAN_OUTCOME_V1"
    min_plan_net_edge_bps: float = 0.0
    max_entry_mae_bps: float = 12.0
    partial_take_1_ratio: float = 0.50
    partial_take_2_ratio: float = 0.25
    second_target_bps: float = 24.0
    trailing_stop_bps: float = 10.0
    breakeven_after_first_target: bool = True
    #: Stop fills (docs/labels.md "Stop fills"): a bar that overshoots its stop (or the gap-through open) by more
    #: than the allowance fills the stop this share of the excess further away, so gap risk reaches the labels.
    stop_fill_excess_share: float = 0.5
    stop_slippage_allowance_bps: float = 10.0


@dataclass(frozen=True)
class ContinueLabelConfig:
    horizon_minutes: int = 45
    min_expected_continue_edge_bps: float = 5.0


@dataclass(frozen=True)
class ExitLabelConfig:
    horizon_minutes: int = 45
    adverse_move_bps: float = 20.0
    stagnation_abs_return_bps: float = 5.0


@dataclass(frozen=True)
class RiskLabelConfig:
    horizon_minutes: int = 45
    market_drawdown_bps: float = 60.0
    position_path_risk_bps: float = 35.0
    vol_expansion_ratio: float = 1.8
    spike_bps: float = 80.0


@dataclass(frozen=True)
class LabelConfig:
    """Label config defaults (docs/labels.md, "Label config")."""

    direction: DirectionLabelConfig = field(default_factory=DirectionLabelConfig)
    entry: EntryLabelConfig = field(default_factory=EntryLabelConfig)
    continue_: ContinueLabelConfig = field(default_factory=ContinueLabelConfig, metadata={"key": "continue"})
    exit: ExitLabelConfig = field(default_factory=ExitLabelConfig)
    risk: RiskLabelConfig = field(default_factory=RiskLabelConfig)

    @property
    def longest_horizon_minutes(self) -> int:
        """The longest forward window any label looks at; the split embargo must cover it."""
        return max(self.direction.horizon_minutes, self.entry.max_hold_minutes, self.continue_.horizon_minutes,
                   self.exit.horizon_minutes, self.risk.horizon_minutes)

    def __post_init__(self) -> None:
        for name in ("direction", "continue", "exit", "risk"):
            section = self.continue_ if name == "continue" else getattr(self, name)
            _require(1 <= section.horizon_minutes <= 1440, f"labels.{name}.horizon_minutes",
                     f"must be in [1, 1440], got {section.horizon_minutes}")
        _require(1 <= self.entry.max_hold_minutes <= 1440, "labels.entry.max_hold_minutes",
                 f"must be in [1, 1440], got {self.entry.max_hold_minutes}")
        _require(self.entry.plan_method in PLAN_METHODS, "labels.entry.plan_method",
                 f"must be one of {list(PLAN_METHODS)}, got {self.entry.plan_method!r}")
        _require(self.entry.target_method in ENTRY_TARGET_METHODS, "labels.entry.target_method",
                 f"must be one of {list(ENTRY_TARGET_METHODS)}, got {self.entry.target_method!r}")
        _require(self.entry.target_bps > 0, "labels.entry.target_bps", "must be > 0")
        _require(self.entry.stop_bps > 0, "labels.entry.stop_bps", "must be > 0")
        _require(0.0 <= self.entry.stop_fill_excess_share <= 1.0, "labels.entry.stop_fill_excess_share",
                 f"must be in [0, 1], got {self.entry.stop_fill_excess_share}")
        _require(self.direction.long_threshold_bps >= self.direction.short_threshold_bps,
                 "labels.direction", "long_threshold_bps must be >= short_threshold_bps")
        # distances and ratios (checked here, before any stage writes a plan or labels built from them)
        for key, value, strict in (("entry.second_target_bps", self.entry.second_target_bps, True),
                                   ("entry.trailing_stop_bps", self.entry.trailing_stop_bps, False),
                                   ("entry.max_entry_mae_bps", self.entry.max_entry_mae_bps, False),
                                   ("entry.stop_slippage_allowance_bps", self.entry.stop_slippage_allowance_bps, False),
                                   ("exit.adverse_move_bps", self.exit.adverse_move_bps, True),
                                   ("exit.stagnation_abs_return_bps", self.exit.stagnation_abs_return_bps, False),
                                   ("risk.market_drawdown_bps", self.risk.market_drawdown_bps, True),
                                   ("risk.position_path_risk_bps", self.risk.position_path_risk_bps, True),
                                   ("risk.vol_expansion_ratio", self.risk.vol_expansion_ratio, True),
                                   ("risk.spike_bps", self.risk.spike_bps, True)):
            _require(value > 0 if strict else value >= 0, f"labels.{key}",
                     f"must be {'>' if strict else '>='} 0, got {value}")


@dataclass(frozen=True)
class CostConfig:
    """DEFAULT_COST_CONFIG: total 6.5 bps per round trip (docs/labels.md, "Label config"), the flat reference of the cost model.

    The original design fixed only the total and funding (0.5); the fee/slippage split is our decision: 4.0 bps of
    taker fees for entry + exit and 2.0 bps of slippage. Labels, the PM search and the backtest charge the
    cost model (trader_core/costs.py, docs/trading.md "Cost model"): the fee always, slippage_bps / 2 only for
    a leg without a quoted spread, funding_cost_bps only for a trade without a funding table. ``cost_bps`` is
    the plan's ``costBps`` (predicted edge, sizing budget) and the cost of the plan-search experiments.
    """

    fee_bps: float = 4.0
    slippage_bps: float = 2.0
    funding_cost_bps: float = 0.5

    @property
    def cost_bps(self) -> float:
        return self.fee_bps + self.slippage_bps + self.funding_cost_bps

    def __post_init__(self) -> None:
        for name in ("fee_bps", "slippage_bps", "funding_cost_bps"):
            _require(getattr(self, name) >= 0, f"costs.{name}", "must be >= 0")


# ---------------------------------------------------------------------------------------------- models
CONDITIONAL_ENTRY_SOURCES = ("none", "direction_label", "side_opportunity")


@dataclass(frozen=True)
class ModelConfig:
    """Head training (docs/models.md, "Training"): logistic / Huber settings and the conditional ENTRY fit filter."""

    logistic_max_iter: int = 500
    logistic_c: float = 1.0
    huber_alpha: float = 0.001
    huber_epsilon: float = 1.35
    huber_max_iter: int = 500
    conditional_entry_source: str = "none"
    conditional_entry_opportunity_bps: float = 40.0
    conditional_entry_min_fit_rows: int = 1000
    max_rows: int = 0

    def __post_init__(self) -> None:
        _require(self.conditional_entry_source in CONDITIONAL_ENTRY_SOURCES, "models.conditional_entry_source",
                 f"must be one of {list(CONDITIONAL_ENTRY_SOURCES)}, got {self.conditional_entry_source!r}")
        _require(self.logistic_max_iter > 0 and self.huber_max_iter > 0, "models", "max_iter must be > 0")
        _require(self.logistic_c > 0, "models.logistic_c", "must be > 0")
        _require(self.huber_epsilon > 1.0, "models.huber_epsilon", "must be > 1.0")
        _require(self.huber_alpha >= 0, "models.huber_alpha", "must be >= 0")
        _require(self.conditional_entry_min_fit_rows >= 1, "models.conditional_entry_min_fit_rows", "must be >= 1")
        _require(self.max_rows >= 0, "models.max_rows", "must be >= 0 (0 = all rows)")


# ------------------------------------------------------------------------------------------ run spec
@dataclass(frozen=True)
class SourceSpec:
    """Where the raw market comes from. ``seed``/``signal``/``depth_levels``/``volatility_regimes`` apply to the
    synthetic source (see ``trader_core.market.synthetic``)."""

    kind: str = "synthetic"
    path: str | None = None
    seed: int = 7
    signal: float = 2.0
    depth_levels: int = 10
    volatility_regimes: bool = True
    #: ``csv`` source only: the bar-file layout, one of ``BAR_LAYOUTS``; None = detected from the file content.
    layout: str | None = None

    def __post_init__(self) -> None:
        _require(self.kind in SOURCE_KINDS, "source.kind", f"must be one of {list(SOURCE_KINDS)}, got {self.kind!r}")
        _require(self.layout is None or self.layout in BAR_LAYOUTS, "source.layout",
                 f"must be one of {list(BAR_LAYOUTS)} (or absent: detected), got {self.layout!r}")
        _require(self.layout is None or self.kind == "csv", "source.layout",
                 f"applies to source 'csv' only, not {self.kind!r}")
        _require(self.kind == "synthetic" or bool(self.path), "source.path", f"is required for source {self.kind!r}")
        _require(self.signal >= 0, "source.signal", f"must be >= 0, got {self.signal}")
        _require(1 <= self.depth_levels <= 20, "source.depth_levels", f"must be in [1, 20], got {self.depth_levels}")


@dataclass(frozen=True)
class ReplayConfig:
    """Replay rules (docs/data.md): the gap policy and the snapshot staleness limits."""

    #: Keep only symbol-days that are complete once no-trade minutes are filled; false keeps days with an
    #: outage gap, the gap visible and every feature window spanning it masked (``GAP_WINDOW``).
    complete_days_only: bool = True
    #: A run of missing minutes between two bars up to this long is a no-trade run, filled with flat bars at
    #: the previous close (``bar_filled = 1``); 0 never fills.
    fill_no_trade_max_minutes: int = 15
    #: Filled bars are flagged ``FILLED_BAR`` in the feature frame and left out of the train datasets unless true.
    train_on_filled_bars: bool = False
    #: Snapshot staleness limits (minutes) for the as-of joins; older observations count as unavailable.
    book_max_age_minutes: int = 5
    mark_index_max_age_minutes: int = 5
    open_interest_max_age_minutes: int = 15
    funding_max_age_minutes: int = 600

    def __post_init__(self) -> None:
        _require(0 <= self.fill_no_trade_max_minutes < 1440, "replay.fill_no_trade_max_minutes",
                 f"must be in [0, 1439], got {self.fill_no_trade_max_minutes}")
        # >= 1: the joins take observations strictly before the bar close, so a limit of 0 could never match
        for name in ("book_max_age_minutes", "mark_index_max_age_minutes", "open_interest_max_age_minutes",
                     "funding_max_age_minutes"):
            _require(getattr(self, name) >= 1, f"replay.{name}", f"must be >= 1, got {getattr(self, name)}")


#: A model line name (``release.line``): also a file name under ``releases/champions/``.
LINE_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: What a promoted release becomes (``release.promote_as``): its line's champion, or its canary, which makes a
#: share of the line's decisions beside the champion (docs/decide.md, Canary).
PROMOTE_AS = ("champion", "canary")


@dataclass(frozen=True)
class ReleaseConfig:
    """How the run's release competes (docs/trading.md, Release; docs/monitoring.md, Promotion rule)."""

    #: The model line whose champion the run challenges; None = derived from strategy, symbols and source
    #: (never the window, so the monthly retrains of one market share it).
    line: str | None = None
    #: A challenger with another price plan than its line's champion is refused unless this is true; then it
    #: must still pass its own gate on the same rows, and the release manifest records the plan change.
    accept_plan_change: bool = False
    #: ``champion`` replaces the line's champion; ``canary`` keeps it and sends ``canary_share`` of the line's
    #: decisions to the new release. Both keys are left out of the stored spec at their defaults (OMIT_DEFAULT).
    promote_as: str = field(default="champion", metadata=OMIT_DEFAULT)
    canary_share: float = field(default=0.2, metadata=OMIT_DEFAULT)

    def __post_init__(self) -> None:
        _require(self.line is None or bool(LINE_NAME_PATTERN.match(self.line)), "release.line",
                 f"use 1-64 characters from a-z 0-9 . _ - starting with a letter or digit, got {self.line!r}")
        _require(self.promote_as in PROMOTE_AS, "release.promote_as",
                 f"must be one of {list(PROMOTE_AS)}, got {self.promote_as!r}")
        _require(0 < self.canary_share < 1, "release.canary_share",
                 f"must be in (0, 1): the canary's share of the decisions, got {self.canary_share}")

    @property
    def canary(self) -> float | None:
        """The canary share when the release is promoted as canary, else None (promoted as champion)."""
        return self.canary_share if self.promote_as == "canary" else None


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's artifacts. Stored as ``run_spec.json`` and hashed."""

    run_id: str
    source: SourceSpec = field(default_factory=SourceSpec)
    symbols: tuple[str, ...] = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    start: str | None = "2026-01-01"
    end: str | None = "2026-03-02"
    split: SplitPlan = field(default_factory=SplitPlan)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    labels: LabelConfig = field(default_factory=LabelConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    models: ModelConfig = field(default_factory=ModelConfig)
    #: ``perp`` (the 1-minute perpetual-futures chain) or ``butterfly`` (daily options butterflies, whose market,
    #: sampling, model and decision come from the ``butterfly`` section; see trader_core/butterfly).
    strategy: str = "perp"
    butterfly: ButterflyConfig = field(default_factory=ButterflyConfig)
    release: ReleaseConfig = field(default_factory=ReleaseConfig)
    version: str = RUN_SPEC_VERSION

    def __post_init__(self) -> None:
        from trader_core.layout import validate_run_id

        validate_run_id(self.run_id)
        _require(self.strategy in STRATEGY_SPECS, "strategy",
                 f"must be one of {list(STRATEGY_SPECS)}, got {self.strategy!r}")
        STRATEGY_SPECS[self.strategy].check(self)

    @property
    def start_ts(self) -> pd.Timestamp | None:
        """Window start (inclusive, UTC); None = from the first bar of the source."""
        return None if self.start is None else parse_utc(self.start, "start")

    @property
    def end_ts(self) -> pd.Timestamp | None:
        """Window end (exclusive, UTC); None = through the last bar of the source."""
        return None if self.end is None else parse_utc(self.end, "end")

    def to_dict(self) -> dict[str, Any]:
        return to_mapping(self)

    @property
    def spec_hash(self) -> str:
        return config_hash(self)


# ------------------------------------------------------------------------------- strategies' run rules
@dataclass(frozen=True)
class StrategySpec:
    """What a strategy reads of the run spec and the checks across those sections (docs/layers.md).

    The run spec validates itself when it is built, below every strategy plug-in, so each strategy's rules are
    declared here; its plug-in (``trader_core.strategies``) carries the same object as ``Strategy.spec``.
    """

    #: The run spec keys the strategy reads (``run_id``, ``strategy``, ``release`` and ``version`` are common).
    sections: tuple[str, ...]
    #: The ``source.kind`` values the strategy can read, and what they deliver (for the refusal of another kind).
    source_kinds: tuple[str, ...]
    source_data: str
    #: Checks across the strategy's sections; raises ConfigError.
    check_sections: Callable[[RunSpec], None]

    def check(self, spec: RunSpec) -> None:
        _require(spec.source.kind in self.source_kinds, "source.kind",
                 f"the {spec.strategy} strategy reads {', '.join(repr(k) for k in self.source_kinds)} "
                 f"({self.source_data}), got {spec.source.kind!r}")
        self.check_sections(spec)


def _check_perp_sections(spec: RunSpec) -> None:
    """Symbols, window, split plan and label horizons of the 1-minute perp chain."""
    _require(len(spec.symbols) > 0, "symbols", "at least one symbol is required")
    _require(len(set(spec.symbols)) == len(spec.symbols), "symbols", f"duplicates in {list(spec.symbols)}")
    start, end = spec.start_ts, spec.end_ts
    if spec.source.kind == "synthetic":
        _require(start is not None and end is not None, "start/end", "the synthetic source needs a window")
    if start is not None and end is not None:
        _require(end > start, "end", f"must be after start ({spec.start} .. {spec.end})")
        days = (end - start) / pd.Timedelta(days=1)
        _require(days >= len(spec.split.fractions), "start/end",
                 f"the window of {days:g} day(s) is too short for the split plan: it needs at least "
                 f"{len(spec.split.fractions)} whole days (one per split)")
    _require(spec.split.embargo_minutes >= spec.labels.longest_horizon_minutes, "split.embargo_minutes",
             f"{spec.split.embargo_minutes} is shorter than the longest label horizon "
             f"({spec.labels.longest_horizon_minutes} min): a label window could cross a split boundary")


def _check_butterfly_sections(spec: RunSpec) -> None:
    """Nothing across sections: the ``butterfly`` section checks its own (ButterflyConfig)."""


STRATEGY_SPECS: dict[str, StrategySpec] = {
    "perp": StrategySpec(sections=("source", "symbols", "start", "end", "split", "replay", "labels", "costs", "models"),
                         source_kinds=SOURCE_KINDS, source_data="1-minute market tables",
                         check_sections=_check_perp_sections),
    "butterfly": StrategySpec(sections=("source", "butterfly"), source_kinds=("synthetic", "csv", "landed"),
                              source_data="daily bars", check_sections=_check_butterfly_sections),
}
STRATEGIES = tuple(STRATEGY_SPECS)


def parse_utc(value: str, key: str) -> pd.Timestamp:
    """Parse an ISO date/time as UTC; naive values are read as UTC, other zones converted."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{key}: cannot parse {value!r} as a date ({exc})") from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def load_run_spec(path: Path) -> RunSpec:
    return from_mapping(RunSpec, read_json_object(path, "run spec"))

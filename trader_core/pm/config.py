"""PM configuration: ``PMConfig``, the threshold keys, the candidate grid, the default config (docs/trading.md,
"Gates, sizing, overlap" and "Threshold search").

``PMConfig`` is a frozen dataclass of three sections, ``open``, ``add`` and ``sizing``, with snake_case fields.
Each field declares once, in its metadata, its camelCase key in the stored JSON
(``pm-search/position_manager_config.json`` and its release copy) and its allowed closed range; construction
refuses a value outside it, naming the key. ``from_json`` / ``to_json`` are the only code that sees the keys.

Decisions (asserted in tests/core/test_pm.py):

* ``open`` holds the open thresholds ``long_open_prob``, ``short_open_prob`` and ``min_direction_margin``; ``add``
  holds the others; the fields are named like the threshold keys.
* Default open/add thresholds are 0.55 / 0.55 / margin 0.02 / entry 0.55 / risk 0.55 / edge 3.0 bps, so
  ``default_pm_config().thresholds`` is the threshold set of the worked sizing case.
* ``add.cooldown_minutes`` = 0: the overlap rule's fallback, so re-entry is blocked exactly until the previous
  trade's exit.
* Sizing: base_ratio 1.0 and min_initial_ratio 0.05, max_single_leg_ratio 0.20, max_total_position_ratio 0.50,
  max_liquidity_usage_ratio 0.25, max_loss_per_trade_bps 10.0, min_edge_bps 3.0.
  base_ratio 1.0 means "the whole risk budget for an edge equal to the budget at certainty": with the
  originally suggested 0.10, raw = 0.1 * (e / budget) * d * q * (1 - r) is below min_initial_ratio for every
  trade a realistic model makes (measured on the synthetic demo: all trades at 0.05, which the backtest
  rejects as "sizing collapsed"). With the default backtest plan (budget 35 + 4 = 39 bps) the loss cap
  is 10 / 39 = 0.256, so the hard cap is 0.20 (0.25 in the search, where max_single_leg_ratio is 1.0);
  the worked sizing case (budget 14.5, raw 1.236) is capped at 0.20, inside (0.05, 0.20].
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from trader_core.contracts.features import sha256_json
from trader_core.errors import ConfigError

PM_CONFIG_VERSION = "pm-v4-p0"
#: The JSON key of the config's version (the sections' keys are their names).
VERSION_KEY = "pmConfigVersion"

THRESHOLD_KEYS = ("long_open_prob", "short_open_prob", "min_entry_prob", "max_market_risk_prob",
                  "min_expected_edge_bps", "min_direction_margin")

#: Candidate values per threshold key (docs/trading.md, "Threshold search"); 1.01 disables a side.
THRESHOLD_GRID: dict[str, tuple[float, ...]] = {
    "long_open_prob": (0.50, 0.60, 0.70, 1.01),
    "short_open_prob": (0.50, 0.60, 0.70, 1.01),
    "min_entry_prob": (0.30, 0.50, 0.70, 0.85),
    "max_market_risk_prob": (0.45, 0.65),
    "min_expected_edge_bps": (3.0, 8.0, 15.0, 25.0),
    "min_direction_margin": (0.02, 0.06, 0.10),
}

#: The plan terms of a PM helper called without a price plan (docs/labels.md, "Price plan").
DEFAULT_BACKTEST_STOP_BPS = 35.0
DEFAULT_BACKTEST_COST_BPS = 4.0
DEFAULT_BACKTEST_MAX_HOLD_MINUTES = 45

_INF = math.inf


def _key(name: str, low: float, high: float) -> Any:
    return field(metadata={"json": name, "range": (low, high)})


class _Section:
    """A PM config section: every field a number in its declared range (``int`` fields whole numbers)."""

    SECTION: ClassVar[str]

    def __post_init__(self) -> None:
        for name, key, low, high, kind in self._specs():
            value = getattr(self, name)
            if type(value) is kind and low <= value <= high and abs(value) != _INF:
                continue  # already the field's type and in range (the search builds 1536 configs)
            path = f"{self.SECTION}.{key}"
            if not _is_number(value) or math.isnan(float(value)) or not low <= float(value) <= high:
                raise ConfigError(f"pm config: {path!r} must be a number in [{low}, {high}], got {value!r}")
            if math.isinf(float(value)):
                raise ConfigError(f"pm config: {path!r} must be finite, got {value!r}")
            if kind is int and not float(value).is_integer():
                raise ConfigError(f"pm config: {path!r} must be a whole number of minutes, got {value!r}")
            object.__setattr__(self, name, kind(value))

    @classmethod
    @functools.cache
    def _specs(cls) -> tuple[tuple[str, str, float, float, type], ...]:
        """(field, JSON key, low, high, int or float) of every field."""
        return tuple((f.name, f.metadata["json"], *f.metadata["range"], int if f.type == "int" else float)
                     for f in dataclasses.fields(cls))

    @classmethod
    def from_json(cls, values: Any) -> Any:
        """The section of a JSON object; unknown and missing keys are refused with their dotted path."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"pm config: {cls.SECTION!r} must be a mapping")
        keys = {f.metadata["json"]: f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(keys))
        if unknown:
            raise ConfigError(f"pm config: unknown keys {[f'{cls.SECTION}.{k}' for k in unknown]}")
        missing = [key for key in keys if key not in values]
        if missing:
            raise ConfigError(f"pm config: missing key {f'{cls.SECTION}.{missing[0]}'!r}")
        return cls(**{name: values[key] for key, name in keys.items()})

    def to_json(self) -> dict[str, Any]:
        return {f.metadata["json"]: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True, kw_only=True)
class OpenGates(_Section):
    """The open thresholds."""

    SECTION: ClassVar[str] = "open"
    long_open_prob: float = _key("longOpenProb", 0.0, 1.01)
    short_open_prob: float = _key("shortOpenProb", 0.0, 1.01)
    min_direction_margin: float = _key("minDirectionMargin", 0.0, 1.0)


@dataclass(frozen=True, kw_only=True)
class AddGates(_Section):
    """The entry, risk and edge thresholds and the re-entry cooldown."""

    SECTION: ClassVar[str] = "add"
    cooldown_minutes: int = _key("cooldownMinutes", 0.0, 7 * 1440.0)
    max_market_risk_prob: float = _key("maxMarketRiskProb", 0.0, 1.01)
    min_entry_prob: float = _key("minEntryProb", 0.0, 1.01)
    min_expected_edge_bps: float = _key("minExpectedEdgeBps", -_INF, _INF)


@dataclass(frozen=True, kw_only=True)
class Sizing(_Section):
    """The sizing rule's terms (docs/trading.md, "Gates, sizing, overlap")."""

    SECTION: ClassVar[str] = "sizing"
    base_ratio: float = _key("baseRatio", 0.0, 1.0)
    min_edge_bps: float = _key("minEdgeBps", -_INF, _INF)
    max_single_leg_ratio: float = _key("maxSingleLegRatio", 0.0, 1.0)
    max_total_position_ratio: float = _key("maxTotalPositionRatio", 0.0, 1.0)
    max_liquidity_usage_ratio: float = _key("maxLiquidityUsageRatio", 0.0, 1.0)
    max_loss_per_trade_bps: float = _key("maxLossPerTradeBps", 0.0, 10_000.0)
    min_initial_ratio: float = _key("minInitialRatio", 0.0, 1.0)


_SECTIONS = {section.SECTION: section for section in (OpenGates, AddGates, Sizing)}
#: The section of every threshold key (the section's field has the key's name).
THRESHOLD_SECTIONS = {key: name for key in THRESHOLD_KEYS for name, section in _SECTIONS.items()
                      if key in {f.name for f in dataclasses.fields(section)}}


@dataclass(frozen=True, kw_only=True)
class PMConfig:
    """A PM config: its version and the three sections."""

    version: str = PM_CONFIG_VERSION
    open: OpenGates
    add: AddGates
    sizing: Sizing

    def __post_init__(self) -> None:
        if self.version != PM_CONFIG_VERSION:
            raise ConfigError(f"pm config: {VERSION_KEY} must be {PM_CONFIG_VERSION!r}, got {self.version!r}")

    @classmethod
    def from_json(cls, data: Any) -> PMConfig:
        """The config of a stored JSON object; ConfigError naming the key for unknown, missing, mistyped or
        out-of-range entries."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"pm config must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - {VERSION_KEY, *_SECTIONS})
        if unknown:
            raise ConfigError(f"pm config: unknown keys {unknown}")
        return cls(version=data.get(VERSION_KEY),
                   **{name: section.from_json(data.get(name)) for name, section in _SECTIONS.items()})

    def to_json(self) -> dict[str, Any]:
        return {VERSION_KEY: self.version, **{name: getattr(self, name).to_json() for name in _SECTIONS}}

    @property
    def thresholds(self) -> dict[str, float]:
        """The threshold dict (THRESHOLD_KEYS order); inverse of ``pm_config_from_thresholds``."""
        return {key: float(getattr(getattr(self, THRESHOLD_SECTIONS[key]), key)) for key in THRESHOLD_KEYS}

    @property
    def config_hash(self) -> str:
        """sha256 of the canonical JSON of the config."""
        return sha256_json(self.to_json())


def threshold_candidates() -> list[dict[str, float]]:
    """The 1536-candidate Cartesian product of THRESHOLD_GRID in THRESHOLD_KEYS order."""
    grids = [THRESHOLD_GRID[key] for key in THRESHOLD_KEYS]
    return [dict(zip(THRESHOLD_KEYS, values)) for values in itertools.product(*grids)]


_DEFAULT = PMConfig(
    open=OpenGates(long_open_prob=0.55, short_open_prob=0.55, min_direction_margin=0.02),
    add=AddGates(cooldown_minutes=0, max_market_risk_prob=0.55, min_entry_prob=0.55, min_expected_edge_bps=3.0),
    sizing=Sizing(base_ratio=1.0, min_edge_bps=3.0, max_single_leg_ratio=0.20, max_total_position_ratio=0.50,
                  max_liquidity_usage_ratio=0.25, max_loss_per_trade_bps=10.0, min_initial_ratio=0.05))


def default_pm_config() -> PMConfig:
    """The default PM config (values documented in the module docstring)."""
    return _DEFAULT


def check_thresholds(thresholds: Mapping[str, Any]) -> None:
    """Raise ConfigError naming a missing or unknown threshold key or a non-finite value."""
    for key in THRESHOLD_KEYS:
        if key not in thresholds:
            raise ConfigError(f"thresholds: missing key {key!r}")
        if not _is_number(thresholds[key]) or not math.isfinite(float(thresholds[key])):
            raise ConfigError(f"thresholds: {key!r} must be a finite number, got {thresholds[key]!r}")
    unknown = sorted(set(thresholds) - set(THRESHOLD_KEYS))
    if unknown:
        raise ConfigError(f"thresholds: unknown keys {unknown}")


def pm_config_from_thresholds(thresholds: Mapping[str, Any]) -> PMConfig:
    """Default config with the thresholds written in; sizing.min_edge_bps = min_expected_edge_bps and
    sizing.max_single_leg_ratio = 1.0 in the search."""
    check_thresholds(thresholds)
    default = default_pm_config()
    sections = {name: dataclasses.replace(getattr(default, name), **{
        key: float(thresholds[key]) for key in THRESHOLD_KEYS if THRESHOLD_SECTIONS[key] == name})
        for name in ("open", "add")}
    sizing = dataclasses.replace(default.sizing, min_edge_bps=float(thresholds["min_expected_edge_bps"]),
                                 max_single_leg_ratio=1.0)
    return PMConfig(**sections, sizing=sizing)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)

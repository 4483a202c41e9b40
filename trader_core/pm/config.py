"""PM configuration: threshold keys, candidate grid, default config, validation (docs/trading.md, "Gates,
sizing, overlap" and "Threshold search").

Decisions (asserted in tests/core/test_pm.py):

* ``open`` holds the open thresholds as ``longOpenProb``, ``shortOpenProb`` and ``minDirectionMargin``
  (camelCase of the threshold keys, like the ``add`` keys).
* Default open/add thresholds are 0.55 / 0.55 / margin 0.02 / entry 0.55 / risk 0.55 / edge 3.0 bps, so
  ``thresholds_from_config(default_pm_config())`` is the threshold set of the worked sizing case.
* ``add.cooldownMinutes`` = 0: the overlap rule's fallback, so a config with or without the key
  blocks re-entry exactly until the previous trade's exit.
* Sizing: baseRatio 1.0 and minInitialRatio 0.05, maxSingleLegRatio 0.20,
  maxTotalPositionRatio 0.50, maxLiquidityUsageRatio 0.25, maxLossPerTradeBps 10.0, minEdgeBps 3.0.
  baseRatio 1.0 means "the whole risk budget for an edge equal to the budget at certainty": with the
  originally suggested 0.10, raw = 0.1 * (e / budget) * d * q * (1 - r) is below minInitialRatio for every
  trade a realistic model makes (measured on the synthetic demo: all trades at 0.05, which the backtest
  rejects as "sizing collapsed"). With the default backtest plan (budget 35 + 4 = 39 bps) the loss cap
  is 10 / 39 = 0.256, so the hard cap is 0.20 (0.25 in the search, where maxSingleLegRatio is 1.0);
  the worked sizing case (budget 14.5, raw 1.236) is capped at 0.20, inside (0.05, 0.20].
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping
from typing import Any

from trader_core.contracts.features import sha256_json
from trader_core.errors import ConfigError

PM_CONFIG_VERSION = "pm-v4-p0"

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

DEFAULT_BACKTEST_PRICE_PLAN: dict[str, float | int] = {"stopDistanceBps": 35.0, "costBps": 4.0, "maxHoldMinutes": 45}

#: (section, camelCase key) of every threshold key in the PM config.
_THRESHOLD_CONFIG_KEYS: dict[str, tuple[str, str]] = {
    "long_open_prob": ("open", "longOpenProb"),
    "short_open_prob": ("open", "shortOpenProb"),
    "min_entry_prob": ("add", "minEntryProb"),
    "max_market_risk_prob": ("add", "maxMarketRiskProb"),
    "min_expected_edge_bps": ("add", "minExpectedEdgeBps"),
    "min_direction_margin": ("open", "minDirectionMargin"),
}

_INF = math.inf
#: Allowed closed range per config key; ``cooldownMinutes`` must also be a whole number.
_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "open": {"longOpenProb": (0.0, 1.01), "shortOpenProb": (0.0, 1.01), "minDirectionMargin": (0.0, 1.0)},
    "add": {"cooldownMinutes": (0.0, 7 * 1440.0), "maxMarketRiskProb": (0.0, 1.01), "minEntryProb": (0.0, 1.01),
            "minExpectedEdgeBps": (-_INF, _INF)},
    "sizing": {"baseRatio": (0.0, 1.0), "minEdgeBps": (-_INF, _INF), "maxSingleLegRatio": (0.0, 1.0),
               "maxTotalPositionRatio": (0.0, 1.0), "maxLiquidityUsageRatio": (0.0, 1.0),
               "maxLossPerTradeBps": (0.0, 10_000.0), "minInitialRatio": (0.0, 1.0)},
}


def threshold_candidates() -> list[dict[str, float]]:
    """The 1536-candidate Cartesian product of THRESHOLD_GRID in THRESHOLD_KEYS order."""
    grids = [THRESHOLD_GRID[key] for key in THRESHOLD_KEYS]
    return [dict(zip(THRESHOLD_KEYS, values)) for values in itertools.product(*grids)]


def default_pm_config() -> dict[str, Any]:
    """The default PM config (camelCase; values documented in the module docstring)."""
    return {
        "pmConfigVersion": PM_CONFIG_VERSION,
        "open": {"longOpenProb": 0.55, "shortOpenProb": 0.55, "minDirectionMargin": 0.02},
        "add": {"cooldownMinutes": 0, "maxMarketRiskProb": 0.55, "minEntryProb": 0.55, "minExpectedEdgeBps": 3.0},
        "sizing": {"baseRatio": 1.0, "minEdgeBps": 3.0, "maxSingleLegRatio": 0.20, "maxTotalPositionRatio": 0.50,
                   "maxLiquidityUsageRatio": 0.25, "maxLossPerTradeBps": 10.0, "minInitialRatio": 0.05},
    }


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


def pm_config_from_thresholds(thresholds: Mapping[str, Any]) -> dict[str, Any]:
    """Default config with the thresholds written in; sizing.maxSingleLegRatio = 1.0 in the search."""
    check_thresholds(thresholds)
    config = default_pm_config()
    for key, (section, name) in _THRESHOLD_CONFIG_KEYS.items():
        config[section][name] = float(thresholds[key])
    config["sizing"]["minEdgeBps"] = float(thresholds["min_expected_edge_bps"])
    config["sizing"]["maxSingleLegRatio"] = 1.0
    return config


def thresholds_from_config(config: Mapping[str, Any]) -> dict[str, float]:
    """The threshold dict (THRESHOLD_KEYS order) stored in a PM config; inverse of pm_config_from_thresholds."""
    validate_pm_config(config)
    return {key: float(config[section][name]) for key, (section, name) in _THRESHOLD_CONFIG_KEYS.items()}


def validate_pm_config(config: Mapping[str, Any]) -> None:
    """Raise ConfigError naming the key for unknown, missing, mistyped or out-of-range entries."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"pm config must be a mapping, got {type(config).__name__}")
    unknown = sorted(set(config) - {"pmConfigVersion", *_RANGES})
    if unknown:
        raise ConfigError(f"pm config: unknown keys {unknown}")
    if config.get("pmConfigVersion") != PM_CONFIG_VERSION:
        raise ConfigError(f"pm config: pmConfigVersion must be {PM_CONFIG_VERSION!r}, "
                          f"got {config.get('pmConfigVersion')!r}")
    for section, ranges in _RANGES.items():
        _validate_section(config.get(section), section, ranges)


def _validate_section(values: Any, section: str, ranges: Mapping[str, tuple[float, float]]) -> None:
    if not isinstance(values, Mapping):
        raise ConfigError(f"pm config: {section!r} must be a mapping")
    unknown = sorted(set(values) - set(ranges))
    if unknown:
        raise ConfigError(f"pm config: unknown keys {[f'{section}.{k}' for k in unknown]}")
    for name, (low, high) in ranges.items():
        path = f"{section}.{name}"
        if name not in values:
            raise ConfigError(f"pm config: missing key {path!r}")
        value = values[name]
        if not _is_number(value) or not (low <= float(value) <= high) or math.isnan(float(value)):
            raise ConfigError(f"pm config: {path!r} must be a number in [{low}, {high}], got {value!r}")
        if math.isinf(float(value)):
            raise ConfigError(f"pm config: {path!r} must be finite, got {value!r}")
        if name == "cooldownMinutes" and not float(value).is_integer():
            raise ConfigError(f"pm config: {path!r} must be a whole number of minutes, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def pm_config_hash(config: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of the config."""
    return sha256_json(config)

"""Checks of experiment parameters shared by the experiment modules: each returns the normalised value or
raises ConfigError naming the field."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from trader_core.errors import ConfigError

#: The model families of ``toolkit.fit_classifier`` and ``toolkit.fit_regressor``, declared here so that the params
#: modules check them without loading the model libraries (docs/layers.md, "Lazy imports").
FAMILIES = ("linear", "tree")


def check_values(field: str, values: Iterable[Any], *, low: float = -math.inf, high: float = math.inf,
                 low_open: bool = False) -> tuple[float, ...]:
    """Non-empty tuple of finite floats in [low, high] (low excluded if ``low_open``); ConfigError names ``field``."""
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{field}: expected a sequence of numbers, got {values!r}") from exc
    bad = [v for v in out if not math.isfinite(v) or v > high or v < low or (low_open and v == low)]
    if not out or bad:
        raise ConfigError(f"{field}: expected a non-empty sequence of finite numbers in "
                          f"{'(' if low_open else '['}{low}, {high}], got {values!r}")
    return out


def check_fractions(field: str, values: Iterable[Any]) -> tuple[float, ...]:
    """Top fractions: a non-empty tuple in (0, 1]."""
    return check_values(field, values, low=0.0, high=1.0, low_open=True)


def check_families(field: str, values: Iterable[Any]) -> tuple[str, ...]:
    out = tuple(str(v).strip().lower() for v in values)
    if not out or any(v not in FAMILIES for v in out):
        raise ConfigError(f"{field}: expected a non-empty sequence of {FAMILIES}, got {values!r}")
    return out


def check_count(field: str, value: Any, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{field}: expected an integer >= {low}, got {value!r}")
    return int(value)

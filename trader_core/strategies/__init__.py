"""Strategy plug-ins (docs/layers.md): ``perp`` and ``butterfly``, looked up by a run spec, a name or a landed
month's marker. Everything that differs between strategies is asked of the plug-in, never of the name."""

from __future__ import annotations

from typing import Any, Mapping

from trader_core.config import RunSpec
from trader_core.errors import ConfigError
from trader_core.strategies.base import Strategy
from trader_core.strategies.butterfly import BUTTERFLY
from trader_core.strategies.perp import PERP

STRATEGIES: dict[str, Strategy] = {s.name: s for s in (PERP, BUTTERFLY)}
_BY_LANDING_TAG: dict[str | None, Strategy] = {s.landing_tag: s for s in STRATEGIES.values()}


def strategy_named(name: str) -> Strategy:
    """The plug-in of strategy ``name``; ConfigError naming the known ones otherwise."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ConfigError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}") from None


def strategy_of(spec: RunSpec) -> Strategy:
    """The plug-in of a run."""
    return strategy_named(spec.strategy)


def strategy_of_marker(marker: Mapping[str, Any]) -> Strategy:
    """The plug-in whose landed months carry this marker's ``strategy`` tag (none: perp)."""
    tag = marker.get("strategy")
    try:
        return _BY_LANDING_TAG[tag]
    except KeyError:
        raise ConfigError(f"landed month {marker.get('source')}/{marker.get('month')}: unknown strategy {tag!r}; "
                          f"known: {', '.join(STRATEGIES)}") from None


def strategy_of_retrain_run(run_id: str) -> Strategy | None:
    """The plug-in whose monthly retrain run ids (``<retrain_prefix>YYYY-MM``) name ``run_id`` (the longest
    matching prefix: ``retrain-butterfly-`` before ``retrain-``); None for any other run."""
    matching = [s for s in STRATEGIES.values() if run_id.startswith(s.retrain_prefix)]
    return max(matching, key=lambda s: len(s.retrain_prefix), default=None)

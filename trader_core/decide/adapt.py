"""``trader adapt-threshold``: the line's logged butterfly decisions, their realized outcomes from the champion's
source, and the threshold rule of ``butterfly.threshold`` on them (docs/decide.md, "Threshold adaptation")."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trader_core import decision_log, layout, release
from trader_core.butterfly import threshold
from trader_core.decide.api import champion_of
from trader_core.decide.base import DecisionRefused
from trader_core.decide.butterfly import ButterflyDecider, release_spec
from trader_core.strategies import strategy_named


def adapt_threshold(*, line: str | None = None, window_days: int = threshold.DEFAULT_WINDOW_DAYS,
                    home: Path | None = None, now: pd.Timestamp | None = None) -> threshold.Adapted:
    """Adapt the butterfly line's ``min_expected_roi`` from the resolved outcomes of its decision log."""
    home = home or layout.trader_home()
    champion = champion_of(line, home)
    strategy = strategy_named(champion.manifest.get("strategy", release.DEFAULT_STRATEGY))
    if strategy.decider != "butterfly":
        raise DecisionRefused(f"line {champion.line} is a {strategy.name} line; adapt-threshold serves butterfly "
                              f"lines (their min_expected_roi)")
    decider = ButterflyDecider()
    rows = decision_log.read_decisions(decision_log.log_path(champion.line, home), decider.contract)
    spec = release_spec(champion)
    return threshold.adapt(line=champion.line, outcomes=decider.outcomes(champion, rows, home=home),
                           release_value=spec.butterfly.decision.min_expected_roi,
                           max_trades_per_day=spec.butterfly.decision.max_trades_per_day, home=home,
                           window_days=window_days, now=now)

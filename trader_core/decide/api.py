"""``decide``: the current champion of a model line decides on the newest data (or at a given time), and every
decision is appended to the line's decision log (docs/decide.md).

The line's champion release is verified against its hashes before anything is read; the decisions are made by
the strategy's ``Decider``, which the plug-in names (``Strategy.decider``, a name like ``Strategy.job``: the
decision code reads the release store and sits above the plug-ins, docs/layers.md). A strategy whose plug-in
names none has no decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trader_core import decision_log, layout, release
from trader_core.decide.base import Champion, Decider, DecisionRefused, DecisionRequest, decision_keys
from trader_core.decide.butterfly import ButterflyDecider
from trader_core.decide.perp import PerpDecider
from trader_core.release_manifest import verify_release
from trader_core.strategies import strategy_named
from trader_core.strategies.base import Strategy

#: Deciders by the name a plug-in gives in ``Strategy.decider``.
DECIDERS: dict[str, Decider] = {"perp": PerpDecider(), "butterfly": ButterflyDecider()}


@dataclass(frozen=True)
class Decisions:
    """The decisions of one call: the champion, its log rows, where they were logged and how many were new."""

    champion: Champion
    rows: pd.DataFrame
    decider: Decider
    log: decision_log.Appended | None

    def render(self) -> list[str]:
        """What ``trader decide`` prints."""
        first = self.rows.iloc[0]
        lines = [f"line {self.champion.line}: champion {self.champion.version} (run {first['release_run_id']}), "
                 f"decision time {first['decision_time']:%Y-%m-%d %H:%M:%S}Z"]
        lines += self.decider.render(self.rows)
        if self.log is not None:
            lines.append(f"decision log {self.log.path}: {self.log.added} new row(s), "
                         f"{self.log.already_logged} already logged")
        return lines


def champion_of(line: str | None, home: Path | None = None) -> Champion:
    """The champion of ``line`` (optional when there is one line), its release verified against its hashes."""
    name = release.resolve_line(home, line)
    pointer = release.champion(home, name)
    path = release.releases_root(home) / pointer["version"]
    return Champion(line=name, version=pointer["version"], path=path, manifest=verify_release(path))


def decider_of(strategy: Strategy) -> Decider:
    """The strategy's decider; DecisionRefused when its plug-in names none yet."""
    if strategy.decider is None:
        raise DecisionRefused(f"{strategy.name} decisions are not built yet; `trader decide` serves perp lines")
    return DECIDERS[strategy.decider]


def decide(*, line: str | None = None, request: DecisionRequest = DecisionRequest(), home: Path | None = None,
           log: bool = True) -> Decisions:
    """The line's champion decides; with ``log`` the decisions are appended to ``decisions/<line>.parquet``."""
    home = home or layout.trader_home()
    champion = champion_of(line, home)
    decider = decider_of(strategy_named(champion.manifest.get("strategy", release.DEFAULT_STRATEGY)))
    rows = decider.decide(champion, request)
    rows.insert(rows.columns.get_loc("strategy") + 1, "arm", "champion")
    rows.insert(0, "decision_key", decision_keys(rows))
    decider.contract.validate(rows, extra_ok=False)
    appended = (decision_log.append_decisions(decision_log.log_path(champion.line, home), rows, decider.contract)
                if log else None)
    return Decisions(champion, rows, decider, appended)

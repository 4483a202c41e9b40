"""``decide``: the current champion of a model line decides on the newest data (or at a given time), and every
decision is appended to the line's decision log (docs/decide.md).

The line's champion release is verified against its hashes before anything is read; the decisions are made by
the strategy's ``Decider``, which the plug-in names (``Strategy.decider``, a name like ``Strategy.job``: the
decision code reads the release store and sits above the plug-ins, docs/layers.md). A strategy whose plug-in
names none has no decisions. A line with a canary sends each decision to the canary or the
champion by its allocation key (``decide/canary.py``); both releases decide the same decision time and each row
keeps the one its arm names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from trader_core import decision_log, layout, release
from trader_core.decide import canary as allocation
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
    #: The line's canary and its share, when it has one.
    canary: Champion | None = None
    share: float | None = None

    def render(self) -> list[str]:
        """What ``trader decide`` prints."""
        first = self.rows.iloc[0]
        lines = [f"line {self.champion.line}: champion {self.champion.version} "
                 f"(run {self.champion.manifest['run_id']}), decision time {first['decision_time']:%Y-%m-%d %H:%M:%S}Z"]
        if self.canary is not None:
            sent = self.rows.loc[self.rows["arm"] == allocation.CANARY, "symbol"].tolist()
            lines.append(f"canary {self.canary.version} (run {self.canary.manifest['run_id']}, share {self.share:.0%}) "
                         f"decides {', '.join(sent) or 'none'} of {len(self.rows)}")
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


def canary_of(line: str, home: Path | None = None) -> tuple[Champion, float] | None:
    """The canary of ``line`` with its share, its release verified against its hashes; None without one."""
    pointer = release.canary(home, line)
    if pointer is None:
        return None
    path = release.releases_root(home) / pointer["version"]
    return Champion(line=line, version=pointer["version"], path=path, manifest=verify_release(path)), pointer["share"]


def decider_of(strategy: Strategy) -> Decider:
    """The strategy's decider; DecisionRefused when its plug-in names none yet."""
    if strategy.decider is None:
        raise DecisionRefused(f"{strategy.name} decisions are not built yet; `trader decide` serves perp lines")
    return DECIDERS[strategy.decider]


def decide(*, line: str | None = None, request: DecisionRequest = DecisionRequest(), home: Path | None = None,
           log: bool = True) -> Decisions:
    """The line's champion (and its canary on the canary's share) decides; with ``log`` the decisions are appended
    to ``decisions/<line>.parquet``."""
    home = home or layout.trader_home()
    champion = champion_of(line, home)
    canary = canary_of(champion.line, home)
    decider = decider_of(strategy_named(champion.manifest.get("strategy", release.DEFAULT_STRATEGY)))
    rows = decider.decide(champion, request)
    arm = allocation.arms(np.zeros(len(rows), dtype=bool))
    if canary is not None:
        challenger, share = canary  # it decides the champion's decision time
        canary_rows = decider.decide(challenger, replace(request, at=rows["decision_time"].iloc[0]))
        rows, arm = allocation.allocate(rows, canary_rows, canary=challenger, share=share)
    rows.insert(rows.columns.get_loc("strategy") + 1, "arm", arm)
    rows.insert(0, "decision_key", decision_keys(rows))
    decider.contract.validate(rows, extra_ok=False)
    appended = (decision_log.append_decisions(decision_log.log_path(champion.line, home), rows, decider.contract)
                if log else None)
    return Decisions(champion, rows, decider, appended, *(canary or (None, None)))


"""Weekly decision monitoring: the decisions of the last window joined with their realized outcomes, per model
line and arm, with the WARN bounds (docs/decide.md, "Weekly monitoring").

For every line with a champion and a decision log, the decisions made in ``[at - window, at)`` are joined on
``decision_key`` with ``Decider.outcomes`` (DECISION_OUTCOMES). Per arm (champion, canary):

* counts: decisions, traded, resolved, resolved traded;
* on the resolved traded decisions: hit rate (realized > 0), mean predicted vs mean realized, mean predicted
  probability;
* on every resolved decision (a decision that did not trade is resolved on the side the model preferred, so
  there are many more of them): realized vs predicted by equal-count decile of predicted
  (``monitoring.shadow.decile_table``), and the reliability of predicted_prob against realized > 0
  (``models.metrics.reliability_table``, with its expected calibration error);
* the WARN conditions of ``monitoring.decision_bounds.WeeklyBounds``.

Arms are compared when a line has canary decisions: the realized edges of each arm's resolved traded decisions,
in time order, get the release gate's standard error (``pm.significance.edge_significance``: stationary block
bootstrap); the difference of the means over the combined standard error is significant at the gate's level
``MIN_STATISTIC`` (two standard errors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core import decision_log, release
from trader_core.contracts.decisions import ARMS
from trader_core.decide.api import champion_of, decider_of
from trader_core.decide.base import DecisionRefused
from trader_core.models.metrics import expected_calibration_error, reliability_table
from trader_core.monitoring.decision_bounds import WeeklyBounds
from trader_core.monitoring.shadow import decile_table
from trader_core.pm.significance import MIN_STATISTIC, edge_significance
from trader_core.strategies import strategy_named

@dataclass(frozen=True)
class LineDecisions:
    """A line's decisions of the window joined with their outcomes (DECISION_OUTCOMES + ``decision_time``), in
    the order of their data minute."""

    line: str
    champion: str
    strategy: str
    joined: pd.DataFrame


def window_decisions(*, home: Path, at: pd.Timestamp, window: pd.Timedelta) -> tuple[list[LineDecisions],
                                                                                       dict[str, str]]:
    """Every line with a champion and a decision log, its decisions of ``[at - window, at)`` joined with their
    outcomes; and the lines left out, with why (no log, no decisions in the window, no decider)."""
    lines, skipped = [], {}
    for line in release.champions(home):
        path = decision_log.log_path(line, home)
        if not path.exists():
            skipped[line] = "no decision log"
            continue
        champion = champion_of(line, home)
        strategy = champion.manifest.get("strategy", release.DEFAULT_STRATEGY)
        try:
            decider = decider_of(strategy_named(strategy))
        except DecisionRefused as exc:
            skipped[line] = str(exc)
            continue
        rows = decision_log.read_decisions(path, decider.contract)
        rows = rows[((rows["decision_time"] >= at - window) & (rows["decision_time"] < at)).to_numpy()]
        if rows.empty:
            skipped[line] = "no decisions in the window"
            continue
        rows = rows.reset_index(drop=True)
        lines.append(LineDecisions(line, champion.version, strategy,
                                   join_outcomes(rows, decider.outcomes(champion, rows, home=home))))
    return lines, skipped


def join_outcomes(rows: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """The outcomes with each decision's ``decision_time``, one row per logged decision, in data-minute order."""
    joined = rows[["decision_key", "decision_time"]].merge(outcomes, on="decision_key", how="left",
                                                           validate="one_to_one", indicator=True)
    if (joined.pop("_merge") != "both").any():
        raise ValueError("decision outcomes: a logged decision has no outcome row")
    return joined.sort_values(["data_time", "decision_key"], kind="stable").reset_index(drop=True)


def arm_figures(joined: pd.DataFrame, bounds: WeeklyBounds) -> dict[str, Any]:
    """Counts, hit rate, predicted vs realized and the WARN conditions that fire, for one arm's decisions."""
    trades = joined[joined["traded"] & joined["resolved"]]
    n = len(trades)
    hit_rate = float((trades["realized"] > 0).mean()) if n else None
    figures = {
        "decisions": len(joined), "traded": int(joined["traded"].sum()), "resolved": int(joined["resolved"].sum()),
        "resolved_traded": n, "hit_rate": hit_rate, "mean_predicted": _mean(trades["predicted"]),
        "mean_realized": _mean(trades["realized"]), "mean_predicted_prob": _mean(trades["predicted_prob"])}
    return {**figures, "warnings": bounds.warned(resolved_traded=n, hit_rate=hit_rate,
                                                 mean_realized=figures["mean_realized"],
                                                 mean_predicted_prob=figures["mean_predicted_prob"])}


def decile_figures(joined: pd.DataFrame) -> pd.DataFrame:
    """Realized vs predicted by equal-count decile of predicted (10 = highest) over the resolved decisions."""
    done = joined[joined["resolved"]]
    realized = done["realized"].to_numpy("float64")
    table = decile_table(done["predicted"].to_numpy("float64"), (realized > 0).astype("float64"), realized)
    return table.rename(columns={"mean_prob": "mean_predicted", "avg_realized_edge_bps": "mean_realized"})


def calibration_figures(joined: pd.DataFrame) -> tuple[pd.DataFrame, float | None]:
    """Reliability of predicted_prob against realized > 0 over the resolved decisions, and its calibration error."""
    done = joined[joined["resolved"]]
    table = reliability_table(done["predicted_prob"].to_numpy("float64"),
                              (done["realized"] > 0).to_numpy("float64"))
    return table, expected_calibration_error(table)


def compare_arms(joined: pd.DataFrame, *, min_statistic: float = MIN_STATISTIC) -> dict[str, Any]:
    """Canary vs champion on the realized edges of their resolved traded decisions (module docstring)."""
    trades = joined[joined["traded"] & joined["resolved"]]
    sig = {arm: edge_significance(trades.loc[trades["arm"] == arm, "realized"].to_numpy("float64")) for arm in ARMS}
    champion, canary = sig["champion"], sig["canary"]
    difference = canary.mean_bps - champion.mean_bps
    se = math.hypot(canary.standard_error_bps, champion.standard_error_bps)
    if not math.isfinite(difference):
        statistic = float("nan")
    elif se > 0:
        statistic = difference / se
    else:
        statistic = math.copysign(math.inf, difference) if difference else 0.0
    better = None if not math.isfinite(difference) else ("canary" if difference > 0 else
                                                          "champion" if difference < 0 else "neither")
    return {"better": better, "significant": bool(abs(statistic) >= min_statistic),  # NaN: False
            "difference": difference, "standard_error": se, "statistic": statistic,
            "min_statistic": min_statistic, "arms": {arm: s.as_dict() for arm, s in sig.items()}}


def line_figures(decisions: LineDecisions, bounds: WeeklyBounds) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The figures of one line (per arm, and the arm comparison when it has canary decisions) and its tables."""
    joined = decisions.joined
    arms, tables = {}, {}
    for arm in ARMS:
        mine = joined[joined["arm"] == arm]
        if mine.empty:
            continue
        reliability, ece = calibration_figures(mine)
        arms[arm] = {**arm_figures(mine, bounds), "expected_calibration_error": ece}
        tables[f"{arm}_deciles"] = decile_figures(mine)
        tables[f"{arm}_reliability"] = reliability
    comparison = compare_arms(joined) if "canary" in arms else None
    unit = decider_of(strategy_named(decisions.strategy)).outcome_unit
    return {"champion": decisions.champion, "strategy": decisions.strategy, "unit": unit, "arms": arms,
            "arm_comparison": comparison}, tables


def _mean(values: pd.Series) -> float | None:
    values = values.to_numpy("float64")
    return float(np.mean(values)) if len(values) else None

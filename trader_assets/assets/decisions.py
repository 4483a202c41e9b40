"""Decision-monitoring group: the weekly report of every line's decisions joined with their realized outcomes.

Not a run partition: it reads the decision logs and the release store of ``TRADER_HOME`` and writes its files
there itself (``monitoring/weekly/<YYYY-MM-DD>/``; docs/decide.md, "Weekly monitoring"). Each WARN bound is an
asset check of severity WARN, so the report lands whatever it finds.
"""

import dagster as dg
import pydantic

from trader_assets.checks.results import result
from trader_assets.metadata import stage_metadata
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.monitoring.decision_bounds import (CONDITIONS, DEFAULT_WINDOW_DAYS, HIT_RATE_BELOW_PREDICTED,
                                                    REALIZED_EDGE_NEGATIVE, WeeklyBounds)

DECISION_MONITORING_GROUP = "decision_monitoring"
WEEKLY_REPORT = "weekly_decision_report"
#: The asset check of each WARN condition.
CHECK_NAMES = {REALIZED_EDGE_NEGATIVE: "weekly_realized_edge_not_negative",
               HIT_RATE_BELOW_PREDICTED: "weekly_hit_rate_not_below_predicted"}


class WeeklyReportConfig(dg.Config):
    at: str | None = pydantic.Field(default=None, description="report time (ISO, UTC when naive); default: now "
                                                              "(the schedule passes its tick)")
    window_days: int = pydantic.Field(default=DEFAULT_WINDOW_DAYS, description="decisions of this many days before it")


@dg.asset(name=WEEKLY_REPORT, group_name=DECISION_MONITORING_GROUP, owners=["team:research"],
          kinds={"python", "markdown"},
          check_specs=[dg.AssetCheckSpec(CHECK_NAMES[c], asset=WEEKLY_REPORT,
                                         description=f"WARN when a line's arm has {text}.")
                       for c, text in WeeklyBounds().conditions().items()],
          description="Every line's decisions of the last 30 days joined with their realized outcomes: per arm hit "
                      "rate, predicted vs realized (and by decile), calibration, canary vs champion; WARN checks "
                      "against the documented bounds (docs/decide.md).")
def weekly_decision_report(config: WeeklyReportConfig, trader_home: TraderHome) -> dg.MaterializeResult:
    stage = stages.weekly_report_stage(home=trader_home.path, at=config.at, window_days=config.window_days)
    return dg.MaterializeResult(metadata=stage_metadata(stage), check_results=[
        _check(condition, stage.value) for condition in CONDITIONS])


def _check(condition: str, doc: dict) -> dg.AssetCheckResult:
    fired = [w for w in doc["warnings"] if w["condition"] == condition]
    arms = {f"{line} {arm}": {k: f.get(k) for k in ("resolved_traded", "hit_rate", "mean_predicted_prob",
                                                     "mean_predicted", "mean_realized")}
            for line, figures in doc["lines"].items() for arm, f in figures["arms"].items()}
    return result(not fired, severity=dg.AssetCheckSeverity.WARN, check_name=CHECK_NAMES[condition],
                  bound=doc["bounds"]["conditions"][condition], warned=[f"{w['line']} {w['arm']}" for w in fired],
                  arms=arms, at=doc["at"])


DECISION_ASSETS = [weekly_decision_report]

"""Monitoring group (the feedback loop): reference profile, shadow scoring, drift, champion vs challenger, report.

Shadow scoring, drift and the champion/challenger decision read the *incumbent* champion, so they run
before ``release`` (which depends on them). ``release`` refuses a challenger that the champion-vs-challenger
decision rejects (``ReleaseRefused``); the check on ``champion_challenger`` shows the gate in the UI and is
not blocking, so ``monitoring_report`` still materializes for the month that was refused.
"""

import dagster as dg
import pandas as pd

from trader_assets.metadata import stage_output
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core.contracts.price_plan import PricePlan
from trader_core.monitoring.drift import PROFILE_VERSION
from trader_core import stages

MONITORING = dict(partitions_def=runs_partitions, group_name="monitoring", owners=["team:research"],
                  code_version=PROFILE_VERSION)


@dg.asset(**MONITORING, kinds={"python", "json"},
          description="The fit_inner profile (feature decile bins and fractions, label rates) shipped in the release "
                      "bundle so drift can be measured against the data the champion was fitted on.")
def reference_profile(feature_frame: pd.DataFrame, direction_train: pd.DataFrame,
                      entry_train: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.reference_profile_stage(features=feature_frame, direction_train=direction_train,
                                                       entry_train=entry_train))


@dg.asset(**MONITORING, kinds={"python", "onnx"}, deps=["direction_model", "risk_model"],
          description="The incumbent champion scores the newest window through the release inference engine; "
                      "predicted vs realized edge, hit rate by decile, calibration, its PM trades replayed, and the "
                      "decay against what it claimed on its own validation_locked split.")
def shadow_scoring(context: dg.AssetExecutionContext, trader_home: TraderHome, feature_frame: pd.DataFrame,
                   direction_train: pd.DataFrame, entry_train: pd.DataFrame, entry_labels: pd.DataFrame,
                   entry_model: dict) -> dg.Output[dict]:
    return stage_output(stages.shadow_stage(ctx=trader_home.context(context.partition_key), features=feature_frame,
                                            direction_train=direction_train, entry_train=entry_train,
                                            entry_labels=entry_labels))


@dg.asset(**MONITORING, kinds={"python", "json"},
          description="Population stability index per feature and label-rate drift of the newest window against "
                      "the champion's reference profile (this run's own fit_inner when there is no champion).")
def drift_report(context: dg.AssetExecutionContext, trader_home: TraderHome, reference_profile: dict,
                 feature_frame: pd.DataFrame, direction_train: pd.DataFrame,
                 entry_train: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.drift_stage(ctx=trader_home.context(context.partition_key), own_profile=reference_profile,
                                           features=feature_frame, direction_train=direction_train,
                                           entry_train=entry_train))


@dg.asset(**MONITORING, kinds={"python", "json"},
          description="This run's bundle (challenger) and the incumbent champion of its model line on this run's "
                      "latest_stress rows, each with its own models, PM config and price plan; the documented "
                      "promotion rule decides (a price-plan change is refused unless the run spec accepts it).")
def champion_challenger(context: dg.AssetExecutionContext, trader_home: TraderHome, feature_frame: pd.DataFrame,
                        direction_train: pd.DataFrame, entry_train: pd.DataFrame, entry_labels: pd.DataFrame,
                        pm_search: dict, price_plan: PricePlan) -> dg.Output[dict]:
    return stage_output(stages.challenger_stage(ctx=trader_home.context(context.partition_key), features=feature_frame,
                                                direction_train=direction_train, entry_train=entry_train,
                                                entry_labels=entry_labels, pm_doc=pm_search, price_plan=price_plan))


@dg.asset(**MONITORING, kinds={"python", "markdown"},
          description="The monitoring page of this run: shadow scoring, calibration, drift and the champion vs "
                      "challenger decision, with plots, as markdown in the UI and monitoring/monitoring_report.md.")
def monitoring_report(context: dg.AssetExecutionContext, trader_home: TraderHome, shadow_scoring: dict,
                      drift_report: dict, champion_challenger: dict) -> dg.Output[dict]:
    return stage_output(stages.monitoring_report_stage(ctx=trader_home.context(context.partition_key),
                                                       shadow=shadow_scoring, drift=drift_report,
                                                       challenger=champion_challenger))


MONITORING_ASSETS = [reference_profile, shadow_scoring, drift_report, champion_challenger, monitoring_report]

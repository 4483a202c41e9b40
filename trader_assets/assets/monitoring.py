"""Monitoring group (the feedback loop): reference profile, shadow scoring, drift, champion vs challenger, report.

Shadow scoring, drift and the champion/challenger decision read the *incumbent* champion, so they run
before ``release`` (which depends on them). ``release`` refuses a challenger that the champion-vs-challenger
decision rejects (``ReleaseRefused``); the check on ``champion_challenger`` shows the gate in the UI and is
not blocking, so ``monitoring_report`` still materializes for the month that was refused.
"""

import base64

import dagster as dg
import pandas as pd

from trader_assets.metadata import json_value
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core.labels.datasets import trainable_features
from trader_core.monitoring.drift import PROFILE_VERSION, reference_profile as build_reference_profile
from trader_core.report import markdown_table
from trader_core.stages import monitoring as stage

MONITORING = dict(partitions_def=runs_partitions, group_name="monitoring", owners=["team:research"],
                  code_version=PROFILE_VERSION)


def _image(path, alt: str) -> dg.MetadataValue:
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(path.read_bytes()).decode('ascii')})")


@dg.asset(**MONITORING, kinds={"python", "json"},
          description="The fit_inner profile (feature decile bins and fractions, label rates) shipped in the release "
                      "bundle so drift can be measured against the data the champion was fitted on.")
def reference_profile(feature_frame: pd.DataFrame, direction_train: pd.DataFrame,
                      entry_train: pd.DataFrame) -> dg.Output[dict]:
    profile = build_reference_profile(trainable_features(feature_frame), direction_train, entry_train)
    return dg.Output(profile, metadata={"rows": profile["rows"], "label_rates": json_value(profile["label_rates"])})


@dg.asset(**MONITORING, kinds={"python", "onnx"}, deps=["direction_model", "risk_model"],
          description="The incumbent champion scores the newest window through the release inference engine; "
                      "predicted vs realized edge, hit rate by decile, calibration, its PM trades replayed, and the "
                      "decay against what it claimed on its own validation_locked split.")
def shadow_scoring(context: dg.AssetExecutionContext, trader_home: TraderHome, feature_frame: pd.DataFrame,
                   direction_train: pd.DataFrame, entry_train: pd.DataFrame, entry_labels: pd.DataFrame,
                   entry_model: dict) -> dg.Output[dict]:
    run_id = context.partition_key
    run_dir = trader_home.run_dir(run_id)
    result = stage.shadow_stage(run_dir, trader_home.run_spec(run_id), trader_home.path, feature_frame,
                                direction_train, entry_train, entry_labels)
    metadata = {"status": result["status"], "window": result["window"]}
    if result["status"] == "SCORED":
        metadata.update({"champion": result["champion"], "decay": dg.MetadataValue.md(markdown_table(result["decay"], stage.DECAY_COLUMNS)),
                         "in_sample_warning": result["in_sample_warning"],
                         "reliability": _image(run_dir / result["reliability_plot"], "reliability")})
    return dg.Output(result, metadata=metadata)


@dg.asset(**MONITORING, kinds={"python", "json"},
          description="Population stability index per feature and label-rate drift of the newest window against "
                      "the champion's reference profile (this run's own fit_inner when there is no champion).")
def drift_report(context: dg.AssetExecutionContext, trader_home: TraderHome, reference_profile: dict,
                 feature_frame: pd.DataFrame, direction_train: pd.DataFrame,
                 entry_train: pd.DataFrame) -> dg.Output[dict]:
    run_id = context.partition_key
    run_dir = trader_home.run_dir(run_id)
    result = stage.drift_stage(run_dir, trader_home.run_spec(run_id), trader_home.path, reference_profile,
                               feature_frame, direction_train, entry_train)
    return dg.Output(result, metadata={
        "reference": result["reference"], "window": result["window"], "max_psi": result["max_psi"],
        "features_warn": json_value(result["features_warn"]), "labels_warn": json_value(result["labels_warn"]),
        "label_rates": dg.MetadataValue.md(markdown_table(
            result["label_rates"], ["label", "reference_rate", "newest_rate", "change", "status"])),
        "psi": _image(run_dir / result["psi_plot"], "feature PSI")})


@dg.asset(**MONITORING, kinds={"python", "json"},
          description="This run's bundle (challenger) and the incumbent champion of its model line on this run's "
                      "latest_stress rows, each with its own models, PM config and price plan; the documented "
                      "promotion rule decides (a price-plan change is refused unless the run spec accepts it).")
def champion_challenger(context: dg.AssetExecutionContext, trader_home: TraderHome, feature_frame: pd.DataFrame,
                        direction_train: pd.DataFrame, entry_train: pd.DataFrame, entry_labels: pd.DataFrame,
                        pm_search: dict, price_plan: dict) -> dg.Output[dict]:
    run_id = context.partition_key
    result = stage.challenger_stage(trader_home.run_dir(run_id), trader_home.run_spec(run_id), trader_home.path,
                                    feature_frame, direction_train, entry_train, entry_labels, pm_search, price_plan)
    rows = [{"bundle": name, **{k: (ev or {}).get("pm", {}).get(k) for k in
                                ("trade_count", "total_weighted_edge_bps", "max_drawdown_bps")}}
            for name, ev in (("challenger", result["challenger_eval"]), ("champion", result["champion_eval"]))]
    return dg.Output(result, metadata={"decision": result["decision"], "line": result["line"],
                                       "champion": result["champion"] or "none",
                                       "reasons": json_value(result["reasons"]),
                                       "comparison": dg.MetadataValue.md(markdown_table(rows))})


@dg.asset(**MONITORING, kinds={"python", "markdown"},
          description="The monitoring page of this run: shadow scoring, calibration, drift and the champion vs "
                      "challenger decision, with plots, as markdown in the UI and monitoring/monitoring_report.md.")
def monitoring_report(context: dg.AssetExecutionContext, trader_home: TraderHome, shadow_scoring: dict,
                      drift_report: dict, champion_challenger: dict) -> dg.Output[dict]:
    run_id = context.partition_key
    run_dir = trader_home.run_dir(run_id)
    text = stage.monitoring_report(run_dir, run_id, shadow_scoring, drift_report, champion_challenger)
    return dg.Output({"path": stage.REPORT_FILE, "decision": champion_challenger["decision"],
                      "shadow_status": shadow_scoring["status"], "drift_features_warn": drift_report["features_warn"],
                      "drift_labels_warn": drift_report["labels_warn"]},
                     metadata={"report": dg.MetadataValue.md(text)})


MONITORING_ASSETS = [reference_profile, shadow_scoring, drift_report, champion_challenger, monitoring_report]

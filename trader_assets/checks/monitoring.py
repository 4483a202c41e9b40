"""Monitoring checks: champion vs challenger and drift warnings (never blocking: the monthly report still lands)."""

import dagster as dg

from trader_assets.assets.monitoring import champion_challenger, drift_report
from trader_assets.checks.results import result
from trader_assets.partitions import runs_partitions
from trader_core.monitoring.challenger import allows_promotion


@dg.asset_check(asset=champion_challenger, partitions_def=runs_partitions,
                description="Promotion gate: the challenger is at least as good as the champion on the newest sealed "
                            "rows (trader_core.monitoring.challenger.RULE). Enforced by the release asset, which refuses "
                            "(ReleaseRefused) on a failed decision; not blocking, so the monitoring report of that "
                            "month still materializes.")
def challenger_not_worse_than_champion(champion_challenger: dict) -> dg.AssetCheckResult:
    return result(allows_promotion(champion_challenger), decision=champion_challenger["decision"],
                   reasons=champion_challenger["reasons"], champion=champion_challenger["champion"] or "none")


@dg.asset_check(asset=drift_report, partitions_def=runs_partitions,
                description="WARN when a feature's PSI on the newest window is >= 0.25 against the reference profile.")
def feature_drift_psi(drift_report: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=not drift_report["features_warn"], severity=dg.AssetCheckSeverity.WARN,
                               metadata={"features_warn": dg.MetadataValue.json(drift_report["features_warn"]),
                                         "max_psi": drift_report["max_psi"], "reference": drift_report["reference"]})


@dg.asset_check(asset=drift_report, partitions_def=runs_partitions,
                description="WARN when a label rate on the newest window moved by >= 0.05 and >= 25 % of its reference.")
def label_rate_drift(drift_report: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=not drift_report["labels_warn"], severity=dg.AssetCheckSeverity.WARN,
                               metadata={"labels_warn": dg.MetadataValue.json(drift_report["labels_warn"]),
                                         "label_rates": dg.MetadataValue.json(drift_report["label_rates"])})


MONITORING_CHECKS = [challenger_not_worse_than_champion, feature_drift_psi, label_rate_drift]

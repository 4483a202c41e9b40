"""Trading and release groups: PM threshold search, integrated backtest, promotion of a release bundle."""

import base64

import dagster as dg
import pandas as pd

from trader_assets.metadata import json_value
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import layout, stages
from trader_core.contracts.versions import MODEL_BUNDLE_VERSION
from trader_core.pm.config import PM_CONFIG_VERSION
from trader_core.report import markdown_table

TRADING = dict(partitions_def=runs_partitions, group_name="trading", owners=["team:research"],
               code_version=PM_CONFIG_VERSION)


@dg.asset(**TRADING, kinds={"python", "json"},
          deps=["direction_model", "risk_model"],
          description="Position-manager threshold search over the 1536-candidate grid on tune_inner only; the "
                      "chosen config (JSON + hash), the candidate table and the best tune trades.")
def pm_search(context: dg.AssetExecutionContext, trader_home: TraderHome, entry_model: dict,
              entry_train: pd.DataFrame, entry_labels: pd.DataFrame, price_plan: dict) -> dg.Output[dict]:
    run_dir = trader_home.run_dir(context.partition_key)
    doc = stages.pm_search_stage(run_dir, entry_train, entry_labels, price_plan)
    return dg.Output(doc, metadata={
        "config_hash": doc["config_hash_sha256"], "thresholds": json_value(doc["thresholds"]),
        "edge_mode": doc["edge_mode"], "tune_metrics": json_value(doc["tune_metrics"]),
        "report": dg.MetadataValue.md((run_dir / layout.PM_REPORT_FILE).read_text())})


@dg.asset(**TRADING, kinds={"python", "json"},
          description="The chosen PM config replayed on validation_locked and latest_stress: trades, metrics per "
                      "split, PASS/FAIL with reasons, an equity curve per split.")
def backtest(context: dg.AssetExecutionContext, trader_home: TraderHome, pm_search: dict,
             entry_train: pd.DataFrame, entry_labels: pd.DataFrame, price_plan: dict) -> dg.Output[dict]:
    run_id = context.partition_key
    run_dir = trader_home.run_dir(run_id)
    result = stages.backtest_stage(run_dir, trader_home.run_spec(run_id), trader_home.path, pm_search, entry_train,
                                   entry_labels, price_plan)
    rows = [{"split": s, **{k: m.get(k) for k in ("trade_count", "win_rate", "avg_weighted_edge_bps",
                                                 "total_weighted_edge_bps", "max_drawdown_bps", "profit_factor")}}
            for s, m in result["metrics"].items()]
    validation = result["significance"]["validation_locked"]
    metadata = {"status": result["status"], "status_reasons": json_value(result["status_reasons"]),
                "why": dg.MetadataValue.md("```\n" + "\n".join(result["explanation"]) + "\n```"),
                "look": result["looks"], "required_t": result["required_statistic"],
                "validation_t": validation["statistic"], "validation_deflated_t": validation["deflated_statistic"],
                "validation_p_value": validation["p_value"],
                "metrics": dg.MetadataValue.md(markdown_table(rows)),
                "report": dg.MetadataValue.md((run_dir / layout.BACKTEST_REPORT_FILE).read_text())}
    for split, rel in result["equity_plots"].items():
        png = base64.b64encode((run_dir / rel).read_bytes()).decode("ascii")
        metadata[f"equity_{split}"] = dg.MetadataValue.md(f"![equity {split}](data:image/png;base64,{png})")
        metadata[f"equity_{split}_path"] = dg.MetadataValue.path(str(run_dir / rel))
    return dg.Output(result, metadata=metadata)


@dg.asset(partitions_def=runs_partitions, group_name="release", owners=["team:research"], kinds={"python", "onnx"},
          code_version=MODEL_BUNDLE_VERSION,
          deps=["model_train_manifest", "direction_model", "continue_model", "risk_model", "feature_frame",
                "reference_profile", "shadow_scoring", "drift_report"],
          description="Promote the run's bundle (4 ONNX models, feature order/schema, price plan, PM config, "
                      "metrics, backtest, reference profile) to a new immutable version under releases/ and make it "
                      "the champion of the run's model line. Skipped when the backtest fails (blocking check); refuses (ReleaseRefused) when "
                      "the champion-vs-challenger decision keeps the champion.")
def release(context: dg.AssetExecutionContext, trader_home: TraderHome, backtest: dict, pm_search: dict,
            price_plan: dict, entry_model: dict, champion_challenger: dict) -> dg.Output[dict]:
    run_id = context.partition_key
    spec = trader_home.run_spec(run_id)
    record = stages.release_stage(trader_home.run_dir(run_id), spec, backtest, trader_home.path, champion_challenger)
    context.log.info(f"release {record['version']} is the champion of line {record['line']} "
                     f"({'reused' if record['reused'] else 'new'})")
    return dg.Output(record, metadata={"version": record["version"], "line": record["line"],
                                       "path": dg.MetadataValue.path(record["path"]),
                                       "reused": record["reused"], "content_hash": record["content_hash"]})


@dg.asset(partitions_def=runs_partitions, group_name="experiments", owners=["team:research"], kinds={"python", "json"},
          code_version=PM_CONFIG_VERSION,
          description="Training diagnostics (spec 13.11): label summary from the datasets, PM gate funnel with the "
                      "active thresholds, relaxed variants, top-bucket edge and a plain-language conclusion. "
                      "Diagnostic only: nothing depends on it.")
def training_diagnostics(context: dg.AssetExecutionContext, trader_home: TraderHome, pm_search: dict,
                         direction_train: pd.DataFrame, entry_train: pd.DataFrame, entry_labels: pd.DataFrame,
                         price_plan: dict) -> dg.Output[dict]:
    run_dir = trader_home.run_dir(context.partition_key)
    result = stages.diagnostics_stage(run_dir, direction_train, entry_train, entry_labels, price_plan, pm_search)
    return dg.Output(result, metadata={"conclusion": result["conclusion"]["code"],
                                       "report": dg.MetadataValue.md((run_dir / layout.DIAGNOSTICS_REPORT_FILE).read_text())})


TRADING_ASSETS = [pm_search, backtest, release, training_diagnostics]

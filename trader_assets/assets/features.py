"""Features group: the feature frame (spec 6) with its order, schema and quality report."""


import dagster as dg
import pandas as pd

from trader_assets.metadata import json_value, preview
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.contracts.features import FEATURE_ORDER, FEATURES, META_COLUMNS
from trader_core.contracts.versions import FEATURE_VERSION


def _feature_schema() -> dg.TableSchema:
    meta = [dg.TableColumn(name, "string" if name not in ("open_time_ms", "event_time") else "int") for name in META_COLUMNS]
    feats = [dg.TableColumn(f.name, "float32", description=f"[{f.unit}] {f.formula} (source: {f.source})")
             for f in FEATURES]
    return dg.TableSchema(columns=meta + feats)


@dg.asset(partitions_def=runs_partitions, group_name="features", owners=["team:research"],
          kinds={"python", "parquet"}, code_version=FEATURE_VERSION,
          description=f"{len(FEATURE_ORDER)} look-ahead-free features per symbol-minute (float32) with split ids "
                      "and data_quality_flag; writes feature_order.json, feature_schema.json and the quality report.")
def feature_frame(context: dg.AssetExecutionContext, trader_home: TraderHome, replay_1m: pd.DataFrame,
                  split_manifest: dict) -> dg.Output[pd.DataFrame]:
    frame, summary = stages.feature_stage(replay_1m, split_manifest, trader_home.run_dir(context.partition_key))
    return dg.Output(frame, metadata={
        "dagster/row_count": summary["row_count"],
        "dagster/column_schema": _feature_schema(),
        "feature_order_hash": summary["feature_order_hash"],
        "feature_schema_hash": summary["feature_schema_hash"],
        "data_hash_sha256": summary["data_hash_sha256"],
        "rows": json_value({k: summary[k] for k in ("ok_row_count", "partial_optional_row_count", "warmup_row_count")}),
        "rows_per_split": json_value(summary["rows_per_split"]),
        "quality_report_path": dg.MetadataValue.path(summary["report_path"]),
        "quality_report": dg.MetadataValue.md(summary["report_markdown"]),
        "preview": preview(frame),
    })

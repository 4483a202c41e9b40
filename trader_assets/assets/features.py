"""Features group: the feature frame (docs/features.md) with its order, schema and quality report."""


import dagster as dg
import pandas as pd

from trader_assets.assets.fanout import FANOUT_IO, replay_by_symbol
from trader_assets.io_manager import clear_fanout
from trader_assets.metadata import stage_output
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.contracts.features import FEATURE_ORDER


@dg.op(out=dg.Out(io_manager_key=FANOUT_IO), description="The feature frame of one symbol's replay rows.")
def symbol_features(replay_part: pd.DataFrame, split_manifest: dict) -> dg.Output[pd.DataFrame]:
    return stage_output(stages.symbol_features_stage(replay=replay_part, manifest=split_manifest))


@dg.op(description="Merge the per-symbol frames (exactly the single-process frame) and write the feature order, "
                   "schema and quality report.")
def merge_features(context: dg.OpExecutionContext, trader_home: TraderHome,
                   parts: list[pd.DataFrame]) -> dg.Output[pd.DataFrame]:
    result = stages.feature_frame_stage(ctx=trader_home.context(context.partition_key), parts=parts)
    clear_fanout(context.run_id, "feature_frame", trader_home.home)
    return stage_output(result)


@dg.graph_asset(partitions_def=runs_partitions, group_name="features", owners=["team:research"],
                kinds={"python", "parquet"},
                description=f"{len(FEATURE_ORDER)} look-ahead-free features per symbol-minute (float32) with split "
                            "ids and data_quality_flag, computed per symbol (fan-out) and merged; writes "
                            "feature_order.json, feature_schema.json and the quality report.")
def feature_frame(replay_1m: pd.DataFrame, split_manifest: dict) -> pd.DataFrame:
    parts = replay_by_symbol(replay_1m).map(lambda part: symbol_features(part, split_manifest))
    return merge_features(parts.collect())

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
from trader_core.fanout import ReplaySlice, StoredReplay
from trader_core.parts import PartDigest, PartsManifest


@dg.op(out=dg.Out(io_manager_key=FANOUT_IO),
       description="The feature frame of one symbol's replay rows, stored as that symbol's part of the asset.")
def symbol_features(context: dg.OpExecutionContext, trader_home: TraderHome, replay_part: ReplaySlice,
                    split_manifest: dict) -> dg.Output[PartDigest]:
    return stage_output(stages.symbol_features_stage(ctx=trader_home.context(context.partition_key),
                                                     replay=replay_part, manifest=split_manifest))


@dg.op(description="The manifest of the per-symbol parts (together exactly the single-process frame) and the "
                   "feature order, schema and quality report.")
def merge_features(context: dg.OpExecutionContext, trader_home: TraderHome,
                   parts: list[PartDigest]) -> dg.Output[PartsManifest]:
    result = stages.feature_frame_stage(ctx=trader_home.context(context.partition_key), parts=parts)
    clear_fanout(context.run_id, "feature_frame", trader_home.home)
    return stage_output(result)


@dg.graph_asset(partitions_def=runs_partitions, group_name="features", owners=["team:research"],
                kinds={"python", "parquet"},
                description=f"{len(FEATURE_ORDER)} look-ahead-free features per symbol-minute (float32) with split "
                            "ids and data_quality_flag, computed and stored per symbol (fan-out, one part each); writes "
                            "feature_order.json, feature_schema.json and the quality report.")
def feature_frame(replay_1m: StoredReplay, split_manifest: dict) -> pd.DataFrame:
    parts = replay_by_symbol(replay_1m).map(lambda part: symbol_features(part, split_manifest))
    return merge_features(parts.collect())

"""Labels group: price plan, direction / entry / continue / exit / risk labels and the train datasets."""

import dagster as dg
import pandas as pd

from trader_assets.assets.fanout import FANOUT_IO, replay_by_symbol
from trader_assets.io_manager import clear_fanout
from trader_assets.metadata import stage_output, stage_outputs
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import LABEL_VERSION
from trader_core.fanout import ReplaySlice, StoredReplay
from trader_core.parts import PartDigest, PartsManifest

COMMON = dict(partitions_def=runs_partitions, group_name="labels", owners=["team:research"], code_version=LABEL_VERSION)


@dg.asset(**COMMON, kinds={"python", "json"},
          description="The entry price plan (target, stop, hold, cost, plan and target methods) with a stable id "
                      "and config hash (docs/labels.md, 'Price plan'); also written as a one-row parquet.")
def price_plan(context: dg.AssetExecutionContext, trader_home: TraderHome, split_manifest: dict) -> dg.Output[PricePlan]:
    return stage_output(stages.price_plan_stage(ctx=trader_home.context(context.partition_key)))


@dg.op(out=dg.Out(io_manager_key=FANOUT_IO),
       description="The path statistics of one symbol's replay rows, stored as that symbol's part of the asset.")
def symbol_path_stats(context: dg.OpExecutionContext, trader_home: TraderHome, replay_part: ReplaySlice,
                      split_manifest: dict, price_plan: PricePlan) -> dg.Output[PartDigest]:
    return stage_output(stages.symbol_path_stats_stage(ctx=trader_home.context(context.partition_key),
                                                       replay=replay_part, manifest=split_manifest, plan=price_plan))


@dg.op(description="The manifest of the per-symbol path statistics (together exactly the single-process frame).")
def merge_path_stats(context: dg.OpExecutionContext, trader_home: TraderHome,
                     parts: list[PartDigest]) -> dg.Output[PartsManifest]:
    result = stages.path_stats_stage(ctx=trader_home.context(context.partition_key), parts=parts)
    clear_fanout(context.run_id, "path_stats", trader_home.home)
    return stage_output(result)


@dg.graph_asset(partitions_def=runs_partitions, group_name="labels", owners=["team:research"],
                kinds={"python", "parquet"},
                description="The price plan's outcome for every start minute, side and label horizon: hits, times, "
                            "gross edge, future return, MFE/MAE, future spread and volatility; windows never cross a "
                            "split. Computed and stored per symbol (fan-out, one part each).")
def path_stats(replay_1m: StoredReplay, split_manifest: dict, price_plan: PricePlan) -> pd.DataFrame:
    parts = replay_by_symbol(replay_1m).map(lambda part: symbol_path_stats(part, split_manifest, price_plan))
    return merge_path_stats(parts.collect())


@dg.asset(**COMMON, kinds={"python", "parquet"},
          description="45-minute forward return and LONG/SHORT/NEUTRAL targets at +-5 bps (inclusive, before cost).")
def direction_labels(context: dg.AssetExecutionContext, trader_home: TraderHome, feature_frame: pd.DataFrame,
                     path_stats: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    return stage_output(stages.direction_labels_stage(ctx=trader_home.context(context.partition_key),
                                                      features=feature_frame, path_stats=path_stats))


@dg.asset(**COMMON, kinds={"python", "parquet"},
          description="Plan outcome per (sample, side): hits, times, gross/net edge, MFE/MAE, entry_target.")
def entry_labels(feature_frame: pd.DataFrame, path_stats: pd.DataFrame, price_plan: PricePlan) -> dg.Output[pd.DataFrame]:
    return stage_output(stages.entry_labels_stage(features=feature_frame, path_stats=path_stats, plan=price_plan))


@dg.multi_asset(
    outs={name: dg.AssetOut(kinds={"python", "parquet"}, code_version=LABEL_VERSION, owners=["team:research"],
                            description=desc)
          for name, desc in (("continue_labels", "Continue targets and expected continue edge per side."),
                             ("exit_labels", "Exit targets per side: adverse move, stagnation or reversal."),
                             ("risk_labels", "Market / position / spike / vol-expansion / liquidity risk labels."))},
    partitions_def=runs_partitions, group_name="labels",
)
def position_labels(context: dg.AssetExecutionContext, trader_home: TraderHome, feature_frame: pd.DataFrame,
                    path_stats: pd.DataFrame, price_plan: PricePlan):
    yield from stage_outputs(stages.position_label_stage(ctx=trader_home.context(context.partition_key),
                                                         features=feature_frame, path_stats=path_stats,
                                                         plan=price_plan))


def _dataset_asset(name: str, labels_asset: str):
    @dg.asset(name=f"{name}_train", **COMMON, kinds={"python", "parquet"},
              ins={"feature_frame": dg.AssetIn(), "labels": dg.AssetIn(labels_asset)},
              description=f"Trainable feature rows of the four splits joined with the {name} labels.")
    def _dataset(context: dg.AssetExecutionContext, trader_home: TraderHome, feature_frame: pd.DataFrame,
                 labels: pd.DataFrame) -> dg.Output[pd.DataFrame]:
        return stage_output(stages.train_dataset_stage(ctx=trader_home.context(context.partition_key), name=name,
                                                       features=feature_frame, labels=labels))

    return _dataset


direction_train = _dataset_asset("direction", "direction_labels")
entry_train = _dataset_asset("entry", "entry_labels")
continue_train = _dataset_asset("continue", "continue_labels")
risk_train = _dataset_asset("risk", "risk_labels")


@dg.asset(**COMMON, kinds={"python", "parquet"},
          description="Direction relabelled by which side had a tradable path opportunity (docs/labels.md, "
                      "'Datasets'); a new "
                      "dataset that never overwrites direction_train.")
def direction_opportunity_train(context: dg.AssetExecutionContext, trader_home: TraderHome,
                                direction_train: pd.DataFrame, entry_train: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    return stage_output(stages.direction_opportunity_stage(ctx=trader_home.context(context.partition_key),
                                                           direction_train=direction_train, entry_train=entry_train))


LABEL_ASSETS = [price_plan, path_stats, direction_labels, entry_labels, position_labels, direction_train, entry_train,
                continue_train, risk_train, direction_opportunity_train]

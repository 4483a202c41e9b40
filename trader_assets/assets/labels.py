"""Labels group: price plan, direction / entry / continue / exit / risk labels and the train datasets."""

import dagster as dg
import pandas as pd

from trader_assets.assets.fanout import FANOUT_IO, in_symbol_order, replay_by_symbol
from trader_assets.io_manager import clear_fanout
from trader_assets.metadata import json_value, preview
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import io, stages
from trader_core.contracts.labels import DATASET_LABELS, RISK_PROB_LABELS, RISK_TARGETS
from trader_core.contracts.versions import LABEL_VERSION
from trader_core.fanout import merge_path_stats as merge_symbol_path_stats
from trader_core.labels.base import label_horizons
from trader_core.labels.datasets import build_train_dataset
from trader_core.labels.direction import build_direction_labels
from trader_core.labels.entry import build_entry_labels
from trader_core.report import markdown_table

COMMON = dict(partitions_def=runs_partitions, group_name="labels", owners=["team:research"], code_version=LABEL_VERSION)


def _label_metadata(frame: pd.DataFrame, targets: tuple[str, ...]) -> dict:
    summary = stages.label_summary(frame, targets)
    return {"dagster/row_count": summary["row_count"], "data_hash_sha256": summary["data_hash_sha256"],
            "rates_by_split": json_value(summary["rates_by_split"]),
            "one_class_targets": json_value(summary["one_class"]), "preview": preview(frame)}


@dg.asset(**COMMON, kinds={"python", "json"},
          description="The entry price plan (target, stop, hold, cost, plan and target methods) with a stable id "
                      "and config hash (spec 7.3); also written as a one-row parquet.")
def price_plan(context: dg.AssetExecutionContext, trader_home: TraderHome, split_manifest: dict) -> dg.Output[dict]:
    run_id = context.partition_key
    plan = stages.price_plan_stage(trader_home.run_spec(run_id), trader_home.run_dir(run_id))
    return dg.Output(plan, metadata={"price_plan_id": plan["pricePlanId"], "plan": json_value(plan)})


@dg.op(out=dg.Out(io_manager_key=FANOUT_IO), description="The path statistics of one symbol's replay rows.")
def symbol_path_stats(context: dg.OpExecutionContext, trader_home: TraderHome, replay_part: pd.DataFrame,
                      split_manifest: dict, price_plan: dict) -> pd.DataFrame:
    return stages.path_stats_stage(replay_part, split_manifest, trader_home.run_spec(context.partition_key), price_plan)


@dg.op(description="Merge the per-symbol path statistics (exactly the single-process frame).")
def merge_path_stats(context: dg.OpExecutionContext, trader_home: TraderHome,
                     parts: list[pd.DataFrame]) -> dg.Output[pd.DataFrame]:
    spec = trader_home.run_spec(context.partition_key)
    stats = merge_symbol_path_stats(in_symbol_order(parts), label_horizons(spec.labels))
    clear_fanout(context.run_id, "path_stats", trader_home.home)
    rates = stats.groupby(["horizon_minutes", "side"], observed=True)[["target_hit", "stop_hit", "timeout_hit"]].mean()
    return dg.Output(stats, metadata={
        "dagster/row_count": len(stats), "data_hash_sha256": io.frame_hash(stats),
        "hit_rates": dg.MetadataValue.md(markdown_table(rates.reset_index())), "preview": preview(stats)})


@dg.graph_asset(partitions_def=runs_partitions, group_name="labels", owners=["team:research"],
                kinds={"python", "parquet"},
                description="The price plan's outcome for every start minute, side and label horizon: hits, times, "
                            "gross edge, future return, MFE/MAE, future spread and volatility; windows never cross a "
                            "split. Computed per symbol (fan-out) and merged.")
def path_stats(replay_1m: pd.DataFrame, split_manifest: dict, price_plan: dict) -> pd.DataFrame:
    parts = replay_by_symbol(replay_1m).map(lambda part: symbol_path_stats(part, split_manifest, price_plan))
    return merge_path_stats(parts.collect())


@dg.asset(**COMMON, kinds={"python", "parquet"},
          description="45-minute forward return and LONG/SHORT/NEUTRAL targets at +-5 bps (inclusive, before cost).")
def direction_labels(context: dg.AssetExecutionContext, trader_home: TraderHome, feature_frame: pd.DataFrame,
                     path_stats: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    spec = trader_home.run_spec(context.partition_key)
    labels = build_direction_labels(feature_frame, path_stats, spec.labels.direction)
    return dg.Output(labels, metadata=_label_metadata(labels, ("long_target", "short_target", "neutral_target")))


@dg.asset(**COMMON, kinds={"python", "parquet"},
          description="Plan outcome per (sample, side): hits, times, gross/net edge, MFE/MAE, entry_target.")
def entry_labels(feature_frame: pd.DataFrame, path_stats: pd.DataFrame, price_plan: dict) -> dg.Output[pd.DataFrame]:
    labels = build_entry_labels(feature_frame, path_stats, price_plan)
    meta = _label_metadata(labels, ("entry_target", "target_hit", "stop_hit"))
    meta["price_plan_id"] = price_plan["pricePlanId"]
    return dg.Output(labels, metadata=meta)


@dg.multi_asset(
    outs={name: dg.AssetOut(kinds={"python", "parquet"}, code_version=LABEL_VERSION, owners=["team:research"],
                            description=desc)
          for name, desc in (("continue_labels", "Continue targets and expected continue edge per side."),
                             ("exit_labels", "Exit targets per side: adverse move, stagnation or reversal."),
                             ("risk_labels", "Market / position / spike / vol-expansion / liquidity risk labels."))},
    partitions_def=runs_partitions, group_name="labels",
)
def position_labels(context: dg.AssetExecutionContext, trader_home: TraderHome, feature_frame: pd.DataFrame,
                    path_stats: pd.DataFrame, price_plan: dict):
    run_id = context.partition_key
    labels, report = stages.position_label_stage(feature_frame, path_stats, trader_home.run_spec(run_id), price_plan,
                                                 trader_home.run_dir(run_id))
    targets = {"continue": ("long_continue_target", "short_continue_target"),
               "exit": ("long_exit_target", "short_exit_target"), "risk": RISK_TARGETS + RISK_PROB_LABELS}
    for name in ("continue", "exit", "risk"):
        meta = _label_metadata(labels[name], targets[name])
        if name == "risk":
            meta["report"] = dg.MetadataValue.md(report)
        yield dg.Output(labels[name], output_name=f"{name}_labels", metadata=meta)


def _dataset_metadata(data: pd.DataFrame, name: str) -> dict:
    return {"dagster/row_count": len(data), "data_hash_sha256": io.frame_hash(data),
            "rows_per_split": json_value(data["split_id"].value_counts().to_dict()),
            "label_means": json_value({c: float(data[c].mean()) for c in DATASET_LABELS[name]})}


def _dataset_asset(name: str, labels_asset: str):
    @dg.asset(name=f"{name}_train", **COMMON, kinds={"python", "parquet"},
              ins={"feature_frame": dg.AssetIn(), "labels": dg.AssetIn(labels_asset)},
              description=f"Trainable feature rows of the four splits joined with the {name} labels.")
    def _dataset(context: dg.AssetExecutionContext, trader_home: TraderHome, feature_frame: pd.DataFrame,
                 labels: pd.DataFrame) -> dg.Output[pd.DataFrame]:
        spec = trader_home.run_spec(context.partition_key)
        data = build_train_dataset(name, feature_frame, labels, allow_filled_bars=spec.replay.train_on_filled_bars)
        return dg.Output(data, metadata=_dataset_metadata(data, name))

    return _dataset


direction_train = _dataset_asset("direction", "direction_labels")
entry_train = _dataset_asset("entry", "entry_labels")
continue_train = _dataset_asset("continue", "continue_labels")
risk_train = _dataset_asset("risk", "risk_labels")


@dg.asset(**COMMON, kinds={"python", "parquet"},
          description="Direction relabelled by which side had a tradable path opportunity (spec 13.10); a new "
                      "dataset that never overwrites direction_train.")
def direction_opportunity_train(context: dg.AssetExecutionContext, trader_home: TraderHome,
                                direction_train: pd.DataFrame, entry_train: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    data, result = stages.direction_opportunity_stage(direction_train, entry_train,
                                                      trader_home.run_dir(context.partition_key))
    return dg.Output(data, metadata={"dagster/row_count": len(data), "result": json_value(result)})


LABEL_ASSETS = [price_plan, path_stats, direction_labels, entry_labels, position_labels, direction_train, entry_train,
                continue_train, risk_train, direction_opportunity_train]

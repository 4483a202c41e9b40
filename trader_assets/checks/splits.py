"""Checks of the split manifest: the split plan's order and embargo, and the locked sealed boundaries."""

import dagster as dg

from trader_assets.assets.market import split_manifest
from trader_assets.checks.results import result
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.contracts.replay import MINUTE_MS
from trader_core.contracts.versions import TRAINING_SPLITS
from trader_core.splits import sealed_boundaries


@dg.asset_check(asset=split_manifest, blocking=True, partitions_def=runs_partitions,
                description="Splits ordered fit < tune < validation_locked < latest_stress, non-empty, and the "
                            "embargo covers the longest label horizon.")
def split_order_and_embargo(split_manifest: dict) -> dg.AssetCheckResult:
    splits = split_manifest["splits"]
    ids = [s["split_id"] for s in splits]
    ordered = ids == list(TRAINING_SPLITS) and all(
        a["end_ms"] <= b["start_ms"] for a, b in zip(splits, splits[1:])) and all(s["start_ms"] < s["end_ms"] for s in splits)
    gaps_min = [(b["start_ms"] - a["end_ms"]) // MINUTE_MS for a, b in zip(splits, splits[1:])]
    horizon = split_manifest["longest_label_horizon_minutes"]
    embargo_ok = all(g >= horizon for g in gaps_min)
    empty = [s["split_id"] for s in splits if s["row_count"] == 0]
    return result(ordered and embargo_ok and not empty, split_ids=ids, embargo_gaps_minutes=gaps_min,
                  longest_label_horizon_minutes=horizon, empty_splits=empty)


@dg.asset_check(asset=split_manifest, blocking=True, partitions_def=runs_partitions,
                description="Locked validation contract: the sealed boundaries equal the run's split lock.")
def split_locked_unchanged(context: dg.AssetCheckExecutionContext, trader_home: TraderHome,
                           split_manifest: dict) -> dg.AssetCheckResult:
    lock = stages.read_split_lock(trader_home.run_dir(context.partition_key))
    current = sealed_boundaries(split_manifest)
    if lock is None:
        return result(False, reason="no split lock written for this run", current=current)
    return result(lock["sealed_boundaries"] == current, locked=lock["sealed_boundaries"], current=current)


SPLIT_CHECKS = [split_order_and_embargo, split_locked_unchanged]

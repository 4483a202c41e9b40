"""The feature-order check: the frame's columns and the written feature_order.json match the contract's hash."""

import dagster as dg
import pandas as pd

from trader_assets.assets.features import feature_frame
from trader_assets.checks.results import result
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import io, layout
from trader_core.contracts.feature_frame import FEATURE_FRAME
from trader_core.contracts.features import feature_order_hash


@dg.asset_check(asset=feature_frame, blocking=True, partitions_def=runs_partitions,
                description="Columns are META + FEATURE_ORDER and feature_order.json hashes to the contract hash.")
def feature_order_hash_matches(context: dg.AssetCheckExecutionContext, trader_home: TraderHome,
                               feature_frame: pd.DataFrame) -> dg.AssetCheckResult:
    columns_ok = list(feature_frame.columns) == FEATURE_FRAME.names
    path = trader_home.run_dir(context.partition_key) / layout.FEATURE_ORDER_FILE
    written = io.read_json(path) if path.exists() else None
    file_hash = io.sha256_json_obj(written) if written is not None else None
    return result(columns_ok and file_hash == feature_order_hash(), columns_match=columns_ok,
                  feature_order_hash=feature_order_hash(), written_hash=file_hash)

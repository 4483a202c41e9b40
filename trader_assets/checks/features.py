"""The feature-order check: the stored parts' columns and the written feature_order.json match the contract's hash.
Only the parts' parquet schemas are read, not their rows."""

import dagster as dg

from trader_assets.assets.features import feature_frame
from trader_assets.checks.factory import PARTS_MANIFEST_LOADER
from trader_assets.checks.results import result
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import io, layout, parts
from trader_core.contracts.feature_frame import FEATURE_FRAME
from trader_core.contracts.features import feature_order_hash


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec("feature_order_hash_matches", asset=feature_frame, blocking=True,
                             partitions_def=runs_partitions,
                             description="Columns are META + FEATURE_ORDER and feature_order.json hashes to the "
                                         "contract hash.")],
    ins={"stored": dg.AssetIn("feature_frame", input_manager_key=PARTS_MANIFEST_LOADER)})
def feature_order_hash_matches(context: dg.AssetCheckExecutionContext, trader_home: TraderHome,
                               stored: parts.PartsManifest) -> dg.AssetCheckResult:
    run_dir = trader_home.run_dir(context.partition_key)
    columns_ok = all(c == FEATURE_FRAME.names for c in parts.part_columns(
        run_dir / layout.ARTIFACT_PATHS["feature_frame"], stored))
    path = run_dir / layout.FEATURE_ORDER_FILE
    written = io.read_json(path) if path.exists() else None
    file_hash = io.sha256_json_obj(written) if written is not None else None
    return result(columns_ok and file_hash == feature_order_hash(), columns_match=columns_ok,
                  feature_order_hash=feature_order_hash(), written_hash=file_hash)

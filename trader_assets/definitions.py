"""The Dagster code location: assets, checks, jobs and resources of trader."""

import dagster as dg

from trader_assets.assets.butterfly import BUTTERFLY_ASSETS, BUTTERFLY_CHECKS
from trader_assets.assets.decisions import DECISION_ASSETS
from trader_assets.assets.experiments import EXPERIMENT_ASSETS
from trader_assets.assets.features import feature_frame
from trader_assets.assets.labels import LABEL_ASSETS
from trader_assets.assets.models import MODEL_GROUP_ASSETS
from trader_assets.assets.monitoring import MONITORING_ASSETS
from trader_assets.assets.trading import TRADING_ASSETS
from trader_assets.assets.market import raw_market, replay_1m, split_manifest
from trader_assets.assets.walk_forward import WALK_FORWARD_ASSETS
from trader_assets.checks import CHECKS
from trader_assets.executors import executor_from_env
from trader_assets.io_manager import FanoutIOManager, PartsManifestLoader, RunArtifactIOManager
from trader_assets.jobs import JOBS
from trader_assets.metadata import table_schema
from trader_assets.progress import progress_logger
from trader_assets.registration import register_run_job
from trader_assets.resources import TraderHome
from trader_assets.run_recording import RUN_STATUS_SENSORS
from trader_assets.sensors import SCHEDULES, SENSORS
from trader_assets.stored_tables import STORED_TABLES


def with_column_schema(spec: dg.AssetSpec) -> dg.AssetSpec:
    """A stored table's declared columns as its column schema in the UI (definition metadata)."""
    table = STORED_TABLES.get(spec.key.to_user_string())
    if table is None:
        return spec
    return spec.merge_attributes(metadata={"dagster/column_schema": table_schema(table.contract).value})


ASSETS = dg.map_asset_specs(with_column_schema, [
    raw_market, replay_1m, split_manifest, feature_frame, *LABEL_ASSETS, *MODEL_GROUP_ASSETS, *TRADING_ASSETS,
    *MONITORING_ASSETS, *EXPERIMENT_ASSETS, *BUTTERFLY_ASSETS, *WALK_FORWARD_ASSETS,
    *DECISION_ASSETS])

# Both read $TRADER_HOME (default: data/ in the checkout) when they are used, not at import.
RESOURCES = {"trader_home": TraderHome(), "io_manager": RunArtifactIOManager(), "fanout_io_manager": FanoutIOManager(),
             "parts_manifest_loader": PartsManifestLoader()}


defs = dg.Definitions(assets=ASSETS, asset_checks=[*CHECKS, *BUTTERFLY_CHECKS], jobs=[*JOBS, register_run_job], sensors=[*SENSORS, *RUN_STATUS_SENSORS], schedules=SCHEDULES,
                      resources=RESOURCES,
                      loggers={"progress": progress_logger}, executor=executor_from_env())

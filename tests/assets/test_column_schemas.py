"""Every stored table asset shows its contract's declared columns as its column schema in the UI."""

import dagster as dg

from trader_assets.definitions import defs
from trader_assets.stored_tables import STORED_TABLES

#: The perp graph's stored tables (parquet frames written by the IO manager).
TABLE_ASSETS = {"replay_1m", "feature_frame", "path_stats", "direction_labels", "entry_labels", "continue_labels",
                "exit_labels", "risk_labels", "direction_train", "entry_train", "continue_train", "risk_train",
                "direction_opportunity_train", "pm_frame"}


def test_every_stored_table_asset_has_its_contract_columns_as_column_schema():
    graph = defs.resolve_asset_graph()
    schemas = {key.to_user_string(): graph.get(key).metadata["dagster/column_schema"]
               for key in graph.get_all_asset_keys() if "dagster/column_schema" in graph.get(key).metadata}
    assert set(schemas) == TABLE_ASSETS
    for asset, schema in schemas.items():
        assert isinstance(schema, dg.TableSchema), asset
        contract = STORED_TABLES[asset].contract
        assert [c.name for c in schema.columns] == contract.names, asset
        assert [c.constraints.nullable for c in schema.columns] == [c.nullable for c in contract.columns], asset

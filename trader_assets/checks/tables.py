"""The asset checks of every stored table, generated from its contract (``trader_assets.stored_tables``)."""

from trader_assets.checks.factory import contract_checks
from trader_assets.stored_tables import STORED_TABLES

TABLE_CHECKS = [contract_checks(asset=asset, contract=table.contract, prefix=table.check_prefix)
                for asset, table in STORED_TABLES.items()]

"""The check factory: the asset checks of a stored table, generated from its declared contract.

Every rule of the contract (``TableContract.rules``: the column rules, the key and order rule, the cross-row
invariants) becomes one check named ``<prefix>_<rule>``, blocking unless the rule is a warning. The checks of one
table run in one step that loads the table once; each yields its own result with the rule's details as metadata.
"""


from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from trader_assets.checks.results import result
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core.contracts.table import TableContract

#: Context a rule may read (``Invariant.needs``) beyond the table itself.
SPLIT_MANIFEST, LABEL_CONFIG = "split_manifest", "label_config"


def contract_checks(*, asset: str, contract: TableContract, prefix: str) -> dg.AssetChecksDefinition:
    """The checks of ``asset`` from ``contract``: one per rule, in one step."""
    rules = contract.rules
    needs = {name for rule in rules for name in rule.needs}
    unknown = needs - {SPLIT_MANIFEST, LABEL_CONFIG}
    if unknown:
        raise ValueError(f"{contract.name}: rules read unknown context {sorted(unknown)}")
    specs = [dg.AssetCheckSpec(f"{prefix}_{rule.name}", asset=asset, description=rule.description,
                               blocking=rule.blocking, partitions_def=runs_partitions,
                               additional_deps=[SPLIT_MANIFEST] if SPLIT_MANIFEST in rule.needs else None)
             for rule in rules]

    def evaluate(context: dg.AssetCheckExecutionContext, trader_home: TraderHome, frame: pd.DataFrame,
                 split_manifest: dict | None) -> Iterator[dg.AssetCheckResult]:
        found: dict[str, Any] = {SPLIT_MANIFEST: split_manifest}
        if LABEL_CONFIG in needs:
            found[LABEL_CONFIG] = trader_home.run_spec(context.partition_key).labels
        for rule, spec in zip(rules, specs):
            passed, details = rule.evaluate(frame, found)
            yield result(passed, check_name=spec.name, asset_key=asset,
                         severity=dg.AssetCheckSeverity.ERROR if rule.blocking else dg.AssetCheckSeverity.WARN,
                         **details)

    name = f"{prefix}_contract_checks"
    if SPLIT_MANIFEST in needs:
        @dg.multi_asset_check(specs=specs, name=name, ins={"frame": dg.AssetIn(asset),
                                                           SPLIT_MANIFEST: dg.AssetIn(SPLIT_MANIFEST)})
        def with_splits(context: dg.AssetCheckExecutionContext, trader_home: TraderHome, frame: pd.DataFrame,
                        split_manifest: dict) -> Iterator[dg.AssetCheckResult]:
            yield from evaluate(context, trader_home, frame, split_manifest)

        return with_splits

    @dg.multi_asset_check(specs=specs, name=name, ins={"frame": dg.AssetIn(asset)})
    def table_only(context: dg.AssetCheckExecutionContext, trader_home: TraderHome,
                   frame: pd.DataFrame) -> Iterator[dg.AssetCheckResult]:
        yield from evaluate(context, trader_home, frame, None)

    return table_only

"""The check factory: the asset checks of a stored table, generated from its declared contract.

Every rule of the contract (``TableContract.rules``: the column rules, the key and order rule, the cross-row
invariants) becomes one check named ``<prefix>_<rule>``, blocking unless the rule is a warning. The checks of one
table run in one step that loads the table once; each yields its own result with the rule's details as metadata.
A table stored as per-symbol parts (docs/scaling.md, "Per-symbol parts") is not loaded: its symbol steps
computed each part's figures and the merge decided every rule from them (``trader_core.part_checks``), recorded
as the materialization's ``contract_checks``; the checks report those verdicts when the materialization's
``sha256`` is the stored manifest's (the parts are exactly the ones decided on), and otherwise load the table.
"""


from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import pandas as pd

from trader_assets.checks.results import result
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import layout, parts
from trader_core.contracts.table import TableContract, Verdict
from trader_core.part_checks import recorded_verdicts

#: Context a rule may read (``Invariant.needs``) beyond the table itself.
SPLIT_MANIFEST, LABEL_CONFIG = "split_manifest", "label_config"
#: The input manager that loads a parts artifact's manifest only (``trader_assets.io_manager.PartsManifestLoader``).
PARTS_MANIFEST_LOADER = "parts_manifest_loader"


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
    stored_as_parts = layout.ARTIFACT_PATHS.get(asset, "").endswith(layout.PARTS_SUFFIX)

    def evaluate(context: dg.AssetCheckExecutionContext, trader_home: TraderHome, frame: Any,
                 split_manifest: dict | None) -> Iterator[dg.AssetCheckResult]:
        found: dict[str, Any] = {SPLIT_MANIFEST: split_manifest}
        if LABEL_CONFIG in needs:
            found[LABEL_CONFIG] = trader_home.run_spec(context.partition_key).labels
        verdict, source = _verdicts(context, trader_home, asset, frame)
        for rule, spec in zip(rules, specs):
            passed, details = verdict(rule, found)
            yield result(passed, check_name=spec.name, asset_key=asset,
                         severity=dg.AssetCheckSeverity.ERROR if rule.blocking else dg.AssetCheckSeverity.WARN,
                         decided_from=source, **details)

    name = f"{prefix}_contract_checks"
    table = dg.AssetIn(asset, input_manager_key=PARTS_MANIFEST_LOADER if stored_as_parts else None)
    if SPLIT_MANIFEST in needs:
        @dg.multi_asset_check(specs=specs, name=name, ins={"frame": table, SPLIT_MANIFEST: dg.AssetIn(SPLIT_MANIFEST)})
        def with_splits(context: dg.AssetCheckExecutionContext, trader_home: TraderHome, frame: Any,
                        split_manifest: dict) -> Iterator[dg.AssetCheckResult]:
            yield from evaluate(context, trader_home, frame, split_manifest)

        return with_splits

    @dg.multi_asset_check(specs=specs, name=name, ins={"frame": table})
    def table_only(context: dg.AssetCheckExecutionContext, trader_home: TraderHome,
                   frame: Any) -> Iterator[dg.AssetCheckResult]:
        yield from evaluate(context, trader_home, frame, None)

    return table_only


RuleVerdict = Callable[[Any, dict[str, Any]], Verdict]


def _verdicts(context: dg.AssetCheckExecutionContext, trader_home: TraderHome, asset: str,
              frame: pd.DataFrame | parts.PartsManifest) -> tuple[RuleVerdict, str]:
    """How each rule is decided, and from what: the loaded table, or the verdicts the merge of a parts artifact
    recorded for exactly the stored parts (the table is loaded when there are none)."""
    if isinstance(frame, parts.PartsManifest):
        recorded = _recorded(context, asset, frame)
        if recorded is not None:
            return (lambda rule, _found: recorded[rule.name]), "part figures"
        frame = parts.read_parts(trader_home.run_dir(context.partition_key) / layout.ARTIFACT_PATHS[asset],
                                 manifest=frame)
    return (lambda rule, found: rule.evaluate(frame, found)), "stored table"


def _recorded(context: dg.AssetCheckExecutionContext, asset: str,
              manifest: parts.PartsManifest) -> dict[str, Verdict] | None:
    """The ``contract_checks`` of the latest materialization of this partition, if it stored these parts."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[context.partition_key]), limit=1).records
    if not records:
        return None
    metadata = records[0].asset_materialization.metadata
    sha, recorded = metadata.get("sha256"), metadata.get("contract_checks")
    if sha is None or recorded is None or sha.value != manifest.sha256:
        return None
    return recorded_verdicts(recorded.value)

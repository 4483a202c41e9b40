"""The check factory: one check per contract rule, named and blocking as the rule says, run in one step with the
rule's details as metadata; a parts artifact checked from the verdicts its merge recorded for exactly the stored
parts, otherwise from the loaded table."""

from types import SimpleNamespace

import dagster as dg
import pandas as pd

from trader_assets.checks.factory import _verdicts, contract_checks
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import layout, parts
from trader_core.contracts.table import Column, Invariant, TableContract
from trader_core.part_checks import verdicts_json

TOY = TableContract(
    name="toy", columns=(Column("symbol", "str"), Column("t", "int")), key=("symbol", "t"), sort=("symbol", "t"),
    invariants=(Invariant("few_rows", "Fewer than three rows.", lambda frame: (len(frame) < 3, {"rows": len(frame)}),
                          blocking=False),
                Invariant("needs_splits", "Reads the split manifest.", lambda frame, split_manifest: (True, {}),
                          needs=("split_manifest",))))


@dg.asset(partitions_def=runs_partitions)
def toy() -> pd.DataFrame:
    return pd.DataFrame({"symbol": ["A", "A", "B"], "t": [2, 1, 1]})


@dg.asset(partitions_def=runs_partitions)
def split_manifest() -> dict:
    return {"splits": []}


def test_one_check_per_rule_with_the_rule_blocking_flag():
    checks = contract_checks(asset="toy", contract=TOY, prefix="toy")
    specs = {spec.name: spec for spec in checks.check_specs}
    assert set(specs) == {"toy_matches_contract", "toy_unique_sorted_keys", "toy_few_rows", "toy_needs_splits"}
    assert {name for name, spec in specs.items() if spec.blocking} == {
        "toy_matches_contract", "toy_unique_sorted_keys", "toy_needs_splits"}
    assert {dep.asset_key.to_user_string() for dep in specs["toy_needs_splits"].additional_deps} == {"split_manifest"}
    assert specs["toy_few_rows"].additional_deps == []


def test_the_checks_run_and_report_each_rule(tmp_path, instance):
    instance.add_dynamic_partitions(runs_partitions.name, ["r"])
    checks = contract_checks(asset="toy", contract=TOY, prefix="toy")
    result = dg.materialize([toy, split_manifest, checks], partition_key="r", instance=instance, raise_on_error=False,
                            resources={"trader_home": TraderHome(home=str(tmp_path)),
                                       "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))})
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"toy_matches_contract", "toy_unique_sorted_keys", "toy_few_rows", "toy_needs_splits"}
    assert evaluations["toy_matches_contract"].passed and evaluations["toy_needs_splits"].passed
    key = evaluations["toy_unique_sorted_keys"]
    assert not key.passed and key.severity == dg.AssetCheckSeverity.ERROR
    assert key.metadata["unsorted_pairs"].value == 1 and key.metadata["duplicate_keys"].value == 0
    few = evaluations["toy_few_rows"]
    assert not few.passed and few.severity == dg.AssetCheckSeverity.WARN and few.metadata["rows"].value == 3


SYMBOL_PARTS = TableContract(name="parted", columns=(Column("symbol", "str"), Column("t", "int")), key=("symbol", "t"),
                             sort=("symbol", "t"))


def _context(records):
    """The two things the checks of a parts artifact read from their context: the partition and the instance."""
    return SimpleNamespace(partition_key="r", instance=SimpleNamespace(
        fetch_materializations=lambda *_args, **_kwargs: SimpleNamespace(records=records)))


def _materialization(sha256, verdicts):
    return SimpleNamespace(asset_materialization=SimpleNamespace(metadata={
        "sha256": dg.MetadataValue.text(sha256), "contract_checks": dg.MetadataValue.json(verdicts)}))


def test_a_parts_artifact_is_checked_from_the_recorded_verdicts_only_when_they_are_of_the_stored_parts(tmp_path):
    home = TraderHome(home=str(tmp_path))
    folder = home.run_dir("r") / layout.ARTIFACT_PATHS["feature_frame"]
    frames = [pd.DataFrame({"symbol": ["A", "A"], "t": [2, 1]}), pd.DataFrame({"symbol": ["B"], "t": [1]})]
    digests = [parts.write_part(folder, f, contract=SYMBOL_PARTS) for f in frames]  # A's rows are out of order
    manifest = parts.parts_manifest(folder, digests)
    parts.write_manifest(folder, manifest)
    recorded = verdicts_json(parts.contract_verdicts(digests, contract=SYMBOL_PARTS))
    for records, source in (([_materialization(manifest.sha256, recorded)], "part figures"),
                            ([_materialization("0" * 64, recorded)], "stored table"),  # another materialization's
                            ([], "stored table")):
        verdict, decided_from = _verdicts(_context(records), home, "feature_frame", manifest)
        assert decided_from == source
        passed, details = verdict(SYMBOL_PARTS.rules[1], {})
        assert not passed and details["unsorted_pairs"] == 1 and details["rows"] == 3
        assert verdict(SYMBOL_PARTS.rules[0], {})[0]

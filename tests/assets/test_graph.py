"""Materialize the graph for a small synthetic run: checks pass, artifacts land where the layout says,
a re-run is idempotent, and the locked split refuses moved boundaries."""

import json

import dagster as dg
from dagster import AssetCheckSeverity

from tests.assets.conftest import SMALL_RUN, UP_TO_MODELS, materialize_run, write_spec
from trader_assets.definitions import defs
from trader_assets.checks import CHECKS
from trader_core import io, layout, parts
from trader_core.costs import CostModel, with_trade_costs
from trader_core.features import build_feature_frame, feature_quality_report
from trader_core.labels.base import compute_label_path_stats, label_horizons
from trader_core.labels.price_plan import plan_params
from trader_core.splits import assign_split
from trader_core.contracts.features import FEATURE_ORDER, META_COLUMNS, feature_order_hash
from trader_core.contracts.price_plan import PricePlan


def artifact_hashes(root):
    return {str(p.relative_to(root)): io.sha256_file(p) for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in (".parquet", ".json", ".md")}


def test_small_run_materializes_with_all_checks_passing(tmp_path, instance):
    write_spec(tmp_path, SMALL_RUN)
    result = materialize_run(tmp_path, instance, "small")
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    selected = UP_TO_MODELS.resolve(defs.resolve_asset_graph())  # up to the models: no PM frame, trading, monitoring
    expected = {key.name for check in CHECKS for key in check.check_keys if key.asset_key in selected}
    assert "feature_matches_contract" in expected and "pm_frame_matches_contract" not in expected
    assert sorted(e.check_name for e in evaluations) == sorted(expected)  # each check of the selection ran once
    failed = [(e.check_name, e.metadata) for e in evaluations if not e.passed and e.severity == AssetCheckSeverity.ERROR]
    assert not failed  # WARN checks (e.g. a head not beating its baseline on 8 days) may fail; blocking ones may not
    root = layout.run_root("small", tmp_path)
    frame = parts.read_frame(root / layout.ARTIFACT_PATHS["feature_frame"])
    assert list(frame.columns) == list(META_COLUMNS) + list(FEATURE_ORDER)
    assert set(frame["split_id"]) == {"fit_inner", "tune_inner", "validation_locked", "latest_stress", "embargo"}
    assert json.loads((root / "feature/feature_order.json").read_text()) == list(FEATURE_ORDER)
    assert io.sha256_json_obj(list(FEATURE_ORDER)) == feature_order_hash()
    assert "# Trader Feature Quality Report" in (root / "feature/feature_quality_report.md").read_text()
    manifest = json.loads((root / "split/split_manifest.json").read_text())
    assert manifest["source_replay_path"] == "replay/replay_1m.parquet"  # relative to the run folder
    replay = io.read_parquet(root / "replay/replay_1m.parquet")
    assert len(replay) == 2 * 8 * 1440
    selected = {k.path[-1] for k in UP_TO_MODELS.resolve(defs.resolve_asset_graph())}
    assert selected & set(layout.ARTIFACT_PATHS) and set(layout.ARTIFACT_PATHS) - selected  # both sides checked
    for asset, rel in layout.ARTIFACT_PATHS.items():
        assert (root / rel).exists() == (asset in selected), rel
    for rel in (layout.PRICE_PLAN_PARQUET_FILE, layout.POSITION_LABEL_REPORT_FILE,
                layout.DIRECTION_OPPORTUNITY_RESULT_FILE):
        assert (root / rel).exists(), rel
    for model in ("direction", "entry", "continue", "risk"):
        assert (root / f"model/{model}/{model}.onnx").exists()
        assert (root / f"model/{model}/tune_predictions.parquet").exists()
    entry = io.read_parquet(root / "dataset/entry_train.parquet")
    assert set(entry["split_id"]) == {"fit_inner", "tune_inner", "validation_locked", "latest_stress"}

    first = artifact_hashes(root)
    again = materialize_run(tmp_path, instance, "small")
    assert again.success
    assert artifact_hashes(root) == first  # idempotent, byte-identical


def _failures(result):
    return [str(e.event_specific_data.error) for e in result.all_events if e.event_type_value == "STEP_FAILURE"]


def test_edited_spec_is_refused_before_anything_is_written(tmp_path, instance):
    write_spec(tmp_path, SMALL_RUN)
    assert materialize_run(tmp_path, instance, "small").success
    root = layout.run_root("small", tmp_path)
    before = artifact_hashes(root)
    write_spec(tmp_path, SMALL_RUN | {"end": "2026-01-12"})  # edited behind the CLI's back
    result = materialize_run(tmp_path, instance, "small")
    assert not result.success
    assert any("materialized with another spec" in e and "end" in e for e in _failures(result))
    after = artifact_hashes(root)
    after.pop("run_spec.json"), before.pop("run_spec.json")  # the edited file itself
    assert after == before


def test_moved_sealed_boundaries_are_refused_and_nothing_is_overwritten(tmp_path, instance):
    write_spec(tmp_path, SMALL_RUN)
    assert materialize_run(tmp_path, instance, "small").success
    root = layout.run_root("small", tmp_path)
    lock_path = root / "split/validation_lock.json"
    lock = json.loads(lock_path.read_text())
    lock["sealed_boundaries"]["validation_locked"][0] -= 86_400_000  # the data now implies other boundaries
    io.write_json(lock_path, lock)
    before = artifact_hashes(root)
    result = materialize_run(tmp_path, instance, "small")
    assert not result.success
    assert any("sealed split boundaries are locked" in e for e in _failures(result))
    after = artifact_hashes(root)
    for rel in ("replay/replay_1m.parquet", "split/split_manifest.json", "split/validation_lock.json",
                "feature/feature_frame.manifest.json"):  # the manifest holds the sha256 of every part
        assert after[rel] == before[rel]
    feature_parts = {rel for rel in before if rel.startswith("feature/feature_frame.parts/")}
    assert feature_parts
    assert {rel: after.get(rel) for rel in feature_parts} == {rel: before[rel] for rel in feature_parts}


def test_missing_run_spec_is_a_clear_failure(tmp_path, instance):
    result = materialize_run(tmp_path, instance, "nospec")
    assert not result.success
    errors = [str(e.event_specific_data.error) for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert any("trader run nospec" in e for e in errors)
    assert not (layout.run_root("nospec", tmp_path) / "market").exists()


def test_same_spec_gives_byte_identical_artifacts_in_another_home(tmp_path, instance):
    """Determinism: two data roots, one spec -> identical parquet / JSON / ONNX bytes (issue 9, point 3)."""
    hashes = []
    for name in ("a", "b"):
        home = tmp_path / name
        write_spec(home, SMALL_RUN)
        assert materialize_run(home, instance, "small").success
        root = layout.run_root("small", home)
        found = {str(p.relative_to(root)): io.sha256_file(p) for p in sorted(root.rglob("*"))
                 if p.is_file() and p.suffix in (".parquet", ".json", ".onnx")}
        hashes.append(found)
    assert len(hashes[0]) > 30 and hashes[0] == hashes[1]


def test_fanned_out_assets_equal_the_single_process_stages(tmp_path, instance):
    """feature_frame and path_stats run per symbol (DynamicOut fan-out) and merge to the exact single-process frames;
    the quality report combined from the parts is the single-process frame's, and the contract checks are
    decided from the parts' figures."""
    spec = write_spec(tmp_path, SMALL_RUN)
    selection = [dg.AssetKey(k) for k in ("raw_market", "replay_1m", "split_manifest", "price_plan", "feature_frame",
                                         "path_stats")]
    result = materialize_run(tmp_path, instance, "small", selection)
    assert result.success
    root = layout.run_root("small", tmp_path)
    replay = io.read_parquet(root / "replay/replay_1m.parquet")
    manifest = io.read_json(root / "split/split_manifest.json")
    single = build_feature_frame(replay, assign_split(replay["event_time"], manifest))  # every symbol in one call
    features = parts.read_frame(root / layout.ARTIFACT_PATHS["feature_frame"])
    assert features["symbol"].nunique() == 2 and io.frame_hash(features) == io.frame_hash(single)
    assert (root / layout.FEATURE_REPORT_FILE).read_text() == feature_quality_report(
        single, feature_order_hash=feature_order_hash(), data_hash=io.frame_hash(single))
    decided = {e.check_name: (e.passed, e.metadata["decided_from"].value) for e in result.get_asset_check_evaluations()
               if e.asset_key.to_user_string() in ("feature_frame", "path_stats") and "decided_from" in e.metadata}
    assert decided == {name: (True, "part figures") for name in (
        "feature_matches_contract", "feature_unique_sorted_keys", "feature_trainable_rows_finite",
        "path_stats_matches_contract", "path_stats_unique_sorted_keys")}
    plan = PricePlan.from_json(io.read_json(root / "label/price_plan_context.json"))
    stats = compute_label_path_stats(replay, manifest, plan_params(plan), label_horizons(spec.labels))
    stats = with_trade_costs(stats, CostModel.from_replay(replay, spec.costs))
    assert io.frame_hash(parts.read_frame(root / layout.ARTIFACT_PATHS["path_stats"])) == io.frame_hash(stats)
    leftovers = [p for p in (tmp_path / "fanout").rglob("*") if p.is_file()]
    assert not leftovers  # the per-symbol scratch outputs are cleared after the merge

"""Asset checks: one property each, metadata on every result. Blocking checks stop downstream assets."""


from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from trader_assets.assets.features import feature_frame
from trader_assets.assets.labels import direction_labels, entry_labels
from trader_assets.assets.models import MODEL_ASSETS
from trader_assets.assets.monitoring import champion_challenger, drift_report
from trader_assets.assets.trading import backtest, pm_search, release
from trader_assets.assets.market import replay_1m, split_manifest
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import io, layout
from trader_core.contracts.features import FEATURE_ORDER, META_COLUMNS, TRAINABLE_QUALITY, feature_order_hash
from trader_core.contracts.labels import RISK_TARGETS
from trader_core.contracts.versions import EMBARGO_SPLIT, TRAINING_SPLITS, TUNE_SPLIT
from trader_core.contracts.models import OUTPUT_MAPPING, TARGETS
from trader_core.labels.checks import path_stats_sane, two_sides_per_sample, windows_inside_splits
from trader_core.errors import ArtifactError, ConfigError
from trader_core.models.checks import heads_beating_baseline, onnx_io_contract, onnx_parity
from trader_core.monitoring.challenger import allows_promotion
from trader_core.pm.config import pm_config_hash, validate_pm_config
from trader_core.release import verify_release
from trader_core.splits import sealed_boundaries
from trader_core.stages import label_summary, read_split_lock, trainable_split_counts



def _result(passed: bool, **metadata: Any) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=bool(passed), metadata={k: _meta(v) for k, v in metadata.items()})


def _meta(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return dg.MetadataValue.json(value)
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


@dg.asset_check(asset=replay_1m, blocking=True, partitions_def=runs_partitions,
                description="No duplicate (symbol, minute) and rows sorted by symbol then time.")
def replay_unique_sorted_minutes(replay_1m: pd.DataFrame) -> dg.AssetCheckResult:
    dup = int(replay_1m.duplicated(["symbol", "open_time_ms"]).sum())
    sym = replay_1m["symbol"].to_numpy()
    ms = replay_1m["open_time_ms"].to_numpy()
    same = sym[1:] == sym[:-1]
    unsorted = int(np.sum(same & (ms[1:] <= ms[:-1])))
    return _result(dup == 0 and unsorted == 0, duplicate_minutes=dup, unsorted_pairs=unsorted, rows=len(replay_1m))


@dg.asset_check(asset=replay_1m, blocking=True, partitions_def=runs_partitions,
                description="OHLC sanity: prices positive and finite, low <= open/close <= high, volume >= 0.")
def replay_ohlc_sane(replay_1m: pd.DataFrame) -> dg.AssetCheckResult:
    o, h, low, c, v = (replay_1m[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close", "volume"))
    prices = np.stack([o, h, low, c])
    bad_price = int(np.sum(~np.isfinite(prices).all(axis=0) | (prices <= 0).any(axis=0)))
    bad_order = int(np.sum((h < np.maximum(o, c)) | (low > np.minimum(o, c))))
    bad_volume = int(np.sum(~(v >= 0)))
    return _result(bad_price == 0 and bad_order == 0 and bad_volume == 0, bad_prices=bad_price,
                   bad_high_low=bad_order, bad_volume=bad_volume)


@dg.asset_check(asset=split_manifest, blocking=True, partitions_def=runs_partitions,
                description="Splits ordered fit < tune < validation_locked < latest_stress, non-empty, and the "
                            "embargo covers the longest label horizon.")
def split_order_and_embargo(split_manifest: dict) -> dg.AssetCheckResult:
    splits = split_manifest["splits"]
    ids = [s["split_id"] for s in splits]
    ordered = ids == list(TRAINING_SPLITS) and all(
        a["end_ms"] <= b["start_ms"] for a, b in zip(splits, splits[1:])) and all(s["start_ms"] < s["end_ms"] for s in splits)
    gaps_min = [(b["start_ms"] - a["end_ms"]) // 60_000 for a, b in zip(splits, splits[1:])]
    horizon = split_manifest["longest_label_horizon_minutes"]
    embargo_ok = all(g >= horizon for g in gaps_min)
    empty = [s["split_id"] for s in splits if s["row_count"] == 0]
    return _result(ordered and embargo_ok and not empty, split_ids=ids, embargo_gaps_minutes=gaps_min,
                   longest_label_horizon_minutes=horizon, empty_splits=empty)


@dg.asset_check(asset=split_manifest, blocking=True, partitions_def=runs_partitions,
                description="Locked validation contract: the sealed boundaries equal the run's split lock.")
def split_locked_unchanged(context: dg.AssetCheckExecutionContext, trader_home: TraderHome,
                           split_manifest: dict) -> dg.AssetCheckResult:
    lock = read_split_lock(trader_home.run_dir(context.partition_key))
    current = sealed_boundaries(split_manifest)
    if lock is None:
        return _result(False, reason="no split lock written for this run", current=current)
    return _result(lock["sealed_boundaries"] == current, locked=lock["sealed_boundaries"], current=current)


@dg.asset_check(asset=feature_frame, blocking=True, partitions_def=runs_partitions,
                description="Columns are META + FEATURE_ORDER and feature_order.json hashes to the contract hash.")
def feature_order_hash_matches(context: dg.AssetCheckExecutionContext, trader_home: TraderHome,
                               feature_frame: pd.DataFrame) -> dg.AssetCheckResult:
    expected = list(META_COLUMNS) + list(FEATURE_ORDER)
    columns_ok = list(feature_frame.columns) == expected
    path = trader_home.run_dir(context.partition_key) / layout.FEATURE_ORDER_FILE
    written = io.read_json(path) if path.exists() else None
    file_hash = io.sha256_json_obj(written) if written is not None else None
    return _result(columns_ok and file_hash == feature_order_hash(), columns_match=columns_ok,
                   feature_order_hash=feature_order_hash(), written_hash=file_hash)


@dg.asset_check(asset=feature_frame, blocking=True, partitions_def=runs_partitions,
                description="Every trainable row (OK / PARTIAL_OPTIONAL) has finite features, every training split "
                            "has trainable rows, and no embargo row is trainable in a training split.")
def feature_trainable_rows_finite(feature_frame: pd.DataFrame) -> dg.AssetCheckResult:
    trainable = feature_frame["data_quality_flag"].isin(list(TRAINABLE_QUALITY)).to_numpy()
    values = feature_frame.loc[trainable, list(FEATURE_ORDER)].to_numpy(dtype=np.float64)
    non_finite = int((~np.isfinite(values)).any(axis=1).sum())
    counts = trainable_split_counts(feature_frame)
    empty = [s for s, n in counts.items() if n == 0]
    embargo_rows = int((feature_frame["split_id"] == EMBARGO_SPLIT).sum())
    return _result(non_finite == 0 and not empty, non_finite_trainable_rows=non_finite,
                   trainable_rows_per_split=counts, empty_training_splits=empty, embargo_rows=embargo_rows)


CHECKS = [replay_unique_sorted_minutes, replay_ohlc_sane, split_order_and_embargo, split_locked_unchanged,
          feature_order_hash_matches, feature_trainable_rows_finite]


# ------------------------------------------------------------------------------------------------ labels
def _window_check(asset: dg.AssetsDefinition | str, horizon_of, label: str):
    @dg.asset_check(asset=asset, name=f"{label}_windows_inside_splits", blocking=True, partitions_def=runs_partitions,
                    additional_ins={"split_manifest": dg.AssetIn("split_manifest")},
                    description="No label window crosses a split boundary or an embargo.")
    def _check(context: dg.AssetCheckExecutionContext, trader_home: TraderHome, labels: pd.DataFrame,
               split_manifest: dict) -> dg.AssetCheckResult:
        spec = trader_home.run_spec(context.partition_key)
        passed, details = windows_inside_splits(labels, split_manifest, horizon_of(spec.labels))
        return _result(passed, **details)

    return _check


def _one_class_check(asset: dg.AssetsDefinition | str, targets: tuple[str, ...], label: str):
    @dg.asset_check(asset=asset, name=f"{label}_not_one_class", partitions_def=runs_partitions,
                    description="Every target has both classes in every training split (WARN otherwise).")
    def _check(labels: pd.DataFrame) -> dg.AssetCheckResult:
        summary = label_summary(labels, targets)
        return dg.AssetCheckResult(passed=not summary["one_class"], severity=dg.AssetCheckSeverity.WARN,
                                   metadata={"one_class": dg.MetadataValue.json(summary["one_class"]),
                                             "rates_by_split": dg.MetadataValue.json(summary["rates_by_split"])})

    return _check


@dg.asset_check(asset=entry_labels, blocking=True, partitions_def=runs_partitions,
                description="MFE/MAE >= 0 and 0 < time_to_exit <= max hold.")
def entry_path_stats_sane(context: dg.AssetCheckExecutionContext, trader_home: TraderHome,
                          entry_labels: pd.DataFrame) -> dg.AssetCheckResult:
    horizon = trader_home.run_spec(context.partition_key).labels.entry.max_hold_minutes
    passed, details = path_stats_sane(entry_labels, horizon)
    return _result(passed, **details)


@dg.asset_check(asset=entry_labels, blocking=True, partitions_def=runs_partitions,
                description="Exactly one LONG and one SHORT entry row per sample.")
def entry_two_rows_per_sample(entry_labels: pd.DataFrame) -> dg.AssetCheckResult:
    passed, details = two_sides_per_sample(entry_labels)
    return _result(passed, **details)


LABEL_CHECKS = [
    entry_path_stats_sane,
    entry_two_rows_per_sample,
    _window_check(entry_labels, lambda c: c.entry.max_hold_minutes, "entry"),
    _window_check(direction_labels, lambda c: c.direction.horizon_minutes, "direction"),
    _window_check("continue_labels", lambda c: c.continue_.horizon_minutes, "continue"),
    _window_check("exit_labels", lambda c: c.exit.horizon_minutes, "exit"),
    _window_check("risk_labels", lambda c: c.risk.horizon_minutes, "risk"),
    _one_class_check(direction_labels, ("long_target", "short_target", "neutral_target"), "direction"),
    _one_class_check(entry_labels, ("entry_target",), "entry"),
    _one_class_check("continue_labels", ("long_continue_target", "short_continue_target"), "continue"),
    _one_class_check("exit_labels", ("long_exit_target", "short_exit_target"), "exit"),
    _one_class_check("risk_labels", RISK_TARGETS, "risk"),
]
CHECKS = CHECKS + LABEL_CHECKS


# ------------------------------------------------------------------------------------------------ models
def _model_checks(model: str, asset: dg.AssetsDefinition) -> list:
    dataset_key = f"{TARGETS[model].dataset}_train"
    prefix = model.lower()

    @dg.asset_check(asset=asset, name=f"{prefix}_onnx_parity", blocking=True, partitions_def=runs_partitions,
                    additional_ins={"dataset": dg.AssetIn(dataset_key)},
                    description="onnxruntime on raw tune features equals the trained predictions within "
                                "4 float32 epsilons of max(1, |value|) (docs/models.md, \"Checks\").")
    def parity(context: dg.AssetCheckExecutionContext, trader_home: TraderHome, manifest: dict,
               dataset: pd.DataFrame) -> dg.AssetCheckResult:
        run_dir = trader_home.run_dir(context.partition_key)
        tune = io.read_parquet(layout.model_predictions_path(run_dir, model, "tune_inner"), verify=False)
        passed, details = onnx_parity(run_dir / manifest["onnx_path"], dataset, tune, model)
        return _result(passed, **details)

    @dg.asset_check(asset=asset, name=f"{prefix}_onnx_contract", blocking=True, partitions_def=runs_partitions,
                    description="Input `features` float32 [batch, F]; output `prediction` with one column per "
                                "MODEL_OUTPUTS field; the manifest's output mapping equals OUTPUT_MAPPING.")
    def contract(context: dg.AssetCheckExecutionContext, trader_home: TraderHome,
                 manifest: dict) -> dg.AssetCheckResult:
        passed, details = onnx_io_contract(trader_home.run_dir(context.partition_key) / manifest["onnx_path"], model)
        mapping_ok = manifest["output_mapping"] == OUTPUT_MAPPING[model]
        return _result(passed and mapping_ok, output_mapping_matches=mapping_ok, **details)

    @dg.asset_check(asset=asset, name=f"{prefix}_heads_beat_baseline", partitions_def=runs_partitions,
                    description="Every head beats its constant baseline on tune_inner (WARN otherwise).")
    def baseline(manifest: dict) -> dg.AssetCheckResult:
        passed, details = heads_beating_baseline(manifest, model)
        return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={k: dg.MetadataValue.json(v) for k, v in details.items()})

    return [parity, contract, baseline]


MODEL_CHECKS = [check for model, asset in MODEL_ASSETS.items() for check in _model_checks(model, asset)]
CHECKS = CHECKS + MODEL_CHECKS


# ------------------------------------------------------------------------------------------ trading, release
@dg.asset_check(asset=pm_search, blocking=True, partitions_def=runs_partitions,
                description="The PM config is valid, its hash matches, and the rows it was chosen on are tune_inner rows only.")
def pm_config_valid(pm_search: dict) -> dg.AssetCheckResult:
    try:
        validate_pm_config(pm_search["config"])
        valid, error = True, ""
    except ConfigError as exc:
        valid, error = False, str(exc)
    hash_ok = pm_config_hash(pm_search["config"]) == pm_search["config_hash_sha256"]
    searched = pm_search["rows_by_split"]
    return _result(valid and hash_ok and set(searched) == {TUNE_SPLIT} and searched[TUNE_SPLIT] > 0, error=error,
                   hash_matches=hash_ok, rows_by_split=searched, candidate_count=pm_search["candidate_count"])


@dg.asset_check(asset=backtest, blocking=True, partitions_def=runs_partitions,
                description="Promotion gate: the integrated backtest on the sealed splits is PASS (a significantly "
                            "positive edge after deflating for the looks at the sealed window); the result's "
                            "description says why.")
def backtest_status_pass(backtest: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=backtest["status"] == "PASS", description="\n".join(backtest["explanation"]),
                               metadata={"status": backtest["status"],
                                         "reasons": dg.MetadataValue.json(backtest["status_reasons"]),
                                         "look": backtest["looks"]})


@dg.asset_check(asset=release, blocking=True, partitions_def=runs_partitions,
                description="Every file of the promoted release matches its recorded sha256.")
def release_bundle_hashes_match(release: dict) -> dg.AssetCheckResult:
    try:
        manifest = verify_release(Path(release["path"]))
        return _result(True, version=release["version"], files=len(manifest["files"]))
    except ArtifactError as exc:
        return _result(False, version=release["version"], error=str(exc))


TRADING_CHECKS = [pm_config_valid, backtest_status_pass, release_bundle_hashes_match]
CHECKS = CHECKS + TRADING_CHECKS


# ------------------------------------------------------------------------------------------ monitoring
@dg.asset_check(asset=champion_challenger, partitions_def=runs_partitions,
                description="Promotion gate: the challenger is at least as good as the champion on the newest sealed "
                            "rows (trader_core.monitoring.challenger.RULE). Enforced by the release asset, which refuses "
                            "(ReleaseRefused) on a failed decision; not blocking, so the monitoring report of that "
                            "month still materializes.")
def challenger_not_worse_than_champion(champion_challenger: dict) -> dg.AssetCheckResult:
    return _result(allows_promotion(champion_challenger), decision=champion_challenger["decision"],
                   reasons=champion_challenger["reasons"], champion=champion_challenger["champion"] or "none")


@dg.asset_check(asset=drift_report, partitions_def=runs_partitions,
                description="WARN when a feature's PSI on the newest window is >= 0.25 against the reference profile.")
def feature_drift_psi(drift_report: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=not drift_report["features_warn"], severity=dg.AssetCheckSeverity.WARN,
                               metadata={"features_warn": dg.MetadataValue.json(drift_report["features_warn"]),
                                         "max_psi": drift_report["max_psi"], "reference": drift_report["reference"]})


@dg.asset_check(asset=drift_report, partitions_def=runs_partitions,
                description="WARN when a label rate on the newest window moved by >= 0.05 and >= 25 % of its reference.")
def label_rate_drift(drift_report: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=not drift_report["labels_warn"], severity=dg.AssetCheckSeverity.WARN,
                               metadata={"labels_warn": dg.MetadataValue.json(drift_report["labels_warn"]),
                                         "label_rates": dg.MetadataValue.json(drift_report["label_rates"])})


MONITORING_CHECKS = [challenger_not_worse_than_champion, feature_drift_psi, label_rate_drift]
CHECKS = CHECKS + MONITORING_CHECKS

"""Stage functions: compute a stage's output and write its side artifacts (reports, locks, schemas).

Each returns the stage's main value (stored by the caller, e.g. the Dagster IO manager, manifest last)
and a summary dict for display. The Dagster assets are thin wrappers around these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core import io, layout, runs
from trader_core.config import RunSpec
from trader_core.contracts.features import FEATURE_ORDER, feature_order_hash, feature_schema
from trader_core.contracts.versions import TRAINING_SPLITS
from trader_core.errors import ArtifactError
from trader_core.features import build_feature_frame, feature_quality_report
from trader_core.labels.base import compute_label_path_stats, label_horizons, rates_by_split
from trader_core.labels.datasets import direction_opportunity_dataset
from trader_core.labels.position import build_position_labels, position_label_report, risk_thresholds
from trader_core.labels.price_plan import build_price_plan, plan_params, price_plan_frame
from trader_core.contracts.models import MODEL_OUTPUTS, OUTPUT_MAPPING, TARGETS
from trader_core.market.sources import load_raw_market
from trader_core.models.onnx_export import export_heads
from trader_core.models.training import split_predictions, train_model
from trader_core.replay import build_replay
from trader_core.splits import assign_split, build_split_manifest, check_locked, lock_payload


def raw_market_stage(spec: RunSpec, home: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Load the run's raw market; the first materialization locks the run spec."""
    tables = load_raw_market(spec)
    runs.lock_spec(spec, home)
    summary = {"source": spec.source.kind, "tables": {k: len(v) for k, v in sorted(tables.items())}}
    return tables, summary


def replay_stage(raw: dict[str, pd.DataFrame], spec: RunSpec, run_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    replay, report = build_replay(raw, symbols=tuple(spec.symbols), start=spec.start_ts, end=spec.end_ts,
                                  config=spec.replay)
    lock = read_split_lock(run_dir)
    if lock is not None:  # refuse before anything is written if this replay would move the sealed splits
        check_locked(lock, _manifest(replay, spec, run_dir), spec.run_id)
    summary = report.as_dict() | {"data_hash_sha256": io.frame_hash(replay)}
    io.write_json(run_dir / layout.REPLAY_REPORT_FILE, summary)
    return replay, summary


def split_stage(replay: pd.DataFrame, spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """Build the split manifest and enforce the locked validation contract (lock written on first build)."""
    manifest = _manifest(replay, spec, run_dir)
    lock_file = run_dir / layout.SPLIT_LOCK_FILE
    lock = read_split_lock(run_dir)
    check_locked(lock, manifest, spec.run_id)
    if lock is None:
        io.write_json(lock_file, lock_payload(manifest, spec.run_id))
    return manifest


def _manifest(replay: pd.DataFrame, spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    return build_split_manifest(
        replay["open_time_ms"].to_numpy(), spec.split,
        longest_label_horizon_minutes=spec.labels.longest_horizon_minutes,
        source_replay_path=str(run_dir / layout.ARTIFACT_PATHS["replay_1m"]),
        replay_hash=io.frame_hash(replay),
    )


def read_split_lock(run_dir: Path) -> dict[str, Any] | None:
    lock_file = run_dir / layout.SPLIT_LOCK_FILE
    if not lock_file.exists():
        return None
    lock = io.read_json(lock_file)
    if not isinstance(lock, dict) or "sealed_boundaries" not in lock:
        raise ArtifactError(f"{lock_file}: corrupt split lock (no sealed_boundaries)")
    return lock


def feature_stage(replay: pd.DataFrame, manifest: dict[str, Any], run_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Feature frame plus feature_order.json, feature_schema.json and the quality report."""
    frame = build_feature_frame(replay, assign_split(replay["event_time"], manifest))
    order_hash = io.write_json(run_dir / layout.FEATURE_ORDER_FILE, list(FEATURE_ORDER))
    if order_hash != feature_order_hash():
        raise ArtifactError("feature_order.json hash differs from the FEATURE_ORDER contract hash")
    schema_hash = io.write_json(run_dir / layout.FEATURE_SCHEMA_FILE, feature_schema())
    data_hash = io.frame_hash(frame)
    report = feature_quality_report(frame, feature_order_hash=order_hash, data_hash=data_hash)
    report_path = run_dir / layout.FEATURE_REPORT_FILE
    io.write_text(report_path, report)
    flags = frame["data_quality_flag"].value_counts()
    summary = {
        "row_count": len(frame),
        "ok_row_count": int(flags.get("OK", 0)),
        "partial_optional_row_count": int(flags.get("PARTIAL_OPTIONAL", 0)),
        "warmup_row_count": int(flags.get("WARMUP", 0)),
        "feature_count": len(FEATURE_ORDER),
        "feature_order_hash": order_hash,
        "feature_schema_hash": schema_hash,
        "data_hash_sha256": data_hash,
        "rows_per_split": {s: int((frame["split_id"] == s).sum()) for s in TRAINING_SPLITS},
        "report_path": str(report_path),
        "report_markdown": report,
    }
    return frame, summary


def trainable_split_counts(frame: pd.DataFrame) -> dict[str, int]:
    trainable = frame["data_quality_flag"].isin(["OK", "PARTIAL_OPTIONAL"]).to_numpy()
    return {s: int(np.sum(trainable & (frame["split_id"] == s).to_numpy())) for s in TRAINING_SPLITS}


# ----------------------------------------------------------------------------------------------- labels
def price_plan_stage(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """The run's price plan context (JSON returned for the IO manager; the parquet mirror written here)."""
    plan = build_price_plan(spec.labels.entry, spec.costs)
    io.write_parquet(run_dir / layout.PRICE_PLAN_PARQUET_FILE, price_plan_frame(plan))
    return plan


def path_stats_stage(replay: pd.DataFrame, manifest: dict[str, Any], spec: RunSpec,
                     plan: dict[str, Any]) -> pd.DataFrame:
    """The price plan's path statistics at every label horizon (shared by all label families)."""
    return compute_label_path_stats(replay, manifest, plan_params(plan), label_horizons(spec.labels))


def position_label_stage(features: pd.DataFrame, path_stats: pd.DataFrame, spec: RunSpec,
                         plan: dict[str, Any], run_dir: Path) -> tuple[dict[str, pd.DataFrame], str]:
    """Continue, exit and risk labels plus the 'Continue Exit Risk Label Report'."""
    labels = build_position_labels(features, path_stats, spec.labels, plan)
    report = position_label_report(labels, risk_thresholds(spec.labels.risk))
    io.write_text(run_dir / layout.POSITION_LABEL_REPORT_FILE, report)
    return labels, report


def direction_opportunity_stage(direction_train: pd.DataFrame, entry_train: pd.DataFrame,
                                run_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    data, result = direction_opportunity_dataset(direction_train, entry_train)
    io.write_json(run_dir / layout.DIRECTION_OPPORTUNITY_RESULT_FILE, result)
    return data, result


def label_summary(frame: pd.DataFrame, targets: tuple[str, ...]) -> dict[str, Any]:
    """Row count, rates per split and the targets that are one class in some training split."""
    rates = rates_by_split(frame, targets)
    one_class = sorted({f"{split}.{t}" for split, r in rates.items() if r["rows"] > 0
                        for t in targets if r[t] in (0.0, 1.0)})
    return {"row_count": len(frame), "rates_by_split": rates, "one_class": one_class,
            "data_hash_sha256": io.frame_hash(frame)}


# ----------------------------------------------------------------------------------------------- models
def model_stage(model: str, dataset: pd.DataFrame, spec: RunSpec, run_dir: Path,
                direction_train: pd.DataFrame | None = None) -> dict[str, Any]:
    """Train one model, export its ONNX file and per-split predictions; returns the model manifest."""
    target = TARGETS[model]
    trained = train_model(target, dataset, spec.models, direction_train)
    onnx_path = layout.model_onnx_path(run_dir, model)
    onnx_sha = export_heads(onnx_path, trained.heads, len(FEATURE_ORDER), fields=MODEL_OUTPUTS[model])
    prediction_files = {}
    for split, frame in split_predictions(trained).items():
        path = layout.model_predictions_path(run_dir, model, split)
        prediction_files[split] = {"path": str(path.relative_to(run_dir)), "sha256": io.write_parquet(path, frame),
                                   "rows": len(frame)}
    return {
        "model": model, "dataset": f"{target.dataset}_train", "dataset_hash_sha256": io.frame_hash(dataset),
        "feature_order_hash": feature_order_hash(), "onnx_path": str(onnx_path.relative_to(run_dir)),
        "onnx_sha256": onnx_sha, "output_mapping": OUTPUT_MAPPING[model], "predictions": prediction_files,
        **trained.manifest(),
    }

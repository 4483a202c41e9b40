"""Feature stages: one symbol's frame (the fan-out step) and the merged frame with feature_order.json,
feature_schema.json and the quality report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from trader_core import io, layout
from trader_core.contracts.features import FEATURE_ORDER, feature_order_hash, feature_schema
from trader_core.contracts.versions import TRAINING_SPLITS
from trader_core.errors import ArtifactError
from trader_core.fanout import in_symbol_order, merge_symbol_frames
from trader_core.features import build_feature_frame, feature_quality_report
from trader_core.report import frame_preview
from trader_core.run_context import RunContext
from trader_core.splits import assign_split
from trader_core.stages.result import StageResult


def symbol_features_stage(*, replay: pd.DataFrame, manifest: dict[str, Any]) -> StageResult:
    """The feature frame of one symbol's replay rows (features never look across symbols)."""
    return StageResult(value=build_feature_frame(replay, assign_split(replay["event_time"], manifest)))


def feature_frame_stage(*, ctx: RunContext, parts: Sequence[pd.DataFrame]) -> StageResult:
    """Merge the per-symbol frames (exactly the single-process frame) and write feature_order.json,
    feature_schema.json and the quality report."""
    frame = merge_symbol_frames(in_symbol_order(parts))
    order_hash = io.write_json(ctx.run_dir / layout.FEATURE_ORDER_FILE, list(FEATURE_ORDER))
    if order_hash != feature_order_hash():
        raise ArtifactError("feature_order.json hash differs from the FEATURE_ORDER contract hash")
    schema_hash = io.write_json(ctx.run_dir / layout.FEATURE_SCHEMA_FILE, feature_schema())
    data_hash = io.frame_hash(frame)
    report = feature_quality_report(frame, feature_order_hash=order_hash, data_hash=data_hash)
    report_path = ctx.run_dir / layout.FEATURE_REPORT_FILE
    io.write_text(report_path, report)
    flags = frame["data_quality_flag"].value_counts()
    return StageResult(
        value=frame,
        figures={"dagster/row_count": len(frame), "feature_order_hash": order_hash,
                 "feature_schema_hash": schema_hash, "data_hash_sha256": data_hash,
                 "rows": {"ok_row_count": int(flags.get("OK", 0)),
                          "partial_optional_row_count": int(flags.get("PARTIAL_OPTIONAL", 0)),
                          "warmup_row_count": int(flags.get("WARMUP", 0))},
                 "rows_per_split": {s: int((frame["split_id"] == s).sum()) for s in TRAINING_SPLITS}},
        reports={"quality_report": report, "preview": frame_preview(frame)},
        paths={"quality_report_path": report_path})


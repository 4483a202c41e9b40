"""Feature stage: the frame plus feature_order.json, feature_schema.json and the quality report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core import io, layout
from trader_core.contracts.features import FEATURE_ORDER, TRAINABLE_QUALITY, feature_order_hash, feature_schema
from trader_core.contracts.versions import TRAINING_SPLITS
from trader_core.errors import ArtifactError
from trader_core.features import build_feature_frame, feature_quality_report
from trader_core.splits import assign_split


def feature_stage(replay: pd.DataFrame, manifest: dict[str, Any], run_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Feature frame plus feature_order.json, feature_schema.json and the quality report."""
    frame = build_feature_frame(replay, assign_split(replay["event_time"], manifest))
    return frame, finish_feature_stage(frame, run_dir)


def finish_feature_stage(frame: pd.DataFrame, run_dir: Path) -> dict[str, Any]:
    """Write feature_order.json, feature_schema.json and the quality report of a built (or merged) frame."""
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
        "gap_window_row_count": int(flags.get("GAP_WINDOW", 0)),
        "filled_bar_row_count": int(flags.get("FILLED_BAR", 0)),
        "feature_count": len(FEATURE_ORDER),
        "feature_order_hash": order_hash,
        "feature_schema_hash": schema_hash,
        "data_hash_sha256": data_hash,
        "rows_per_split": {s: int((frame["split_id"] == s).sum()) for s in TRAINING_SPLITS},
        "report_path": str(report_path),
        "report_markdown": report,
    }
    return summary


def trainable_split_counts(frame: pd.DataFrame) -> dict[str, int]:
    trainable = frame["data_quality_flag"].isin(list(TRAINABLE_QUALITY)).to_numpy()
    return {s: int(np.sum(trainable & (frame["split_id"] == s).to_numpy())) for s in TRAINING_SPLITS}

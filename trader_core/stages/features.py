"""Feature stages: one symbol's frame stored as its part (the fan-out step) and the parts' manifest with
feature_order.json, feature_schema.json and the quality report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from trader_core import io, layout
from trader_core.contracts.feature_frame import FEATURE_FRAME
from trader_core.contracts.features import (
    FEATURE_ORDER,
    QUALITY_OK,
    QUALITY_PARTIAL_OPTIONAL,
    QUALITY_WARMUP,
    feature_order_hash,
    feature_schema,
)
from trader_core.contracts.versions import TRAINING_SPLITS
from trader_core.errors import ArtifactError
from trader_core.fanout import ReplaySlice, replay_rows
from trader_core.features import build_feature_frame
from trader_core.features.report import render_report
from trader_core.features.report_parts import part_tables, report_figures
from trader_core.parts import PartDigest, contract_verdicts, in_symbol_order, parts_manifest, read_head, write_part
from trader_core.parts import data_hash as combined_data_hash
from trader_core.part_checks import verdicts_json
from trader_core.report import PREVIEW_ROWS, frame_preview
from trader_core.run_context import RunContext
from trader_core.splits import assign_split
from trader_core.stages.result import StageResult


def symbol_features_stage(*, ctx: RunContext, replay: pd.DataFrame | ReplaySlice,
                          manifest: dict[str, Any]) -> StageResult:
    """The feature frame of one symbol's replay rows (features never look across symbols; a slice is read from
    the stored replay here), stored as that symbol's part of the artifact; the value is the part's digest for the
    merge."""
    replay = replay_rows(replay)
    frame = build_feature_frame(replay, assign_split(replay["event_time"], manifest))
    digest = write_part(ctx.run_dir / layout.ARTIFACT_PATHS["feature_frame"], frame, contract=FEATURE_FRAME,
                        tables=part_tables)
    return StageResult(value=digest, figures={"symbol": digest.entry.symbol, "rows": digest.entry.row_count,
                                              "part": digest.entry.file, "sha256": digest.entry.sha256})


def feature_frame_stage(*, ctx: RunContext, parts: Sequence[PartDigest]) -> StageResult:
    """The manifest of the per-symbol parts (read back, the single-process frame; it is never written merged)
    and feature_order.json, feature_schema.json and the quality report. Nothing is read back but the preview:
    the data hash is combined from the parts' row hashes, the report from the parts' report tables
    (``features.report_parts``) and the contract's rules are decided from the parts' figures
    (``contract_checks``, reported by the asset checks)."""
    folder = ctx.run_dir / layout.ARTIFACT_PATHS["feature_frame"]
    stored = parts_manifest(folder, parts)
    order_hash = io.write_json(ctx.run_dir / layout.FEATURE_ORDER_FILE, list(FEATURE_ORDER))
    if order_hash != feature_order_hash():
        raise ArtifactError("feature_order.json hash differs from the FEATURE_ORDER contract hash")
    schema_hash = io.write_json(ctx.run_dir / layout.FEATURE_SCHEMA_FILE, feature_schema())
    data_hash = combined_data_hash(parts)
    figures = report_figures([d.tables for d in in_symbol_order(parts)])
    report = render_report(figures, feature_order_hash=order_hash, data_hash=data_hash)
    report_path = ctx.run_dir / layout.FEATURE_REPORT_FILE
    io.write_text(report_path, report)
    flags, splits = figures.flag_counts, figures.splits
    return StageResult(
        value=stored,
        figures={"dagster/row_count": stored.row_count, "feature_order_hash": order_hash,
                 "feature_schema_hash": schema_hash, "data_hash_sha256": data_hash,
                 "rows": {"ok_row_count": flags[QUALITY_OK],
                          "partial_optional_row_count": flags[QUALITY_PARTIAL_OPTIONAL],
                          "warmup_row_count": flags[QUALITY_WARMUP]},
                 "rows_per_split": {s: int(splits.at[s, "size"]) if s in splits.index else 0 for s in TRAINING_SPLITS},
                 "contract_checks": verdicts_json(contract_verdicts(parts, contract=FEATURE_FRAME))},
        reports={"quality_report": report, "preview": frame_preview(read_head(folder, rows=PREVIEW_ROWS,
                                                                               manifest=stored))},
        paths={"quality_report_path": report_path})

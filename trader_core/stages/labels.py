"""Label stages: price plan, shared path statistics (per symbol, then merged), the five label families, the
train datasets and the direction-opportunity relabel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from trader_core import io, layout
from trader_core.contracts.labels import DATASET_LABELS, PATH_STATS, RISK_PROB_LABELS, RISK_TARGETS
from trader_core.costs import CostModel, with_trade_costs
from trader_core.fanout import ReplaySlice, path_stats_blocks, replay_rows
from trader_core.contracts.invariants import rates_by_split
from trader_core.labels.base import compute_label_path_stats, label_horizons
from trader_core.labels.datasets import build_train_dataset, direction_opportunity_dataset
from trader_core.labels.direction import build_direction_labels
from trader_core.labels.entry import build_entry_labels
from trader_core.labels.position import build_position_labels, position_label_report, risk_thresholds
from trader_core.contracts.price_plan import PricePlan
from trader_core.labels.price_plan import build_price_plan, plan_params
from trader_core.part_checks import verdicts_json
from trader_core.parts import PartDigest, contract_verdicts, in_symbol_order, parts_manifest, read_head, write_part
from trader_core.parts import data_hash as combined_data_hash
from trader_core.report import PREVIEW_ROWS, frame_preview, markdown_table
from trader_core.run_context import RunContext
from trader_core.stages.result import StageResult

#: The targets whose rates and one-class status each label table shows.
LABEL_TARGETS = {
    "direction": ("long_target", "short_target", "neutral_target"),
    "entry": ("entry_target", "target_hit", "stop_hit"),
    "continue": ("long_continue_target", "short_continue_target"),
    "exit": ("long_exit_target", "short_exit_target"),
    "risk": RISK_TARGETS + RISK_PROB_LABELS,
}


def price_plan_stage(*, ctx: RunContext) -> StageResult:
    """The run's price plan context (its JSON stored by the caller; the parquet mirror written here)."""
    plan = build_price_plan(ctx.spec.labels.entry, ctx.spec.costs)
    io.write_parquet(ctx.run_dir / layout.PRICE_PLAN_PARQUET_FILE, plan.to_frame())
    return StageResult(value=plan, figures={"price_plan_id": plan.price_plan_id, "plan": plan.to_json()})


def symbol_path_stats_stage(*, ctx: RunContext, replay: pd.DataFrame | ReplaySlice, manifest: dict[str, Any],
                            plan: PricePlan) -> StageResult:
    """The price plan's path statistics at every label horizon (shared by all label families), each (start row,
    side) priced by the cost model of this replay: the replay is here, and a symbol's costs need only its rows.
    A slice is read from the stored replay here. Stored as the symbol's part of the artifact; the value is the
    part's digest for the merge."""
    replay = replay_rows(replay)
    horizons = label_horizons(ctx.spec.labels)
    stats = compute_label_path_stats(replay, manifest, plan_params(plan), horizons)
    stats = with_trade_costs(stats, CostModel.from_replay(replay, ctx.spec.costs))
    digest = write_part(ctx.run_dir / layout.ARTIFACT_PATHS["path_stats"], stats, blocks=path_stats_blocks(horizons),
                        contract=PATH_STATS, tables=_hit_counts)
    return StageResult(value=digest, figures={"symbol": digest.entry.symbol, "rows": digest.entry.row_count,
                                              "part": digest.entry.file, "sha256": digest.entry.sha256})


def path_stats_stage(*, ctx: RunContext, parts: Sequence[PartDigest]) -> StageResult:
    """The manifest of the per-symbol path statistics (read back, horizon-major like the single-process frame;
    never written merged) with their hit rates, added up from the parts' hit counts; the data hash is combined
    from the parts' row hashes, the contract's rules from the parts' figures (``contract_checks``, reported by the
    asset checks)."""
    folder = ctx.run_dir / layout.ARTIFACT_PATHS["path_stats"]
    stored = parts_manifest(folder, parts, blocks=path_stats_blocks(label_horizons(ctx.spec.labels)))
    rates = _hit_rates(in_symbol_order(parts))
    preview = frame_preview(read_head(folder, rows=PREVIEW_ROWS, manifest=stored))
    return StageResult(value=stored, figures={"dagster/row_count": stored.row_count,
                                              "data_hash_sha256": combined_data_hash(parts),
                                              "contract_checks": verdicts_json(contract_verdicts(
                                                  parts, contract=PATH_STATS))},
                       reports={"hit_rates": markdown_table(rates), "preview": preview})


_HIT_KEYS, _HITS = ["horizon_minutes", "side"], ["target_hit", "stop_hit", "timeout_hit"]


def _hit_counts(stats: pd.DataFrame) -> dict[str, pa.Table]:
    """A part's hits and rows with a hit value per (horizon, side): the merge's hit rates add them up."""
    grouped = stats.groupby(_HIT_KEYS, observed=True)[_HITS]
    counts = grouped.sum().join(grouped.count().add_suffix(":rows"))
    return {"hits": pa.Table.from_pandas(counts.reset_index(), preserve_index=False)}


def _hit_rates(parts: Sequence[PartDigest]) -> pd.DataFrame:
    """The hit rates per (horizon, side) of the merged path statistics (the mean of each hit column)."""
    counts = pd.concat([d.tables["hits"].to_pandas() for d in parts]).groupby(_HIT_KEYS, observed=True).sum()
    return pd.DataFrame({h: counts[h] / counts[f"{h}:rows"] for h in _HITS}).reset_index()


def direction_labels_stage(*, ctx: RunContext, features: pd.DataFrame, path_stats: pd.DataFrame) -> StageResult:
    """Forward return and LONG/SHORT/NEUTRAL targets at the run's direction horizon."""
    labels = build_direction_labels(features, path_stats, ctx.spec.labels.direction)
    return _label_result(labels, LABEL_TARGETS["direction"])


def entry_labels_stage(*, features: pd.DataFrame, path_stats: pd.DataFrame, plan: PricePlan) -> StageResult:
    """The price plan's outcome per (sample, side)."""
    labels = build_entry_labels(features, path_stats, plan)
    return _label_result(labels, LABEL_TARGETS["entry"], price_plan_id=plan.price_plan_id)


def position_label_stage(*, ctx: RunContext, features: pd.DataFrame, path_stats: pd.DataFrame,
                         plan: PricePlan) -> StageResult:
    """Continue, exit and risk labels (one output each) plus the 'Continue Exit Risk Label Report'."""
    labels = build_position_labels(features, path_stats, ctx.spec.labels, plan)
    report = position_label_report(labels, risk_thresholds(ctx.spec.labels.risk))
    io.write_text(ctx.run_dir / layout.POSITION_LABEL_REPORT_FILE, report)
    outputs = {f"{name}_labels": _label_result(labels[name], LABEL_TARGETS[name]) for name in ("continue", "exit")}
    risk = _label_result(labels["risk"], LABEL_TARGETS["risk"])
    outputs["risk_labels"] = StageResult(value=risk.value, figures=risk.figures,
                                         reports={**risk.reports, "report": report})
    return StageResult(outputs=outputs)


def train_dataset_stage(*, ctx: RunContext, name: str, features: pd.DataFrame, labels: pd.DataFrame) -> StageResult:
    """``<name>_train``: trainable feature rows of the four splits joined with the family's labels."""
    data = build_train_dataset(name, features, labels, allow_filled_bars=ctx.spec.replay.train_on_filled_bars)
    return StageResult(value=data, figures={
        "dagster/row_count": len(data), "data_hash_sha256": io.frame_hash(data),
        "rows_per_split": data["split_id"].value_counts().to_dict(),
        "label_means": {c: float(data[c].mean()) for c in DATASET_LABELS[name]}})


def direction_opportunity_stage(*, ctx: RunContext, direction_train: pd.DataFrame,
                                entry_train: pd.DataFrame) -> StageResult:
    """Direction relabelled by which side had a tradable path opportunity; its result JSON written here."""
    data, result = direction_opportunity_dataset(direction_train, entry_train)
    io.write_json(ctx.run_dir / layout.DIRECTION_OPPORTUNITY_RESULT_FILE, result)
    return StageResult(value=data, figures={"dagster/row_count": len(data), "result": result})


def _label_result(frame: pd.DataFrame, targets: tuple[str, ...], **figures: Any) -> StageResult:
    summary = label_summary(frame, targets)
    return StageResult(value=frame, figures={
        "dagster/row_count": summary["row_count"], "data_hash_sha256": summary["data_hash_sha256"],
        "rates_by_split": summary["rates_by_split"], "one_class_targets": summary["one_class"], **figures},
        reports={"preview": frame_preview(frame)})


def label_summary(frame: pd.DataFrame, targets: tuple[str, ...]) -> dict[str, Any]:
    """Row count, rates per split and the targets that are one class in some training split."""
    rates = rates_by_split(frame, targets)
    one_class = sorted({f"{split}.{t}" for split, r in rates.items() if r["rows"] > 0
                        for t in targets if r[t] in (0.0, 1.0)})
    return {"row_count": len(frame), "rates_by_split": rates, "one_class": one_class,
            "data_hash_sha256": io.frame_hash(frame)}

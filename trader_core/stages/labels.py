"""Label stages: price plan, shared path statistics, position labels and the datasets relabel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from trader_core import io, layout
from trader_core.config import RunSpec
from trader_core.costs import CostModel, with_trade_costs
from trader_core.labels.base import compute_label_path_stats, label_horizons, rates_by_split
from trader_core.labels.datasets import direction_opportunity_dataset
from trader_core.labels.position import build_position_labels, position_label_report, risk_thresholds
from trader_core.labels.price_plan import build_price_plan, plan_params, price_plan_frame


def price_plan_stage(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """The run's price plan context (JSON returned for the IO manager; the parquet mirror written here)."""
    plan = build_price_plan(spec.labels.entry, spec.costs)
    io.write_parquet(run_dir / layout.PRICE_PLAN_PARQUET_FILE, price_plan_frame(plan))
    return plan


def path_stats_stage(replay: pd.DataFrame, manifest: dict[str, Any], spec: RunSpec,
                     plan: dict[str, Any]) -> pd.DataFrame:
    """The price plan's path statistics at every label horizon (shared by all label families), each (start row,
    side) priced by the cost model of this replay: the replay is here, and a symbol's costs need only its rows."""
    stats = compute_label_path_stats(replay, manifest, plan_params(plan), label_horizons(spec.labels))
    return with_trade_costs(stats, CostModel.from_replay(replay, spec.costs))


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

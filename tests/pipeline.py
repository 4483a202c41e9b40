"""Run the library stages (no Dagster) on a synthetic market: the fixture behind the honesty tests."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trader_core.config import LabelConfig, SplitPlan, CostConfig
from trader_core.features import build_feature_frame
from trader_core.costs import CostModel, with_trade_costs
from trader_core.labels.base import compute_label_path_stats, label_horizons
from trader_core.labels.datasets import build_train_dataset
from trader_core.labels.direction import build_direction_labels
from trader_core.labels.entry import build_entry_labels
from trader_core.labels.price_plan import build_price_plan, plan_params
from trader_core.market.synthetic import SyntheticMarketConfig, generate_synthetic_market
from trader_core.replay import build_replay
from trader_core.splits import assign_split, build_split_manifest


#: Three symbols out of alphabetical order, so the per-symbol fan-out has to put them in order.
FANOUT_SYMBOLS = ("SOL-USDT-PERP", "BTC-USDT-PERP", "ETH-USDT-PERP")


def fanout_market(*, days: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """The replay and split manifest of a 3-symbol synthetic market (the tests of the per-symbol parts)."""
    raw = generate_synthetic_market(SyntheticMarketConfig(symbols=FANOUT_SYMBOLS, days=days, seed=seed,
                                                          depth_levels=5))
    replay, _ = build_replay(raw)
    manifest = build_split_manifest(replay["open_time_ms"].to_numpy(), SplitPlan(), longest_label_horizon_minutes=45)
    return replay, manifest


@dataclass
class PipelineRun:
    features: pd.DataFrame
    direction_labels: pd.DataFrame
    entry_labels: pd.DataFrame
    datasets: dict[str, pd.DataFrame]
    split_manifest: dict
    labels: LabelConfig


def run_pipeline(*, signal: float, days: int, seed: int, symbols: tuple[str, ...] = ("BTC-USDT-PERP", "ETH-USDT-PERP"),
                 split: SplitPlan = SplitPlan(), volatility_regimes: bool = True,
                 labels: LabelConfig = LabelConfig()) -> PipelineRun:
    raw = generate_synthetic_market(SyntheticMarketConfig(symbols=symbols, days=days, seed=seed, signal=signal,
                                                          depth_levels=5, volatility_regimes=volatility_regimes))
    replay, _ = build_replay(raw)
    manifest = build_split_manifest(replay["open_time_ms"].to_numpy(), split, longest_label_horizon_minutes=45)
    features = build_feature_frame(replay, assign_split(replay["event_time"], manifest))
    plan = build_price_plan(labels.entry, CostConfig())
    stats = compute_label_path_stats(replay, manifest, plan_params(plan), label_horizons(labels))
    stats = with_trade_costs(stats, CostModel.from_replay(replay, CostConfig()))
    direction = build_direction_labels(features, stats, labels.direction)
    entry = build_entry_labels(features, stats, plan)
    datasets = {"direction": build_train_dataset("direction", features, direction),
                "entry": build_train_dataset("entry", features, entry)}
    return PipelineRun(features, direction, entry, datasets, manifest, labels)

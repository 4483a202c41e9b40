"""Per-symbol fan-out reproduces the single-process feature frame and path statistics byte for byte."""

import pandas as pd
import pytest

from trader_core import io
from trader_core.config import CostConfig, LabelConfig, SplitPlan
from trader_core.errors import DataContractError
from trader_core.fanout import mapping_key, merge_in_order, merge_symbol_frames, path_stats_blocks, symbol_slices
from trader_core.features import build_feature_frame
from trader_core.labels.base import compute_label_path_stats, label_horizons
from trader_core.labels.price_plan import build_price_plan, plan_params
from trader_core.market.synthetic import SyntheticMarketConfig, generate_synthetic_market
from trader_core.replay import build_replay
from trader_core.splits import assign_split, build_split_manifest
from trader_core.stages import replay_slices_stage


@pytest.fixture(scope="module")
def market():
    raw = generate_synthetic_market(SyntheticMarketConfig(
        symbols=("SOL-USDT-PERP", "BTC-USDT-PERP", "ETH-USDT-PERP"), days=9, seed=3, depth_levels=5))
    replay, _ = build_replay(raw)
    manifest = build_split_manifest(replay["open_time_ms"].to_numpy(), SplitPlan(), longest_label_horizon_minutes=45)
    return replay, manifest


def test_slices_are_in_symbol_order_and_cover_the_replay(market):
    replay, _ = market
    slices = symbol_slices(replay)
    assert [s for s, _ in slices] == ["BTC-USDT-PERP", "ETH-USDT-PERP", "SOL-USDT-PERP"]
    assert sum(len(p) for _, p in slices) == len(replay)
    assert mapping_key("BTC-USDT-PERP") == "BTC_USDT_PERP"


def test_the_slices_stage_gives_one_output_per_symbol_under_its_mapping_key(market):
    replay, _ = market
    outputs = replay_slices_stage(replay=replay).outputs
    assert list(outputs) == ["BTC_USDT_PERP", "ETH_USDT_PERP", "SOL_USDT_PERP"]
    for (symbol, part), (key, result) in zip(symbol_slices(replay), outputs.items(), strict=True):
        pd.testing.assert_frame_equal(result.value, part)
        assert result.figures == {"symbol": symbol, "rows": len(part)} and key == mapping_key(symbol)


def test_fanned_out_features_equal_the_single_process_frame(market):
    replay, manifest = market
    whole = build_feature_frame(replay, assign_split(replay["event_time"], manifest))
    parts = [build_feature_frame(p, assign_split(p["event_time"], manifest)) for _, p in symbol_slices(replay)]
    assert io.frame_hash(merge_symbol_frames(parts)) == io.frame_hash(whole)


def test_fanned_out_path_stats_equal_the_single_process_frame(market):
    replay, manifest = market
    plan, horizons = plan_params(build_price_plan(LabelConfig().entry, CostConfig())), label_horizons(LabelConfig())
    whole = compute_label_path_stats(replay, manifest, plan, horizons)
    parts = [compute_label_path_stats(p, manifest, plan, horizons) for _, p in symbol_slices(replay)]
    merged = merge_in_order(parts, path_stats_blocks(horizons))
    assert isinstance(merged["symbol"].dtype, pd.CategoricalDtype)
    assert io.frame_hash(merged) == io.frame_hash(whole)


def test_bad_fanout_inputs_are_named():
    with pytest.raises(DataContractError, match="empty"):
        symbol_slices(pd.DataFrame({"symbol": []}))
    with pytest.raises(DataContractError, match="collide"):
        symbol_slices(pd.DataFrame({"symbol": ["A-B", "A_B"]}))
    with pytest.raises(DataContractError, match="nothing to merge"):
        merge_symbol_frames([])

"""Per-symbol fan-out reproduces the single-process feature frame and path statistics byte for byte; each symbol
step reads exactly its rows of the stored replay."""

import pandas as pd
import pytest

from trader_core import io
from trader_core.config import CostConfig, LabelConfig
from trader_core.errors import ArtifactError, DataContractError
from trader_core.fanout import (
    StoredReplay,
    mapping_key,
    merge_in_order,
    merge_symbol_frames,
    path_stats_blocks,
    symbol_slices,
)
from trader_core.features import build_feature_frame
from trader_core.labels.base import compute_label_path_stats, label_horizons
from trader_core.labels.price_plan import build_price_plan, plan_params
from trader_core.splits import assign_split
from trader_core.stages import replay_slices_stage

from tests.pipeline import fanout_market


@pytest.fixture(scope="module")
def market():
    replay, manifest = fanout_market(days=9, seed=3)
    return replay, manifest


def test_slices_are_in_symbol_order_and_cover_the_replay(market):
    replay, _ = market
    slices = symbol_slices(replay)
    assert [s for s, _ in slices] == ["BTC-USDT-PERP", "ETH-USDT-PERP", "SOL-USDT-PERP"]
    assert sum(len(p) for _, p in slices) == len(replay)
    assert mapping_key("BTC-USDT-PERP") == "BTC_USDT_PERP"


def _stored(replay, path):
    """The replay stored as the replay asset stores it (parquet, then its manifest)."""
    io.write_parquet(path, replay)
    io.write_manifest(path, {"row_count": len(replay)})
    return StoredReplay.from_path(path)


def test_the_slices_stage_gives_one_output_per_symbol_under_its_mapping_key(market, tmp_path):
    replay, _ = market
    outputs = replay_slices_stage(replay=_stored(replay, tmp_path / "replay_1m.parquet")).outputs
    assert list(outputs) == ["BTC_USDT_PERP", "ETH_USDT_PERP", "SOL_USDT_PERP"]
    for (symbol, part), (key, result) in zip(symbol_slices(replay), outputs.items(), strict=True):
        assert result.value.symbol == symbol and key == mapping_key(symbol)
        assert result.figures == {"symbol": symbol, "rows": len(part)}
        # the step's own read of the stored replay: exactly the rows the replay read whole gives
        whole = dict(symbol_slices(io.read_parquet(tmp_path / "replay_1m.parquet")))
        pd.testing.assert_frame_equal(result.value.read(), whole[symbol], check_exact=True)
        assert io.frame_hash(result.value.read()) == io.frame_hash(part)


def test_a_slice_of_a_changed_replay_is_refused(market, tmp_path):
    replay, _ = market
    path = tmp_path / "replay_1m.parquet"
    piece = _stored(replay, path).slice("BTC-USDT-PERP")
    io.write_parquet(path, replay.iloc[1:])  # rewritten after the fan-out listed the symbols
    with pytest.raises(ArtifactError, match="does not match its manifest"):
        piece.read()
    with pytest.raises(ArtifactError, match="no manifest"):
        StoredReplay.from_path(tmp_path / "other.parquet")


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


def test_bad_fanout_inputs_are_named(tmp_path):
    with pytest.raises(DataContractError, match="empty"):
        symbol_slices(pd.DataFrame({"symbol": []}))
    with pytest.raises(DataContractError, match="collide"):
        symbol_slices(pd.DataFrame({"symbol": ["A-B", "A_B"]}))
    with pytest.raises(DataContractError, match="collide"):
        _stored(pd.DataFrame({"symbol": ["A-B", "A_B"]}), tmp_path / "r.parquet").symbol_rows()
    with pytest.raises(DataContractError, match="empty"):
        _stored(pd.DataFrame({"symbol": pd.Series([], dtype=str)}), tmp_path / "e.parquet").symbol_rows()
    with pytest.raises(DataContractError, match="nothing to merge"):
        merge_symbol_frames([])

"""Per-symbol stored parts: loaded back as exactly the single-process frame, hashes combined exactly, a tampered
part refused, and a crash before the manifest never taken as a complete artifact (docs/scaling.md)."""

import dataclasses
from io import BytesIO

import numpy as np
import pandas as pd
import pytest

from trader_core import io, layout, parts
from trader_core.config import CostConfig, LabelConfig
from trader_core.errors import ArtifactError, DataContractError
from trader_core.fanout import merge_in_order, path_stats_blocks, symbol_slices
from trader_core.features import build_feature_frame
from trader_core.labels.base import compute_label_path_stats
from trader_core.labels.price_plan import build_price_plan, plan_params
from trader_core.report import frame_preview, markdown_table
from trader_core.splits import assign_split
from trader_core.stages.labels import _hit_counts, _hit_rates

from tests.pipeline import fanout_market

HORIZONS = (15, 45)  # two horizons, so the horizon-major row order is exercised


@pytest.fixture(scope="module")
def market():
    replay, manifest = fanout_market(days=6, seed=4)
    return replay, manifest


def _features(replay, manifest):
    return build_feature_frame(replay, assign_split(replay["event_time"], manifest))


def _path_stats(replay, manifest):
    plan = plan_params(build_price_plan(LabelConfig().entry, CostConfig()))
    return compute_label_path_stats(replay, manifest, plan, HORIZONS)


def _store(folder, frames, blocks=None):
    """Write the parts in reverse symbol order (the merge collects them in any order) and the manifest."""
    digests = [parts.write_part(folder, f, blocks=blocks) for f in reversed(frames)]
    manifest = parts.parts_manifest(folder, digests, blocks=blocks)
    parts.write_manifest(folder, manifest)
    return digests, manifest


def _as_stored_before(frame):
    """The frame as the single-file artifact loaded it: through one parquet file."""
    return pd.read_parquet(BytesIO(io.parquet_bytes(frame)))


@pytest.mark.parametrize("table", ["features", "path_stats"])
def test_a_loaded_parts_artifact_is_the_single_process_frame(market, tmp_path, table):
    replay, manifest = market
    build, blocks = (_features, None) if table == "features" else (_path_stats, path_stats_blocks(HORIZONS))
    whole = build(replay, manifest)
    folder = tmp_path / f"{table}{layout.PARTS_SUFFIX}"
    digests, stored = _store(folder, [build(p, manifest) for _, p in symbol_slices(replay)], blocks)
    loaded = parts.read_frame(folder)
    pd.testing.assert_frame_equal(loaded, _as_stored_before(whole), check_exact=True, check_categorical=True)
    assert [str(t) for t in loaded.dtypes] == [str(t) for t in whole.dtypes]
    assert parts.data_hash(digests) == io.frame_hash(whole)  # combined from the parts' row hashes
    assert stored.row_count == len(whole) and list(stored.columns) == list(whole.columns)
    assert [p.symbol for p in stored.parts] == ["BTC-USDT-PERP", "ETH-USDT-PERP", "SOL-USDT-PERP"]
    columns = [whole.columns[-1], "symbol"]
    pd.testing.assert_frame_equal(parts.read_parts(folder, columns=columns), loaded[columns])
    assert frame_preview(parts.read_head(folder, rows=5)) == frame_preview(loaded)  # the merge's preview


def test_a_tampered_part_fails_the_load_with_one_clear_line(market, tmp_path):
    replay, manifest = market
    folder = tmp_path / f"features{layout.PARTS_SUFFIX}"
    _, stored = _store(folder, [_features(p, manifest) for _, p in symbol_slices(replay)])
    part = folder / stored.parts[1].file
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(ArtifactError) as error:
        parts.read_frame(folder)
    message = str(error.value)
    assert "\n" not in message and part.name in message and "does not match its manifest" in message


def test_a_crash_before_the_manifest_keeps_the_previous_artifact(market, tmp_path):
    replay, manifest = market
    folder = tmp_path / f"features{layout.PARTS_SUFFIX}"
    frames = [_features(p, manifest) for _, p in symbol_slices(replay)]
    _store(folder, frames)
    before = parts.read_frame(folder)
    changed = [f.assign(**{f.columns[-1]: f[f.columns[-1]] + 1.0}) for f in frames]
    new = [parts.write_part(folder, f) for f in changed]  # the symbol steps ran; the merge never did
    assert all((folder / d.entry.file).exists() for d in new)
    pd.testing.assert_frame_equal(parts.read_frame(folder), before)  # the old manifest, the old parts

    parts.write_manifest(folder, parts.parts_manifest(folder, new))  # the next merge completes it
    after = parts.read_frame(folder)
    assert np.array_equal(after[after.columns[-1]], before[before.columns[-1]] + np.float32(1.0))
    assert sorted(p.name for p in folder.iterdir()) == sorted(d.entry.file for d in new)  # old parts deleted


def test_parts_without_a_manifest_are_never_a_complete_artifact(market, tmp_path):
    replay, manifest = market
    folder = tmp_path / f"features{layout.PARTS_SUFFIX}"
    for _, p in symbol_slices(replay):
        parts.write_part(folder, _features(p, manifest))
    with pytest.raises(ArtifactError, match="no manifest .*never completely written"):
        parts.read_frame(folder)


def test_a_manifest_with_a_missing_part_is_not_written(market, tmp_path):
    replay, manifest = market
    folder = tmp_path / f"features{layout.PARTS_SUFFIX}"
    digests = [parts.write_part(folder, _features(p, manifest)) for _, p in symbol_slices(replay)]
    (folder / digests[0].entry.file).unlink()
    with pytest.raises(ArtifactError, match="missing; the manifest is not written"):
        parts.write_manifest(folder, parts.parts_manifest(folder, digests))
    assert not io.manifest_path(folder).exists()


def test_bad_parts_are_named(market, tmp_path):
    replay, manifest = market
    whole = _features(replay, manifest)
    with pytest.raises(DataContractError, match="one symbol"):
        parts.write_part(tmp_path / "f.parts", whole)
    digest = parts.write_part(tmp_path / "f.parts", _features(symbol_slices(replay)[0][1], manifest))
    with pytest.raises(DataContractError, match="one part per symbol"):
        parts.parts_manifest(tmp_path / "f.parts", [digest, digest])
    stats = _path_stats(symbol_slices(replay)[0][1], manifest)
    with pytest.raises(DataContractError, match="rows outside horizon_minutes"):
        parts.write_part(tmp_path / "p.parts", stats, blocks=path_stats_blocks(HORIZONS[:1]))


def test_the_hit_rates_added_up_from_the_parts_are_the_merged_frames(market, tmp_path):
    replay, manifest = market
    blocks = path_stats_blocks(HORIZONS)
    frames = [_path_stats(p, manifest) for _, p in symbol_slices(replay)]
    digests = [parts.write_part(tmp_path / "p.parts", f, blocks=blocks, tables=_hit_counts) for f in reversed(frames)]
    merged = merge_in_order(frames, blocks)
    hits = ["target_hit", "stop_hit", "timeout_hit"]
    expected = merged.groupby(["horizon_minutes", "side"], observed=True)[hits].mean().reset_index()
    rates = _hit_rates(parts.in_symbol_order(digests))
    pd.testing.assert_frame_equal(rates, expected, check_exact=True)
    assert len(rates) == 2 * len(HORIZONS) and markdown_table(rates) == markdown_table(expected)


def test_the_parts_columns_come_from_their_schemas(market, tmp_path):
    replay, manifest = market
    folder = tmp_path / f"features{layout.PARTS_SUFFIX}"
    frames = [_features(p, manifest) for _, p in symbol_slices(replay)]
    _, stored = _store(folder, frames)
    narrow = parts.write_part(folder, frames[1].drop(columns=[frames[1].columns[-1]]))  # a part the merge refused
    stored = dataclasses.replace(stored, parts=(stored.parts[0], narrow.entry, stored.parts[2]))
    columns = parts.part_columns(folder, stored)
    assert columns[0] == columns[2] == list(frames[0].columns) and columns[1] == list(frames[0].columns[:-1])
    (folder / stored.parts[2].file).unlink()
    with pytest.raises(ArtifactError, match="part missing"):
        parts.part_columns(folder, stored)

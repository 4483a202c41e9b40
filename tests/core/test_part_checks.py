"""The contract checks of a per-symbol parts artifact decided from the parts' figures give every rule's verdict and
details on the merged frame, passing or failing (docs/scaling.md, "Per-symbol parts")."""

import numpy as np
import pandas as pd
import pytest

from trader_core.config import CostConfig, LabelConfig
from trader_core.contracts.feature_frame import FEATURE_FRAME
from trader_core.contracts.labels import PATH_STATS
from trader_core.contracts.table import TableContract
from trader_core.costs import CostModel, with_trade_costs
from trader_core.fanout import merge_in_order, path_stats_blocks, symbol_slices
from trader_core.features import build_feature_frame
from trader_core.labels.base import compute_label_path_stats
from trader_core.labels.price_plan import build_price_plan, plan_params
from trader_core.part_checks import combined_verdicts, decided_from_parts, part_figures
from trader_core.splits import assign_split

from tests.pipeline import fanout_market

HORIZONS = (15, 45)


@pytest.fixture(scope="module")
def tables():
    replay, manifest = fanout_market(days=6, seed=4)
    plan = plan_params(build_price_plan(LabelConfig().entry, CostConfig()))
    slices = [p for _, p in symbol_slices(replay)]
    return {"features": [build_feature_frame(p, assign_split(p["event_time"], manifest)) for p in slices],
            "path_stats": [with_trade_costs(compute_label_path_stats(p, manifest, plan, HORIZONS),
                                            CostModel.from_replay(p, CostConfig())) for p in slices]}


def _verdicts(frames, contract, blocks):
    """(the rules decided from the parts' figures, the rules evaluated on the merged frame)."""
    combined = combined_verdicts([part_figures(f, contract=contract, blocks=blocks) for f in frames],
                                 contract=contract)
    whole = merge_in_order(frames, blocks)
    return combined, {rule.name: rule.evaluate(whole) for rule in contract.rules}


CASES = {"features": (FEATURE_FRAME, None), "path_stats": (PATH_STATS, path_stats_blocks(HORIZONS))}


@pytest.mark.parametrize("table", list(CASES))
def test_the_verdicts_from_parts_are_the_merged_frames(tables, table):
    contract, blocks = CASES[table]
    combined, whole = _verdicts(tables[table], contract, blocks)
    assert set(combined) == {rule.name for rule in contract.rules}
    assert combined == whole
    assert all(passed for passed, _ in combined.values())


def _broken(frames, part, change):
    frames = [f.copy() for f in frames]
    frames[part] = change(frames[part])
    return frames


def _duplicate_row(frame):
    return pd.concat([frame.iloc[:5], frame.iloc[4:]], ignore_index=True)


def _swap_rows(frame):
    order = np.arange(len(frame))
    order[[10, 11]] = order[[11, 10]]
    return frame.iloc[order].reset_index(drop=True)


def _infinite_trainable_feature(frame):
    row = np.flatnonzero(frame["data_quality_flag"].isin(["OK", "PARTIAL_OPTIONAL"]).to_numpy())[0]
    frame.iloc[row, frame.columns.get_loc("ret_1m_bps")] = np.inf
    return frame


def _unknown_flag(frame):
    flags = frame["data_quality_flag"].astype(str).to_numpy().copy()
    flags[:3] = "BOGUS"
    return frame.assign(data_quality_flag=flags)


@pytest.mark.parametrize(("table", "change", "failing"), [
    ("features", _duplicate_row, {"unique_sorted_keys"}),
    ("features", _swap_rows, {"unique_sorted_keys"}),
    ("features", _infinite_trainable_feature, {"matches_contract", "trainable_rows_finite"}),
    ("features", _unknown_flag, {"matches_contract"}),
    ("path_stats", _swap_rows, {"unique_sorted_keys"}),
    ("path_stats", _duplicate_row, {"unique_sorted_keys"}),
])
def test_a_broken_part_fails_the_rule_as_the_merged_frame_does(tables, table, change, failing):
    contract, blocks = CASES[table]
    frames = tables[table]
    for part in range(len(frames)):
        combined, whole = _verdicts(_broken(frames, part, change), contract, blocks)
        assert combined == whole
        assert {name for name, (passed, _) in combined.items() if not passed} == failing


def test_rows_out_of_order_at_the_seam_between_parts_are_counted(tables):
    by_time = TableContract(name="by_time", columns=FEATURE_FRAME.columns, key=("symbol", "open_time_ms"),
                            sort=("open_time_ms",))  # each part is sorted; every seam goes back in time
    combined, whole = _verdicts(tables["features"], by_time, None)
    assert combined == whole
    assert combined["unique_sorted_keys"][1]["unsorted_pairs"] == len(tables["features"]) - 1


def test_a_rule_that_cannot_be_decided_from_parts_gives_no_figures(tables):
    entry_like = TableContract(name="no_symbol_key", columns=FEATURE_FRAME.columns, key=("open_time_ms",))
    assert not decided_from_parts(entry_like)
    assert part_figures(tables["features"][0], contract=entry_like, blocks=None) is None

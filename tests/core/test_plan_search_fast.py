"""The plan searches' fast path: numpy/numba group statistics against pandas' groupby, the per-plan metric
rows against the straightforward pandas pipeline (path stats per plan, merge, groupby) and the per-horizon
reuse of the prepared path windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.test_experiments_plan_screens import drift_market
from trader_core.config import CostConfig, EntryLabelConfig, LabelConfig
from trader_core.contracts.labels import DYNAMIC_TRAILING, SIDES
from trader_core.experiments import plan_grid
from trader_core.experiments.plan_grid import ROW_SPLITS, SplitSideGroups
from trader_core.experiments.plan_search import (
    DynamicExitParams,
    dynamic_plan_id,
    search_dynamic_exit_plans,
)
from trader_core.labels.path_stats import PlanParams, compute_path_stats

QS = (0.5, 0.1, 0.9)


def pandas_groups(split_codes: np.ndarray, side_codes: np.ndarray,
                  values: dict[str, np.ndarray]) -> pd.api.typing.DataFrameGroupBy:
    frame = pd.DataFrame({"split_id": pd.Categorical.from_codes(split_codes, categories=list(ROW_SPLITS)),
                          "side": pd.Categorical.from_codes(side_codes, categories=list(SIDES)), **values})
    return frame.groupby(["split_id", "side"], sort=True, observed=True)


@st.composite
def grouped_values(draw):
    """Rows in random groups (some in none) with values on very different scales, ties, NaN and 0/1 flags."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 300))
    split_codes = rng.integers(-1, len(ROW_SPLITS), n)
    side_codes = rng.integers(0, len(SIDES), n).astype(np.int8)
    scale = draw(st.sampled_from([1e-3, 1.0, 1e6]))
    values = rng.standard_t(3, n) * scale
    values[rng.random(n) < draw(st.sampled_from([0.0, 0.5]))] = np.round(values[0])  # ties
    with_nan = np.where(rng.random(n) < draw(st.sampled_from([0.0, 0.1, 1.0])), np.nan, values)
    flags = (rng.random(n) < 0.3).astype(np.int8)
    return split_codes, side_codes, {"value": values, "with_nan": with_nan, "flag": flags, "positive": values >= 0}


@settings(max_examples=200, deadline=None)
@given(data=grouped_values())
def test_group_means_and_quantiles_equal_pandas_groupby(data):
    split_codes, side_codes, values = data
    groups = SplitSideGroups.build(split_codes, side_codes, SIDES)
    g = pandas_groups(split_codes, side_codes, values)
    expected = g[list(values)].mean()
    expected.insert(0, "rows", g.size())
    pd.testing.assert_frame_equal(groups.means(values), expected, check_exact=True)
    for column in ("value", "with_nan"):
        quantiles = g[column].quantile(list(QS)).unstack().reindex(index=expected.index, columns=list(QS))
        np.testing.assert_array_equal(groups.quantiles(values[column], QS), quantiles.to_numpy(), err_msg=column)


def reference_dynamic_rows(features: pd.DataFrame, replay: pd.DataFrame, split_ids: np.ndarray, horizon: int,
                           plan: PlanParams, cost: float, min_expected: float) -> pd.DataFrame:
    """One plan's dynamic-exit rows the straightforward way: path stats, merge, pandas groupby."""
    stats = compute_path_stats(replay, horizon=horizon, plan=plan, split_ids=split_ids)
    stats = stats.assign(symbol=stats["symbol"].astype("str"), stat_row=np.arange(len(stats)))
    samples = features[["symbol", "open_time_ms", "split_id"]].assign(symbol=features["symbol"].astype("str"))
    frame = stats.merge(samples, on=["symbol", "open_time_ms"]).sort_values("stat_row")
    frame["split_id"] = pd.Categorical(frame["split_id"], categories=list(ROW_SPLITS))
    net = frame["gross_edge_bps"] - cost
    frame = frame.assign(actual=net, positive=(net >= min_expected).astype(float), breakeven=(net >= 0).astype(float),
                         exit_min=frame["time_to_exit_ms"] / 60_000.0)
    g = frame.groupby(["split_id", "side"], sort=True, observed=True)
    names = {"actual": "avg_actual_net_edge_bps", "positive": "positive_label_rate", "breakeven": "breakeven_rate",
             "target_hit": "target_hit_rate", "stop_hit": "stop_hit_rate", "timeout_hit": "timeout_rate",
             "exit_min": "avg_time_to_exit_min", "mfe_bps": "avg_mfe_bps", "mae_bps": "avg_mae_bps"}
    out = g[list(names)].mean().rename(columns=names)
    out.insert(0, "rows", g.size())
    q = g["actual"].quantile(list(QS)).unstack()
    for i, name in enumerate(("median", "p10", "p90")):
        out.insert(2 + i, f"{name}_actual_net_edge_bps", q.iloc[:, i])
    return out


def test_dynamic_exit_rows_equal_the_pandas_pipeline(monkeypatch):
    features, replay, split_ids = drift_market(0.3, n_per_split=300)
    params = DynamicExitParams(horizons=(5, 20), targets_bps=(6.0, 12.0), stops_bps=(4.0,), trailing_stops_bps=(3.0,))
    prepared, prepare = [], plan_grid.prepare_path_windows

    def counting_prepare(*args, **kwargs):
        prepared.append(kwargs["horizon"])
        return prepare(*args, **kwargs)

    monkeypatch.setattr(plan_grid, "prepare_path_windows", counting_prepare)
    labels, costs = LabelConfig(entry=EntryLabelConfig(min_expected_net_edge_bps=2.0)), CostConfig()
    rows = search_dynamic_exit_plans(features, replay, labels=labels, costs=costs, params=params,
                                     replay_split_ids=split_ids).tables["rows"]
    assert prepared == [5, 20]  # the windows of a horizon are prepared once for all its plans
    for h in params.horizons:
        for t in params.targets_bps:
            plan = PlanParams(DYNAMIC_TRAILING, t, 4.0, second_target_bps=2 * t, trailing_stop_bps=3.0)
            ours = rows[rows["plan_id"] == dynamic_plan_id(h, t, 4.0, 3.0, 2.0, 0.5, 0.25)]
            ours = ours.loc[:, "split_id":].set_index(["split_id", "side"])
            expected = reference_dynamic_rows(features, replay, split_ids, h, plan, costs.cost_bps, 2.0)
            pd.testing.assert_frame_equal(ours, expected, check_exact=True)

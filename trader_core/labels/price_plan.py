"""The run's price plan (``trader_core.contracts.price_plan.PricePlan``, docs/labels.md "Price plan") from the
label config's entry section and the cost config, and the path-statistics plan it prices."""

from __future__ import annotations

import numpy as np

from trader_core.config import CostConfig, EntryLabelConfig
from trader_core.contracts.labels import DYNAMIC_TRAILING, ENTRY_LABEL_METHOD
from trader_core.contracts.price_plan import PricePlan
from trader_core.labels.path_stats import PlanParams


def build_price_plan(entry: EntryLabelConfig, costs: CostConfig) -> PricePlan:
    """The price plan of the label-config entry section and the cost config."""
    return PricePlan(
        target_bps=entry.target_bps, stop_bps=entry.stop_bps, max_hold_minutes=entry.max_hold_minutes,
        min_expected_net_edge_bps=entry.min_expected_net_edge_bps, min_plan_net_edge_bps=entry.min_plan_net_edge_bps,
        max_entry_mae_bps=entry.max_entry_mae_bps, cost_bps=costs.cost_bps, entry_label_method=ENTRY_LABEL_METHOD,
        entry_target_method=entry.target_method, entry_plan_method=entry.plan_method,
        partial_take_1_ratio=entry.partial_take_1_ratio, partial_take_2_ratio=entry.partial_take_2_ratio,
        second_target_bps=entry.second_target_bps, trailing_stop_bps=entry.trailing_stop_bps,
        breakeven_after_first_target=entry.breakeven_after_first_target,
        stop_fill_excess_share=entry.stop_fill_excess_share,
        stop_slippage_allowance_bps=entry.stop_slippage_allowance_bps)


def plan_params(plan: PricePlan) -> PlanParams:
    """The path-statistics plan of a price plan."""
    return PlanParams(method=plan.entry_plan_method, target_bps=plan.target_bps, stop_bps=plan.stop_bps,
                      partial_take_1_ratio=plan.partial_take_1_ratio, partial_take_2_ratio=plan.partial_take_2_ratio,
                      second_target_bps=plan.second_target_bps, trailing_stop_bps=plan.trailing_stop_bps,
                      breakeven_after_first_target=plan.breakeven_after_first_target,
                      stop_fill_excess_share=plan.stop_fill_excess_share,
                      stop_slippage_allowance_bps=plan.stop_slippage_allowance_bps)


def plan_prices(entry: np.ndarray, is_long: np.ndarray, plan: PricePlan) -> dict[str, np.ndarray]:
    """Target, stop and (DYNAMIC_TRAILING_V1 only, else NaN) second-target prices of positions entered at
    ``entry``: the price levels the path statistics test (``plan_outcomes``: a favourable level is
    ``entry (1 ± bps/1e4)``, an adverse one ``entry (1 ∓ bps/1e4)``, LONG's sign first)."""
    entry = np.asarray(entry, dtype="float64")
    sign = np.where(np.asarray(is_long, dtype=bool), 1.0, -1.0)
    second = plan.second_target_bps if plan.entry_plan_method == DYNAMIC_TRAILING else np.nan
    return {"target_price": entry * (1.0 + sign * plan.target_bps / 1e4),
            "stop_price": entry * (1.0 - sign * plan.stop_bps / 1e4),
            "second_target_price": entry * (1.0 + sign * second / 1e4)}

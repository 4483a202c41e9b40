"""Price plan context (docs/labels.md, "Price plan"): the entry plan every label and the position manager share.

``pricePlanConfigHash`` is the sha256 of the canonical JSON of the plan fields (everything except the id
and the hash); ``pricePlanId`` is ``plan-<method>-<first 12 hex of the hash>``, stable across runs with
the same plan. The one-row parquet mirrors the JSON in snake_case.

``costBps`` is the flat reference cost (``CostConfig.cost_bps``): the predicted edge and the sizing budget use
it, while the labels charge each trade its own cost from the data (docs/trading.md, "Cost model").
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core.config import CostConfig, EntryLabelConfig
from trader_core.contracts.features import sha256_json
from trader_core.contracts.labels import DYNAMIC_TRAILING, ENTRY_LABEL_METHOD
from trader_core.labels.path_stats import PlanParams


def build_price_plan(entry: EntryLabelConfig, costs: CostConfig) -> dict[str, Any]:
    """The price plan JSON (camelCase) for the label-config entry section and the cost config."""
    plan = {
        "targetDistanceBps": entry.target_bps,
        "stopDistanceBps": entry.stop_bps,
        "maxHoldMinutes": int(entry.max_hold_minutes),
        "minExpectedNetEdgeBps": entry.min_expected_net_edge_bps,
        "minPlanNetEdgeBps": entry.min_plan_net_edge_bps,
        "maxEntryMaeBps": entry.max_entry_mae_bps,
        "costBps": costs.cost_bps,
        "entryLabelMethod": ENTRY_LABEL_METHOD,
        "entryTargetMethod": entry.target_method,
        "entryPlanMethod": entry.plan_method,
        "partialTake1Ratio": entry.partial_take_1_ratio,
        "partialTake2Ratio": entry.partial_take_2_ratio,
        "secondTargetBps": entry.second_target_bps,
        "trailingStopBps": entry.trailing_stop_bps,
        "breakevenAfterFirstTarget": entry.breakeven_after_first_target,
        "stopFillExcessShare": entry.stop_fill_excess_share,
        "stopSlippageAllowanceBps": entry.stop_slippage_allowance_bps,
    }
    config_hash = sha256_json(plan)
    return {"pricePlanId": f"plan-{entry.plan_method.lower().replace('_', '-')}-{config_hash[:12]}",
            "pricePlanConfigHash": config_hash, **plan}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower().replace("take1", "take_1").replace("take2", "take_2")


def price_plan_frame(plan: Mapping[str, Any]) -> pd.DataFrame:
    """The one-row snake_case parquet mirror of the plan JSON."""
    renamed = {_snake(k): v for k, v in plan.items()}
    lead = {"price_plan_id": renamed.pop("price_plan_id"),
            "price_plan_config_hash": renamed.pop("price_plan_config_hash"),
            "target_bps": renamed.pop("target_distance_bps"), "stop_bps": renamed.pop("stop_distance_bps")}
    return pd.DataFrame([lead | renamed])


def plan_params(plan: Mapping[str, Any]) -> PlanParams:
    """The path-statistics plan of a price plan context."""
    return PlanParams(method=plan["entryPlanMethod"], target_bps=plan["targetDistanceBps"],
                      stop_bps=plan["stopDistanceBps"], partial_take_1_ratio=plan["partialTake1Ratio"],
                      partial_take_2_ratio=plan["partialTake2Ratio"], second_target_bps=plan["secondTargetBps"],
                      trailing_stop_bps=plan["trailingStopBps"],
                      breakeven_after_first_target=plan["breakevenAfterFirstTarget"],
                      stop_fill_excess_share=plan["stopFillExcessShare"],
                      stop_slippage_allowance_bps=plan["stopSlippageAllowanceBps"])


def plan_prices(entry: np.ndarray, is_long: np.ndarray, plan: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Target, stop and (DYNAMIC_TRAILING_V1 only, else NaN) second-target prices of positions entered at
    ``entry``: the price levels the path statistics test (``plan_outcomes``: a favourable level is
    ``entry (1 ± bps/1e4)``, an adverse one ``entry (1 ∓ bps/1e4)``, LONG's sign first)."""
    entry = np.asarray(entry, dtype="float64")
    sign = np.where(np.asarray(is_long, dtype=bool), 1.0, -1.0)
    second = float(plan["secondTargetBps"]) if plan["entryPlanMethod"] == DYNAMIC_TRAILING else np.nan
    return {"target_price": entry * (1.0 + sign * float(plan["targetDistanceBps"]) / 1e4),
            "stop_price": entry * (1.0 - sign * float(plan["stopDistanceBps"]) / 1e4),
            "second_target_price": entry * (1.0 + sign * second / 1e4)}

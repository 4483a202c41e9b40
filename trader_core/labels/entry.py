"""Entry labels (spec 7.5): one row per (sample, side) with the plan outcome and the entry target.

* ``actual_plan_net_edge_bps = gross_edge_bps - cost_bps`` (what the plan really made);
  ``max_achievable_gross_edge_bps = mfe_bps``; ``max_achievable_net_edge_bps = mfe_bps - cost_bps``.
* ``expected_net_edge_bps`` is the actual plan edge for PRICE_PLAN_OUTCOME_V1 and the max achievable
  edge for the OPPORTUNITY_* methods.
* ``entry_target = expected_net_edge_bps >= min_expected_net_edge_bps``; OPPORTUNITY_QUALITY_V1 also
  requires ``actual_plan_net_edge_bps >= min_plan_net_edge_bps`` and ``mae_bps <= max_entry_mae_bps``
  (an opportunity the plan could not trade is rejected).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core.contracts.labels import (
    ENTRY_LABEL_COLUMNS,
    ENTRY_TARGET_METHODS,
    OPPORTUNITY_METHODS,
    OPPORTUNITY_QUALITY,
    PATH_STAT_COLUMNS,
    SIDES,
)
from trader_core.contracts.versions import LABEL_VERSION
from trader_core.labels.base import aligned_sides, constant, label_base

_STAT_VALUES = PATH_STAT_COLUMNS[3:]


def build_entry_labels(features: pd.DataFrame, path_stats: pd.DataFrame, plan: Mapping[str, Any]) -> pd.DataFrame:
    """Entry labels for every sample with a valid window: its LONG rows, then its SHORT rows."""
    method = plan["entryTargetMethod"]
    if method not in ENTRY_TARGET_METHODS:
        raise ValueError(f"unsupported entry target_method: {method!r} (expected one of {ENTRY_TARGET_METHODS})")
    base, sides = aligned_sides(label_base(features), path_stats, int(plan["maxHoldMinutes"]), _STAT_VALUES)
    parts = []
    for side, values in sides.items():
        part = base.copy()
        part["side"] = constant(side, len(part))
        for name, column in values.items():
            part[name] = column
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame["side"] = pd.Categorical(frame["side"], categories=list(SIDES))
    cost = float(plan["costBps"])
    frame["actual_plan_net_edge_bps"] = frame["gross_edge_bps"] - cost
    frame["max_achievable_gross_edge_bps"] = frame["mfe_bps"]
    frame["max_achievable_net_edge_bps"] = frame["mfe_bps"] - cost
    frame["cost_bps"] = cost
    expected = frame["max_achievable_net_edge_bps"] if method in OPPORTUNITY_METHODS else frame["actual_plan_net_edge_bps"]
    frame["expected_net_edge_bps"] = expected
    target = expected.to_numpy() >= float(plan["minExpectedNetEdgeBps"])
    if method == OPPORTUNITY_QUALITY:
        target &= frame["actual_plan_net_edge_bps"].to_numpy() >= float(plan["minPlanNetEdgeBps"])
        target &= frame["mae_bps"].to_numpy() <= float(plan["maxEntryMaeBps"])
    frame["entry_target"] = target.astype(np.int8)
    for name, value in (("price_plan_id", plan["pricePlanId"]), ("price_plan_hash", plan["pricePlanConfigHash"]),
                        ("label_method", method), ("label_version", LABEL_VERSION)):
        frame[name] = constant(value, len(frame))
    return frame[list(ENTRY_LABEL_COLUMNS)]

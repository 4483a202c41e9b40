"""Entry labels (docs/labels.md, "Families"): one row per (sample, side) with the plan outcome and the entry target.

* ``actual_plan_net_edge_bps = gross_edge_bps - cost_bps`` (what the plan really made);
  ``max_achievable_gross_edge_bps = mfe_bps``; ``max_achievable_net_edge_bps = mfe_bps - cost_bps``.
  ``cost_bps`` is the row's own round trip and its sources (``TRADE_COST_COLUMNS``), which the label stage
  attached to the path statistics from the cost model (docs/trading.md, "Cost model").
* ``expected_net_edge_bps`` is the actual plan edge for PRICE_PLAN_OUTCOME_V1 and the max achievable
  edge for the OPPORTUNITY_* methods.
* ``entry_target = expected_net_edge_bps >= min_expected_net_edge_bps``; OPPORTUNITY_QUALITY_V1 also
  requires ``actual_plan_net_edge_bps >= min_plan_net_edge_bps`` and ``mae_bps <= max_entry_mae_bps``
  (an opportunity the plan could not trade is rejected).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.labels import (
    ENTRY_LABEL_COLUMNS,
    OPPORTUNITY_METHODS,
    OPPORTUNITY_QUALITY,
    PATH_STAT_COLUMNS,
    SIDES,
    TRADE_COST_COLUMNS,
)
from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import LABEL_VERSION
from trader_core.costs import require_trade_costs
from trader_core.labels.base import Gather, aligned_rows, constant, label_base

_STAT_VALUES = PATH_STAT_COLUMNS[3:] + TRADE_COST_COLUMNS


def build_entry_labels(features: pd.DataFrame, path_stats: pd.DataFrame, plan: PricePlan) -> pd.DataFrame:
    """Entry labels for every sample with a valid window: its LONG rows, then its SHORT rows."""
    method = plan.entry_target_method
    require_trade_costs(path_stats)
    base, sides = aligned_rows(label_base(features), path_stats, plan.max_hold_minutes)
    n = len(base)
    columns: dict[str, Any] = {c: pd.concat([base[c], base[c]], ignore_index=True) for c in base.columns}
    columns["side"] = pd.Categorical.from_codes(np.repeat(np.arange(2, dtype=np.int8), n), categories=list(SIDES))
    gather = Gather(np.concatenate([sides["LONG"], sides["SHORT"]]))
    for name in _STAT_VALUES:
        columns[name] = gather(path_stats[name].to_numpy())
    cost = columns["cost_bps"]
    actual = columns["gross_edge_bps"] - cost
    achievable = columns["mfe_bps"] - cost
    expected = achievable if method in OPPORTUNITY_METHODS else actual
    target = expected >= plan.min_expected_net_edge_bps
    if method == OPPORTUNITY_QUALITY:
        target &= (actual >= plan.min_plan_net_edge_bps) & (columns["mae_bps"] <= plan.max_entry_mae_bps)
    # columns that repeat another share one Series: the frame below copies nothing and holds them copy-on-write
    mfe, actual, achievable = (pd.Series(values, copy=False) for values in (columns["mfe_bps"], actual, achievable))
    columns.update({
        "mfe_bps": mfe, "max_achievable_gross_edge_bps": mfe, "actual_plan_net_edge_bps": actual,
        "max_achievable_net_edge_bps": achievable,
        "expected_net_edge_bps": achievable if method in OPPORTUNITY_METHODS else actual,
        "entry_target": target.astype(np.int8),
    })
    for name, value in (("price_plan_id", plan.price_plan_id), ("price_plan_hash", plan.price_plan_config_hash),
                        ("label_method", method), ("label_version", LABEL_VERSION)):
        columns[name] = constant(value, 2 * n)
    return pd.DataFrame({c: columns[c] for c in ENTRY_LABEL_COLUMNS}, copy=False)

"""Label contracts: plan and target methods, sides, and the columns of every label table and dataset."""

from __future__ import annotations

from trader_core.contracts.features import FEATURE_ORDER

FIXED_TARGET_STOP = "FIXED_TARGET_STOP_V1"
DYNAMIC_TRAILING = "DYNAMIC_TRAILING_V1"
PLAN_METHODS = (FIXED_TARGET_STOP, DYNAMIC_TRAILING)

PRICE_PLAN_OUTCOME = "PRICE_PLAN_OUTCOME_V1"
OPPORTUNITY_MFE = "OPPORTUNITY_MFE_V1"
OPPORTUNITY_QUALITY = "OPPORTUNITY_QUALITY_V1"
ENTRY_TARGET_METHODS = (PRICE_PLAN_OUTCOME, OPPORTUNITY_MFE, OPPORTUNITY_QUALITY)
OPPORTUNITY_METHODS = (OPPORTUNITY_MFE, OPPORTUNITY_QUALITY)
#: The label method the pipeline stamps on entry labels (spec 7.1: was MAX_FUTURE_EDGE_V1).
ENTRY_LABEL_METHOD = PRICE_PLAN_OUTCOME

LONG, SHORT = "LONG", "SHORT"
SIDES = (LONG, SHORT)

SAMPLE_KEY = ("sample_id", "symbol", "event_time", "open_time_ms", "split_id", "walk_forward_fold")

PATH_STAT_COLUMNS = (
    "symbol", "open_time_ms", "side", "target_hit", "stop_hit", "timeout_hit", "ambiguous_hit",
    "time_to_target_ms", "time_to_stop_ms", "time_to_exit_ms", "gross_edge_bps", "future_return_bps",
    "mfe_bps", "mae_bps", "future_spread_p80", "future_realized_vol_bps",
)

DIRECTION_LABEL_COLUMNS = SAMPLE_KEY + ("data_quality_flag", "future_return_bps", "direction_label", "long_target",
                                        "short_target", "neutral_target", "horizon_minutes", "label_version")

#: Round-trip cost of a (start row, side) trade and its sources (trader_core/costs.py), appended to the path
#: statistics by the label stage: total, slippage and funding parts in bps, the number of legs (0-2) priced from
#: the quoted spread, and 1 where funding came from the replay's funding table (0: the flat funding_cost_bps).
TRADE_COST_COLUMNS = ("cost_bps", "cost_slippage_bps", "cost_funding_bps", "cost_spread_legs",
                      "cost_funding_from_table")

ENTRY_LABEL_COLUMNS = SAMPLE_KEY + ("data_quality_flag", "side") + PATH_STAT_COLUMNS[3:] + (
    "actual_plan_net_edge_bps", "max_achievable_gross_edge_bps", "max_achievable_net_edge_bps") + TRADE_COST_COLUMNS + (
    "expected_net_edge_bps", "entry_target", "price_plan_id", "price_plan_hash", "label_method", "label_version")

CONTINUE_LABEL_COLUMNS = SAMPLE_KEY + ("data_quality_flag", "long_continue_target", "short_continue_target",
                                       "long_expected_continue_edge_bps", "short_expected_continue_edge_bps",
                                       "label_version")

EXIT_LABEL_COLUMNS = SAMPLE_KEY + ("data_quality_flag", "long_exit_target", "short_exit_target",
                                   "long_adverse_move", "short_adverse_move", "stagnation",
                                   "long_reversal", "short_reversal", "label_version")

RISK_TARGETS = ("market_risk_target", "long_position_risk_target", "short_position_risk_target")
RISK_PROB_LABELS = ("market_drawdown_prob_label", "volatility_expansion_prob_label", "spike_prob_label",
                    "liquidity_deterioration_prob_label", "position_drawdown_prob_label")
RISK_LABEL_COLUMNS = SAMPLE_KEY + ("data_quality_flag",) + RISK_TARGETS + (
    "market_path_risk_bps", "long_position_path_risk_bps", "short_position_path_risk_bps") + RISK_PROB_LABELS + (
    "label_version",)

ENTRY_PIVOT_COLUMNS = tuple(f"{side}_{name}" for side in ("long", "short") for name in (
    "entry_target", "expected_net_edge_bps", "actual_plan_net_edge_bps", "max_achievable_net_edge_bps", "mae_bps"))

DATASET_KEY = ("sample_id", "symbol", "event_time", "open_time_ms", "split_id", "walk_forward_fold")
DATASET_LABELS: dict[str, tuple[str, ...]] = {
    "direction": ("long_target", "short_target", "neutral_target", "future_return_bps"),
    "entry": ENTRY_PIVOT_COLUMNS,
    "continue": ("long_continue_target", "short_continue_target", "long_expected_continue_edge_bps",
                 "short_expected_continue_edge_bps"),
    "risk": RISK_TARGETS + RISK_PROB_LABELS,
}


def dataset_columns(name: str) -> tuple[str, ...]:
    """Columns of ``dataset/<name>_train.parquet``: key, FEATURE_ORDER, then the labels."""
    return DATASET_KEY + FEATURE_ORDER + DATASET_LABELS[name]

"""Label contracts: plan and target methods, sides, and the contracts of path_stats and the five label tables.

Each table is declared once as a ``TableContract`` (docs/labels.md); the column tuples the builders select with
(``ENTRY_LABEL_COLUMNS``, ``PATH_STAT_COLUMNS``, ``DATASET_LABELS``, ...) are derived from the declarations.
"""

from __future__ import annotations

from dataclasses import replace

from trader_core.contracts.features import DATA_QUALITY_FLAG, FEATURE_ORDER, SAMPLE_KEY_COLUMNS
from trader_core.contracts.invariants import not_one_class, path_stats_sane, two_sides_per_sample, windows_inside_splits
from trader_core.contracts.table import Column, TableContract, names, select
from trader_core.contracts.versions import LABEL_VERSION, TRAINING_SPLITS

FIXED_TARGET_STOP = "FIXED_TARGET_STOP_V1"
DYNAMIC_TRAILING = "DYNAMIC_TRAILING_V1"
PLAN_METHODS = (FIXED_TARGET_STOP, DYNAMIC_TRAILING)

PRICE_PLAN_OUTCOME = "PRICE_PLAN_OUTCOME_V1"
OPPORTUNITY_MFE = "OPPORTUNITY_MFE_V1"
OPPORTUNITY_QUALITY = "OPPORTUNITY_QUALITY_V1"
ENTRY_TARGET_METHODS = (PRICE_PLAN_OUTCOME, OPPORTUNITY_MFE, OPPORTUNITY_QUALITY)
OPPORTUNITY_METHODS = (OPPORTUNITY_MFE, OPPORTUNITY_QUALITY)
#: The label method the pipeline stamps on entry labels (docs/labels.md, "Label config"; it replaced MAX_FUTURE_EDGE_V1).
ENTRY_LABEL_METHOD = PRICE_PLAN_OUTCOME

LONG, SHORT = "LONG", "SHORT"
SIDES = (LONG, SHORT)

NEUTRAL = "NEUTRAL"

_BINARY = dict(kind="int", unit="flag", dtype="int8", values=(0, 1))
_KEYED = dict(key=("symbol", "open_time_ms"), sort=("symbol", "open_time_ms"))

#: The sample key of label and dataset rows: only the four training splits carry labels.
LABEL_KEY_COLUMNS: tuple[Column, ...] = tuple(
    replace(c, values=TRAINING_SPLITS) if c.name == "split_id" else c for c in SAMPLE_KEY_COLUMNS)
SAMPLE_KEY = names(LABEL_KEY_COLUMNS)
_SYMBOL, _OPEN_TIME = LABEL_KEY_COLUMNS[1], LABEL_KEY_COLUMNS[3]
SIDE = Column("side", "str", values=SIDES)
HORIZON = Column("horizon_minutes", "int", "minutes", dtype="int64", low=1, description="label window length")
LABEL_VERSION_COLUMN = Column("label_version", "str", values=(LABEL_VERSION,))

#: The price plan's outcome of one (start row, side) over one horizon (trader_core/labels/path_stats.py).
PATH_OUTCOME_COLUMNS: tuple[Column, ...] = (
    Column("target_hit", **_BINARY), Column("stop_hit", **_BINARY), Column("timeout_hit", **_BINARY),
    Column("ambiguous_hit", **_BINARY, description="target and stop inside the same bar"),
    Column("time_to_target_ms", "int", "ms", dtype="int64", low=-1, description="-1 when the target is not hit"),
    Column("time_to_stop_ms", "int", "ms", dtype="int64", low=-1, description="-1 when the stop is not hit"),
    Column("time_to_exit_ms", "int", "ms", dtype="int64", low=1),
    Column("gross_edge_bps", "float", "bps"),
    Column("future_return_bps", "float", "bps", description="close-to-close return over the horizon"),
    Column("mfe_bps", "float", "bps", low=0.0, description="maximum favourable excursion"),
    Column("mae_bps", "float", "bps", low=0.0, description="maximum adverse excursion"),
    Column("future_spread_p80", "float", "bps", nullable=True, description="NaN when the window has no spread"),
    Column("future_realized_vol_bps", "float", "bps", nullable=True, description="NaN for a 1-minute horizon"),
)
PATH_STAT_COLUMNS = names((_SYMBOL, _OPEN_TIME, SIDE) + PATH_OUTCOME_COLUMNS)

#: Round-trip cost of a (start row, side) trade and its sources (trader_core/costs.py), appended to the path
#: statistics by the label stage: total, slippage and funding parts in bps, the number of legs (0-2) priced from
#: the quoted spread, and 1 where funding came from the replay's funding table (0: the flat funding_cost_bps).
TRADE_COST: tuple[Column, ...] = (
    Column("cost_bps", "float", "bps"), Column("cost_slippage_bps", "float", "bps", low=0.0),
    Column("cost_funding_bps", "float", "bps"),
    Column("cost_spread_legs", "int", "legs", dtype="int8", values=(0, 1, 2)),
    Column("cost_funding_from_table", **_BINARY))
TRADE_COST_COLUMNS = names(TRADE_COST)

PATH_STATS = TableContract(
    name="path_stats",
    description="The price plan's outcome for every start minute, side and label horizon, with its trade cost.",
    columns=(_SYMBOL, _OPEN_TIME, SIDE, HORIZON) + PATH_OUTCOME_COLUMNS + TRADE_COST,
    key=("horizon_minutes", "symbol", "side", "open_time_ms"),
    sort=("horizon_minutes", "symbol", "side", "open_time_ms"),
)

(_FUTURE_RETURN,) = select(PATH_OUTCOME_COLUMNS, "future_return_bps")
DIRECTION_TARGETS: tuple[Column, ...] = tuple(
    Column(f"{name}_target", **_BINARY) for name in ("long", "short", "neutral"))
DIRECTION_LABELS = TableContract(
    name="direction_labels",
    columns=LABEL_KEY_COLUMNS + (DATA_QUALITY_FLAG, _FUTURE_RETURN, Column("direction_label", "str",
                                 values=(LONG, SHORT, NEUTRAL))) + DIRECTION_TARGETS + (HORIZON, LABEL_VERSION_COLUMN),
    **_KEYED,
    invariants=(windows_inside_splits(horizon_field="direction.horizon_minutes"),
                not_one_class(names(DIRECTION_TARGETS))),
)
DIRECTION_LABEL_COLUMNS = tuple(DIRECTION_LABELS.names)

ENTRY_EDGES: tuple[Column, ...] = (
    Column("actual_plan_net_edge_bps", "float", "bps", description="gross edge minus the row's own cost"),
    Column("max_achievable_gross_edge_bps", "float", "bps", low=0.0),
    Column("max_achievable_net_edge_bps", "float", "bps"))
ENTRY_TARGET = Column("entry_target", **_BINARY)
EXPECTED_NET_EDGE = Column("expected_net_edge_bps", "float", "bps")
ENTRY_LABELS = TableContract(
    name="entry_labels",
    description="The plan outcome per (sample, side): LONG rows then SHORT rows, each in sample order.",
    columns=LABEL_KEY_COLUMNS + (DATA_QUALITY_FLAG, SIDE) + PATH_OUTCOME_COLUMNS + ENTRY_EDGES + TRADE_COST + (
        EXPECTED_NET_EDGE, ENTRY_TARGET, Column("price_plan_id", "str"), Column("price_plan_hash", "str"),
        Column("label_method", "str", values=ENTRY_TARGET_METHODS), LABEL_VERSION_COLUMN),
    key=("side", "symbol", "open_time_ms"),
    sort=("side", "symbol", "open_time_ms"),
    invariants=(path_stats_sane(horizon_field="entry.max_hold_minutes"), two_sides_per_sample(),
                windows_inside_splits(horizon_field="entry.max_hold_minutes"), not_one_class((ENTRY_TARGET.name,))),
)
ENTRY_LABEL_COLUMNS = tuple(ENTRY_LABELS.names)

CONTINUE_TARGETS: tuple[Column, ...] = (Column("long_continue_target", **_BINARY),
                                        Column("short_continue_target", **_BINARY))
CONTINUE_EDGES: tuple[Column, ...] = (Column("long_expected_continue_edge_bps", "float", "bps"),
                                      Column("short_expected_continue_edge_bps", "float", "bps"))
CONTINUE_LABELS = TableContract(
    name="continue_labels",
    columns=LABEL_KEY_COLUMNS + (DATA_QUALITY_FLAG,) + CONTINUE_TARGETS + CONTINUE_EDGES + (LABEL_VERSION_COLUMN,),
    **_KEYED,
    invariants=(windows_inside_splits(horizon_field="continue_.horizon_minutes"),
                not_one_class(names(CONTINUE_TARGETS))),
)
CONTINUE_LABEL_COLUMNS = tuple(CONTINUE_LABELS.names)

EXIT_TARGETS: tuple[Column, ...] = (Column("long_exit_target", **_BINARY), Column("short_exit_target", **_BINARY))
EXIT_LABELS = TableContract(
    name="exit_labels",
    columns=LABEL_KEY_COLUMNS + (DATA_QUALITY_FLAG,) + EXIT_TARGETS + tuple(
        Column(name, **_BINARY) for name in ("long_adverse_move", "short_adverse_move", "stagnation",
                                             "long_reversal", "short_reversal")) + (LABEL_VERSION_COLUMN,),
    **_KEYED,
    invariants=(windows_inside_splits(horizon_field="exit.horizon_minutes"), not_one_class(names(EXIT_TARGETS))),
)
EXIT_LABEL_COLUMNS = tuple(EXIT_LABELS.names)

RISK_TARGET_COLUMNS: tuple[Column, ...] = tuple(
    Column(name, **_BINARY) for name in ("market_risk_target", "long_position_risk_target", "short_position_risk_target"))
RISK_PROB_LABEL_COLUMNS: tuple[Column, ...] = tuple(
    Column(name, **_BINARY) for name in ("market_drawdown_prob_label", "volatility_expansion_prob_label",
                                         "spike_prob_label", "liquidity_deterioration_prob_label",
                                         "position_drawdown_prob_label"))
RISK_TARGETS = names(RISK_TARGET_COLUMNS)
RISK_PROB_LABELS = names(RISK_PROB_LABEL_COLUMNS)
RISK_LABELS = TableContract(
    name="risk_labels",
    columns=LABEL_KEY_COLUMNS + (DATA_QUALITY_FLAG,) + RISK_TARGET_COLUMNS + tuple(
        Column(name, "float", "bps") for name in ("market_path_risk_bps", "long_position_path_risk_bps",
                                                  "short_position_path_risk_bps")) + RISK_PROB_LABEL_COLUMNS + (
        LABEL_VERSION_COLUMN,),
    **_KEYED,
    invariants=(windows_inside_splits(horizon_field="risk.horizon_minutes"), not_one_class(RISK_TARGETS)),
)
RISK_LABEL_COLUMNS = tuple(RISK_LABELS.names)

LABEL_TABLES: dict[str, TableContract] = {
    t.name: t for t in (PATH_STATS, DIRECTION_LABELS, ENTRY_LABELS, CONTINUE_LABELS, EXIT_LABELS, RISK_LABELS)}

#: The entry columns a dataset takes from each side (``long_*`` then ``short_*``, docs/labels.md).
ENTRY_PIVOT: tuple[Column, ...] = tuple(
    c.renamed(f"{side}_{c.name}") for side in ("long", "short")
    for c in (ENTRY_TARGET, EXPECTED_NET_EDGE, *select(ENTRY_EDGES + PATH_OUTCOME_COLUMNS, "actual_plan_net_edge_bps",
                                                         "max_achievable_net_edge_bps", "mae_bps")))
ENTRY_PIVOT_COLUMNS = names(ENTRY_PIVOT)

DATASET_KEY = SAMPLE_KEY
#: The label columns of each ``<name>_train`` dataset, after its key and FEATURE_ORDER.
DATASET_LABEL_COLUMNS: dict[str, tuple[Column, ...]] = {
    "direction": DIRECTION_TARGETS + (_FUTURE_RETURN,),
    "entry": ENTRY_PIVOT,
    "continue": CONTINUE_TARGETS + CONTINUE_EDGES,
    "risk": RISK_TARGET_COLUMNS + RISK_PROB_LABEL_COLUMNS,
}
DATASET_LABELS: dict[str, tuple[str, ...]] = {name: names(cols) for name, cols in DATASET_LABEL_COLUMNS.items()}


def dataset_columns(name: str) -> tuple[str, ...]:
    """Columns of ``dataset/<name>_train.parquet``: key, FEATURE_ORDER, then the labels."""
    return DATASET_KEY + FEATURE_ORDER + DATASET_LABELS[name]

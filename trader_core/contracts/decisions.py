"""The decision log: one row per decision a champion made (``trader decide``, docs/decide.md).

Every strategy's log starts with DECISION_KEY_COLUMNS: which release of which model line decided, when, on
the data of which minute and for which symbol, under a deterministic ``decision_key`` (a re-run for the same
data minute and release finds its row instead of adding one). ``sample_id`` is the feature frame's key of the
decision minute, so realized outcomes (path statistics, labels) join on it. The perp log adds the PM's
decision (PERP_DECISION_LOG).
"""

from __future__ import annotations

from trader_core.contracts.features import DATA_QUALITY_FLAG, SAMPLE_KEY_COLUMNS
from trader_core.contracts.table import Column, TableContract, names, select

#: Sides of a perp decision; NONE is "no trade".
DECISION_SIDES = ("LONG", "SHORT", "NONE")
#: Who made a decision: the line's champion, or its canary release on the share of decisions sent to it.
ARMS = ("champion", "canary")

DECISION_KEY_COLUMNS: tuple[Column, ...] = (
    Column("decision_key", "str",
           description="first 32 hex of sha256 of (line, release, symbol, data_time): one row per decision"),
    Column("release", "str", description="release version that decided (releases/<release>/)"),
    Column("release_run_id", "str", description="the training run of that release"),
    Column("line", "str", description="model line whose champion the release was"),
    Column("strategy", "str", description="strategy plug-in of the line"),
    Column("arm", "str", values=ARMS, description="champion, or canary: the decision was sent to the line's canary"),
    Column("decision_time", "timestamp", "UTC", description="the time asked for (--at, the synthetic window end, "
                                                            "or the clock)"),
    Column("data_time", "timestamp", "UTC", description="open of the decision minute: the newest bar closed by "
                                                        "decision_time"),
    select(SAMPLE_KEY_COLUMNS, "symbol")[0],
    select(SAMPLE_KEY_COLUMNS, "sample_id")[0],
)

_PROB = {"low": 0.0, "high": 1.0, "nullable": True}
PERP_DECISION_COLUMNS: tuple[Column, ...] = (
    Column("decision_price", "float", "quote", description="close of the decision minute: the plan's entry price"),
    DATA_QUALITY_FLAG,
    Column("side", "str", values=DECISION_SIDES, description="LONG or SHORT: open; NONE: no trade"),
    Column("considered_side", "str", nullable=True, values=DECISION_SIDES[:2],
           description="the side the PM chose, or the side its score prefers when no gate passed (null: not scored)"),
    Column("long_prob", "float", **_PROB, description="DIRECTION long probability (null: the row was not scored)"),
    Column("short_prob", "float", **_PROB, description="DIRECTION short probability"),
    Column("long_entry_prob", "float", **_PROB, description="ENTRY long probability"),
    Column("short_entry_prob", "float", **_PROB, description="ENTRY short probability"),
    Column("market_risk_prob", "float", **_PROB, description="RISK market risk probability"),
    Column("direction_prob", "float", **_PROB, description="direction probability of the considered side"),
    Column("entry_prob", "float", **_PROB, description="entry probability of the considered side"),
    Column("expected_edge_bps", "float", "bps", nullable=True,
           description="edge the PM trades on for the considered side (edge_mode)"),
    Column("edge_mode", "str", description="ENTRY_PROBABILITY_PAYOFF or MODEL_ACTUAL_PLAN_EDGE (docs/trading.md)"),
    Column("planned_ratio", "float", "ratio", low=0.0, high=1.0, description="planned position ratio; 0: no trade"),
    Column("target_price", "float", "quote", nullable=True, description="first target from the decision price"),
    Column("stop_price", "float", "quote", nullable=True, description="stop from the decision price"),
    Column("second_target_price", "float", "quote", nullable=True,
           description="second target (DYNAMIC_TRAILING_V1 plans only)"),
    Column("max_hold_minutes", "int", "minutes", dtype="int64", description="the plan's time exit"),
    Column("price_plan_id", "str", description="pricePlanId of the release's price plan"),
    Column("pm_config_hash", "str", description="sha256 of the release's PM config"),
    Column("blocked_by", "str", description="first rule that blocked the trade ('' for a trade)"),
    Column("blocked_value", "float", nullable=True, description="the value that failed blocked_by"),
    Column("blocked_threshold", "float", nullable=True, description="the threshold it failed"),
    Column("failed_rules", "str", description="every failing rule of the considered side, comma-separated"),
)

PERP_DECISION_LOG = TableContract(
    name="perp_decision_log",
    description="Decisions of a perp line's champions, one row per (release, symbol, decision minute), in the "
                "order they were made.",
    columns=DECISION_KEY_COLUMNS + PERP_DECISION_COLUMNS,
    key=("decision_key",),
)
DECISION_KEY = names(DECISION_KEY_COLUMNS)

DECISION_OUTCOME_COLUMNS: tuple[Column, ...] = (
    Column("decision_key", "str", description="the logged decision"),
    Column("release", "str", description="release version that decided"),
    Column("arm", "str", values=ARMS, description="the decision's arm"),
    select(SAMPLE_KEY_COLUMNS, "symbol")[0],
    Column("data_time", "timestamp", "UTC", description="the decision's data time"),
    Column("traded", "bool", description="the decision opened a trade (perp: a side; butterfly: the AI track)"),
    Column("predicted", "float", nullable=True,
           description="what the model expected: perp expected_edge_bps, butterfly expected_roi (null: not scored)"),
    Column("predicted_prob", "float", low=0.0, high=1.0, nullable=True,
           description="the model's probability that the decision succeeds (perp: entry probability of the "
                       "considered side; butterfly: P(ROI >= 5 %), the good and excellent classes)"),
    Column("resolved", "bool", description="the outcome is known: its horizon ended on the newest data"),
    Column("realized", "float", nullable=True,
           description="what happened, in the unit of predicted (perp: the plan's net edge bps on the considered "
                       "side; butterfly: ROI); null until resolved"),
)

DECISION_OUTCOMES = TableContract(
    name="decision_outcomes",
    description="Realized outcomes of logged decisions, one row per decision key (docs/decide.md).",
    columns=DECISION_OUTCOME_COLUMNS,
    key=("decision_key",),
)

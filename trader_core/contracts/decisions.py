"""The decision log: one row per decision a champion made (``trader decide``, docs/decide.md).

Every strategy's log starts with DECISION_KEY_COLUMNS: which release of which model line decided, when, on
the data of which minute and for which symbol, under a deterministic ``decision_key`` (a re-run for the same
data minute and release finds its row instead of adding one). ``sample_id`` is the feature frame's key of the
decision minute, so realized outcomes (path statistics, labels) join on it. The perp log adds the PM's
decision (PERP_DECISION_LOG); the butterfly log one row per candidate butterfly of the decision date, with its
terms, scores and tracks (BUTTERFLY_DECISION_LOG).
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

_ROI_PROB = {"low": 0.0, "high": 1.0}
BUTTERFLY_DECISION_COLUMNS: tuple[Column, ...] = (
    Column("dte", "int", "days", dtype="int64", description="days to expiry of the candidate (the samples' rule)"),
    Column("spot", "float", "quote", description="close of the decision date: the analysis spot"),
    Column("hv", "float", "annualized", description="pricing-window HV of the decision date (the IV proxy's base)"),
    Column("lower", "float", "quote", description="lower strike (long one call)"),
    Column("center", "float", "quote", description="center strike (short two calls)"),
    Column("upper", "float", "quote", description="upper strike (long one call)"),
    Column("cost", "float", "quote", low=0.0, description="net debit of one butterfly (> 0)"),
    Column("max_profit", "float", "quote", description="(center - lower) - cost"),
    Column("eval_date", "timestamp", "UTC", description="evaluation date: the outcome is the label ROI there"),
    Column("expected_roi", "float", "ROI", description="E[ROI] = sum of class probability x class value"),
    Column("p_loss", "float", **_ROI_PROB, description="P(ROI < -10 %)"),
    Column("p_marginal", "float", **_ROI_PROB, description="P(-10 % <= ROI < 5 %)"),
    Column("p_good", "float", **_ROI_PROB, description="P(5 % <= ROI < 15 %)"),
    Column("p_excellent", "float", **_ROI_PROB, description="P(ROI >= 15 %): the probability of excellent"),
    Column("confidence", "float", **_ROI_PROB, description="1 - H(p) / ln 4 of the class probabilities"),
    Column("rank", "int", dtype="int64", low=1, description="rank of the day by expected_roi (1: highest; ties "
                                                              "by symbol)"),
    Column("ai_track", "bool", description="the AI track opens it: expected_roi > min_expected_roi and in the top "
                                           "max_trades_per_day of the day (the backtest's rule)"),
    Column("baseline_track", "bool", description="the baseline track opens it: every candidate of the day (the "
                                                 "backtest's no-skill baseline)"),
    Column("min_expected_roi", "float", "ROI", description="the AI track's threshold that decided"),
    Column("max_trades_per_day", "int", dtype="int64", low=1, description="the AI track's trades per day"),
    Column("threshold_version", "int", dtype="int64", low=0,
           description="version of the line's threshold document that decided (0: the release's own value)"),
)

BUTTERFLY_DECISION_LOG = TableContract(
    name="butterfly_decision_log",
    description="Decisions of a butterfly line's champions, one row per (release, candidate butterfly, decision "
                "date), in the order they were made.",
    columns=DECISION_KEY_COLUMNS + BUTTERFLY_DECISION_COLUMNS,
    key=("decision_key",),
)

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

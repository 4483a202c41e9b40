"""The PM frame contract: predictions, entry dataset targets and entry-label outcomes per sample (docs/trading.md).

``trader_core.pm.frame.pm_frame`` builds it; every column name here comes from the model outputs and the label
contracts, so a renamed output or label column shows up as a contract change.
"""

from __future__ import annotations

from dataclasses import replace

from trader_core.contracts.labels import ENTRY_PIVOT, PATH_OUTCOME_COLUMNS
from trader_core.contracts.models import DIRECTION, ENTRY, PREDICTION_KEY_COLUMNS, RISK, output_columns
from trader_core.contracts.table import Column, TableContract, names, select

SIDE_PREFIXES = ("long", "short")
DIRECTION_OUTPUTS = output_columns(DIRECTION)
ENTRY_PROBS = tuple(c for c in output_columns(ENTRY) if c.high is not None)
ENTRY_EDGE_PREDICTIONS = tuple(c for c in output_columns(ENTRY) if c.high is None)
RISK_OUTPUTS = output_columns(RISK)
#: entry_train columns the frame takes, and the names they get in it (the seed's PM frame names).
ENTRY_TRAIN_RENAME = {f"{side}_actual_plan_net_edge_bps": f"actual_{side}_plan_edge_bps" for side in SIDE_PREFIXES}
ENTRY_TRAIN_TARGETS = select(ENTRY_PIVOT, *(f"{side}_entry_target" for side in SIDE_PREFIXES))
#: Entry-label outcomes per side (``long_<field>``, ``short_<field>``) and the trade's net edge after its own cost.
OUTCOMES = select(PATH_OUTCOME_COLUMNS, "target_hit", "stop_hit", "time_to_target_ms", "time_to_stop_ms",
                  "time_to_exit_ms")
TRADE_NET_EDGE = Column("trade_net_edge_bps", "float", "bps", description="gross edge (NaN -> 0) minus the row's cost")

PM_FRAME = TableContract(
    name="pm_frame",
    description="One row per sample in direction, entry and risk predictions, entry_train and entry_labels. "
                "pred_*_expected_net_edge_bps is the edge the PM trades on (model or probability-implied); "
                "model_pred_* keeps the entry model's own regression.",
    columns=PREDICTION_KEY_COLUMNS + DIRECTION_OUTPUTS + ENTRY_PROBS
    + tuple(replace(c, name=f"pred_{c.name}", dtype="", description="float32 model or float64 probability-implied edge")
            for c in ENTRY_EDGE_PREDICTIONS) + RISK_OUTPUTS
    + tuple(c.renamed(ENTRY_TRAIN_RENAME[c.name]) for c in select(ENTRY_PIVOT, *ENTRY_TRAIN_RENAME))
    + ENTRY_TRAIN_TARGETS
    + tuple(c.renamed(f"{side}_{c.name}") for side in SIDE_PREFIXES for c in (*OUTCOMES, TRADE_NET_EDGE))
    + tuple(c.renamed(f"model_pred_{c.name}") for c in ENTRY_EDGE_PREDICTIONS),
    key=("sample_id",),
)
PM_FRAME_COLUMNS = names(PM_FRAME.columns)

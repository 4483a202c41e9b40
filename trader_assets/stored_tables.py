"""The stored tables of the perp graph: each table asset with its declared contract and the prefix of its checks.

One mapping feeds both the asset checks (``trader_assets.checks.tables``) and the column schemas shown in the UI
(``trader_assets.definitions``). The prefixes keep the check names the graph has always had
(``replay_unique_sorted_minutes``, ``entry_two_rows_per_sample``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from trader_core.contracts.datasets import DATASETS, DIRECTION_OPPORTUNITY_TRAIN
from trader_core.contracts.feature_frame import FEATURE_FRAME
from trader_core.contracts.labels import (
    CONTINUE_LABELS,
    DIRECTION_LABELS,
    ENTRY_LABELS,
    EXIT_LABELS,
    PATH_STATS,
    RISK_LABELS,
)
from trader_core.contracts.pm_frame import PM_FRAME
from trader_core.contracts.replay import REPLAY
from trader_core.contracts.table import TableContract


@dataclass(frozen=True)
class StoredTable:
    contract: TableContract
    check_prefix: str


STORED_TABLES: dict[str, StoredTable] = {
    "replay_1m": StoredTable(REPLAY, "replay"),
    "feature_frame": StoredTable(FEATURE_FRAME, "feature"),
    "path_stats": StoredTable(PATH_STATS, "path_stats"),
    "direction_labels": StoredTable(DIRECTION_LABELS, "direction"),
    "entry_labels": StoredTable(ENTRY_LABELS, "entry"),
    "continue_labels": StoredTable(CONTINUE_LABELS, "continue"),
    "exit_labels": StoredTable(EXIT_LABELS, "exit"),
    "risk_labels": StoredTable(RISK_LABELS, "risk"),
    **{contract.name: StoredTable(contract, contract.name) for contract in DATASETS.values()},
    "direction_opportunity_train": StoredTable(DIRECTION_OPPORTUNITY_TRAIN, "direction_opportunity_train"),
    "pm_frame": StoredTable(PM_FRAME, "pm_frame"),
}

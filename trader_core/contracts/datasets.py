"""Train dataset contracts: trainable feature rows of the four splits joined with one label family (docs/labels.md).

Columns ``DATASET_KEY + FEATURE_ORDER + DATASET_LABELS[name]`` (``trader_core.contracts.labels``). Every row is
trainable, so unlike the feature frame the features here are never NaN.
"""

from __future__ import annotations

from dataclasses import replace

from trader_core.contracts.features import FEATURE_COLUMNS
from trader_core.contracts.labels import (
    DATASET_LABEL_COLUMNS,
    DIRECTION_TARGETS,
    ENTRY_PIVOT,
    LABEL_KEY_COLUMNS,
    PATH_OUTCOME_COLUMNS,
)
from trader_core.contracts.table import TableContract, select

#: Features of trainable rows: finite.
TRAINABLE_FEATURE_COLUMNS = tuple(replace(c, nullable=False) for c in FEATURE_COLUMNS)
_KEYED = dict(key=("symbol", "open_time_ms"), sort=("symbol", "open_time_ms"))

DATASETS: dict[str, TableContract] = {
    name: TableContract(name=f"{name}_train", columns=LABEL_KEY_COLUMNS + TRAINABLE_FEATURE_COLUMNS + labels,
                        description=f"Trainable feature rows of the four splits joined with the {name} labels.",
                        **_KEYED)
    for name, labels in DATASET_LABEL_COLUMNS.items()}

#: The opportunity edges the direction relabel reads from entry_train (and keeps, after the new targets).
OPPORTUNITY_EDGES = select(ENTRY_PIVOT, "long_max_achievable_net_edge_bps", "short_max_achievable_net_edge_bps")
DIRECTION_OPPORTUNITY_TRAIN = TableContract(
    name="direction_opportunity_train",
    description="direction_train relabelled by which side had a tradable path opportunity; never overwrites it.",
    columns=LABEL_KEY_COLUMNS + TRAINABLE_FEATURE_COLUMNS + select(PATH_OUTCOME_COLUMNS, "future_return_bps")
    + DIRECTION_TARGETS + OPPORTUNITY_EDGES,
    **_KEYED,
)

"""Train datasets (docs/labels.md, "Datasets"): trainable feature rows joined with each label family.

Rows: data_quality_flag OK or PARTIAL_OPTIONAL (and FILLED_BAR when ``replay.train_on_filled_bars``), split_id one of the four training splits, and a label
(an inner join, so samples whose forward window was invalid are absent). Columns:
``DATASET_KEY + FEATURE_ORDER + DATASET_LABELS[name]`` (``trader_core.contracts.labels``), features float32.

The direction-opportunity relabel is written as its own dataset
(``direction_opportunity_train``) and never overwrites ``direction_train``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trader_core import io
from trader_core.contracts.features import FEATURE_ORDER, trainable_quality
from trader_core.contracts.labels import DATASET_KEY, DATASET_LABELS, ENTRY_PIVOT_COLUMNS, dataset_columns
from trader_core.contracts.versions import TRAINING_SPLITS
from trader_core.errors import DataContractError

OPPORTUNITY_LABEL_METHOD = "DIRECTION_OPPORTUNITY_FROM_ENTRY_MFE_V1"
OPPORTUNITY_EDGE_COLUMNS = ("long_max_achievable_net_edge_bps", "short_max_achievable_net_edge_bps")


def trainable_features(features: pd.DataFrame, *, allow_filled_bars: bool = False) -> pd.DataFrame:
    """Rows of the training splits whose quality flag is trainable (filled bars only when allowed)."""
    rows = (features["data_quality_flag"].isin(list(trainable_quality(allow_filled_bars=allow_filled_bars)))
            & features["split_id"].isin(list(TRAINING_SPLITS))).to_numpy()
    return features.loc[rows, list(DATASET_KEY) + list(FEATURE_ORDER)].reset_index(drop=True)


def entry_pivot(entry_labels: pd.DataFrame) -> pd.DataFrame:
    """LONG and SHORT entry rows side by side (inner join on sample_id): ``long_*`` / ``short_*`` columns."""
    required = ("sample_id", "side", "entry_target", "expected_net_edge_bps")
    missing = [c for c in required if c not in entry_labels.columns]
    if missing:
        raise DataContractError(f"entry_labels: missing column(s) {missing}")
    values = [c for c in ("entry_target", "expected_net_edge_bps", "actual_plan_net_edge_bps",
                          "max_achievable_net_edge_bps", "mae_bps") if c in entry_labels.columns]
    sides = []
    for side in ("LONG", "SHORT"):
        part = entry_labels.loc[entry_labels["side"] == side, ["sample_id", *values]]
        sides.append(part.rename(columns={c: f"{side.lower()}_{c}" for c in values}))
    pivot = sides[0].merge(sides[1], on="sample_id", how="inner", validate="one_to_one")
    return pivot[["sample_id", *[c for c in ENTRY_PIVOT_COLUMNS if c in pivot.columns]]]


def build_train_dataset(name: str, features: pd.DataFrame, labels: pd.DataFrame, *,
                        allow_filled_bars: bool = False) -> pd.DataFrame:
    """``<name>_train``: trainable features inner-joined with the family's labels on sample_id."""
    if name not in DATASET_LABELS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(DATASET_LABELS)}")
    table = entry_pivot(labels) if name == "entry" else labels
    label_cols = list(DATASET_LABELS[name])
    missing = [c for c in label_cols if c not in table.columns]
    if missing:
        raise DataContractError(f"{name} labels: missing column(s) {missing}")
    data = trainable_features(features, allow_filled_bars=allow_filled_bars).merge(table[["sample_id", *label_cols]], on="sample_id", how="inner",
                                              validate="one_to_one")
    return data[list(dataset_columns(name))]


def opportunity_labels(long_edge: np.ndarray, short_edge: np.ndarray, opportunity_bps: float,
                       min_advantage_bps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(long, short, neutral) int8: a side wins when its edge >= opportunity and beats the other by the advantage."""
    long_edge = np.where(np.isnan(long_edge), -np.inf, long_edge)
    short_edge = np.where(np.isnan(short_edge), -np.inf, short_edge)
    with np.errstate(invalid="ignore"):
        long = (long_edge >= opportunity_bps) & (long_edge - short_edge >= min_advantage_bps)
        short = (short_edge >= opportunity_bps) & (short_edge - long_edge >= min_advantage_bps)
    return long.astype(np.int8), short.astype(np.int8), (~long & ~short).astype(np.int8)


def direction_opportunity_dataset(direction_train: pd.DataFrame, entry_train: pd.DataFrame, *,
                                  opportunity_bps: float = 40.0,
                                  min_advantage_bps: float = 5.0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Relabel direction by which side had a tradable path opportunity (docs/labels.md, "Datasets").

    Returns (dataset, result)."""
    targets = ("long_target", "short_target", "neutral_target")
    base = direction_train.drop(columns=list(targets))
    data = base.merge(entry_train[["sample_id", *OPPORTUNITY_EDGE_COLUMNS]], on="sample_id", how="inner",
                      validate="one_to_one")
    if len(data) != len(base):
        raise DataContractError(f"direction opportunity relabel: {len(base) - len(data)} direction row(s) have no "
                                "entry row; refusing to drop them")
    long, short, neutral = opportunity_labels(data[OPPORTUNITY_EDGE_COLUMNS[0]].to_numpy(dtype=float),
                                              data[OPPORTUNITY_EDGE_COLUMNS[1]].to_numpy(dtype=float),
                                              opportunity_bps, min_advantage_bps)
    edges = data[list(OPPORTUNITY_EDGE_COLUMNS)]
    data = data.drop(columns=list(OPPORTUNITY_EDGE_COLUMNS))
    data["long_target"], data["short_target"], data["neutral_target"] = long, short, neutral
    data = pd.concat([data, edges], axis=1)
    result = {
        "label_method": OPPORTUNITY_LABEL_METHOD,
        "edge_columns": list(OPPORTUNITY_EDGE_COLUMNS),
        "opportunity_bps": opportunity_bps,
        "min_advantage_bps": min_advantage_bps,
        "row_count": len(data),
        "feature_count": len(FEATURE_ORDER),
        "data_hash_sha256": io.frame_hash(data),
        "split_counts": {s: int((data["split_id"] == s).sum()) for s in TRAINING_SPLITS},
        "target_counts": {t: int(data[t].sum()) for t in targets},
        "target_rates_by_split": {s: {t: float(data.loc[data["split_id"] == s, t].mean())
                                      for t in targets} for s in TRAINING_SPLITS if (data["split_id"] == s).any()},
    }
    return data, result

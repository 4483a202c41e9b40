"""PM frame and the probability-implied edge (docs/trading.md, "PM frame and edge mode")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.labels import LONG, OPPORTUNITY_METHODS, SHORT
from trader_core.contracts.models import DIRECTION, ENTRY, MODEL_OUTPUTS, PREDICTION_KEY, RISK
from trader_core.contracts.pm_frame import ENTRY_TRAIN_RENAME, ENTRY_TRAIN_TARGETS, OUTCOMES
from trader_core.contracts.table import names
from trader_core.errors import DataContractError
from trader_core.contracts.price_plan import PricePlan
from trader_core.pm.config import DEFAULT_BACKTEST_COST_BPS, DEFAULT_BACKTEST_STOP_BPS

ENTRY_PROBABILITY_PAYOFF = "ENTRY_PROBABILITY_PAYOFF"
MODEL_ACTUAL_PLAN_EDGE = "MODEL_ACTUAL_PLAN_EDGE"

KEY_COLUMNS = PREDICTION_KEY
DIRECTION_COLUMNS = MODEL_OUTPUTS[DIRECTION]
ENTRY_COLUMNS = MODEL_OUTPUTS[ENTRY]
RISK_COLUMNS = MODEL_OUTPUTS[RISK]
ENTRY_TRAIN_COLUMNS = ("sample_id", *ENTRY_TRAIN_RENAME, *names(ENTRY_TRAIN_TARGETS))
OUTCOME_FIELDS = names(OUTCOMES)
ENTRY_LABEL_COLUMNS = ("sample_id", "side", "gross_edge_bps", "cost_bps") + OUTCOME_FIELDS


def probability_implied_edge(entry_prob: Any, price_plan: PricePlan | None) -> np.ndarray:
    """p·(target − cost) + (1 − p)·(−stop − cost), p clipped to [0, 1] with NaN → 0.

    ``cost`` is the plan's flat reference ``cost_bps``: a decision cannot know its exit-side spread or the
    funding it will cross (docs/trading.md, "Cost model"). Without a plan: target 0, the DEFAULT_BACKTEST stop
    35 and cost 4.
    """
    if price_plan is None:
        target_net, stop_net = -DEFAULT_BACKTEST_COST_BPS, -DEFAULT_BACKTEST_STOP_BPS - DEFAULT_BACKTEST_COST_BPS
    else:
        target_net = price_plan.target_bps - price_plan.cost_bps
        stop_net = -price_plan.stop_bps - price_plan.cost_bps
    p = pd.to_numeric(pd.Series(np.asarray(entry_prob).ravel()), errors="coerce").to_numpy("float64", na_value=np.nan)
    p = np.clip(np.nan_to_num(p, nan=0.0), 0.0, 1.0)
    return p * target_net + (1.0 - p) * stop_net


def pm_frame(direction_pred: pd.DataFrame, entry_pred: pd.DataFrame, risk_pred: pd.DataFrame,
             entry_train: pd.DataFrame, entry_labels: pd.DataFrame,
             price_plan: PricePlan | None = None) -> tuple[pd.DataFrame, str]:
    """Join predictions, entry dataset and entry-label outcomes on sample_id; returns (frame, edge mode)."""
    _require(direction_pred, KEY_COLUMNS + DIRECTION_COLUMNS, "direction predictions")
    _require(entry_pred, ("sample_id",) + ENTRY_COLUMNS, "entry predictions")
    _require(risk_pred, ("sample_id",) + RISK_COLUMNS, "risk predictions")
    _require(entry_train, ENTRY_TRAIN_COLUMNS, "entry_train")
    entry = entry_pred[["sample_id", *ENTRY_COLUMNS]].rename(columns={
        "long_expected_net_edge_bps": "pred_long_expected_net_edge_bps",
        "short_expected_net_edge_bps": "pred_short_expected_net_edge_bps"})
    frame = (direction_pred[[*KEY_COLUMNS, *DIRECTION_COLUMNS]]
             .merge(entry, on="sample_id", how="inner")
             .merge(risk_pred[["sample_id", *RISK_COLUMNS]], on="sample_id", how="inner")
             .merge(entry_train[list(ENTRY_TRAIN_COLUMNS)].rename(columns=ENTRY_TRAIN_RENAME), on="sample_id",
                    how="inner")
             .merge(entry_plan_outcome_frame(entry_labels), on="sample_id", how="inner"))
    if frame.empty:
        raise DataContractError("PM frame is empty: no sample_id is in all of direction/entry/risk predictions, "
                                "entry_train and entry_labels")
    return frame, _trade_edges(frame, price_plan)


def decision_frame(direction_pred: pd.DataFrame, entry_pred: pd.DataFrame, risk_pred: pd.DataFrame,
                   price_plan: PricePlan | None = None) -> tuple[pd.DataFrame, str]:
    """The PM frame of rows decided now (``trader_core.pm.decision``): the predictions joined on sample_id with
    the edge the PM trades on, made exactly as ``pm_frame`` makes it; what happens next is not known yet, so the
    targets and outcomes are NaN. Returns (frame, edge mode)."""
    _require(direction_pred, KEY_COLUMNS + DIRECTION_COLUMNS, "direction predictions")
    _require(entry_pred, ("sample_id",) + ENTRY_COLUMNS, "entry predictions")
    _require(risk_pred, ("sample_id",) + RISK_COLUMNS, "risk predictions")
    entry = entry_pred[["sample_id", *ENTRY_COLUMNS]].rename(columns={
        "long_expected_net_edge_bps": "pred_long_expected_net_edge_bps",
        "short_expected_net_edge_bps": "pred_short_expected_net_edge_bps"})
    frame = (direction_pred[[*KEY_COLUMNS, *DIRECTION_COLUMNS]]
             .merge(entry, on="sample_id", how="inner")
             .merge(risk_pred[["sample_id", *RISK_COLUMNS]], on="sample_id", how="inner"))
    unknown = [*ENTRY_TRAIN_RENAME.values(), *names(ENTRY_TRAIN_TARGETS),
               *(f"{side}_{field}" for side in ("long", "short") for field in (*OUTCOME_FIELDS, "trade_net_edge_bps"))]
    frame = frame.assign(**{column: np.nan for column in unknown})
    return frame, _trade_edges(frame, price_plan)


def _trade_edges(frame: pd.DataFrame, price_plan: PricePlan | None) -> str:
    """Keep the entry model's edge as ``model_pred_*`` and, unless the plan's mode trades on it, replace
    ``pred_*`` with the probability-implied edge (in place); returns the edge mode."""
    for side in ("long", "short"):
        frame[f"model_pred_{side}_expected_net_edge_bps"] = frame[f"pred_{side}_expected_net_edge_bps"]
    mode = edge_mode(price_plan)
    if mode == MODEL_ACTUAL_PLAN_EDGE:
        return mode
    for side in ("long", "short"):
        frame[f"pred_{side}_expected_net_edge_bps"] = probability_implied_edge(frame[f"{side}_entry_prob"],
                                                                               price_plan)
    return mode


def edge_mode(price_plan: PricePlan | None) -> str:
    """How the PM frame's predicted edge is made under ``price_plan``: the entry model's own edge for
    opportunity targets, else the probability-implied payoff of the plan (also without a plan)."""
    if price_plan is not None and price_plan.entry_target_method in OPPORTUNITY_METHODS:
        return MODEL_ACTUAL_PLAN_EDGE
    return ENTRY_PROBABILITY_PAYOFF


def entry_plan_outcome_frame(entry_labels: pd.DataFrame) -> pd.DataFrame:
    """One row per sample_id with ``{long,short}_trade_net_edge_bps`` and outcomes.

    The net edge is gross (NaN → 0) minus the row's own cost from the cost model (docs/trading.md, "Cost
    model"); a missing cost is refused rather than read as a free trade.
    """
    _require(entry_labels, ENTRY_LABEL_COLUMNS, "entry_labels")
    side = entry_labels["side"].astype(str).to_numpy()
    cost = pd.to_numeric(entry_labels["cost_bps"], errors="coerce")
    if cost.isna().any():
        raise DataContractError(f"entry_labels: cost_bps is missing on {int(cost.isna().sum())} row(s)")
    net = pd.to_numeric(entry_labels["gross_edge_bps"], errors="coerce").fillna(0.0) - cost
    labels = entry_labels[["sample_id", *OUTCOME_FIELDS]].assign(trade_net_edge_bps=net.to_numpy())
    parts = []
    for name, prefix in ((LONG, "long"), (SHORT, "short")):
        part = labels[side == name]
        if part["sample_id"].duplicated().any():
            raise DataContractError(f"entry_labels: duplicate sample_id for side {name}")
        parts.append(part.rename(columns={c: f"{prefix}_{c}" for c in part.columns if c != "sample_id"}))
    return parts[0].merge(parts[1], on="sample_id", how="inner")


def _require(frame: pd.DataFrame, columns: tuple[str, ...], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataContractError(f"{table} is missing PM columns: {missing}")

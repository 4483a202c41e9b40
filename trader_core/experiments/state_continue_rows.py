"""The state-aware Continue experiment's rows (docs/experiments.md, "State-aware continue experiment"): one row per open position and age.

Diagnostic only. A position is opened at every baseline entry label with ``entry_target == 1`` (LONG or
SHORT) and observed ``a`` minutes later for each age ``a`` of ``ages_minutes``; the state row joins:

* **state source** (replay, per symbol, vectorised shift/rolling): entry_price = close ``a`` rows back,
  current_price = close, high/low_since_entry = max high / min low over the ``a + 1`` rows ending at the
  current bar (the entry bar included). Decided here: the ``a`` rows must be contiguous minutes (the replay
  never fills gaps), otherwise the state is NaN and the row is dropped.
* **frozen scores** of the baseline ONNX files on the entry row's features (``predict_frozen``):
  entry_predicted_edge_bps / entry_direction_prob = that side's expected edge / direction probability.
* **current features** (FEATURE_ORDER of the trainable feature row at the current minute) and the
  **future stats** at the Continue horizon (45) starting at the current bar close: ``compute_path_stats``
  with a FIXED_TARGET_STOP_V1 plan of the run plan's target and stop (the experiment's "fixed plan", whatever the
  run's plan method). add_count = 0 and minutes_since_last_add = 9999.

``state_rows_for_age`` turns that into STATE_FEATURES, ``expected_continue_edge_bps = gross - cost`` and
``continue_target = edge >= min_edge and stop_hit == 0``. Rows with a non-finite feature, target or edge are
dropped, and (decided here) so are rows whose entry and current minute lie in different splits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.labels import FIXED_TARGET_STOP, LONG, SHORT
from trader_core.contracts.models import DIRECTION, ENTRY, TARGETS
from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.replay import MINUTE_MS
from trader_core.errors import DataContractError
from trader_core.experiments.state_continue_params import StateContinueParams
from trader_core.experiments.toolkit import require_columns
from trader_core.labels.datasets import trainable_features
from trader_core.labels.path_stats import PlanParams, compute_path_stats
from trader_core.models.frozen import predict_frozen
from trader_core.splits import to_epoch_ms


NO_ADD_MINUTES = 9999
SIDE_SOURCE = ("ret_1m_bps", "ret_5m_bps", "taker_imbalance_1m", "taker_imbalance_5m", "book_microprice_basis_bps",
               "book_pressure_taker_1m", "book_pressure_taker_5m")

#: name -> (unit, formula); s = +1 LONG / -1 SHORT.
STATE_SCHEMA: dict[str, tuple[str, str]] = {
    "position_side_sign": ("sign", "s"),
    "time_in_position_minutes": ("minutes", "age a"),
    "unrealized_pnl_bps": ("bps", "LONG (cur/entry - 1) * 1e4, SHORT (entry/cur - 1) * 1e4, minus cost"),
    "mfe_since_entry_bps": ("bps", "max(LONG (high/entry - 1), SHORT (entry/low - 1), 0) * 1e4"),
    "mae_since_entry_bps": ("bps", "max(LONG (entry/low - 1), SHORT (high/entry - 1), 0) * 1e4"),
    "distance_to_stop_bps": ("bps", "LONG (cur/stop_price - 1) * 1e4, SHORT (stop_price/cur - 1) * 1e4"),
    "distance_to_target_bps": ("bps", "LONG (target_price/cur - 1) * 1e4, SHORT (cur/target_price - 1) * 1e4"),
    "entry_predicted_edge_bps": ("bps", "frozen ENTRY expected net edge of the side at entry"),
    "entry_direction_prob": ("probability", "frozen DIRECTION probability of the side at entry"),
    "path_efficiency": ("ratio", "unrealized / (mfe + mae + 1)"),
    "giveback_from_mfe_bps": ("bps", "mfe - max(unrealized, 0)"),
    "recovery_from_mae_bps": ("bps", "unrealized + mae"),
    "mfe_mae_ratio": ("ratio", "mfe / (mae + 1)"),
    **{f"side_{name}": ("as the feature", f"s * {name}") for name in SIDE_SOURCE},
    "add_count": ("count", "0 (no adds)"),
    "minutes_since_last_add": ("minutes", f"{NO_ADD_MINUTES} (no adds)"),
}
STATE_FEATURES: tuple[str, ...] = tuple(STATE_SCHEMA)
STATE_INPUT = ("side", "time_in_position_minutes", "entry_price", "current_price", "high_since_entry",
               "low_since_entry", "gross_edge_bps", "stop_hit", "entry_predicted_edge_bps", "entry_direction_prob",
               "add_count", "minutes_since_last_add", "current_sample_id", "current_event_time",
               "current_open_time_ms")
PASS_THROUGH = ("symbol", "split_id", "entry_split_id", "entry_sample_id", "entry_open_time_ms")
TARGET, EDGE = "continue_target", "expected_continue_edge_bps"


def state_rows_for_age(frame: pd.DataFrame, stop: float, target: float, cost: float,
                       min_edge: float = 5.0) -> pd.DataFrame:
    """STATE_FEATURES, the Continue edge and target of joined position rows (module docstring)."""
    require_columns(frame, [*STATE_INPUT, *FEATURE_ORDER], "state_continue rows")
    side = frame["side"].astype(str).to_numpy()
    bad = ~np.isin(side, [LONG, SHORT])
    if bad.any():
        raise DataContractError(f"state_continue rows: side must be LONG or SHORT, got {side[bad][0]!r}")
    long = side == LONG
    s = np.where(long, 1.0, -1.0)
    entry, cur, high, low = (frame[c].to_numpy(dtype=np.float64) for c in
                             ("entry_price", "current_price", "high_since_entry", "low_since_entry"))
    with np.errstate(divide="ignore", invalid="ignore"):
        unrealized = np.where(long, cur / entry - 1.0, entry / cur - 1.0) * 1e4 - cost
        mfe = np.maximum(np.where(long, high / entry - 1.0, entry / low - 1.0) * 1e4, 0.0)
        mae = np.maximum(np.where(long, entry / low - 1.0, high / entry - 1.0) * 1e4, 0.0)
        stop_price = entry * (1.0 - s * stop / 1e4)
        target_price = entry * (1.0 + s * target / 1e4)
        state = {
            "position_side_sign": s,
            "time_in_position_minutes": frame["time_in_position_minutes"].to_numpy(dtype=np.float64),
            "unrealized_pnl_bps": unrealized, "mfe_since_entry_bps": mfe, "mae_since_entry_bps": mae,
            "distance_to_stop_bps": np.where(long, cur / stop_price - 1.0, stop_price / cur - 1.0) * 1e4,
            "distance_to_target_bps": np.where(long, target_price / cur - 1.0, cur / target_price - 1.0) * 1e4,
            "entry_predicted_edge_bps": frame["entry_predicted_edge_bps"].to_numpy(dtype=np.float64),
            "entry_direction_prob": frame["entry_direction_prob"].to_numpy(dtype=np.float64),
            "path_efficiency": unrealized / (mfe + mae + 1.0),
            "giveback_from_mfe_bps": mfe - np.maximum(unrealized, 0.0),
            "recovery_from_mae_bps": unrealized + mae,
            "mfe_mae_ratio": mfe / (mae + 1.0),
            **{f"side_{c}": s * frame[c].to_numpy(dtype=np.float64) for c in SIDE_SOURCE},
            "add_count": frame["add_count"].to_numpy(dtype=np.float64),
            "minutes_since_last_add": frame["minutes_since_last_add"].to_numpy(dtype=np.float64),
        }
    edge = frame["gross_edge_bps"].to_numpy(dtype=np.float64) - cost
    # ``.array`` keeps the columns' dtypes without a round trip through Python objects
    out = pd.DataFrame({"sample_id": frame["current_sample_id"].array,
                        "event_time": frame["current_event_time"].array,
                        "open_time_ms": frame["current_open_time_ms"].to_numpy(dtype=np.int64),
                        **{c: frame[c].array for c in PASS_THROUGH if c in frame.columns},
                        "position_side": side})
    out[list(FEATURE_ORDER)] = frame[list(FEATURE_ORDER)].to_numpy(dtype=np.float32)
    for name in STATE_FEATURES:
        out[name] = state[name].astype(np.float32)
    out[EDGE] = edge
    out[TARGET] = ((edge >= min_edge) & (frame["stop_hit"].to_numpy() == 0)).astype(np.int8)
    return out


def state_source(replay: pd.DataFrame, age: int) -> pd.DataFrame:
    """Per replay row: entry price ``age`` rows back, current price and the high/low since entry."""
    g = replay.groupby("symbol", sort=False)
    window = age + 1
    contiguous = (replay["open_time_ms"] - g["open_time_ms"].shift(age)).to_numpy() == age * MINUTE_MS
    columns = {
        "entry_price": g["close"].shift(age),
        "current_price": replay["close"],
        "high_since_entry": g["high"].transform(lambda x: x.rolling(window, min_periods=window).max()),
        "low_since_entry": g["low"].transform(lambda x: x.rolling(window, min_periods=window).min()),
    }
    out = pd.DataFrame({"symbol": replay["symbol"].astype(str).to_numpy(),
                        "current_open_time_ms": replay["open_time_ms"].to_numpy(dtype=np.int64)})
    for name, values in columns.items():
        out[name] = np.where(contiguous, values.to_numpy(dtype=np.float64), np.nan)
    return out


def _head_map(model: str, prefix: str = "") -> dict[str, tuple[str, list[str]]]:
    return {h.name: (h.kind, [prefix + f for f in h.fields]) for h in TARGETS[model].heads}


def entry_positions(features: pd.DataFrame, entry_labels: pd.DataFrame, direction_onnx: Path,
                    entry_onnx: Path) -> pd.DataFrame:
    """Entry rows (entry_target == 1, LONG/SHORT) with the frozen entry edge and direction probability."""
    require_columns(entry_labels, ["sample_id", "side", "entry_target"], "entry_labels")
    labels = entry_labels[["sample_id", "side", "entry_target"]].assign(side=entry_labels["side"].astype(str))
    labels = labels[(labels["entry_target"] == 1).to_numpy() & labels["side"].isin([LONG, SHORT]).to_numpy()]
    rows = trainable_features(features).merge(labels[["sample_id", "side"]], on="sample_id", how="inner")
    direction = predict_frozen(direction_onnx, rows, _head_map(DIRECTION, "frozen_"))
    entry = predict_frozen(entry_onnx, rows, _head_map(ENTRY))
    long = (rows["side"] == LONG).to_numpy()
    return pd.DataFrame({
        "symbol": rows["symbol"].astype(str).to_numpy(), "side": rows["side"].to_numpy(),
        "entry_sample_id": rows["sample_id"].to_numpy(), "entry_split_id": rows["split_id"].to_numpy(),
        "entry_open_time_ms": to_epoch_ms(rows["event_time"]).to_numpy(dtype=np.int64),
        "entry_predicted_edge_bps": np.where(long, entry["long_expected_net_edge_bps"],
                                             entry["short_expected_net_edge_bps"]).astype(np.float64),
        "entry_direction_prob": np.where(long, direction["frozen_long_prob"],
                                         direction["frozen_short_prob"]).astype(np.float64),
    })


def continue_plan(price_plan: PricePlan) -> PlanParams:
    """The fixed target/stop plan of the Continue outcome: the run plan's target and stop (docs/experiments.md, "State-aware continue experiment")."""
    return PlanParams(method=FIXED_TARGET_STOP, target_bps=price_plan.target_bps, stop_bps=price_plan.stop_bps,
                      stop_fill_excess_share=price_plan.stop_fill_excess_share,
                      stop_slippage_allowance_bps=price_plan.stop_slippage_allowance_bps)


def build_state_frame(features: pd.DataFrame, entry_labels: pd.DataFrame, replay: pd.DataFrame,
                      price_plan: PricePlan, direction_onnx: Path, entry_onnx: Path,
                      params: StateContinueParams) -> tuple[pd.DataFrame, list[dict]]:
    """(state_continue_train frame, per-age source counts) after the finite/same-split filters and the cap."""
    require_columns(replay, ["symbol", "open_time_ms", "high", "low", "close"], "replay_1m")
    replay = replay.sort_values(["symbol", "open_time_ms"], kind="mergesort").reset_index(drop=True)
    positions = entry_positions(features, entry_labels, direction_onnx, entry_onnx)
    current = trainable_features(features).rename(columns={
        "sample_id": "current_sample_id", "event_time": "current_event_time", "open_time_ms": "current_open_time_ms"})
    current["symbol"] = current["symbol"].astype(str)
    stats = compute_path_stats(replay, horizon=params.continue_horizon_minutes, plan=continue_plan(price_plan))
    future = pd.DataFrame({"symbol": stats["symbol"].astype(str).to_numpy(),
                           "side": stats["side"].astype(str).to_numpy(),
                           "current_open_time_ms": stats["open_time_ms"].to_numpy(),
                           "gross_edge_bps": stats["gross_edge_bps"].to_numpy(),
                           "stop_hit": stats["stop_hit"].to_numpy()})
    parts, counts = [], []
    for age in params.ages_minutes:
        rows = positions.assign(current_open_time_ms=positions["entry_open_time_ms"] + age * MINUTE_MS,
                                time_in_position_minutes=age, add_count=0, minutes_since_last_add=NO_ADD_MINUTES)
        rows = (rows.merge(state_source(replay, age), on=["symbol", "current_open_time_ms"], how="inner")
                .merge(current, on=["symbol", "current_open_time_ms"], how="inner")
                .merge(future, on=["symbol", "side", "current_open_time_ms"], how="inner"))
        part = state_rows_for_age(rows, price_plan.stop_bps, price_plan.target_bps, price_plan.cost_bps,
                                  params.min_continue_edge_bps)
        values = part[[*FEATURE_ORDER, *STATE_FEATURES, TARGET, EDGE]].to_numpy(dtype=np.float64)
        keep = np.isfinite(values).all(axis=1) & (part["split_id"] == part["entry_split_id"]).to_numpy()
        counts.append({"age_minutes": age, "entries": len(positions), "joined_rows": len(part),
                       "kept_rows": int(keep.sum())})
        parts.append(part[keep])
    frame = pd.concat(parts, ignore_index=True)
    if params.max_rows_per_split:
        frame = (frame.sort_values("event_time", kind="mergesort").groupby("split_id", sort=False)
                 .tail(params.max_rows_per_split))
    if frame.empty:
        raise DataContractError("state_continue: no state row left (no entry with a complete state, features and "
                                "future window)")
    return frame.sort_values(["time_in_position_minutes", "symbol", "open_time_ms", "position_side"],
                             kind="mergesort").reset_index(drop=True), counts

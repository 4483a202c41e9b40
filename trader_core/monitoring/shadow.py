"""Shadow scoring: a release bundle scores new rows through the live inference engine, then meets reality.

``evaluate_bundle`` is the one evaluation used by both shadow scoring and champion-vs-challenger: the
bundle's ``InferenceEngine`` (the same code a live system runs) predicts every model for the given rows,
the predictions are joined to what actually happened (direction targets, the entry targets and the
*actual plan* net edge, the entry-label outcomes) and the bundle's own PM config replays its trades.

Reported per evaluation:
* AUCs of the direction (long/short) and entry (long/short) probabilities;
* calibration: a 10-bin reliability table of each entry probability (mean prediction vs observed rate)
  and its expected calibration error ``ECE = sum_b n_b/n |mean_p_b - rate_b|``;
* predicted vs realized edge per side (the ENTRY regression head vs the actual plan net edge) and the
  realized edge by entry-probability decile (decile 10 = most confident);
* the PM's trades (trade metrics of the simulator used by the backtest).

``decay`` compares a shadow evaluation with what the bundle claimed on its own validation_locked split
(its model manifest and backtest), so a reader sees the fall directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core import io
from trader_core.contracts.models import DIRECTION, ENTRY, MODEL_OUTPUTS, RISK
from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import VALIDATION_LOCKED_SPLIT
from trader_core.errors import DataContractError
from trader_core.models.inference import InferenceEngine
from trader_core.models.metrics import expected_calibration_error, reliability_table, safe_auc
from trader_core.pm.config import PMConfig
from trader_core.pm.frame import KEY_COLUMNS, pm_frame
from trader_core.pm.metrics import jsonable_metrics, trade_metrics
from trader_core.pm.simulate import simulate_trades

SIDES = ("long", "short")


@dataclass(frozen=True)
class Bundle:
    """What an evaluation needs from a release (or a run): models, PM config, price plan, claims."""

    name: str
    engine: InferenceEngine
    pm_config: PMConfig
    price_plan: PricePlan
    model_manifest: dict[str, Any]
    backtest: dict[str, Any]
    run_spec: dict[str, Any]

    @classmethod
    def from_release(cls, path: Path) -> Bundle:
        path = Path(path)
        return cls(name=path.name, engine=InferenceEngine.from_bundle(path / "model"),
                   pm_config=PMConfig.from_json(io.read_json(path / "pm" / "position_manager_config.json")["config"]),
                   price_plan=PricePlan.from_json(io.read_json(path / "label" / "price_plan_context.json")),
                   model_manifest=io.read_json(path / "model" / "model_train_manifest.json"),
                   backtest=io.read_json(path / "backtest" / "backtest_result.json"),
                   run_spec=io.read_json(path / "run_spec.json"))


def bundle_predictions(engine: InferenceEngine, rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{model: KEY_COLUMNS + the model's output fields} for ``rows`` (one engine call)."""
    if rows.empty:
        raise DataContractError("shadow scoring: no rows to score")
    outputs = engine.predict(rows)
    key = rows[list(KEY_COLUMNS)].reset_index(drop=True)
    return {m: pd.concat([key, pd.DataFrame(np.asarray(outputs[m], dtype="float64"), columns=list(MODEL_OUTPUTS[m]))],
                         axis=1) for m in outputs}


def decile_table(prob: np.ndarray, target: np.ndarray, edge: np.ndarray) -> pd.DataFrame:
    """Rows split into 10 equal-count groups by probability (10 = highest): hit rate and realized edge."""
    order = np.argsort(np.asarray(prob, dtype="float64"), kind="stable")
    decile = np.empty(len(order), dtype=int)
    decile[order] = np.arange(len(order)) * 10 // max(len(order), 1) + 1
    frame = pd.DataFrame({"decile": decile, "prob": prob, "target": target, "edge": edge})
    return (frame.groupby("decile").agg(rows=("prob", "size"), mean_prob=("prob", "mean"),
                                        hit_rate=("target", "mean"), avg_realized_edge_bps=("edge", "mean"))
            .reset_index())


def evaluate_bundle(bundle: Bundle, rows: pd.DataFrame, direction_train: pd.DataFrame,
                    entry_train: pd.DataFrame, entry_labels: pd.DataFrame) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Score ``rows`` with ``bundle`` and join the realized outcomes; returns (summary, tables)."""
    preds = bundle_predictions(bundle.engine, rows)
    frame, edge_mode = pm_frame(preds[DIRECTION], preds[ENTRY], preds[RISK], entry_train, entry_labels,
                                bundle.price_plan)
    truth = frame[["sample_id"]].merge(direction_train[["sample_id", "long_target", "short_target"]],
                                       on="sample_id", how="left")
    summary: dict[str, Any] = {"bundle": bundle.name, "rows": int(len(frame)), "edge_mode": edge_mode}
    tables: dict[str, pd.DataFrame] = {}
    for side in SIDES:
        prob = frame[f"{side}_entry_prob"].to_numpy("float64")
        target = frame[f"{side}_entry_target"].to_numpy("float64")
        realized = frame[f"actual_{side}_plan_edge_bps"].to_numpy("float64")
        predicted = frame[f"model_pred_{side}_expected_net_edge_bps"].to_numpy("float64")
        reliability = reliability_table(prob, target)
        tables[f"{side}_entry_reliability"] = reliability
        tables[f"{side}_entry_deciles"] = decile_table(prob, target, realized)
        direction_target = truth[f"{side}_target"].to_numpy("float64")
        known = np.isfinite(direction_target)
        summary[side] = {
            "direction_auc": safe_auc(direction_target[known], frame[f"{side}_prob"].to_numpy("float64")[known]),
            "entry_auc": safe_auc(target, prob),
            "entry_ece": expected_calibration_error(reliability),
            "mean_entry_prob": float(prob.mean()), "entry_target_rate": float(target.mean()),
            "mean_predicted_edge_bps": float(predicted.mean()), "mean_realized_edge_bps": float(realized.mean()),
            "predicted_realized_edge_corr": _corr(predicted, realized),
            "top_decile_realized_edge_bps": float(tables[f"{side}_entry_deciles"]["avg_realized_edge_bps"].iloc[-1]),
        }
    trades = simulate_trades(frame, bundle.pm_config.thresholds, bundle.pm_config, bundle.price_plan)
    weighted = trades["weighted_edge_bps"].to_numpy("float64")
    summary["pm"] = jsonable_metrics(trade_metrics(trades)) | {
        "weighted_edge_std_bps": float(weighted.std(ddof=1)) if len(weighted) > 1 else 0.0}
    tables["trades"] = trades
    return summary, tables


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def claimed(bundle: Bundle) -> dict[str, Any]:
    """What the bundle reported on its own validation_locked split (models and backtest)."""
    direction = bundle.model_manifest[DIRECTION]["sealed_metrics"][VALIDATION_LOCKED_SPLIT]["direction"]
    entry = bundle.model_manifest[ENTRY]["sealed_metrics"][VALIDATION_LOCKED_SPLIT]
    pm = bundle.backtest["metrics"][VALIDATION_LOCKED_SPLIT]
    return {side: {"direction_auc": direction.get(f"{side}_auc"), "entry_auc": entry[f"{side}_entry_prob"].get("auc")}
            for side in SIDES} | {"pm": {k: pm.get(k) for k in ("trade_count", "avg_weighted_edge_bps",
                                                                  "total_weighted_edge_bps", "win_rate")}}


def decay(claims: Mapping[str, Any], shadow: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows (metric, claimed on validation_locked, shadow on the new rows, change)."""
    rows = []
    for side in SIDES:
        for metric in ("direction_auc", "entry_auc"):
            rows.append(_decay_row(f"{side}_{metric}", claims[side].get(metric), shadow[side].get(metric)))
    for metric in ("avg_weighted_edge_bps", "win_rate", "trade_count"):
        rows.append(_decay_row(f"pm_{metric}", claims["pm"].get(metric), shadow["pm"].get(metric)))
    return rows


def _decay_row(metric: str, before: Any, after: Any) -> dict[str, Any]:
    change = None if before is None or after is None else float(after) - float(before)
    return {"metric": metric, "claimed_validation_locked": before, "shadow": after, "change": change}

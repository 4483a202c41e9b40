"""Perp decisions: the champion bundle scores the decision minute of every symbol and its own PM config and price
plan decide (docs/decide.md).

The bundle is loaded as shadow scoring loads it (``Bundle.from_release``: the release's hashes and feature order
checked, one onnxruntime session for the four models); the rows go through ``bundle_predictions``, the PM frame
of ``decision_frame`` (the backtest's edge) and ``entry_decisions`` (the backtest's gates and sizing). A row whose
quality flag the datasets never train on (WARMUP, GAP_WINDOW, FILLED_BAR unless the run trains on it) is not
scored: no trade, blocked by ``data_quality_flag``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping
from trader_core.contracts.decisions import PERP_DECISION_LOG
from trader_core.contracts.features import trainable_quality
from trader_core.contracts.models import DIRECTION, ENTRY, RISK
from trader_core.decide.base import Champion, Decider, DecisionRequest
from trader_core.decide.perp_data import decision_minute
from trader_core.decide.perp_outcomes import perp_outcomes
from trader_core.labels.price_plan import plan_prices
from trader_core.monitoring.shadow import Bundle, bundle_predictions
from trader_core.pm.decision import HARD_CAP, LONG, MIN_SIZED_EDGE, NO_TRADE, PLANNED_RATIO, entry_decisions
from trader_core.pm.frame import decision_frame, edge_mode

#: ``blocked_by`` of a row that was not scored.
DATA_QUALITY_RULE = "data_quality_flag"
_OUTPUTS = ("long_prob", "short_prob", "long_entry_prob", "short_entry_prob", "market_risk_prob")


class PerpDecider(Decider):
    contract = PERP_DECISION_LOG
    outcome_unit = "net edge of the plan, bps"

    def decide(self, champion: Champion, request: DecisionRequest) -> pd.DataFrame:
        bundle = Bundle.from_release(champion.path)
        spec = from_mapping(RunSpec, {k: v for k, v in bundle.run_spec.items() if k != "spec_hash"})
        minute = decision_minute(spec, request)
        rows = minute.rows
        scored = rows["data_quality_flag"].isin(
            trainable_quality(allow_filled_bars=spec.replay.train_on_filled_bars)).to_numpy()
        out = pd.DataFrame({
            "release": champion.version, "release_run_id": champion.manifest["run_id"], "line": champion.line,
            "strategy": spec.strategy, "decision_time": minute.decision_time, "data_time": rows["event_time"],
            "symbol": rows["symbol"], "sample_id": rows["sample_id"],
            "decision_price": rows["close"].astype("float64"), "data_quality_flag": rows["data_quality_flag"],
            "side": NO_TRADE, "considered_side": pd.Series(None, index=rows.index, dtype="str"),
            **{name: np.nan for name in (*_OUTPUTS, "direction_prob", "entry_prob", "expected_edge_bps")},
            "edge_mode": edge_mode(bundle.price_plan), "planned_ratio": 0.0,
            "blocked_by": DATA_QUALITY_RULE, "blocked_value": np.nan, "blocked_threshold": np.nan,
            "failed_rules": DATA_QUALITY_RULE})
        if scored.any():
            self._score(out, rows[scored], bundle)
        prices = plan_prices(out["decision_price"].to_numpy(), (out["side"] == LONG).to_numpy(), bundle.price_plan)
        trade = (out["side"] != NO_TRADE).to_numpy()
        for name, values in prices.items():
            out[name] = np.where(trade, values, np.nan)
        out["max_hold_minutes"] = np.int64(bundle.price_plan.max_hold_minutes)
        out["price_plan_id"] = bundle.price_plan.price_plan_id
        out["pm_config_hash"] = bundle.pm_config.config_hash
        return out[[c for c in self.contract.names if c not in ("decision_key", "arm")]]

    @staticmethod
    def _score(out: pd.DataFrame, rows: pd.DataFrame, bundle: Bundle) -> None:
        """Fill the model outputs and the PM's decision of the scored ``rows`` into ``out`` (same index)."""
        predictions = bundle_predictions(bundle.engine, rows)
        frame, _ = decision_frame(predictions[DIRECTION], predictions[ENTRY], predictions[RISK], bundle.price_plan)
        decided = pd.concat([frame[["sample_id", *_OUTPUTS]], entry_decisions(frame, bundle.pm_config,
                                                                               bundle.price_plan)], axis=1)
        decided = decided.set_index("sample_id").loc[rows["sample_id"]]
        for name in decided.columns:
            out.loc[rows.index, name] = decided[name].to_numpy()

    def outcomes(self, champion: Champion, rows: pd.DataFrame, *, home: Path) -> pd.DataFrame:
        return perp_outcomes(champion, rows, home=home)

    def render(self, rows: pd.DataFrame) -> list[str]:
        return [line for row in rows.to_dict("records") for line in _render_row(row)]


def _render_row(row: dict) -> list[str]:
    head = (f"{row['symbol']}  minute {row['data_time']:%Y-%m-%d %H:%M}Z  close {row['decision_price']:.6g}  "
            f"[{row['data_quality_flag']}]")
    if row["side"] == NO_TRADE:
        probs = "" if pd.isna(row["entry_prob"]) else (
            f"  ({row['considered_side']}: entry prob {row['entry_prob']:.3f}, direction prob "
            f"{row['direction_prob']:.3f}, expected edge {row['expected_edge_bps']:.2f} bps)")
        return [head, f"  no trade: {_blocked(row)}{probs}"]
    plan = (f"  plan {row['price_plan_id']}: target {row['target_price']:.6g}, stop {row['stop_price']:.6g}"
            + ("" if pd.isna(row["second_target_price"]) else f", second target {row['second_target_price']:.6g}")
            + f", time exit after {row['max_hold_minutes']} min")
    return [head, f"  {row['side']}  planned size {row['planned_ratio']:.3f}  entry prob {row['entry_prob']:.3f}  "
                  f"direction prob {row['direction_prob']:.3f}  expected edge {row['expected_edge_bps']:.2f} bps  "
                  f"market risk {row['market_risk_prob']:.3f}", plan]


def _blocked(row: dict) -> str:
    rule = row["blocked_by"]
    if rule == DATA_QUALITY_RULE:
        return f"{DATA_QUALITY_RULE} {row['data_quality_flag']} (the models are trained on other rows only)"
    value, threshold = row["blocked_value"], row["blocked_threshold"]
    if pd.isna(value):
        text = f"{rule}: no value (threshold {threshold:.4g})"
    elif rule == "max_market_risk_prob":
        text = f"{rule}: {value:.4g} >= {threshold:.4g}, {value - threshold:.4g} above the threshold"
    elif rule == HARD_CAP:
        text = f"{rule}: the hard cap {value:.4g} is below the smallest ratio {threshold:.4g}"
    elif rule == PLANNED_RATIO:
        text = f"{rule}: the planned ratio is {value:.4g}"
    else:
        comparison = "<" if rule == MIN_SIZED_EDGE else "<="
        text = f"{rule}: {value:.4g} {comparison} {threshold:.4g}, {threshold - value:.4g} below the threshold"
    others = [r for r in row["failed_rules"].split(",") if r and r != rule]
    return text + (f"; also failing: {', '.join(others)}" if others else "")

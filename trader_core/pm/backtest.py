"""Integrated backtest on the sealed splits (spec 11.9) and its PASS/FAIL status.

The PM config chosen on tune_inner is replayed unchanged on validation_locked and latest_stress. Returns
are the actual price-plan net edge of each trade (never the window-max edge), sized by the position
manager and with overlapping entries blocked until exit + cooldown.

Status is PASS only when no reason applies. Reasons (the seed's, plus the ones marked *added*):
* ``validation_locked_avg_trade_edge_not_positive``: average weighted edge <= 0;
* ``validation_locked_max_consecutive_losses_above_8``;
* ``validation_locked_sizing_collapsed_to_min_initial``: trades exist but max planned ratio <= 0.050001;
* ``validation_locked_trade_count_below_20`` (*added*: too few trades to judge the sealed split);
* ``latest_stress_trade_count_below_20``;
* ``latest_stress_profit_factor_below_1``: the stress split loses money in aggregate;
* ``latest_stress_avg_trade_edge_not_positive`` (*added*: "PASS on both sealed splits" means the stress
  split must make money too).
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from trader_core.contracts.versions import LATEST_STRESS_SPLIT, SEALED_SPLITS, TUNE_SPLIT, VALIDATION_LOCKED_SPLIT
from trader_core.pm.config import pm_config_hash, thresholds_from_config
from trader_core.pm.metrics import trade_metrics
from trader_core.pm.simulate import simulate_trades
from trader_core.report import markdown_table

PASS, FAIL = "PASS", "FAIL"
MIN_SEALED_TRADES = 20
MAX_CONSECUTIVE_LOSSES = 8
MIN_INITIAL_RATIO_EPS = 0.050001


def backtest_status(metrics: Mapping[str, Mapping[str, Any]]) -> tuple[str, list[str]]:
    """(PASS | FAIL, reasons) from the metrics of the sealed splits."""
    v, s = metrics.get(VALIDATION_LOCKED_SPLIT, {}), metrics.get(LATEST_STRESS_SPLIT, {})
    reasons = []
    if v.get("avg_weighted_edge_bps", 0.0) <= 0:
        reasons.append("validation_locked_avg_trade_edge_not_positive")
    if v.get("max_consecutive_losses", 0) > MAX_CONSECUTIVE_LOSSES:
        reasons.append("validation_locked_max_consecutive_losses_above_8")
    if v.get("trade_count", 0) > 0 and v.get("max_planned_ratio", 0.0) <= MIN_INITIAL_RATIO_EPS:
        reasons.append("validation_locked_sizing_collapsed_to_min_initial")
    if v.get("trade_count", 0) < MIN_SEALED_TRADES:
        reasons.append("validation_locked_trade_count_below_20")
    if s.get("trade_count", 0) < MIN_SEALED_TRADES:
        reasons.append("latest_stress_trade_count_below_20")
    if float(s.get("profit_factor", 0.0)) < 1.0:
        reasons.append("latest_stress_profit_factor_below_1")
    if s.get("avg_weighted_edge_bps", 0.0) <= 0:
        reasons.append("latest_stress_avg_trade_edge_not_positive")
    return (PASS if not reasons else FAIL), reasons


def integrated_backtest(frames: Mapping[str, pd.DataFrame], pm_config: Mapping[str, Any],
                        price_plan: Mapping[str, Any], run_id: str,
                        tune_trades: pd.DataFrame | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Simulate the chosen config on every sealed split (tune trades reused when given)."""
    thresholds = thresholds_from_config(pm_config)
    parts, metrics = [], {}
    for split in (TUNE_SPLIT, *SEALED_SPLITS):
        if split == TUNE_SPLIT and tune_trades is not None:
            trades = tune_trades
        else:
            trades = simulate_trades(frames[split], thresholds, pm_config, price_plan)
        metrics[split] = trade_metrics(trades)
        if len(trades):
            parts.append(trades.assign(eval_split=split))
    status, reasons = backtest_status(metrics)
    result = {
        "backtest_manifest_id": f"backtest-{run_id}", "mode": "VALIDATION_PM_BACKTEST",
        "pm_config_hash_sha256": pm_config_hash(pm_config), "price_plan_id": price_plan.get("pricePlanId"),
        "price_plan_config_hash": price_plan.get("pricePlanConfigHash"), "thresholds": thresholds,
        "metrics": metrics, "status_reasons": reasons, "status": status,
    }
    trades = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return result, trades


def backtest_report(result: Mapping[str, Any]) -> str:
    rows = [{"split": split, **{k: m.get(k) for k in ("trade_count", "win_rate", "avg_actual_edge_bps",
                                                     "avg_weighted_edge_bps", "total_weighted_edge_bps",
                                                     "max_drawdown_bps", "profit_factor", "max_consecutive_losses",
                                                     "max_planned_ratio")}}
            for split, m in result["metrics"].items()]
    lines = [
        "# Integrated Backtest Report", "",
        f"- status: **{result['status']}**",
        f"- reasons: {', '.join(result['status_reasons']) or 'none'}",
        f"- pm_config_hash: `{result['pm_config_hash_sha256']}`; price plan `{result['price_plan_id']}`",
        f"- thresholds (chosen on tune_inner only): `{result['thresholds']}`", "",
        "Returns are the actual price-plan net edge of each trade (never the window-max edge), weighted by the "
        "planned position ratio. Overlapping entries per symbol are blocked until exit + cooldown. "
        "validation_locked and latest_stress were never used to choose anything.", "",
        "## Metrics by split", "", markdown_table(rows), "",
    ]
    return "\n".join(lines)

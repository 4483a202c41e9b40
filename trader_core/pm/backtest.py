"""Integrated backtest on the sealed splits (docs/trading.md) and its PASS/FAIL status.

The PM config chosen on tune_inner is replayed unchanged on validation_locked and latest_stress. Returns
are the actual price-plan net edge of each trade (never the window-max edge), sized by the position
manager and with overlapping entries blocked until exit + cooldown. The verdict (``trader_core.pm.gate``)
asks for a significantly positive sealed edge after deflating for the looks at this sealed window.
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import SEALED_SPLITS, TUNE_SPLIT
from trader_core.pm.config import THRESHOLD_GRID, PMConfig
from trader_core.pm.gate import backtest_status, explain
from trader_core.pm.metrics import trade_metrics
from trader_core.pm.significance import MIN_STATISTIC, edge_significance, required_statistic
from trader_core.pm.simulate import simulate_trades
from trader_core.report import markdown_table

#: The price plan fields the result records (in the plan's JSON form).
_PLAN_FIELDS = ("price_plan_id", "target_bps", "stop_bps", "cost_bps")


def integrated_backtest(frames: Mapping[str, pd.DataFrame], pm_config: PMConfig, price_plan: PricePlan,
                        run_id: str, tune_trades: pd.DataFrame | None = None, *,
                        looks: int = 1, min_statistic: float = MIN_STATISTIC) -> tuple[dict[str, Any], pd.DataFrame]:
    """Simulate the chosen config on every sealed split (tune trades reused when given); ``looks`` is the number of
    distinct configurations evaluated on this sealed window (``trader_core.sealed_ledger``)."""
    thresholds = pm_config.thresholds
    parts, metrics, significance = [], {}, {}
    for split in (TUNE_SPLIT, *SEALED_SPLITS):
        if split == TUNE_SPLIT and tune_trades is not None:
            trades = tune_trades
        else:
            trades = simulate_trades(frames[split], thresholds, pm_config, price_plan)
        metrics[split] = trade_metrics(trades)
        edges = trades["weighted_edge_bps"].to_numpy("float64") if len(trades) else []
        significance[split] = edge_significance(edges, looks=looks if split in SEALED_SPLITS else 1).as_dict()
        if len(trades):
            parts.append(trades.assign(eval_split=split))
    status, reasons = backtest_status(metrics, significance, min_statistic=min_statistic)
    result = {
        "backtest_manifest_id": f"backtest-{run_id}", "mode": "VALIDATION_PM_BACKTEST",
        "pm_config_hash_sha256": pm_config.config_hash, "price_plan_id": price_plan.price_plan_id,
        "price_plan_config_hash": price_plan.price_plan_config_hash, "thresholds": thresholds,
        "price_plan": price_plan.to_json(_PLAN_FIELDS),
        "min_edge_bps": min(THRESHOLD_GRID["min_expected_edge_bps"]),
        "metrics": metrics, "significance": significance, "looks": looks, "min_statistic": min_statistic,
        "required_statistic": required_statistic(looks, min_statistic), "status_reasons": reasons, "status": status,
    }
    result["explanation"] = explain(result, plan=price_plan, min_statistic=min_statistic)
    trades = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return result, trades


def backtest_report(result: Mapping[str, Any], *, searched: Mapping[str, Any]) -> str:
    """The backtest report; ``searched`` is the PM search's record of the rows it chose the thresholds on."""
    rows = [{"split": split, **{k: m.get(k) for k in ("trade_count", "win_rate", "avg_actual_edge_bps",
                                                     "avg_weighted_edge_bps", "total_weighted_edge_bps",
                                                     "max_drawdown_bps", "profit_factor", "max_consecutive_losses",
                                                     "max_planned_ratio")}}
            for split, m in result["metrics"].items()]
    significance = [{"split": split, **{k: sig[k] for k in ("trades", "mean_bps", "standard_error_bps", "statistic",
                                                             "p_value", "looks", "deflated_statistic",
                                                             "interval_bps", "block_length")}}
                    for split, sig in result["significance"].items()]
    sealed_rows = sum(n for split, n in searched["rows_by_split"].items() if split in SEALED_SPLITS)
    lines = [
        "# Integrated Backtest Report", "",
        f"- status: **{result['status']}**",
        f"- reasons: {', '.join(result['status_reasons']) or 'none'}",
        f"- look {result['looks']} on this sealed window: validation_locked needs t >= "
        f"{result['required_statistic']:.2f} ({result['min_statistic']:g} standard errors, Sidak-deflated)",
        f"- pm_config_hash: `{result['pm_config_hash_sha256']}`; price plan `{result['price_plan_id']}`",
        f"- thresholds `{result['thresholds']}` chosen on "
        + ", ".join(f"{split} ({n} rows)" for split, n in searched["rows_by_split"].items())
        + f"; sealed rows read by the choice: {sealed_rows}", "",
        "Returns are the actual price-plan net edge of each trade (never the window-max edge), weighted by the "
        "planned position ratio. Overlapping entries per symbol are blocked until exit + cooldown.", "",
        "## Why", "", "```", *result["explanation"], "```", "",
        "## Metrics by split", "", markdown_table(rows), "",
        "## Significance of the mean weighted edge per trade", "",
        "Stationary block bootstrap standard error (docs/trading.md, \"Significance and looks\").", "",
        markdown_table(significance), "",
    ]
    return "\n".join(lines)

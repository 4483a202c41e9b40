"""The release gate's verdict on the sealed splits and the words that explain a refusal (docs/trading.md).

PASS only when no reason applies:

* ``validation_locked_edge_not_significant``: the mean weighted net edge per trade is not significantly positive
  after deflating for the looks at this sealed window (``trader_core.pm.significance``, default 2 standard
  errors at look 1);
* ``latest_stress_edge_significantly_negative``: the stress split loses significantly (t <= -2, not deflated:
  looks never make a loss look better);
* the sanity limits: ``validation_locked_avg_trade_edge_not_positive``,
  ``validation_locked_max_consecutive_losses_above_8``, ``validation_locked_sizing_collapsed_to_min_initial``
  (trades exist but the largest planned ratio is the 0.05 floor), ``validation_locked_trade_count_below_20``,
  ``latest_stress_trade_count_below_20``, ``latest_stress_profit_factor_below_1``,
  ``latest_stress_avg_trade_edge_not_positive``.
"""

from __future__ import annotations

from typing import Any, Mapping

from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import LATEST_STRESS_SPLIT, SEALED_SPLITS, VALIDATION_LOCKED_SPLIT
from trader_core.pm.significance import MIN_STATISTIC, required_statistic

PASS, FAIL = "PASS", "FAIL"
MIN_SEALED_TRADES = 20
MAX_CONSECUTIVE_LOSSES = 8
MIN_INITIAL_RATIO_EPS = 0.050001


def backtest_status(metrics: Mapping[str, Mapping[str, Any]], significance: Mapping[str, Mapping[str, Any]], *,
                    min_statistic: float = MIN_STATISTIC) -> tuple[str, list[str]]:
    """(PASS | FAIL, reasons) from the metrics and the significance (``EdgeSignificance.as_dict``) per sealed split."""
    v, s = metrics.get(VALIDATION_LOCKED_SPLIT, {}), metrics.get(LATEST_STRESS_SPLIT, {})
    v_sig, s_sig = significance.get(VALIDATION_LOCKED_SPLIT, {}), significance.get(LATEST_STRESS_SPLIT, {})
    checks = [
        (v.get("trade_count", 0) < MIN_SEALED_TRADES, "validation_locked_trade_count_below_20"),
        (v.get("avg_weighted_edge_bps", 0.0) <= 0, "validation_locked_avg_trade_edge_not_positive"),
        (not v_sig.get("deflated_statistic", float("-inf")) >= min_statistic, "validation_locked_edge_not_significant"),
        (v.get("max_consecutive_losses", 0) > MAX_CONSECUTIVE_LOSSES,
         "validation_locked_max_consecutive_losses_above_8"),
        (v.get("trade_count", 0) > 0 and v.get("max_planned_ratio", 0.0) <= MIN_INITIAL_RATIO_EPS,
         "validation_locked_sizing_collapsed_to_min_initial"),
        (s.get("trade_count", 0) < MIN_SEALED_TRADES, "latest_stress_trade_count_below_20"),
        (float(s.get("profit_factor", 0.0)) < 1.0, "latest_stress_profit_factor_below_1"),
        (s.get("avg_weighted_edge_bps", 0.0) <= 0, "latest_stress_avg_trade_edge_not_positive"),
        (s_sig.get("statistic", 0.0) <= -min_statistic, "latest_stress_edge_significantly_negative"),
    ]
    reasons = [reason for failed, reason in checks if failed]
    return (PASS if not reasons else FAIL), reasons


def explain(result: Mapping[str, Any], *, plan: PricePlan | None = None,
            min_statistic: float = MIN_STATISTIC) -> list[str]:
    """Why the gate decided as it did: one line per sealed split with its figures, then what to change (for a run
    without a trade, in terms of its price ``plan``)."""
    looks = int(result.get("looks", 1))
    need = required_statistic(looks, min_statistic)
    lines = [f"backtest {result['status']}: look {looks} on this sealed window; validation_locked needs "
             f"t >= {need:.2f} ({min_statistic:g} standard errors deflated for {looks} configuration(s))"]
    for split in SEALED_SPLITS:
        m, sig = result["metrics"].get(split, {}), result.get("significance", {}).get(split, {})
        failed = [r.removeprefix(f"{split}_") for r in result["status_reasons"] if r.startswith(split)]
        lines.append(f"  {split}: {m.get('trade_count', 0)} trades, mean weighted edge "
                     f"{m.get('avg_weighted_edge_bps', 0.0):.2f} bps, t = {_fmt(sig.get('statistic'))}, "
                     f"p = {_fmt(sig.get('p_value'), 4)}, deflated t = {_fmt(sig.get('deflated_statistic'))}"
                     + (f" -> {', '.join(failed)}" if failed else " -> ok"))
    hint = _hint(result, plan)
    if hint:
        lines.append(f"  what to change: {hint}")
    return lines


def _hint(result: Mapping[str, Any], plan: PricePlan | None) -> str:
    counts = [int(m.get("trade_count", 0)) for m in result["metrics"].values()]
    if result["status"] == "PASS" or not counts:
        return ""
    if sum(counts) == 0 and plan is not None:
        target, stop, cost = plan.target_bps, plan.stop_bps, plan.cost_bps
        minimum = float(result.get("min_edge_bps", 0.0))
        breakeven = (stop + cost + minimum) / (target + stop)
        return (f"no trade on any split: the price plan (target {target:g} / stop {stop:g} bps, cost {cost:g} bps) "
                f"cannot pay its costs; its probability-implied edge beats the PM's minimum {minimum:g} bps only when "
                f"P(target) > {breakeven:.3f}. Widen labels.entry target_bps/stop_bps (docs/trading.md)")
    sealed = [int(result["metrics"].get(split, {}).get("trade_count", 0)) for split in SEALED_SPLITS]
    if min(sealed) < MIN_SEALED_TRADES:
        return (f"{min(sealed)} trade(s) on a sealed split, {MIN_SEALED_TRADES} needed to judge it: a longer window "
                "(more sealed days) or a plan and PM thresholds that trade more often")
    if "validation_locked_edge_not_significant" in result["status_reasons"]:
        return ("the sealed edge is not distinguishable from noise at this look: more data (a longer window) or a "
                "real signal is needed; changing the configuration and re-running costs another look")
    return ""


def _fmt(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None else f"{float(value):.{digits}f}"

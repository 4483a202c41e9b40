"""Champion vs challenger: a retrain's bundle replaces the champion only if it is at least as good on new data.

Both bundles are evaluated by ``shadow.evaluate_bundle`` on the challenger run's latest_stress split: the
newest sealed rows, which the challenger never trained or tuned on and the champion (trained on an
earlier window) never saw. Each uses its own models, PM config and price plan.

Rule (``RULE``), with the PM metrics of both bundles on those rows (``n`` trades, per-trade weighted edge
standard deviation ``sd``, total weighted edge ``E``, max drawdown ``DD``):

* no champion yet -> promote (the backtest gate alone decides);
* the challenger needs at least ``MIN_TRADES`` (20) trades and ``E > 0``: a challenger that does not trade
  or does not make money on the newest rows never replaces anything;
* it must not be worse than the champion by more than one standard error of the difference of the
  totals, ``E_chal >= E_champ - sqrt(n_chal sd_chal^2 + n_champ sd_champ^2)`` (trades treated as
  independent): within noise, the model fitted on fresher data is preferred;
* its drawdown must be at most ``max(1.25 x DD_champ, DD_champ + 25 bps)``.

When the two bundles use different price plans, their realized edges come from different exit rules
and are not comparable: the decision is then ``NOT_COMPARABLE``, which blocks promotion, so changing the
plan never skips the comparison. Only a run spec that sets ``release.accept_plan_change: true``
(``ACCEPT_KEY``) lets a plan change through, and then the challenger must still pass its own gate on the
same rows: at least ``MIN_TRADES`` trades and a total weighted edge above one standard error of itself,
``E_chal > sqrt(n_chal sd_chal^2)``. Either way the backtest gate still applies: this rule can only block
a promotion, never force one.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

PROMOTE, KEEP, NOT_COMPARABLE = "PROMOTE_CHALLENGER", "KEEP_CHAMPION", "NOT_COMPARABLE"
MIN_TRADES = 20
DRAWDOWN_FACTOR = 1.25
DRAWDOWN_SLACK_BPS = 25.0
RULE = ("on the challenger's latest_stress rows, promote iff there is no champion, or the challenger has >= 20 trades, "
        "total weighted edge > 0 and >= champion's minus one standard error of the difference, and max drawdown <= "
        "max(1.25 x champion's, champion's + 25 bps); different price plans -> NOT_COMPARABLE (refused) unless the "
        "run spec sets release.accept_plan_change: true, then >= 20 trades and total weighted edge > one standard "
        "error of its own")
ACCEPT_KEY = "release.accept_plan_change"


def noise_margin(challenger: Mapping[str, Any], champion: Mapping[str, Any]) -> float:
    """One standard error of E_chal - E_champ, trades independent."""
    variance = sum(float(m["trade_count"]) * float(m.get("weighted_edge_std_bps") or 0.0) ** 2
                   for m in (challenger, champion))
    return math.sqrt(variance)


def decide(challenger: Mapping[str, Any], champion: Mapping[str, Any] | None, *, same_plan: bool = True,
           accept_plan_change: bool = False, drawdown_slack: float = DRAWDOWN_SLACK_BPS,
           unit: str = "bps") -> dict[str, Any]:
    """Decision from the PM metrics of both bundles on the same rows (``trade_metrics`` + weighted_edge_std_bps)."""
    if champion is None:
        return _result(PROMOTE, ["no champion yet"])
    if not same_plan:
        return _plan_change(challenger, accepted=accept_plan_change, unit=unit)
    trades, edge = int(challenger["trade_count"]), float(challenger["total_weighted_edge_bps"])
    champion_edge = float(champion["total_weighted_edge_bps"])
    drawdown, champion_dd = float(challenger["max_drawdown_bps"]), float(champion["max_drawdown_bps"])
    margin = noise_margin(challenger, champion)
    allowed_dd = max(DRAWDOWN_FACTOR * champion_dd, champion_dd + drawdown_slack)
    reasons = []
    if trades < MIN_TRADES:
        reasons.append(f"challenger made {trades} trades (< {MIN_TRADES}): too few to judge")
    if edge <= 0:
        reasons.append(f"challenger total weighted edge {edge:.1f} {unit} is not positive")
    if edge < champion_edge - margin:
        reasons.append(f"total weighted edge {edge:.1f} {unit} < champion's {champion_edge:.1f} {unit} minus one standard "
                       f"error ({margin:.1f})")
    if drawdown > allowed_dd:
        reasons.append(f"max drawdown {drawdown:.1f} {unit} > allowed {allowed_dd:.1f} {unit} (champion {champion_dd:.1f})")
    if reasons:
        return {**_result(KEEP, reasons), "noise_margin_bps": margin}
    return {**_result(PROMOTE, [f"total weighted edge {edge:.1f} {unit} vs champion's {champion_edge:.1f} (margin "
                                f"{margin:.1f}) and drawdown {drawdown:.1f} <= {allowed_dd:.1f} {unit}"]),
            "noise_margin_bps": margin}


def _plan_change(challenger: Mapping[str, Any], *, accepted: bool, unit: str) -> dict[str, Any]:
    """A challenger with another price plan: refused unless accepted, then judged by its own gate alone."""
    changed = "the challenger's price plan differs from the champion's, so their edges are not comparable"
    if not accepted:
        return _result(NOT_COMPARABLE, [f"{changed}; a plan change is promoted only when the run spec sets "
                                        f"{ACCEPT_KEY}: true"])
    trades, edge = int(challenger["trade_count"]), float(challenger["total_weighted_edge_bps"])
    margin = math.sqrt(trades) * float(challenger.get("weighted_edge_std_bps") or 0.0)
    reasons = []
    if trades < MIN_TRADES:
        reasons.append(f"challenger made {trades} trades (< {MIN_TRADES}): too few to judge")
    if edge <= margin:
        reasons.append(f"challenger total weighted edge {edge:.1f} {unit} is not above one standard error of its "
                       f"own ({margin:.1f})")
    if reasons:
        return {**_result(KEEP, [f"{changed} ({ACCEPT_KEY}: true)", *reasons]), "noise_margin_bps": margin}
    return {**_result(PROMOTE, [f"{changed}; accepted by {ACCEPT_KEY}: true",
                                f"own gate: {trades} trades, total weighted edge {edge:.1f} {unit} > one standard "
                                f"error ({margin:.1f})"], plan_change_accepted=True), "noise_margin_bps": margin}


def _result(decision: str, reasons: list[str], *, plan_change_accepted: bool = False) -> dict[str, Any]:
    return {"decision": decision, "reasons": reasons, "rule": RULE, "plan_change_accepted": plan_change_accepted}


def allows_promotion(decision: Mapping[str, Any]) -> bool:
    """Only PROMOTE lets a release through; NOT_COMPARABLE (an unaccepted plan change) is refused."""
    return decision["decision"] == PROMOTE

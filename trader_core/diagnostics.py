"""Training diagnostics report (docs/experiments.md, "Training diagnostics"): labels from the datasets, the PM
gate funnel, relaxed variants, top-bucket edge and a plain-language conclusion. Diagnostic only: it never changes
the formal chain."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import LATEST_STRESS_SPLIT, TRAINING_SPLITS, TUNE_SPLIT, VALIDATION_LOCKED_SPLIT
from trader_core.errors import DataContractError
from trader_core.pm.config import PMConfig, pm_config_from_thresholds
from trader_core.pm.metrics import jsonable_metrics, trade_metrics
from trader_core.pm.simulate import simulate_trades
from trader_core.report import markdown_table

QUANTILES = (0.01, 0.05, 0.25, 0.50, 0.75, 0.95, 0.99)
RELAXED_VARIANTS = {
    "entry_30_positive_edge": dict(long_open_prob=0.50, short_open_prob=0.50, min_entry_prob=0.30,
                                   max_market_risk_prob=0.65, min_expected_edge_bps=3.0, min_direction_margin=0.02),
    "entry_50_positive_edge": dict(long_open_prob=0.50, short_open_prob=0.50, min_entry_prob=0.50,
                                   max_market_risk_prob=0.65, min_expected_edge_bps=3.0, min_direction_margin=0.02),
    "entry_70_positive_edge": dict(long_open_prob=0.50, short_open_prob=0.50, min_entry_prob=0.70,
                                   max_market_risk_prob=0.65, min_expected_edge_bps=3.0, min_direction_margin=0.02),
    "direction_only_control": dict(long_open_prob=0.54, short_open_prob=0.54, min_entry_prob=0.0,
                                   max_market_risk_prob=1.0, min_expected_edge_bps=-99.0, min_direction_margin=0.02),
}
CONCLUSIONS = {
    "NO_VALIDATION_TRADE": ("The chosen thresholds open no trade on validation_locked.",
                            "Inspect the gate funnel: relax the binding gate or improve the model it depends on."),
    "PRICE_PLAN_OR_ENTRY_NOT_TRADABLE": ("Selected trades lose money on both sealed splits after costs.",
                                         "Revisit the price plan (target/stop/hold) or the entry labels before "
                                         "tuning thresholds further."),
    "NEEDS_MANUAL_REVIEW": ("At least one sealed split makes money with the chosen thresholds.",
                            "Review the backtest report and the stress split before promoting."),
}


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataContractError(f"{name}: missing column(s) {missing}")


def label_summary(direction_train: pd.DataFrame, entry_train: pd.DataFrame) -> dict[str, Any]:
    """Per split: direction label ratios and return quantiles; entry target rate and actual plan edge by side."""
    _require(direction_train, ("split_id", "long_target", "short_target", "neutral_target", "future_return_bps"),
             "dataset/direction_train.parquet")
    _require(entry_train, ("split_id", "long_entry_target", "short_entry_target", "long_actual_plan_net_edge_bps",
                           "short_actual_plan_net_edge_bps"), "dataset/entry_train.parquet")
    out: dict[str, Any] = {}
    for split in TRAINING_SPLITS:
        d = direction_train[direction_train["split_id"] == split]
        e = entry_train[entry_train["split_id"] == split]
        out[split] = {
            "direction": {"source": "dataset/direction_train.parquet", "rows": len(d),
                          "label_ratio": {k: float(d[c].mean()) if len(d) else 0.0 for k, c in
                                          (("LONG", "long_target"), ("SHORT", "short_target"),
                                           ("NEUTRAL", "neutral_target"))},
                          "future_return_bps_quantiles": _quantiles(d["future_return_bps"])},
            "entry": {"source": "dataset/entry_train.parquet", "rows": len(e), "edge_column": "actual_plan_net_edge_bps",
                      "target_rate_by_side": {s.upper(): float(e[f"{s}_entry_target"].mean()) if len(e) else 0.0
                                              for s in ("long", "short")},
                      "edge_mean_by_side": {s.upper(): float(e[f"{s}_actual_plan_net_edge_bps"].mean()) if len(e)
                                            else 0.0 for s in ("long", "short")},
                      "edge_quantile_by_side": {s.upper(): _quantiles(e[f"{s}_actual_plan_net_edge_bps"], (0.05, 0.5, 0.95))
                                                for s in ("long", "short")}},
        }
    return out


def _quantiles(series: pd.Series, qs: tuple[float, ...] = QUANTILES) -> dict[str, float]:
    values = series.to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return {f"p{round(q * 100):02d}": (float(np.quantile(values, q)) if len(values) else 0.0) for q in qs}


def gate_funnel(frame: pd.DataFrame, t: Mapping[str, float]) -> list[dict[str, Any]]:
    """Single and cumulative pass counts of the strict gates (docs/trading.md, "Gates, sizing, overlap"), per side."""
    margin = (frame["long_prob"] - frame["short_prob"]).abs()
    rows = []
    for side, short in (("long", "long"), ("short", "short")):
        gates = [(f"{short}_prob > {t[f'{side}_open_prob']}", frame[f"{short}_prob"] > t[f"{side}_open_prob"]),
                 (f"margin > {t['min_direction_margin']}", margin > t["min_direction_margin"]),
                 (f"{short}_entry_prob > {t['min_entry_prob']}", frame[f"{short}_entry_prob"] > t["min_entry_prob"]),
                 (f"market_risk_prob < {t['max_market_risk_prob']}",
                  frame["market_risk_prob"] < t["max_market_risk_prob"]),
                 (f"pred_{short}_expected_net_edge_bps > {t['min_expected_edge_bps']}",
                  frame[f"pred_{short}_expected_net_edge_bps"] > t["min_expected_edge_bps"])]
        cumulative = np.ones(len(frame), dtype=bool)
        for label, passed in gates:
            passed = passed.to_numpy(dtype=bool)
            cumulative &= passed
            rows.append({"side": side.upper(), "gate": label, "single_pass": int(passed.sum()),
                         "cumulative_pass": int(cumulative.sum()), "rows": len(frame)})
    return rows


def top_bucket_edge(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Actual plan edge of the side with the larger direction probability, in the top 1/2/5/10 % by that prob."""
    long_side = frame["long_prob"].to_numpy() >= frame["short_prob"].to_numpy()
    score = np.where(long_side, frame["long_prob"], frame["short_prob"])
    edge = np.where(long_side, frame["long_trade_net_edge_bps"], frame["short_trade_net_edge_bps"])
    order = np.argsort(-score, kind="stable")
    rows = []
    for fraction in (0.01, 0.02, 0.05, 0.10):
        top = order[: max(1, int(len(order) * fraction))] if len(order) else order
        rows.append({"top_fraction": fraction, "rows": int(len(top)),
                     "avg_actual_edge_bps": float(edge[top].mean()) if len(top) else 0.0,
                     "min_prob": float(score[top].min()) if len(top) else 0.0})
    return rows


def pm_summary(frames: Mapping[str, pd.DataFrame], pm_config: PMConfig, price_plan: PricePlan,
               candidates: pd.DataFrame) -> dict[str, Any]:
    """PM diagnostics per split. ``candidates`` is the search's table (tune_inner), so the grid's "any trade"
    count is reported for tune_inner; re-running 1536 candidates on the sealed splits would add nothing."""
    thresholds = pm_config.thresholds
    out = {}
    for split, frame in frames.items():
        variants = {name: jsonable_metrics(trade_metrics(simulate_trades(frame, t, pm_config_from_thresholds(t),
                                                                         price_plan)))
                    for name, t in RELAXED_VARIANTS.items()}
        out[split] = {
            "rows": len(frame), "active_thresholds": dict(thresholds), "gate_funnel": gate_funnel(frame, thresholds),
            "selected_trade_metrics": jsonable_metrics(trade_metrics(simulate_trades(frame, thresholds, pm_config,
                                                                                     price_plan))),
            "relaxed_variants": variants, "top_bucket_edge": top_bucket_edge(frame),
            "score_distribution": {c: _quantiles(frame[c], (0.0, 0.05, 0.5, 0.95, 1.0)) for c in
                                   ("long_prob", "short_prob", "long_entry_prob", "short_entry_prob", "market_risk_prob")
                                   if c in frame.columns},
        }
        if split == TUNE_SPLIT:
            out[split]["grid_search_any_trade"] = {"candidates_with_trade": int((candidates["trade_count"] > 0).sum()),
                                                   "candidate_count": len(candidates)}
    return out


def conclusion(pm: Mapping[str, Any]) -> dict[str, str]:
    validation = pm.get(VALIDATION_LOCKED_SPLIT, {}).get("selected_trade_metrics", {})
    stress = pm.get(LATEST_STRESS_SPLIT, {}).get("selected_trade_metrics", {})
    if validation.get("trade_count", 0) == 0:
        code = "NO_VALIDATION_TRADE"
    elif validation.get("avg_weighted_edge_bps", 0) <= 0 and stress.get("avg_weighted_edge_bps", 0) <= 0:
        code = "PRICE_PLAN_OR_ENTRY_NOT_TRADABLE"
    else:
        code = "NEEDS_MANUAL_REVIEW"
    reason, action = CONCLUSIONS[code]
    return {"code": code, "plain_reason": reason, "next_action": action}


def diagnostics_report(labels: Mapping[str, Any], pm: Mapping[str, Any], verdict: Mapping[str, str]) -> str:
    parts = ["# Training Diagnostics Report", "", f"**Conclusion: {verdict['code']}** — {verdict['plain_reason']}",
             f"Next: {verdict['next_action']}", "", "## Labels (from the datasets)", ""]
    parts.append(markdown_table([{"split": s, "rows": v["direction"]["rows"], **v["direction"]["label_ratio"],
                                  "entry_long_rate": v["entry"]["target_rate_by_side"]["LONG"],
                                  "entry_short_rate": v["entry"]["target_rate_by_side"]["SHORT"],
                                  "long_edge_mean": v["entry"]["edge_mean_by_side"]["LONG"],
                                  "short_edge_mean": v["entry"]["edge_mean_by_side"]["SHORT"]}
                                 for s, v in labels.items()]))
    for split, summary in pm.items():
        parts += ["", f"## PM on {split} ({summary['rows']} rows)", "", "### Gate funnel", "",
                  markdown_table(summary["gate_funnel"]), "", "### Selected and relaxed variants", "",
                  markdown_table([{"variant": "selected", **summary["selected_trade_metrics"]}]
                                 + [{"variant": k, **v} for k, v in summary["relaxed_variants"].items()],
                                 columns=["variant", "trade_count", "win_rate", "avg_weighted_edge_bps",
                                          "total_weighted_edge_bps", "max_drawdown_bps"]),
                  "", "### Top-bucket edge", "", markdown_table(summary["top_bucket_edge"]), "",
                  "### Score distribution", "",
                  markdown_table([{"column": c, **q} for c, q in summary["score_distribution"].items()]),
                  "", f"Candidates with any trade: {summary.get('grid_search_any_trade', 'tune_inner only')}"]
    return "\n".join(parts) + "\n"

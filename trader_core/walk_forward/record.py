"""The stitched out-of-sample record of a walk-forward home, month by month.

For each month ``m`` its retrain run ``retrain-m`` holds what happened (docs/retraining.md, "Walk-forward"):

* **loop**: the champion at the start of ``m`` (left by the retrains of earlier months) shadow-scored ``m``, data
  it never saw, and its PM traded it with the cost model; those are the run's shadow trades;
* **train once**: the first champion the loop ever promoted, frozen, scored on the same rows through the same
  evaluation (``evaluate_bundle``), from the month after its promotion on;
* **no trading**: nothing, the baseline every other arm must beat;
* the retrain's gate (backtest status and reasons), the champion-vs-challenger decision, the promotion and drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trader_core import io, layout, release
from trader_core.monitoring.shadow import Bundle, evaluate_bundle
from trader_core.monitoring.window import newest_window
from trader_core.parts import read_frame
from trader_core.strategies import strategy_of_retrain_run
from trader_core.strategies.perp import PERP
from trader_core.walk_forward.plan import WalkForwardPlan

ARMS = ("loop", "train_once")
TRADE_COLUMNS = ("arm", "month", "symbol", "event_time", "weighted_edge_bps")


@dataclass(frozen=True)
class WalkForwardRecord:
    """``months``: one row per month; ``trades``: every trade of each arm (TRADE_COLUMNS), by arm then time."""

    months: pd.DataFrame
    trades: pd.DataFrame


def walk_forward_record(home: Path, plan: WalkForwardPlan) -> WalkForwardRecord:
    """The record of every month of ``plan`` whose retrain run exists in ``home``."""
    first = first_champion(home)
    rows, trades = [], []
    for month in plan.months:
        if not (layout.run_root(PERP.retrain_run_id(month), home) / "run_spec.json").exists():
            continue
        row, month_trades = month_row(home, month, first=first)
        rows.append(row)
        trades += month_trades
    frame = (pd.concat(trades, ignore_index=True).sort_values(["arm", "event_time"], kind="stable")
             .reset_index(drop=True) if trades else pd.DataFrame(columns=list(TRADE_COLUMNS)))
    return WalkForwardRecord(months=pd.DataFrame(rows), trades=frame)


def first_champion(home: Path) -> dict[str, Any] | None:
    """The first release of the walk-forward's retrains (its version and the month whose retrain made it)."""
    made = [r for r in release.list_releases(home) if strategy_of_retrain_run(r["run_id"]) is PERP]
    if not made:
        return None
    return {"version": made[0]["version"], "month": made[0]["run_id"][len(PERP.retrain_prefix):],
            "path": release.releases_root(home) / made[0]["version"]}


def month_row(home: Path, month: str, *, first: dict[str, Any] | None) -> tuple[dict[str, Any], list[pd.DataFrame]]:
    """The record row of ``month`` and its trades per arm; the train-once arm needs ``first`` (else it is empty)."""
    run_id = PERP.retrain_run_id(month)
    run_dir = layout.run_root(run_id, home)
    shadow = _doc(run_dir, "shadow_scoring")
    backtest = _doc(run_dir, "backtest")
    decision = _doc(run_dir, "champion_challenger")
    drift = _doc(run_dir, "drift_report")
    promoted = [r["version"] for r in release.list_releases(home) if r["run_id"] == run_id]
    arms: dict[str, pd.DataFrame] = {}
    if shadow and shadow["status"] == "SCORED":
        arms["loop"] = _arm(io.read_parquet(run_dir / shadow["tables"]["trades"], verify=False), "loop", month)
    if first is not None and first["month"] < month and (run_dir / layout.ARTIFACT_PATHS["entry_labels"]).exists():
        arms["train_once"] = _arm(_score(Bundle.from_release(first["path"]), run_dir), "train_once", month)
    counts = {arm: len(arms[arm]) if arm in arms else 0 for arm in ARMS}
    edges = {arm: float(arms[arm]["weighted_edge_bps"].sum()) if arm in arms else 0.0 for arm in ARMS}
    return {
        "month": month, "run_id": run_id,
        "champion_at_start": shadow.get("champion") if shadow else None,
        "loop_trades": counts["loop"], "loop_edge_bps": edges["loop"],
        "train_once_trades": counts["train_once"], "train_once_edge_bps": edges["train_once"],
        "gate": backtest["status"] if backtest else "NOT_REACHED",
        "gate_reasons": "; ".join(backtest.get("status_reasons", [])) if backtest else "the run stopped before the backtest",
        "decision": decision["decision"] if decision else "NOT_REACHED",
        "decision_reasons": "; ".join(decision.get("reasons", [])) if decision else "",
        "promoted": promoted[0] if promoted else None,
        "drift_features_warn": len(drift["features_warn"]) if drift else None,
        "drift_max_psi": drift["max_psi"] if drift else None,
    }, [t for t in arms.values() if len(t)]


def _doc(run_dir: Path, asset: str) -> dict[str, Any] | None:
    path = run_dir / layout.ARTIFACT_PATHS[asset]
    return io.read_json(path) if path.exists() else None


def _score(bundle: Bundle, run_dir: Path) -> pd.DataFrame:
    """The trades of ``bundle`` on the run's newest window (its month), as shadow scoring makes them."""
    read = {name: read_frame(run_dir / layout.ARTIFACT_PATHS[name])
            for name in ("feature_frame", "direction_train", "entry_train", "entry_labels")}
    rows, _ = newest_window(read["feature_frame"])
    _, tables = evaluate_bundle(bundle, rows, read["direction_train"], read["entry_train"], read["entry_labels"])
    return tables["trades"]


def _arm(trades: pd.DataFrame, arm: str, month: str) -> pd.DataFrame:
    out = trades[["symbol", "event_time", "weighted_edge_bps"]].copy()
    out.insert(0, "month", month)
    out.insert(0, "arm", arm)
    return out.reset_index(drop=True)

"""Realized outcomes of logged perp decisions (docs/decide.md, "Realized outcomes").

Each decision's plan is run from its decision minute on the newest data of the champion's source by the
pipeline's own code: the path statistics of the deciding release's price plan at its time exit
(``labels.path_stats.compute_path_stats``), priced by the cost model of that replay with the release's cost
config (``costs.CostModel``), and turned into each side's net edge as the backtest's PM frame turns entry
labels into a trade's net edge (``pm.frame.entry_plan_outcome_frame``: gross, NaN -> 0, minus the trade's own
cost). The realized edge of a decision at a minute the backtest traded is therefore that trade's actual edge.

* realized: the net edge of the considered side (a decision that did not trade is scored on the side the PM
  preferred, so its prediction can be checked too); predicted: ``expected_edge_bps``; predicted_prob:
  ``entry_prob``; traded: the side is not NONE.
* resolved: the path statistics have the decision minute, i.e. the ``max_hold_minutes`` bars after it are in
  the data on an unbroken 1-minute grid. A row that was not scored (no considered side) predicts nothing and
  never resolves.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from trader_core import io, release
from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping
from trader_core.contracts.decisions import DECISION_OUTCOMES
from trader_core.contracts.price_plan import PricePlan
from trader_core.costs import CostModel, with_trade_costs
from trader_core.decide.base import Champion
from trader_core.decide.perp_data import newest_market
from trader_core.labels.path_stats import compute_path_stats
from trader_core.labels.price_plan import plan_params
from trader_core.pm.decision import NO_TRADE
from trader_core.pm.frame import entry_plan_outcome_frame
from trader_core.replay import build_replay

_EPOCH = pd.Timestamp(0, tz="UTC")


def perp_outcomes(champion: Champion, rows: pd.DataFrame, *, home: Path) -> pd.DataFrame:
    """DECISION_OUTCOMES of perp log ``rows`` (module docstring); one replay of the champion's source for all."""
    realized = np.full(len(rows), np.nan)
    scored = rows["considered_side"].notna().to_numpy()
    if scored.any():
        spec = _run_spec(champion.path)
        replay = _replay(spec, rows[scored])
        for version in pd.unique(rows.loc[scored, "release"]):
            mine = scored & (rows["release"] == version).to_numpy()
            realized[mine] = _realized_edges(replay, rows[mine], release.releases_root(home) / version)
    out = pd.DataFrame({
        "decision_key": rows["decision_key"].to_numpy(), "release": rows["release"].to_numpy(),
        "arm": rows["arm"].to_numpy(), "symbol": rows["symbol"].to_numpy(),
        "data_time": rows["data_time"].to_numpy(), "traded": (rows["side"] != NO_TRADE).to_numpy(),
        "predicted": rows["expected_edge_bps"].to_numpy("float64"),
        "predicted_prob": rows["entry_prob"].to_numpy("float64"),
        "resolved": np.isfinite(realized), "realized": realized})
    DECISION_OUTCOMES.validate(out, extra_ok=False)
    return out


def _run_spec(bundle: Path) -> RunSpec:
    return from_mapping(RunSpec, {k: v for k, v in io.read_json(bundle / "run_spec.json").items() if k != "spec_hash"})


def _replay(spec: RunSpec, rows: pd.DataFrame) -> pd.DataFrame:
    """The replay of the decided symbols from the day of the first decision to the newest bar, by the run's replay
    rules except the complete-day filter (the newest day is not complete yet), as the decisions were made."""
    symbols = tuple(s for s in spec.symbols if s in set(rows["symbol"]))
    replay, _ = build_replay(newest_market(spec), symbols=symbols, start=rows["data_time"].min().floor("D"),
                             config=replace(spec.replay, complete_days_only=False))
    return replay


def _realized_edges(replay: pd.DataFrame, rows: pd.DataFrame, bundle: Path) -> np.ndarray:
    """Net edge of each row's considered side under the plan and costs of the release in ``bundle`` (NaN where
    the window after the decision minute is not complete)."""
    plan = PricePlan.from_json(io.read_json(bundle / "label" / "price_plan_context.json"))
    stats = compute_path_stats(replay, horizon=plan.max_hold_minutes, plan=plan_params(plan))
    wanted = pd.DataFrame({"symbol": rows["symbol"].astype(str).to_numpy(), "sample_id": rows["sample_id"].to_numpy(),
                           "open_time_ms": ((rows["data_time"] - _EPOCH) // pd.Timedelta(milliseconds=1)).to_numpy()})
    stats = stats.assign(symbol=stats["symbol"].astype(str)).merge(wanted.drop_duplicates("sample_id"),
                                                                   on=["symbol", "open_time_ms"])
    edges = entry_plan_outcome_frame(with_trade_costs(stats, CostModel.from_replay(replay, _run_spec(bundle).costs)))
    found = edges.set_index("sample_id").reindex(rows["sample_id"].to_numpy())
    is_long = (rows["considered_side"] == "LONG").to_numpy()
    return np.where(is_long, found["long_trade_net_edge_bps"].to_numpy("float64"),
                    found["short_trade_net_edge_bps"].to_numpy("float64"))

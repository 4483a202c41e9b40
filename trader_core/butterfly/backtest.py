"""Decision rule and backtest on the sealed splits (docs/butterfly.md, "Decision and backtest").

Decision: on each sample date, the candidates with ``expected_roi > min_expected_roi`` (0.15) are ranked by
expected ROI (ties by symbol) and the top ``max_trades_per_day`` (5) are traded; one butterfly per trade,
equal debit weight, held to the evaluation date, realized ROI = the sample's label ROI.

Per sealed split (validation_locked, latest_stress): candidates, trade days, trades, mean realized ROI, win rate
(ROI > 0), total ROI (sum over trades: the return on one unit of debit per trade), the no-skill baseline (the
mean ROI of every candidate of the split) and the skill measure: per trade day, the mean ROI of the day's trades
minus the mean ROI of all the day's candidates (what picking at random that day would earn); ``excess_roi`` is
the mean of these daily excesses and ``excess_t = mean / (sd / sqrt(trade days))``. Pairing by day removes
what every candidate of a day shares (the market's move, the volatility regime), and counting days rather
than trades does not pretend that five trades of one day are five independent outcomes.

PASS rule (ours; the seed has none): on EVERY sealed split ``trades >= min_trades`` (20), mean realized ROI
> 0 and ``excess_t >= min_excess_t`` (2.0). The excess condition matters: when butterflies happen to be cheap
in a period (the baseline is positive), a model without skill would otherwise pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trader_core.butterfly_config import DecisionSection
from trader_core.contracts.versions import SEALED_SPLITS
from trader_core.errors import DataContractError

TRADE_COLUMNS = ("sample_id", "date", "symbol", "split_id", "expected_roi", "roi", "label")


def ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted by date, then expected ROI from the highest (ties by symbol): the order the rule picks in."""
    return frame.sort_values(["date", "expected_roi", "symbol"], ascending=[True, False, True], kind="mergesort")


def ai_track(frame: pd.DataFrame, decision: DecisionSection) -> pd.DataFrame:
    """The rows of ``frame`` (``date, symbol, expected_roi``) the rule opens, ranked: E[ROI] above the threshold,
    top ``max_trades_per_day`` per date. The decisions of ``trader decide`` take the same rows (docs/decide.md)."""
    picked = ranked(frame[frame["expected_roi"] > decision.min_expected_roi])
    return picked[picked.groupby("date").cumcount() < decision.max_trades_per_day]


def select_trades(predictions: pd.DataFrame, decision: DecisionSection) -> pd.DataFrame:
    """The traded rows: E[ROI] above the threshold, top ``max_trades_per_day`` per date."""
    missing = [c for c in TRADE_COLUMNS if c not in predictions.columns]
    if missing:
        raise DataContractError(f"butterfly predictions: missing column(s) {missing}")
    return ai_track(predictions, decision)[list(TRADE_COLUMNS)].reset_index(drop=True)


def split_result(rows: pd.DataFrame, trades: pd.DataFrame, decision: DecisionSection) -> dict[str, Any]:
    roi = trades["roi"].to_numpy(dtype=np.float64)
    n = len(roi)
    day_mean = rows.groupby("date")["roi"].mean()
    per_day = (trades.groupby("date")["roi"].mean() - day_mean.reindex(trades["date"].unique())).to_numpy()
    days = len(per_day)
    excess = float(per_day.mean()) if days else float("nan")
    sd = float(per_day.std(ddof=1)) if days > 1 else float("nan")
    t_stat = excess / (sd / np.sqrt(days)) if days > 1 and sd > 0 else float("nan")
    mean = float(roi.mean()) if n else float("nan")
    checks = {"min_trades": n >= decision.min_trades, "positive_mean_roi": bool(n and mean > 0),
              "beats_same_day_candidates": bool(np.isfinite(t_stat) and t_stat >= decision.min_excess_t)}
    return {"candidates": len(rows), "trade_days": int(days), "trades": int(n), "mean_roi": mean,
            "win_rate": float(np.mean(roi > 0)) if n else float("nan"), "total_roi": float(roi.sum()),
            "baseline_mean_roi": float(rows["roi"].mean()) if len(rows) else float("nan"),
            "excess_roi": excess, "excess_t": float(t_stat),
            "mean_expected_roi": float(trades["expected_roi"].mean()) if n else float("nan"),
            "checks": checks, "pass": all(checks.values())}


def backtest(predictions: pd.DataFrame, decision: DecisionSection = DecisionSection(),
             splits: tuple[str, ...] = SEALED_SPLITS) -> tuple[dict[str, Any], pd.DataFrame]:
    """Per-split results + overall ``status`` (PASS/FAIL), and the trades of those splits."""
    trades = select_trades(predictions, decision)
    trades = trades[trades["split_id"].isin(splits)].reset_index(drop=True)
    per_split = {s: split_result(predictions[predictions["split_id"] == s], trades[trades["split_id"] == s],
                                 decision) for s in splits}
    status = "PASS" if all(r["pass"] for r in per_split.values()) else "FAIL"
    rule = (f"every split in {list(splits)}: trades >= {decision.min_trades}, mean ROI > 0, and the mean excess ROI "
            f"over the same day's candidates has t >= {decision.min_excess_t} across trade days")
    return {"status": status, "rule": rule, "splits": per_split,
            "decision": {"min_expected_roi": decision.min_expected_roi,
                         "max_trades_per_day": decision.max_trades_per_day}}, trades

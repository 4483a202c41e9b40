"""Labels (docs/butterfly.md, "Labels"): the evaluation date, the ROI at evaluation and the four ROI classes.

* Evaluation date = analysis date + ``DTE - 5`` calendar days when ``DTE >= 30``, else
  ``max(DTE - 3, floor(0.8 DTE))`` (DTE 30 -> 25, 45 -> 40, 20 -> 17, 10 -> 8).
* Valuation at the evaluation date (our decision, replacing the seed's payoff formula): the position is
  marked to model — the three legs are re-priced with Black-Scholes at the remaining time
  ``(DTE - days held) / 365`` (5 days for DTE >= 30) on the IV proxy *as of the evaluation date* (its HV and
  its spot: the last close at or before the evaluation date, so a weekend evaluation uses Friday's close).
  ``ROI = (value_at_eval - cost) / cost`` is then net P&L over the debit paid, on one consistent basis (gross
  value against gross cost). The seed's formula scales ``max_profit`` (a *net* amount) by the triangle inside
  the wings but uses ``-cost`` outside: a price just inside a wing counts as ROI ~ 0 and just outside as -100 %,
  and it values a position 5 days before expiry as if it had expired. ``pricing.seed_payoff_roi`` keeps it for
  reference.
* Classes by ROI: 0 loss (< -10 %), 1 marginal (-10 % <= ROI < 5 %), 2 good (5 % <= ROI < 15 %),
  3 excellent (>= 15 %); each boundary belongs to the class above it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_core.contracts.butterfly import CALENDAR_DAYS_PER_YEAR, ROI_EDGES, evaluation_days
from trader_core.butterfly.pricing import butterfly_value
from trader_core.errors import DataContractError


def roi_class(roi) -> np.ndarray:
    """Class id 0..3 per ROI (number of inner edges ``<= ROI``)."""
    return np.searchsorted(np.asarray(ROI_EDGES), np.asarray(roi, dtype=np.float64), side="right").astype(np.int64)


def label_positions(positions: pd.DataFrame, daily: pd.DataFrame, rate: float = 0.0) -> pd.DataFrame:
    """``sample_id`` + ``eval_date, days_held, eval_spot, eval_hv, value_at_eval, roi, label`` for priced positions.

    The evaluation spot/HV are the symbol's last row at or before the evaluation date; it must be a row after the
    analysis date and the evaluation date must not be past the symbol's last bar (DataContractError otherwise).
    """
    pos = positions.reset_index(drop=True)
    held = evaluation_days(pos["dte"].to_numpy())
    eval_date = pos["date"] + pd.to_timedelta(held, unit="D")
    keys = pd.DataFrame({"sample_id": pos["sample_id"], "symbol": pos["symbol"], "eval_date": eval_date})
    found = pd.merge_asof(keys.sort_values("eval_date", kind="mergesort"),
                          daily[["symbol", "date", "close", "hv_price"]].sort_values("date", kind="mergesort"),
                          left_on="eval_date", right_on="date", by="symbol", direction="backward")
    found = found.set_index("sample_id").reindex(pos["sample_id"]).reset_index(drop=True)
    beyond = (eval_date > pos["symbol"].map(daily.groupby("symbol")["date"].max())).to_numpy()
    stale = ~(found["date"] > pos["date"]).to_numpy()
    if beyond.any() or stale.any():
        bad = pos["sample_id"].to_numpy()[beyond | stale][:3]
        raise DataContractError(f"butterfly labels: {int((beyond | stale).sum())} sample(s) have no bar for their "
                                f"evaluation date (past the data or no bar after the analysis date), e.g. {list(bad)}")
    spot, hv = found["close"].to_numpy(), found["hv_price"].to_numpy()
    remaining = (pos["dte"].to_numpy() - held) / CALENDAR_DAYS_PER_YEAR
    value = butterfly_value(spot, pos["lower"].to_numpy(), pos["center"].to_numpy(), pos["upper"].to_numpy(),
                            remaining, hv, rate)
    roi = (value - pos["cost"].to_numpy()) / pos["cost"].to_numpy()
    return pd.DataFrame({"sample_id": pos["sample_id"], "eval_date": eval_date,
                         "days_held": held, "eval_spot": spot, "eval_hv": hv, "value_at_eval": value, "roi": roi,
                         "label": roi_class(roi)})

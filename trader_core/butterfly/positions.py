"""As-of analysis: the butterfly of each sample (date, symbol, DTE), priced with data up to the date only.

Spot = the symbol's close on the sample date (the sample date must be one of its bars), hv = ``hv_price``
(the pricing-window HV) of that row; strikes, cost, maximum profit and the net greeks come from
``trader_core.butterfly.pricing`` at ``T = DTE / 365``. Positions whose net debit is not positive (possible in
principle with per-leg IV multipliers) are dropped and counted by the caller.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_core.butterfly_config import PricingSection
from trader_core.contracts.butterfly import CALENDAR_DAYS_PER_YEAR
from trader_core.butterfly.pricing import build_strikes, butterfly_greeks, butterfly_value
from trader_core.errors import DataContractError

POSITION_COLUMNS = ("spot", "hv", "lower", "center", "upper", "cost", "max_profit", "net_gamma", "net_theta_day")


def asof_rows(keys: pd.DataFrame, daily: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` of the daily row of each key's exact (symbol, date), in key order; DataContractError if absent."""
    found = keys[["symbol", "date"]].reset_index(drop=True).merge(
        daily[["symbol", "date", *columns]], on=["symbol", "date"], how="left", validate="many_to_one",
        indicator=True)
    missing = (found["_merge"] != "both").to_numpy()
    if missing.any():
        rows = found[missing].head(3)
        raise DataContractError(f"butterfly: {int(missing.sum())} sample(s) have no bar on their date, e.g. "
                                f"{list(zip(rows['symbol'], rows['date'].astype(str)))}")
    return found.drop(columns="_merge")


def price_positions(samples: pd.DataFrame, daily: pd.DataFrame, pricing: PricingSection) -> pd.DataFrame:
    """Samples (``sample_id, date, symbol, dte``) + ``POSITION_COLUMNS``; rows with cost <= 0 are dropped."""
    found = asof_rows(samples, daily, ["close", "hv_price"])
    spot, hv = found["close"].to_numpy(), found["hv_price"].to_numpy()
    if not (np.isfinite(spot) & np.isfinite(hv) & (hv > 0)).all():
        bad = samples["sample_id"].to_numpy()[~(np.isfinite(spot) & np.isfinite(hv) & (hv > 0))][:3]
        raise DataContractError(f"butterfly positions: no bar or not enough history (hv) for sample(s) {list(bad)}")
    dte = samples["dte"].to_numpy(dtype=np.float64)
    t = dte / CALENDAR_DAYS_PER_YEAR
    strikes = build_strikes(spot, hv, dte, pricing.wing_k)
    legs = (strikes["lower"], strikes["center"], strikes["upper"])
    cost = butterfly_value(spot, *legs, t, hv, pricing.risk_free_rate)
    gamma, theta = butterfly_greeks(spot, *legs, t, hv, pricing.risk_free_rate)
    out = samples.reset_index(drop=True).copy()
    out["spot"], out["hv"] = spot, hv
    for name, values in strikes.items():
        out[name] = values
    out["cost"] = cost
    out["max_profit"] = (strikes["center"] - strikes["lower"]) - cost
    out["net_gamma"], out["net_theta_day"] = gamma, theta
    return out[out["cost"] > 0].reset_index(drop=True)

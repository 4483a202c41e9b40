"""The 23 butterfly features (docs/butterfly.md, "Features"), all as of the sample date.

17 market features come from the as-of daily table (``trader_core.butterfly.daily``: volatility at three
windows, the index level/change/regime, returns, range and volume shape) and 6 from the priced position
(IV-proxy skew, DTE, gamma/theta, strike rounding, wing width, cost over width). The analyzer's total score
of the seed is not a feature (it was the leak). Formulas: ``trader_core.contracts.butterfly.FEATURES``.
Output: ``sample_id`` + ``BUTTERFLY_FEATURE_ORDER`` as float32; a non-finite value raises DataContractError
naming the feature and a sample (samples are drawn with enough history, so this means bad input data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_core.contracts.butterfly import BUTTERFLY_FEATURE_ORDER
from trader_core.butterfly.daily import MARKET_FEATURES
from trader_core.butterfly.positions import asof_rows
from trader_core.butterfly.pricing import iv_multiplier
from trader_core.errors import DataContractError

DTE_SCALE = 45.0


def position_features(positions: pd.DataFrame) -> dict[str, np.ndarray]:
    spot = positions["spot"].to_numpy()
    lower, center, upper = (positions[c].to_numpy() for c in ("lower", "center", "upper"))
    width = center - lower
    theta = positions["net_theta_day"].to_numpy()
    dollar_gamma = positions["net_gamma"].to_numpy() * spot * spot / 100.0
    ok = np.abs(theta) > 1e-12
    return {
        "skew_estimate": (iv_multiplier(lower, spot) - iv_multiplier(upper, spot)) / iv_multiplier(center, spot),
        "dte_factor": positions["dte"].to_numpy(dtype=np.float64) / DTE_SCALE,
        "gamma_theta_ratio": np.where(ok, dollar_gamma / np.where(ok, theta, 1.0), 0.0),
        "center_moneyness": center / spot - 1.0,
        "wing_width_pct": width / spot,
        "cost_to_width": positions["cost"].to_numpy() / width,
    }


def build_features(positions: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """``sample_id`` + the 23 features (float32) of each priced position, in the positions' order."""
    market = asof_rows(positions, daily, list(MARKET_FEATURES))
    values = {name: market[name].to_numpy(dtype=np.float64) for name in MARKET_FEATURES}
    values |= position_features(positions.reset_index(drop=True))
    out = pd.DataFrame({"sample_id": positions["sample_id"].to_numpy()})
    for name in BUTTERFLY_FEATURE_ORDER:
        column = values[name].astype(np.float32)
        bad = ~np.isfinite(column)
        if bad.any():
            raise DataContractError(f"butterfly features: {name!r} is not finite for {int(bad.sum())} sample(s), "
                                    f"e.g. {positions['sample_id'].to_numpy()[bad][0]!r}")
        out[name] = column
    return out

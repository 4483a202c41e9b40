"""Black-Scholes, the seed's IV proxy and the long call butterfly (docs/butterfly.md, "As-of analysis and
pricing"), vectorized over numpy arrays.

* ``bs_call`` / ``bs_put``: European Black-Scholes with a constant continuously compounded rate ``r`` (default
  0.0, no dividends); ``T`` in years (calendar days / 365). At ``T <= 0`` a call is worth ``max(S - K, 0)``.
* ``iv_proxy(strike, spot, hv)``: hv x 1.25 if strike/spot < 0.95 (OTM put premium), x 1.10 if > 1.05
  (OTM call discount), else x 1.15 (ATM) — the seed's rule, boundaries 0.95 and 1.05 count as ATM.
* Strike grid: step 0.5 below a spot of 25, 1 below 200, 2.5 from 200 (listed-equity style). The center is
  the spot rounded to the grid; the half-width ``w = max(1, round(k spot hv sqrt(DTE/365) / step)) step``
  (k = ``wing_k``, default 1.0: the wings sit about one HV standard deviation of the move to expiry away);
  lower = center - w, upper = center + w (symmetric, so the payoff peaks at the center).
* Cost (net debit) ``C(lower) - 2 C(center) + C(upper)``, each leg at its own IV proxy; maximum profit at expiry
  ``w - cost`` (price exactly at the center).
* ``intrinsic_payoff`` is the gross value at expiry; ``seed_payoff_roi`` reproduces the seed's formula (a
  *net* triangle inside the wings, ``-cost`` outside) for reference only: it is not the labelling rule
  (see ``trader_core.butterfly.labels``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from trader_core.contracts.butterfly import (
    CALENDAR_DAYS_PER_YEAR,
    IV_HIGH_MONEYNESS,
    IV_LOW_MONEYNESS,
    IV_MULT_ATM,
    IV_MULT_OTM_CALL,
    IV_MULT_OTM_PUT,
)
from trader_core.errors import DataContractError

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _d1_d2(spot, strike, t, sigma, rate):
    vol_t = sigma * np.sqrt(t)
    d1 = (np.log(spot / strike) + (rate + 0.5 * sigma * sigma) * t) / vol_t
    return d1, d1 - vol_t


def bs_call(spot, strike, t, sigma, rate=0.0) -> np.ndarray:
    """Black-Scholes call price (arrays broadcast); intrinsic ``max(S - K, 0)`` where ``t <= 0`` or ``sigma <= 0``."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (spot, strike, t, sigma, rate)))
    shape = arrays[0].shape
    spot, strike, t, sigma, rate = (np.ravel(a) for a in arrays)
    live = (t > 0) & (sigma > 0)
    out = np.maximum(spot - strike * np.exp(-rate * np.maximum(t, 0.0)), 0.0)
    if live.any():
        s, k, tt, v, r = spot[live], strike[live], t[live], sigma[live], rate[live]
        d1, d2 = _d1_d2(s, k, tt, v, r)
        out[live] = s * ndtr(d1) - k * np.exp(-r * tt) * ndtr(d2)
    return out.reshape(shape)


def bs_put(spot, strike, t, sigma, rate=0.0) -> np.ndarray:
    """Black-Scholes put price by its own formula ``K e^{-rT} N(-d2) - S N(-d1)`` (t > 0, sigma > 0)."""
    spot, strike, t, sigma = (np.asarray(v, dtype=np.float64) for v in (spot, strike, t, sigma))
    d1, d2 = _d1_d2(spot, strike, t, sigma, rate)
    return strike * np.exp(-rate * t) * ndtr(-d2) - spot * ndtr(-d1)


def bs_gamma_theta(spot, strike, t, sigma, rate=0.0) -> tuple[np.ndarray, np.ndarray]:
    """Call gamma (per unit of spot) and theta per calendar day (t > 0, sigma > 0)."""
    spot, strike, t, sigma = (np.asarray(v, dtype=np.float64) for v in (spot, strike, t, sigma))
    d1, d2 = _d1_d2(spot, strike, t, sigma, rate)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    gamma = pdf / (spot * sigma * np.sqrt(t))
    theta_year = -spot * pdf * sigma / (2.0 * np.sqrt(t)) - rate * strike * np.exp(-rate * t) * ndtr(d2)
    return gamma, theta_year / CALENDAR_DAYS_PER_YEAR


def iv_multiplier(strike, spot) -> np.ndarray:
    m = np.asarray(strike, dtype=np.float64) / np.asarray(spot, dtype=np.float64)
    return np.where(m < IV_LOW_MONEYNESS, IV_MULT_OTM_PUT,
                    np.where(m > IV_HIGH_MONEYNESS, IV_MULT_OTM_CALL, IV_MULT_ATM))


def iv_proxy(strike, spot, hv) -> np.ndarray:
    """The seed's IV proxy: historical volatility times the moneyness multiplier."""
    return np.asarray(hv, dtype=np.float64) * iv_multiplier(strike, spot)


def strike_step(spot) -> np.ndarray:
    spot = np.asarray(spot, dtype=np.float64)
    return np.where(spot < 25.0, 0.5, np.where(spot < 200.0, 1.0, 2.5))


def build_strikes(spot, hv, dte, wing_k: float) -> dict[str, np.ndarray]:
    """Center = spot on the grid; symmetric wings ``wing_k`` HV standard deviations of the move to expiry away."""
    spot, hv, dte = (np.asarray(v, dtype=np.float64) for v in (spot, hv, dte))
    step = strike_step(spot)
    center = np.round(spot / step) * step
    steps = np.maximum(1.0, np.round(wing_k * spot * hv * np.sqrt(dte / CALENDAR_DAYS_PER_YEAR) / step))
    width = steps * step
    lower = center - width
    if (lower <= 0).any():
        raise DataContractError(f"butterfly strikes: {int((lower <= 0).sum())} lower strike(s) <= 0 "
                                f"(volatility too high for wing_k={wing_k})")
    return {"lower": lower, "center": center, "upper": center + width}


def butterfly_value(spot, lower, center, upper, t, hv, rate: float = 0.0) -> np.ndarray:
    """``C(lower) - 2 C(center) + C(upper)``, each leg at its IV proxy ``iv_proxy(K, spot, hv)``."""
    legs = [bs_call(spot, k, t, iv_proxy(k, spot, hv), rate) for k in (lower, center, upper)]
    return legs[0] - 2.0 * legs[1] + legs[2]


def butterfly_greeks(spot, lower, center, upper, t, hv, rate: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Net gamma and net theta per day of the long butterfly (legs at their IV proxies)."""
    gamma, theta = np.zeros(np.shape(spot)), np.zeros(np.shape(spot))
    for k, qty in ((lower, 1.0), (center, -2.0), (upper, 1.0)):
        g, th = bs_gamma_theta(spot, k, t, iv_proxy(k, spot, hv), rate)
        gamma, theta = gamma + qty * g, theta + qty * th
    return gamma, theta


def intrinsic_payoff(price, lower, center, upper) -> np.ndarray:
    """Gross value at expiry: ``max(P-l,0) - 2 max(P-c,0) + max(P-u,0)`` (0 outside the wings, w at the center)."""
    price = np.asarray(price, dtype=np.float64)
    return (np.maximum(price - lower, 0.0) - 2.0 * np.maximum(price - center, 0.0)
            + np.maximum(price - upper, 0.0))


def seed_payoff_roi(price, lower, center, upper, cost, max_profit) -> np.ndarray:
    """The seed's ROI (docs/butterfly.md, "Labels"): inside the wings ``max_profit`` times the triangle,
    outside ``-cost``; ``payoff / cost`` (-1 where cost <= 0). It mixes a net triangle with a net loss, so it is
    discontinuous at the wings; kept for reference and tests only."""
    price, lower, center, upper, cost, max_profit = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (price, lower, center, upper, cost, max_profit)))
    left = max_profit * (price - lower) / (center - lower)
    right = max_profit * (upper - price) / (upper - center)
    inside = (price >= lower) & (price <= upper)
    payoff = np.where(inside, np.where(price <= center, left, right), -cost)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cost > 0, payoff / np.where(cost > 0, cost, 1.0), -1.0)

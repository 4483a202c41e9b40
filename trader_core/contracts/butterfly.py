"""Butterfly contracts (docs/butterfly.md): versions, the feature order, ROI classes and the model's output fields.

Declared once; every butterfly module imports them. The feature formulas live here as data (the docs and
the feature builder's docstring refer to this table); ``BUTTERFLY_FEATURE_ORDER`` is the input column order
of the exported ONNX model (input ``features`` float32 ``[batch, 23]``, output ``prediction`` float32
``[batch, 4]`` = the softmax probabilities of the four ROI classes in ``OUTPUT_FIELDS`` order).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from trader_core.contracts.features import sha256_json

STRATEGY = "butterfly"
BUTTERFLY_MARKET_VERSION = "butterfly-market-v1"
BUTTERFLY_FEATURE_VERSION = "butterfly-features-v1"
BUTTERFLY_LABEL_VERSION = "butterfly-labels-v1"
BUTTERFLY_MODEL_VERSION = "butterfly-model-v1"

TRADING_DAYS_PER_YEAR = 252
CALENDAR_DAYS_PER_YEAR = 365

#: The IV proxy (docs/butterfly.md, "As-of analysis and pricing"): hv x 1.25 if strike/spot < 0.95,
#: x 1.10 if > 1.05, else x 1.15.
IV_LOW_MONEYNESS, IV_HIGH_MONEYNESS = 0.95, 1.05
IV_MULT_OTM_PUT, IV_MULT_ATM, IV_MULT_OTM_CALL = 1.25, 1.15, 1.10

#: Evaluation date rule (docs/butterfly.md, "Labels"): DTE - 5 days when DTE >= 30, else max(DTE - 3, floor(0.8 DTE)).
EVAL_LONG_DTE, EVAL_DAYS_BEFORE_EXPIRY = 30, 5
EVAL_SHORT_DAYS_BEFORE_EXPIRY, EVAL_SHORT_FRACTION = 3, 0.8


def evaluation_days(dte):
    """Calendar days from the analysis date to the evaluation date (scalar or array of integer DTEs)."""
    dte_arr = np.asarray(dte, dtype=np.int64)
    short = np.maximum(dte_arr - EVAL_SHORT_DAYS_BEFORE_EXPIRY,
                       np.floor(EVAL_SHORT_FRACTION * dte_arr).astype(np.int64))
    out = np.where(dte_arr >= EVAL_LONG_DTE, dte_arr - EVAL_DAYS_BEFORE_EXPIRY, short)
    return int(out) if out.ndim == 0 else out


#: Volatility-index regimes used by the stratified sampling: low < 15 <= normal <= 25 < high.
VIX_LOW, VIX_HIGH = 15.0, 25.0
VIX_REGIMES = ("low", "normal", "high")


@dataclass(frozen=True)
class RoiClass:
    """Class ``id``: ``lower <= ROI < upper`` (None = unbounded); ``fallback_value`` is used as the class value
    only when the fit split has no row of the class (then its probability is ~0 anyway)."""

    id: int
    name: str
    field: str
    lower: float | None
    upper: float | None
    fallback_value: float


ROI_CLASSES: tuple[RoiClass, ...] = (
    RoiClass(0, "loss", "p_loss", None, -0.10, -0.10),
    RoiClass(1, "marginal", "p_marginal", -0.10, 0.05, -0.025),
    RoiClass(2, "good", "p_good", 0.05, 0.15, 0.10),
    RoiClass(3, "excellent", "p_excellent", 0.15, None, 0.15),
)
#: Inner class edges: class = number of edges <= ROI.
ROI_EDGES: tuple[float, ...] = (-0.10, 0.05, 0.15)
CLASS_COUNT = len(ROI_CLASSES)
OUTPUT_FIELDS: tuple[str, ...] = tuple(c.field for c in ROI_CLASSES)
HEAD_NAME = "roi_class"


@dataclass(frozen=True)
class ButterflyFeature:
    name: str
    unit: str
    formula: str


_HV = "sample std (ddof 1) of the last {n} daily log returns x sqrt(252)"
FEATURES: tuple[ButterflyFeature, ...] = (
    ButterflyFeature("hv_10", "annualized", _HV.format(n=10)),
    ButterflyFeature("hv_20", "annualized", _HV.format(n=20) + " (the IV proxy's base)"),
    ButterflyFeature("hv_60", "annualized", _HV.format(n=60)),
    ButterflyFeature("hv_ratio_10_60", "ratio", "hv_10 / hv_60 (0 if hv_60 == 0)"),
    ButterflyFeature("vix_level", "index points", "volatility index close on the sample date (as of)"),
    ButterflyFeature("vix_change_5d", "log", "log(vix_t / vix 5 index rows earlier)"),
    ButterflyFeature("vix_regime", "code", "0 if vix < 15, 1 if 15 <= vix <= 25, 2 if vix > 25"),
    ButterflyFeature("hv_to_vix", "ratio", "hv_20 / (vix / 100)"),
    ButterflyFeature("return_1d", "log", "log(c_t / c_{t-1})"),
    ButterflyFeature("momentum_7d", "log", "log(c_t / c_{t-5}): 7 calendar days = 5 trading rows"),
    ButterflyFeature("return_20d", "log", "log(c_t / c_{t-20})"),
    ButterflyFeature("return_60d", "log", "log(c_t / c_{t-60})"),
    ButterflyFeature("range_ratio_10", "ratio", "mean of log(h/l) over 10 rows / (hv_20 / sqrt(252))"),
    ButterflyFeature("channel_position_20", "fraction",
                     "(c - min20(l)) / (max20(h) - min20(l)) (0.5 if the range is 0)"),
    ButterflyFeature("price_stability", "ratio",
                     "hv_20 sqrt(20/252) / log(max20(h) / min20(l)): HV-implied 20-row move over the realized "
                     "20-row range (0 if the range is 0)"),
    ButterflyFeature("vol_concentration", "fraction",
                     "sum of the 5 largest daily volumes of the last 20 rows / sum of the 20 (0.25 if the sum is 0)"),
    ButterflyFeature("volume_ratio_5_60", "log", "log(mean5(v) / mean60(v)) (0 if either mean is 0)"),
    ButterflyFeature("skew_estimate", "ratio", "(iv_lower - iv_upper) / iv_center of the IV proxy at the legs"),
    ButterflyFeature("dte_factor", "ratio", "DTE / 45"),
    ButterflyFeature("gamma_theta_ratio", "ratio",
                     "net dollar gamma per 1 % move (Gamma_net S^2 / 100) / net theta per calendar day "
                     "(Black-Scholes greeks of the three legs at the analysis date)"),
    ButterflyFeature("center_moneyness", "fraction", "center / spot - 1 (the strike-grid rounding)"),
    ButterflyFeature("wing_width_pct", "fraction", "(center - lower) / spot"),
    ButterflyFeature("cost_to_width", "fraction", "cost / (center - lower): cost over the maximum payout"),
)
BUTTERFLY_FEATURE_ORDER: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURE_COUNT = len(BUTTERFLY_FEATURE_ORDER)
#: History (rows of one symbol, including the sample date) that every feature needs.
MIN_HISTORY_ROWS = 61


def butterfly_feature_order_hash() -> str:
    return sha256_json(list(BUTTERFLY_FEATURE_ORDER))


def feature_schema() -> list[dict]:
    return [asdict(f) | {"feature_version": BUTTERFLY_FEATURE_VERSION} for f in FEATURES]


"""Butterfly (docs/butterfly.md) units: evaluation date, IV proxy, Black-Scholes, payoff, ROI classes, strikes, labels,
sampling, config errors, splits and the decision rule / PASS rule."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from trader_core.butterfly import pricing
from trader_core.butterfly.backtest import backtest, select_trades
from trader_core.butterfly_config import (
    ButterflyConfig,
    ButterflySplitPlan,
    DecisionSection,
    SamplingSection,
    SyntheticSection,
)
from trader_core.contracts.butterfly import (
    BUTTERFLY_FEATURE_ORDER,
    FEATURE_COUNT,
    ROI_CLASSES,
    evaluation_days,
    feature_schema,
)
from trader_core.butterfly.labels import label_positions, roi_class
from trader_core.butterfly.model import chance_macro_f1, class_values_from
from trader_core.butterfly.pipeline import (
    daily,
    generate_market,
    sample_and_label,
    split,
)
from trader_core.config import SplitPlan
from trader_core.config_mapping import from_mapping
from trader_core.errors import ConfigError, DataContractError

SMALL = ButterflyConfig(synthetic=SyntheticSection(trading_days=700, symbols=("AAA", "BBB", "CCC", "DDD")),
                        sampling=SamplingSection(low_days=10, normal_days=15, high_days=10))


@pytest.fixture(scope="module")
def small_market() -> dict[str, pd.DataFrame]:
    return generate_market(SMALL)


@pytest.fixture(scope="module")
def small_samples(small_market) -> tuple[pd.DataFrame, dict]:
    return sample_and_label(small_market, SMALL)


# ------------------------------------------------------------------------------------------ evaluation date
@pytest.mark.parametrize("dte, days", [(30, 25), (45, 40), (37, 32), (29, 26), (20, 17), (10, 8), (7, 5), (15, 12)])
def test_evaluation_date_rule(dte, days):
    """DTE >= 30: DTE - 5; else max(DTE - 3, floor(0.8 DTE)) (29 -> 26, 10 -> 8 via the 0.8 branch)."""
    assert evaluation_days(dte) == days
    assert evaluation_days(np.array([dte]))[0] == days


# ------------------------------------------------------------------------------------------------ IV proxy
def test_iv_proxy_multipliers_and_boundaries():
    spot = 100.0
    strikes = np.array([80.0, 94.99, 95.0, 100.0, 105.0, 105.01, 130.0])
    np.testing.assert_array_equal(pricing.iv_multiplier(strikes, spot), [1.25, 1.25, 1.15, 1.15, 1.15, 1.10, 1.10])
    np.testing.assert_allclose(pricing.iv_proxy(strikes, spot, 0.2), 0.2 * np.array([1.25, 1.25, 1.15, 1.15, 1.15,
                                                                                      1.10, 1.10]))


# ---------------------------------------------------------------------------------------------- Black-Scholes
def test_black_scholes_known_values():
    assert pricing.bs_call(100, 100, 1.0, 0.2, 0.0) == pytest.approx(7.965567, abs=1e-5)
    assert pricing.bs_call(100, 100, 1.0, 0.2, 0.05) == pytest.approx(10.450584, abs=1e-5)
    assert pricing.bs_put(100, 100, 1.0, 0.2, 0.05) == pytest.approx(5.573526, abs=1e-5)
    assert pricing.bs_call(42, 40, 0.5, 0.2, 0.10) == pytest.approx(4.759422, abs=1e-5)  # Hull's example
    np.testing.assert_array_equal(pricing.bs_call([110.0, 90.0], 100.0, 0.0, 0.3), [10.0, 0.0])  # expiry: intrinsic


def test_put_call_parity_on_random_inputs():
    rng = np.random.default_rng(3)
    n = 2000
    s, k = rng.uniform(10, 500, n), rng.uniform(10, 500, n)
    t, v, r = rng.uniform(1 / 365, 2.0, n), rng.uniform(0.05, 1.0, n), rng.uniform(-0.01, 0.1, n)
    call = np.array([pricing.bs_call(s[i], k[i], t[i], v[i], r[i]) for i in range(0, n, 97)])
    put = np.array([pricing.bs_put(s[i], k[i], t[i], v[i], r[i]) for i in range(0, n, 97)])
    idx = np.arange(0, n, 97)
    np.testing.assert_allclose(call - put, s[idx] - k[idx] * np.exp(-r[idx] * t[idx]), atol=1e-9 * 500)
    vec_call = pricing.bs_call(s, k, t, v, 0.03)
    vec_put = pricing.bs_put(s, k, t, v, 0.03)
    np.testing.assert_allclose(vec_call - vec_put, s - k * np.exp(-0.03 * t), atol=1e-8)
    assert (vec_call >= np.maximum(s - k * np.exp(-0.03 * t), 0) - 1e-9).all() and (vec_call <= s).all()


def test_greeks_match_finite_differences():
    s, k, t, v, r = 100.0, 105.0, 40 / 365, 0.3, 0.02
    h, dt = 1e-2, 1e-6
    gamma, theta_day = pricing.bs_gamma_theta(s, k, t, v, r)
    fd_gamma = (pricing.bs_call(s + h, k, t, v, r) - 2 * pricing.bs_call(s, k, t, v, r)
                + pricing.bs_call(s - h, k, t, v, r)) / h ** 2
    fd_theta = -(pricing.bs_call(s, k, t + dt, v, r) - pricing.bs_call(s, k, t - dt, v, r)) / (2 * dt) / 365
    assert gamma == pytest.approx(fd_gamma, rel=1e-4)
    assert theta_day == pytest.approx(fd_theta, rel=1e-5)


# ------------------------------------------------------------------------------------------------- payoff
def test_butterfly_payoff_at_wings_and_center():
    lower, center, upper = 90.0, 100.0, 110.0
    prices = np.array([50.0, 89.0, 90.0, 95.0, 100.0, 105.0, 110.0, 111.0, 200.0])
    payoff = pricing.intrinsic_payoff(prices, lower, center, upper)
    np.testing.assert_allclose(payoff, [0, 0, 0, 5, 10, 5, 0, 0, 0], atol=1e-12)
    grid = np.linspace(80, 120, 4001)
    values = pricing.intrinsic_payoff(grid, lower, center, upper)
    assert grid[np.argmax(values)] == pytest.approx(center) and values.max() == pytest.approx(center - lower)


def test_seed_payoff_formula_for_reference():
    cost, max_profit = 2.0, 8.0  # width 10
    roi = pricing.seed_payoff_roi(np.array([80.0, 90.0, 95.0, 100.0, 110.0, 120.0]), 90, 100, 110, cost, max_profit)
    np.testing.assert_allclose(roi, [-1.0, 0.0, 2.0, 4.0, 0.0, -1.0])
    assert pricing.seed_payoff_roi(100.0, 90, 100, 110, 0.0, 10.0) == -1.0


def test_butterfly_value_cost_and_expiry():
    spot = np.array([50.0, 100.0, 300.0])
    strikes = pricing.build_strikes(spot, np.array([0.2, 0.3, 0.5]), np.array([30, 45, 38]), 1.0)
    cost = pricing.butterfly_value(spot, *strikes.values(), np.array([30, 45, 38]) / 365, np.array([0.2, 0.3, 0.5]))
    assert (cost > 0).all() and (cost < strikes["center"] - strikes["lower"]).all()
    at_expiry = pricing.butterfly_value(spot, *strikes.values(), 0.0, 0.3)
    np.testing.assert_allclose(at_expiry, pricing.intrinsic_payoff(spot, *strikes.values()))


def test_strikes_on_grid_symmetric_at_least_one_step():
    spot = np.array([12.34, 87.6, 250.2, 250.2])
    hv = np.array([0.3, 0.25, 0.4, 0.001])
    s = pricing.build_strikes(spot, hv, np.array([35, 35, 35, 35]), 1.0)
    step = pricing.strike_step(spot)
    np.testing.assert_array_equal(step, [0.5, 1.0, 2.5, 2.5])
    np.testing.assert_allclose(s["center"], [12.5, 88.0, 250.0, 250.0])
    np.testing.assert_allclose(s["center"] - s["lower"], s["upper"] - s["center"])
    np.testing.assert_allclose((s["center"] - s["lower"]) / step, np.round((s["center"] - s["lower"]) / step))
    assert (s["center"] - s["lower"])[3] == 2.5  # a tiny hv still gets one grid step
    expected = np.maximum(1, np.round(spot * hv * np.sqrt(35 / 365) / step)) * step
    np.testing.assert_allclose(s["center"] - s["lower"], expected)


# ------------------------------------------------------------------------------------------------ classes
def test_roi_class_boundaries_exact():
    roi = np.array([-1.0, -0.1000001, -0.10, 0.0, 0.0499999, 0.05, 0.1499999, 0.15, 3.0])
    np.testing.assert_array_equal(roi_class(roi), [0, 0, 1, 1, 1, 2, 2, 3, 3])
    assert [c.id for c in ROI_CLASSES] == [0, 1, 2, 3]
    assert ROI_CLASSES[0].lower is None and ROI_CLASSES[-1].upper is None  # open-ended outer classes
    for c in ROI_CLASSES[1:]:  # the contract's lower bounds agree with the classifier ...
        assert roi_class(c.lower) == c.id
    for c in ROI_CLASSES[:-1]:  # ... and so do its upper bounds (exclusive)
        assert roi_class(np.nextafter(c.upper, -np.inf)) == c.id and roi_class(c.upper) == c.id + 1


def test_class_values_are_fit_means_with_fallback():
    labels = np.array([0, 0, 3, 3, 1])
    roi = np.array([-0.9, -0.5, 0.4, 0.8, 0.0])
    np.testing.assert_allclose(class_values_from(labels, roi), [-0.7, 0.0, ROI_CLASSES[2].fallback_value, 0.6])


def test_chance_macro_f1_formula():
    p = np.array([0.5, 0.0, 0.0, 0.5])
    assert chance_macro_f1(p, p) == pytest.approx(0.25)  # two classes, independent: F1 0.5 each, two zeros
    assert chance_macro_f1(np.full(4, 0.25), np.full(4, 0.25)) == pytest.approx(0.25)


# ---------------------------------------------------------------------------------------------------- labels
def test_labels_value_the_position_at_the_evaluation_date(small_market, small_samples):
    samples, _ = small_samples
    table = daily(small_market, SMALL)
    row = samples.iloc[7]
    assert row["eval_date"] == row["date"] + pd.Timedelta(days=evaluation_days(int(row["dte"])))
    bars = table[(table["symbol"] == row["symbol"]) & (table["date"] <= row["eval_date"])].iloc[-1]
    assert row["eval_spot"] == bars["close"] and row["eval_hv"] == bars["hv_price"]
    remaining = (row["dte"] - row["days_held"]) / 365
    value = pricing.butterfly_value(bars["close"], row["lower"], row["center"], row["upper"], remaining,
                                    bars["hv_price"])
    assert row["value_at_eval"] == pytest.approx(float(value))
    assert row["roi"] == pytest.approx((value - row["cost"]) / row["cost"])
    assert row["max_profit"] == pytest.approx(row["center"] - row["lower"] - row["cost"])
    assert (samples["label"] == roi_class(samples["roi"])).all()


def test_labels_refuse_an_evaluation_date_past_the_data(small_market, small_samples):
    samples, _ = small_samples
    table = daily(small_market, SMALL)
    late = samples.head(3).copy()
    late["dte"] = 2000  # evaluation about 5.5 years later: past the 700-day window
    with pytest.raises(DataContractError, match="evaluation date"):
        label_positions(late, table)


# -------------------------------------------------------------------------------------------------- sampling
def test_sampling_proportions_thresholds_and_determinism(small_market, small_samples):
    samples, report = small_samples
    assert report["chosen_days"] == {"low": 10, "normal": 15, "high": 10}
    assert report["samples"] == {"low": 40, "normal": 60, "high": 40} and report["total_samples"] == 140
    vix = samples["vix"].to_numpy()
    regime = samples["regime"].to_numpy()
    assert (vix[regime == "low"] < 15).all() and (vix[regime == "high"] > 25).all()
    assert ((vix[regime == "normal"] >= 15) & (vix[regime == "normal"] <= 25)).all()
    assert samples["dte"].between(30, 45).all() and samples["sample_id"].is_unique
    table = daily(small_market, SMALL)
    rows = table.set_index(["symbol", "date"]).loc[list(zip(samples["symbol"], samples["date"])), "row"]
    assert (rows.to_numpy() >= 60).all()  # >= 61 rows of history including the date
    assert (samples["eval_date"] <= table["date"].max()).all()
    again, _ = sample_and_label(small_market, SMALL)
    pd.testing.assert_frame_equal(samples, again)


def test_sampling_takes_all_when_a_regime_is_short(small_market):
    config = ButterflyConfig(synthetic=SMALL.synthetic, sampling=SamplingSection(low_days=0, normal_days=5,
                                                                                high_days=10_000))
    samples, report = sample_and_label(small_market, config)
    assert report["chosen_days"]["high"] == report["available_days"]["high"] < 10_000
    assert report["chosen_days"]["low"] == 0 and "low" not in set(samples["regime"])


def test_sampling_needs_history_and_future(small_market):
    short = {"bars": small_market["bars"][small_market["bars"]["date"] < small_market["bars"]["date"].min()
                                          + pd.Timedelta(days=100)], "vix": small_market["vix"]}
    with pytest.raises(DataContractError, match="no eligible sample date"):
        sample_and_label(short, SMALL)


# ---------------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("data, key", [
    ({"pricing": {"dte_min": 50, "dte_max": 40}}, "butterfly.pricing.dte_min/dte_max"),
    ({"pricing": {"wing_k": 0}}, "butterfly.pricing.wing_k"),
    ({"sampling": {"low_days": -1}}, "butterfly.sampling.low_days"),
    ({"synthetic": {"signal": -1.0}}, "butterfly.synthetic.signal"),
    ({"decision": {"max_trades_per_day": 0}}, "butterfly.decision.max_trades_per_day"),
    ({"split": {"embargo_minutes": 1440}}, "butterfly.split.embargo_minutes"),
    ({"model": {"logistic_c": 0.0}}, "butterfly.model.logistic_c"),
    ({"pricing": {"bogus": 1}}, "pricing.bogus"),
])
def test_config_errors_name_the_field(data, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        from_mapping(ButterflyConfig, data)


def test_config_defaults():
    config = ButterflyConfig()
    assert config.sampling.counts == (40, 60, 40) and len(config.synthetic.symbols) == 20
    assert config.pricing.longest_horizon_days == 40 and config.split.embargo_minutes == 45 * 1440
    assert (config.decision.min_expected_roi, config.decision.max_trades_per_day) == (0.15, 5)
    assert len(BUTTERFLY_FEATURE_ORDER) == FEATURE_COUNT == 23 and "total_score" not in BUTTERFLY_FEATURE_ORDER
    assert [f["name"] for f in feature_schema()] == list(BUTTERFLY_FEATURE_ORDER)
    assert {"skew_estimate", "momentum_7d", "vol_concentration", "dte_factor", "price_stability",
            "gamma_theta_ratio"} <= set(BUTTERFLY_FEATURE_ORDER)  # the seed's six
    assert SplitPlan(embargo_minutes=45 * 1440).embargo_minutes == 64800  # allowed by the shared SplitPlan now
    assert from_mapping(ButterflyConfig, {"split": {"fit_fraction": 0.5, "tune_fraction": 0.25}}).split == \
        ButterflySplitPlan(0.5, 0.25, 0.125, 0.125, 45 * 1440)  # a partial split section keeps the 45-day embargo


# ---------------------------------------------------------------------------------------------------- splits
def test_split_embargo_keeps_every_label_window_inside_its_split(small_samples):
    samples, _ = small_samples
    manifest, ids = split(samples, SMALL)
    assert set(ids) <= {"fit_inner", "tune_inner", "validation_locked", "latest_stress", "embargo"}
    starts = {s["split_id"]: pd.Timestamp(s["start"]) for s in manifest["splits"]}
    order = ["fit_inner", "tune_inner", "validation_locked", "latest_stress"]
    for current, following in itertools.pairwise(order):
        rows = samples[ids == current]
        assert len(rows) > 0, current  # a split without samples would pass the check below vacuously
        assert (rows["eval_date"] < starts[following]).all()  # the embargo covers the longest label horizon


# ------------------------------------------------------------------------------------------ decision/backtest
def _predictions(rng: np.random.Generator, days: int, per_day: int, split_id: str, skill: bool) -> pd.DataFrame:
    n = days * per_day
    e = rng.uniform(-0.2, 0.6, n)
    roi = (0.8 * e if skill else 0.0) + rng.normal(0, 0.3, n)
    return pd.DataFrame({"sample_id": [f"{split_id}{i}" for i in range(n)],
                         "date": np.repeat(pd.date_range("2025-01-01", periods=days, tz="UTC"), per_day),
                         "symbol": np.tile([f"S{j}" for j in range(per_day)], days), "split_id": split_id,
                         "expected_roi": e, "roi": roi, "label": roi_class(roi)})


def test_select_trades_threshold_top5_per_day():
    rng = np.random.default_rng(0)
    pred = _predictions(rng, 10, 12, "validation_locked", True)
    trades = select_trades(pred, DecisionSection())
    assert (trades["expected_roi"] > 0.15).all() and trades.groupby("date").size().max() <= 5
    for date, day in pred.groupby("date"):
        best = day[day["expected_roi"] > 0.15].nlargest(5, "expected_roi")["sample_id"]
        assert set(trades.loc[trades["date"] == date, "sample_id"]) == set(best)


def test_pass_rule_needs_skill_on_every_sealed_split():
    rng = np.random.default_rng(1)
    skilled = pd.concat([_predictions(rng, 30, 12, s, True) for s in ("validation_locked", "latest_stress")])
    result, trades = backtest(skilled, DecisionSection())
    assert result["status"] == "PASS" and len(trades) > 40
    mixed = pd.concat([_predictions(rng, 30, 12, "validation_locked", True),
                       _predictions(rng, 30, 12, "latest_stress", False)])
    mixed.loc[mixed["split_id"] == "latest_stress", "roi"] += 0.5  # cheap butterflies: positive, but no skill
    result, _ = backtest(mixed, DecisionSection())
    stress = result["splits"]["latest_stress"]
    assert result["status"] == "FAIL" and stress["mean_roi"] > 0 and not stress["checks"]["beats_same_day_candidates"]
    few, _ = backtest(skilled, DecisionSection(min_trades=10_000))
    assert few["status"] == "FAIL"

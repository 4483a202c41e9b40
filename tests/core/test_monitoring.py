"""Monitoring kernels: PSI, label-rate drift, calibration tables and the champion-vs-challenger rule."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.monitoring import challenger as cc
from trader_core.monitoring import drift as dr
from trader_core.models.metrics import expected_calibration_error, reliability_table
from trader_core.monitoring.shadow import decile_table


def test_psi_matches_the_formula_and_is_zero_for_identical_distributions():
    e, a = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    assert dr.psi(e, a) == pytest.approx(0.3 * math.log(0.2 / 0.5) * -1 + 0.3 * math.log(0.5 / 0.2))
    assert dr.psi(e, e) == 0.0
    assert dr.psi_status(0.30) == "WARN" and dr.psi_status(0.12) == "MODERATE" and dr.psi_status(0.01) == "STABLE"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=20, max_size=400))
def test_bin_fractions_sum_to_one_and_reference_has_no_drift_against_itself(values):
    x = np.asarray(values)
    edges = dr._bin_edges(x)
    fractions = dr.bin_fractions(x, edges)
    assert len(fractions) == len(edges) + 1 and fractions.sum() == pytest.approx(1.0)
    assert dr.psi(fractions, dr.bin_fractions(x, edges)) == pytest.approx(0.0)


def _frames(rng, n, shift=0.0, long_rate=0.3):
    features = pd.DataFrame({name: rng.normal(shift, 1.0, n) for name in FEATURE_ORDER})
    features["split_id"] = "fit_inner"
    features["event_time"] = pd.date_range("2026-01-01", periods=n, freq="min", tz="UTC")
    features["sample_id"] = [f"s{i}" for i in range(n)]
    direction = features[["sample_id", "split_id"]].assign(
        long_target=(rng.random(n) < long_rate).astype(int), short_target=0, neutral_target=0)
    entry = features[["sample_id", "split_id"]].assign(long_entry_target=(rng.random(n) < 0.3).astype(int),
                                                       short_entry_target=(rng.random(n) < 0.3).astype(int))
    return features, direction, entry


def test_feature_and_label_drift_warn_only_on_a_real_shift():
    rng = np.random.default_rng(3)
    profile = dr.reference_profile(*_frames(rng, 5000))
    same = _frames(rng, 3000)
    assert dr.feature_drift(profile, same[0])["status"].eq("STABLE").all()
    assert dr.label_drift(profile, same[1], same[2])["status"].eq("STABLE").all()
    moved = _frames(rng, 3000, shift=1.0, long_rate=0.45)
    assert dr.feature_drift(profile, moved[0])["status"].eq("WARN").all()
    labels = dr.label_drift(profile, moved[1], moved[2]).set_index("label")["status"]
    assert labels["long_target"] == "WARN" and labels["long_entry_target"] == "STABLE"


def test_reliability_table_and_ece():
    prob = np.array([0.05, 0.05, 0.95, 0.95])
    table = reliability_table(prob, np.array([0, 0, 1, 1]))
    assert list(table["rows"]) == [2, 2] and expected_calibration_error(table) == pytest.approx(0.05)
    assert expected_calibration_error(reliability_table(prob, np.array([1, 1, 0, 0]))) == pytest.approx(0.95)


def test_decile_table_orders_by_probability():
    prob = np.linspace(0, 1, 100)
    table = decile_table(prob, (prob > 0.9).astype(float), prob * 10)
    assert list(table["decile"]) == list(range(1, 11)) and (table["rows"] == 10).all()
    assert table["hit_rate"].iloc[-1] == 1.0 and table["avg_realized_edge_bps"].is_monotonic_increasing


def pm(trades=100, total=300.0, dd=40.0, sd=5.0):
    return {"trade_count": trades, "total_weighted_edge_bps": total, "max_drawdown_bps": dd,
            "weighted_edge_std_bps": sd}


@pytest.mark.parametrize("challenger, champion, same_plan, decision, reason", [
    (pm(), None, True, cc.PROMOTE, "no champion yet"),
    (pm(), pm(), False, cc.NOT_COMPARABLE, "release.accept_plan_change: true"),
    (pm(trades=5), pm(), True, cc.KEEP, "5 trades"),
    (pm(total=-1.0), pm(total=-200.0), True, cc.KEEP, "not positive"),
    (pm(total=260.0), pm(total=300.0), True, cc.PROMOTE, "margin 70.7"),  # within one standard error
    (pm(total=200.0), pm(total=300.0), True, cc.KEEP, "minus one standard error"),
    (pm(dd=80.0), pm(dd=40.0), True, cc.KEEP, "max drawdown 80.0"),
    (pm(dd=60.0), pm(dd=40.0), True, cc.PROMOTE, "drawdown 60.0 <= 65.0"),
])
def test_champion_challenger_rule(challenger, champion, same_plan, decision, reason):
    result = cc.decide(challenger, champion, same_plan=same_plan)
    assert result["decision"] == decision and any(reason in r for r in result["reasons"]), result
    assert cc.allows_promotion(result) == (decision == cc.PROMOTE)  # NOT_COMPARABLE blocks (no plan bypass)

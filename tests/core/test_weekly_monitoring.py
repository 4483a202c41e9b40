"""Weekly decision monitoring (docs/decide.md, "Weekly monitoring") on hand-made decisions and outcomes: the join,
the figures per arm, the decile table, the WARN bounds, the arm comparison and the written report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from trader_core.contracts.decisions import DECISION_OUTCOMES
from trader_core.decide import weekly, weekly_report
from trader_core.monitoring.decision_bounds import HIT_RATE_BELOW_PREDICTED, REALIZED_EDGE_NEGATIVE, WeeklyBounds
from trader_core.pm.significance import MIN_STATISTIC, edge_significance

T0 = pd.Timestamp("2026-03-02T00:00", tz="UTC")


def outcomes(realized, *, predicted=None, prob=None, traded=True, arm="champion", start=0) -> pd.DataFrame:
    """DECISION_OUTCOMES rows, one per realized value (NaN: unresolved), a minute apart from ``start``."""
    realized = np.asarray(realized, dtype="float64")
    n = len(realized)
    times = T0 + pd.to_timedelta(np.arange(start, start + n), unit="min")
    frame = pd.DataFrame({
        "decision_key": [f"{arm}-{start + i}" for i in range(n)], "release": f"r-{arm}", "arm": arm,
        "symbol": "BTC-USDT-PERP", "data_time": times,
        "traded": np.broadcast_to(np.asarray(traded, dtype=bool), (n,)).copy(),
        "predicted": np.arange(n, dtype="float64") if predicted is None else np.asarray(predicted, dtype="float64"),
        "predicted_prob": np.full(n, 0.5) if prob is None else np.asarray(prob, dtype="float64"),
        "resolved": np.isfinite(realized), "realized": realized})
    DECISION_OUTCOMES.validate(frame, extra_ok=False)
    return frame


def log_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["decision_key", "data_time"]].assign(decision_time=frame["data_time"] + pd.Timedelta(minutes=1))


def test_join_keeps_one_row_per_decision_in_data_minute_order():
    made = outcomes([1.0, -2.0, np.nan, 4.0])
    joined = weekly.join_outcomes(log_rows(made).iloc[::-1], made.sample(frac=1.0, random_state=3))
    assert joined["decision_key"].tolist() == made["decision_key"].tolist()
    assert (joined["decision_time"] - joined["data_time"] == pd.Timedelta(minutes=1)).all()
    assert joined["realized"].iloc[[0, 1, 3]].tolist() == [1.0, -2.0, 4.0] and np.isnan(joined["realized"].iloc[2])


def test_join_refuses_a_decision_without_an_outcome():
    made = outcomes([1.0, 2.0])
    with pytest.raises(ValueError, match="has no outcome row"):
        weekly.join_outcomes(log_rows(made), made.iloc[:1])


def test_arm_figures_count_and_score_the_resolved_traded_decisions():
    rng = np.random.default_rng(4)
    realized = rng.normal(2.0, 10.0, 30)
    traded = np.arange(30) % 3 != 0
    realized[::7] = np.nan  # unresolved
    made = outcomes(realized, predicted=rng.normal(5.0, 1.0, 30), prob=rng.uniform(0.3, 0.7, 30), traded=traded)
    figures = weekly.arm_figures(made, WeeklyBounds())
    scored = made[traded & np.isfinite(realized)]
    assert (figures["decisions"], figures["traded"], figures["resolved"]) == (30, 20, int(np.isfinite(realized).sum()))
    assert figures["resolved_traded"] == len(scored) == 17
    assert figures["hit_rate"] == pytest.approx(np.sum(scored["realized"] > 0) / 17)
    assert figures["mean_realized"] == pytest.approx(np.sum(scored["realized"]) / 17)
    assert figures["mean_predicted"] == pytest.approx(np.sum(scored["predicted"]) / 17)
    assert figures["mean_predicted_prob"] == pytest.approx(np.sum(scored["predicted_prob"]) / 17)


def test_decile_table_of_predicted_against_a_hand_count():
    predicted = np.arange(1.0, 21.0)  # deciles of two rows each: (1, 2), (3, 4), ..., (19, 20)
    realized = predicted * 2 - 15  # decile k: realized 4k - 17 and 4k - 15, mean 4k - 16
    order = np.random.default_rng(1).permutation(20)
    made = outcomes(np.append(realized[order], np.nan), predicted=np.append(predicted[order], 99.0))
    table = weekly.decile_figures(made)  # the unresolved row is left out
    k = np.arange(1, 11)
    assert table["decile"].tolist() == k.tolist() and table["rows"].tolist() == [2] * 10
    np.testing.assert_allclose(table["mean_predicted"], 2 * k - 0.5)
    np.testing.assert_allclose(table["mean_realized"], 4 * k - 16)
    hits = [int(4 * d - 17 > 0) + int(4 * d - 15 > 0) for d in k]
    np.testing.assert_allclose(table["hit_rate"], np.array(hits) / 2)


def test_calibration_table_bins_predicted_prob_against_realized_above_zero():
    made = outcomes([5.0, -1.0, 3.0, 2.0], prob=[0.15, 0.12, 0.85, 0.81])
    table, ece = weekly.calibration_figures(made)
    assert table["rows"].tolist() == [2, 2]
    assert table["observed_rate"].tolist() == [0.5, 1.0]
    assert ece == pytest.approx((abs(0.135 - 0.5) * 2 + abs(0.83 - 1.0) * 2) / 4)


@pytest.mark.parametrize("mean, warned", [(-3.0, True), (3.0, False)])
def test_negative_realized_edge_warns_from_the_minimum_count(mean, warned):
    realized = mean + np.tile([-1.0, 1.0], 10)  # 20 resolved trades, mean exactly ``mean``
    figures = weekly.arm_figures(outcomes(realized, prob=np.full(20, 0.1)), WeeklyBounds())
    assert (REALIZED_EDGE_NEGATIVE in figures["warnings"]) is warned
    fewer = weekly.arm_figures(outcomes(realized[:19], prob=np.full(19, 0.1)), WeeklyBounds())
    assert fewer["warnings"] == []  # 19 resolved trades: below the minimum, nothing warns


def test_hit_rate_below_the_predicted_probability_by_more_than_the_margin_warns():
    realized = np.where(np.arange(20) < 8, 5.0, -1.0)  # hit rate 0.40, mean realized +1.4
    at_margin = weekly.arm_figures(outcomes(realized, prob=np.full(20, 0.5)), WeeklyBounds())
    beyond = weekly.arm_figures(outcomes(realized, prob=np.full(20, 0.55)), WeeklyBounds())
    assert at_margin["hit_rate"] == pytest.approx(0.4)
    assert at_margin["warnings"] == []  # 0.40 is not below 0.50 - 0.10
    assert beyond["warnings"] == [HIT_RATE_BELOW_PREDICTED]  # 0.40 < 0.55 - 0.10


def test_untraded_and_unresolved_decisions_never_warn():
    realized = np.full(30, -5.0)
    assert weekly.arm_figures(outcomes(realized, traded=False), WeeklyBounds())["warnings"] == []
    assert weekly.arm_figures(outcomes(np.full(30, np.nan)), WeeklyBounds())["warnings"] == []


def test_arm_comparison_uses_the_gate_standard_errors():
    rng = np.random.default_rng(7)
    champion, canary = rng.normal(0.0, 5.0, 40), rng.normal(8.0, 5.0, 40)
    joined = pd.concat([outcomes(champion), outcomes(canary, arm="canary", start=100)], ignore_index=True)
    result = weekly.compare_arms(joined)
    expected = {arm: edge_significance(edges) for arm, edges in (("champion", champion), ("canary", canary))}
    se = np.hypot(expected["canary"].standard_error_bps, expected["champion"].standard_error_bps)
    assert result["better"] == "canary" and result["significant"] is True
    assert result["difference"] == pytest.approx(canary.mean() - champion.mean())
    assert result["statistic"] == pytest.approx((canary.mean() - champion.mean()) / se)
    assert result["statistic"] >= MIN_STATISTIC
    assert result["arms"]["canary"]["trades"] == 40


def test_arm_comparison_within_noise_is_not_significant():
    rng = np.random.default_rng(8)
    champion, canary = rng.normal(1.0, 20.0, 30), rng.normal(0.0, 20.0, 30)
    joined = pd.concat([outcomes(champion), outcomes(canary, arm="canary", start=100)], ignore_index=True)
    result = weekly.compare_arms(joined)
    assert result["better"] == ("canary" if canary.mean() > champion.mean() else "champion")
    assert abs(result["statistic"]) < MIN_STATISTIC and result["significant"] is False


def test_the_report_is_written_per_day_with_its_warnings(tmp_path, monkeypatch):
    champion = outcomes(np.full(20, -2.0) + np.tile([-1.0, 1.0], 10))
    canary = outcomes(np.full(5, 3.0), arm="canary", start=50)
    joined = weekly.join_outcomes(log_rows(pd.concat([champion, canary])), pd.concat([champion, canary]))
    seen = {}

    def fake_window(*, home, at, window):
        seen.update(home=home, at=at, window=window)
        return [weekly.LineDecisions("perp-x", "r0002-b", "perp", joined)], {"perp-y": "no decision log"}

    monkeypatch.setattr(weekly_report, "window_decisions", fake_window)
    report = weekly_report.write_weekly_report(home=tmp_path, at=pd.Timestamp("2026-03-09T09:00:30", tz="UTC"),
                                               window_days=7)
    assert seen == {"home": tmp_path, "at": pd.Timestamp("2026-03-09T09:00:30", tz="UTC"),
                    "window": pd.Timedelta(days=7)}
    folder = tmp_path / "monitoring" / "weekly" / "2026-03-09"
    assert report.folder == folder and report.image == folder / "deciles.png" and report.image.stat().st_size > 0
    doc = json.loads((folder / "report.json").read_text())
    assert doc["window_start"] == "2026-03-02T09:00:30+00:00" and doc["skipped"] == {"perp-y": "no decision log"}
    assert [(w["arm"], w["condition"]) for w in doc["warnings"]] == [  # every champion trade lost; hit rate 0 < 0.4
        ("champion", REALIZED_EDGE_NEGATIVE), ("champion", HIT_RATE_BELOW_PREDICTED)]
    arms = doc["lines"]["perp-x"]["arms"]
    assert (arms["champion"]["resolved_traded"], arms["canary"]["resolved_traded"]) == (20, 5)
    assert arms["champion"]["mean_realized"] == pytest.approx(-2.0)
    assert doc["lines"]["perp-x"]["arm_comparison"]["better"] == "canary"
    text = (folder / "report.md").read_text()
    assert "perp-x champion: mean realized edge of the resolved traded decisions < 0" in text
    assert "### canary: realized vs predicted by decile of predicted" in text and "- perp-y: no decision log" in text


def test_a_window_of_zero_days_is_refused(tmp_path):
    with pytest.raises(Exception, match="--window-days: must be a whole number of days >= 1"):
        weekly_report.write_weekly_report(home=tmp_path, window_days=0)

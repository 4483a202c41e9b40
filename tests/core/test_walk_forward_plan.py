"""The walk-forward plan: one home per market, continued (never mixed) by a re-run."""

import pytest

from trader_core.errors import ConfigError
from trader_core.walk_forward.plan import WalkForwardPlan, default_home, ensure_plan, stored_plan


def test_a_rerun_continues_the_stored_plan_and_may_only_move_its_end_later(tmp_path):
    plan = WalkForwardPlan(start="2026-01", end="2026-03", signal_changes=[["2026-02-01", -2]])
    assert ensure_plan(tmp_path, plan) == plan and stored_plan(tmp_path) == plan
    assert plan.months == ["2026-01", "2026-02", "2026-03"]
    longer = WalkForwardPlan(start="2026-01", end="2026-05", signal_changes=[["2026-02-01", -2]])
    assert ensure_plan(tmp_path, longer).end == "2026-05"
    shorter = WalkForwardPlan(start="2026-01", end="2026-02", signal_changes=[["2026-02-01", -2]])
    assert ensure_plan(tmp_path, shorter).end == "2026-05"  # a shorter walk continues the stored plan
    with pytest.raises(ConfigError, match=r"differs in: signal_changes, retrain_months\); use another --home"):
        ensure_plan(tmp_path, WalkForwardPlan(start="2026-01", end="2026-05", retrain_months=2))


def test_the_default_home_names_the_market_not_the_end(tmp_path):
    a = WalkForwardPlan(start="2026-01", end="2026-03")
    assert default_home(tmp_path, a) == default_home(tmp_path, WalkForwardPlan(start="2026-01", end="2026-12"))
    assert default_home(tmp_path, a) != default_home(tmp_path, WalkForwardPlan(start="2026-01", end="2026-03",
                                                                               signal=0.0))


@pytest.mark.parametrize("kwargs, match", [
    ({"start": "2026-03", "end": "2026-01"}, "before --from"),
    ({"start": "2026-01", "end": "2026-02", "source": "binance-vision"}, "--path is required"),
    ({"start": "2026-01", "end": "2026-02", "retrain_months": 0}, "retrain window"),
    ({"start": "2026-1", "end": "2026-02"}, "YYYY-MM"),
    ({"start": "2026-01", "end": "2026-02", "signal_changes": [["2026-02-01"]]}, "pairs"),
])
def test_bad_plans_are_refused_with_one_line(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        WalkForwardPlan(**kwargs)


def test_the_home_keeps_its_retrain_window_for_every_sensor_on_it(tmp_path, monkeypatch):
    from trader_core.strategies.perp import PERP

    monkeypatch.setenv("TRADER_RETRAIN_MONTHS", "6")  # the user's main setting does not leak into the home
    ensure_plan(tmp_path, WalkForwardPlan(start="2026-01", end="2026-04", retrain_months=2))
    marker = {"month": "2026-04", "source": "synthetic", "symbols": ["BTC-USDT-PERP"]}
    spec = PERP.retrain_spec(marker, home=tmp_path, config_path=None)
    assert (spec.start, spec.end) == ("2026-03-01", "2026-05-01")

"""A live decision is the backtest's decision for the same row (docs/decide.md): ``entry_decisions`` on the
decision frame opens exactly the rows ``simulate_trades`` opens on the PM frame when no earlier trade is open,
with the same side, planned ratio, probabilities and edge, and names a failing rule for every other row."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from tests.core.test_pm import CASE_PLAN, T0, random_frames, random_search_frame, random_setups
from trader_core.contracts.price_plan import PricePlan
from trader_core.pm.config import PMConfig, default_pm_config, pm_config_from_thresholds
from trader_core.pm.decision import HARD_CAP, MIN_SIZED_EDGE, NO_TRADE, entry_decisions
from trader_core.pm.frame import decision_frame, pm_frame
from trader_core.pm.simulate import simulate_trades

PLAN = dataclasses.replace(CASE_PLAN, stop_bps=8.0, cost_bps=6.5, max_hold_minutes=45, target_bps=30.0)


def on_its_own(frame: pd.DataFrame) -> pd.DataFrame:
    """Every row its own symbol, so the overlap rule (an open trade blocks its symbol) never applies."""
    return frame.assign(symbol=frame["sample_id"])


def assert_same_decisions(frame: pd.DataFrame, decisions: pd.DataFrame, config: PMConfig,
                          plan: PricePlan) -> pd.DataFrame:
    """``decisions`` (indexed like ``frame``) against the backtest's trades of ``frame`` row by row."""
    trades = simulate_trades(on_its_own(frame), config.thresholds, config, plan).set_index("sample_id")
    decided = decisions.assign(sample_id=frame["sample_id"]).set_index("sample_id")
    opened = decided[decided["side"] != NO_TRADE]
    assert sorted(opened.index) == sorted(trades.index)
    trades = trades.loc[opened.index]
    assert opened["side"].tolist() == trades["side"].tolist()
    for ours, theirs in (("planned_ratio", "planned_ratio"), ("entry_prob", "entry_prob"),
                         ("direction_prob", "direction_prob"), ("expected_edge_bps", "predicted_edge_bps")):
        np.testing.assert_array_equal(opened[ours].to_numpy("float64"), trades[theirs].to_numpy("float64"))
    assert (opened["blocked_by"] == "").all() and (opened["failed_rules"] == "").all()
    blocked = decided[decided["side"] == NO_TRADE]
    assert (blocked["blocked_by"] != "").all() and (blocked["planned_ratio"] == 0).all()
    assert [rule in rules.split(",") for rule, rules in zip(blocked["blocked_by"], blocked["failed_rules"])] == \
        [True] * len(blocked)
    return opened


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=random_frames(), setup=random_setups())
def test_each_row_is_decided_as_the_backtest_decides_it(frame, setup):
    _, config, plan = setup
    assert_same_decisions(frame, entry_decisions(frame, config, plan), config, plan)


def test_many_rows_open_and_block_as_in_the_backtest():
    frame = random_search_frame(400, seed=3)
    config = pm_config_from_thresholds({"long_open_prob": 0.5, "short_open_prob": 0.5, "min_entry_prob": 0.5,
                                        "max_market_risk_prob": 0.65, "min_expected_edge_bps": 3.0,
                                        "min_direction_margin": 0.02})
    config = dataclasses.replace(config, sizing=dataclasses.replace(config.sizing, min_edge_bps=20.0))
    decisions = entry_decisions(frame, config, PLAN)
    opened = assert_same_decisions(frame, decisions, config, PLAN)
    assert len(opened) >= 20 and set(opened["side"]) == {"LONG", "SHORT"}
    rules = set(decisions["blocked_by"])
    assert {"long_open_prob", "min_entry_prob", "max_market_risk_prob", MIN_SIZED_EDGE} <= rules
    risk = decisions[decisions["blocked_by"] == "max_market_risk_prob"]
    assert (risk["blocked_value"] >= 0.65).all() and (risk["blocked_threshold"] == 0.65).all()


def test_a_hard_cap_below_the_smallest_ratio_blocks_every_row_that_passes_the_gates():
    frame = random_search_frame(200, seed=5)
    default = default_pm_config()
    config = dataclasses.replace(default, sizing=dataclasses.replace(default.sizing, max_loss_per_trade_bps=0.5))
    # cap 0.5 / 14.5 < min_initial_ratio 0.05
    decisions = entry_decisions(frame, config, PLAN)
    assert_same_decisions(frame, decisions, config, PLAN)
    capped = decisions[decisions["blocked_by"] == HARD_CAP]
    assert len(capped) >= 5 and (capped["failed_rules"] == HARD_CAP).all()
    assert capped["blocked_value"].tolist() == pytest.approx([0.5 / 14.5] * len(capped))


def predictions(n: int, seed: int) -> dict[str, pd.DataFrame]:
    """Model outputs of n rows and the entry dataset and labels the PM frame joins them with."""
    rng = np.random.default_rng(seed)
    key = {"sample_id": [f"s{i}" for i in range(n)], "symbol": "BTC", "split_id": "validation_locked",
           "event_time": T0 + pd.to_timedelta(np.arange(n), unit="min")}
    direction = rng.dirichlet([2, 2, 1], n)
    entry = {f"{s}_entry_prob": rng.uniform(0, 1, n) for s in ("long", "short")}
    entry |= {f"{s}_expected_net_edge_bps": rng.normal(5, 20, n) for s in ("long", "short")}
    labels = pd.DataFrame({"sample_id": np.repeat(key["sample_id"], 2), "side": ["LONG", "SHORT"] * n,
                           "gross_edge_bps": rng.normal(0, 20, 2 * n), "cost_bps": 6.5,
                           "target_hit": rng.integers(0, 2, 2 * n), "stop_hit": rng.integers(0, 2, 2 * n),
                           "time_to_target_ms": 60_000, "time_to_stop_ms": 60_000, "time_to_exit_ms": 60_000})
    return {
        "direction_pred": pd.DataFrame(key | {"long_prob": direction[:, 0], "short_prob": direction[:, 1],
                                              "neutral_prob": direction[:, 2]}),
        "entry_pred": pd.DataFrame(key | entry),
        "risk_pred": pd.DataFrame(key | {"market_risk_prob": rng.uniform(0, 0.8, n),
                                         "long_position_risk_prob": 0.1, "short_position_risk_prob": 0.1}),
        "entry_train": pd.DataFrame({"sample_id": key["sample_id"], "long_entry_target": 0, "short_entry_target": 0,
                                     "long_expected_net_edge_bps": 0.0, "short_expected_net_edge_bps": 0.0,
                                     "long_actual_plan_net_edge_bps": 0.0, "short_actual_plan_net_edge_bps": 0.0}),
        "entry_labels": labels,
    }


@pytest.mark.parametrize("plan", [PLAN, dataclasses.replace(PLAN, entry_target_method="OPPORTUNITY_MFE_V1")])
def test_the_decision_frame_trades_on_the_backtest_frames_edge(plan):
    """Predictions to decisions (``decision_frame`` + ``entry_decisions``, what ``trader decide`` runs) against
    predictions to backtest trades (``pm_frame`` + ``simulate_trades``), for both edge modes."""
    inputs = predictions(300, seed=11)
    backtest, backtest_mode = pm_frame(**inputs, price_plan=plan)
    live, live_mode = decision_frame(inputs["direction_pred"], inputs["entry_pred"], inputs["risk_pred"], plan)
    assert live_mode == backtest_mode
    shared = [c for c in backtest.columns if c.startswith(("pred_", "model_pred_")) or c.endswith("_prob")]
    pd.testing.assert_frame_equal(live[["sample_id", *shared]], backtest[["sample_id", *shared]])
    config = pm_config_from_thresholds({"long_open_prob": 0.4, "short_open_prob": 0.4, "min_entry_prob": 0.5,
                                        "max_market_risk_prob": 0.65, "min_expected_edge_bps": 3.0,
                                        "min_direction_margin": 0.02})
    opened = assert_same_decisions(backtest, entry_decisions(live, config, plan), config, plan)
    assert len(opened) >= 10

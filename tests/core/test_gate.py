"""The release gate: a significantly positive sealed edge, deflated by the looks at the sealed window, and the
words that explain a refusal."""

import numpy as np
import pytest

from trader_core import io, layout
from trader_core.config import CostConfig, EntryLabelConfig, RunSpec
from trader_core.config_mapping import from_mapping
from trader_core.labels.price_plan import build_price_plan
from trader_core.pm.gate import PASS, backtest_status, explain
from trader_core.pm.significance import edge_significance, required_statistic
from trader_core.sealed_ledger import record_run_look

GOOD = {"trade_count": 300, "avg_weighted_edge_bps": 1.0, "max_consecutive_losses": 3, "max_planned_ratio": 0.2,
        "profit_factor": 1.5}


def _edges_with_statistic(t: float) -> np.ndarray:
    """300 noisy trades shifted so that their mean is exactly ``t`` bootstrap standard errors (a shift leaves the
    bootstrap standard error unchanged)."""
    x = np.random.default_rng(1).normal(0.0, 10.0, 300)
    se = edge_significance(x).standard_error_bps
    return x - x.mean() + t * se


def _status(edges: np.ndarray, looks: int) -> tuple[str, list[str]]:
    sig = {split: edge_significance(edges, looks=looks).as_dict() for split in ("validation_locked", "latest_stress")}
    return backtest_status({"validation_locked": GOOD, "latest_stress": GOOD}, sig)


def test_an_edge_of_2_1_standard_errors_passes_at_look_1_and_not_at_look_2():
    edges = _edges_with_statistic(2.1)
    assert edge_significance(edges).statistic == pytest.approx(2.1, rel=1e-9)
    assert _status(edges, looks=1) == (PASS, [])
    assert _status(edges, looks=2) == ("FAIL", ["validation_locked_edge_not_significant"])
    assert required_statistic(2) > 2.1 > required_statistic(1)


def test_a_positive_mean_without_significance_is_refused_and_a_significant_loss_in_stress_too():
    weak = _edges_with_statistic(1.0)
    assert _status(weak, looks=1)[1] == ["validation_locked_edge_not_significant"]
    losing = {"latest_stress": edge_significance(_edges_with_statistic(-2.5)).as_dict(),
              "validation_locked": edge_significance(_edges_with_statistic(5.0)).as_dict()}
    _, reasons = backtest_status({"validation_locked": GOOD, "latest_stress": GOOD}, losing)
    assert reasons == ["latest_stress_edge_significantly_negative"]


def test_zero_trades_explain_the_plan_that_cannot_pay_its_costs():
    empty = {"trade_count": 0, "avg_weighted_edge_bps": 0.0}
    sig = edge_significance(np.array([])).as_dict()
    result = {"status": "FAIL", "looks": 1, "metrics": {"tune_inner": empty, "validation_locked": empty,
                                                        "latest_stress": empty},
              "significance": {"validation_locked": sig, "latest_stress": sig}, "min_edge_bps": 3.0}
    result["status_reasons"] = backtest_status(result["metrics"], result["significance"])[1]
    plan = build_price_plan(EntryLabelConfig(target_bps=12.0, stop_bps=8.0), CostConfig())  # cost 6.5
    lines = explain(result, plan=plan)
    assert lines[0].startswith("backtest FAIL: look 1 on this sealed window; validation_locked needs t >= 2.00")
    assert lines[1].startswith("  validation_locked: 0 trades, mean weighted edge 0.00 bps, t = nan")
    breakeven = (8.0 + 6.5 + 3.0) / (12.0 + 8.0)  # P(target) at which p T - (1 - p) S - cost = the minimum edge
    assert lines[-1].endswith(f"only when P(target) > {breakeven:.3f}. Widen labels.entry target_bps/stop_bps "
                              "(docs/trading.md)")


def test_a_changed_configuration_on_the_same_sealed_window_is_look_2(tmp_path):
    run_dir = tmp_path / "run"
    io.write_json(run_dir / layout.SPLIT_LOCK_FILE, {"sealed_boundaries": {"validation_locked": [10, 20]}})
    first = from_mapping(RunSpec, {"run_id": "a"})
    changed = from_mapping(RunSpec, {"run_id": "b", "labels": {"entry": {"target_bps": 40.0}}})
    assert record_run_look(run_dir, first, tmp_path, kind="backtest", what="t") == 1
    assert record_run_look(run_dir, first, tmp_path, kind="backtest", what="t") == 1  # a re-run is no new look
    assert record_run_look(run_dir, changed, tmp_path, kind="backtest", what="t") == 2
    io.write_json(run_dir / layout.SPLIT_LOCK_FILE, {"sealed_boundaries": {"validation_locked": [30, 40]}})
    assert record_run_look(run_dir, changed, tmp_path, kind="backtest", what="t") == 1  # another sealed window


def test_too_few_sealed_trades_say_so():
    few = {"trade_count": 1, "avg_weighted_edge_bps": 1.7}
    sig = edge_significance(np.array([1.7])).as_dict()
    result = {"status": "FAIL", "looks": 1, "metrics": {"validation_locked": few, "latest_stress": GOOD},
              "significance": {"validation_locked": sig, "latest_stress": sig}}
    result["status_reasons"] = backtest_status(result["metrics"], result["significance"])[1]
    assert "validation_locked_trade_count_below_20" in result["status_reasons"]
    assert explain(result)[-1] == ("  what to change: 1 trade(s) on a sealed split, 20 needed to judge it: a longer "
                                   "window (more sealed days) or a plan and PM thresholds that trade more often")

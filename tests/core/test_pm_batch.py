"""Batched PM candidate metrics equal the per-candidate reference (select_trades + metrics_from_arrays)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.test_pm import CASE_PLAN, T0, case_row, random_frames, random_search_frame, random_setups
from trader_core.contracts.price_plan import PricePlan
from trader_core.errors import ConfigError
from trader_core.experiments.nonlinear_pm import _search, expanded_threshold_candidates, probe_score
from trader_core.pm.batch import INT_KEYS, candidate_metrics, reference_metrics
from trader_core.pm.config import PMConfig, pm_config_from_thresholds, threshold_candidates
from trader_core.pm.metrics import METRIC_KEYS, metrics_from_arrays
from trader_core.pm.search import score_thresholds, search_thresholds
from trader_core.pm.simulate import PreparedFrame, select_trades

NAN = float("nan")
PROB_VALUES = [0.0, 0.1, 0.5, 0.55, 0.6, 0.62, 0.7, 0.7, 0.85, 0.9, 1.0, NAN]
EDGE_VALUES = [-8.0, -5.0, 0.0, 3.0, 4.0, 8.0, 15.0, 20.0, 20.0, 30.0, NAN]
EXIT_VALUES = [-1.0, 0.0, 60_000.0, 120_000.0, 300_000.0, 2_700_000.0, NAN]
MIRRORED = ("{s}_prob", "{s}_entry_prob", "pred_{s}_expected_net_edge_bps")


def seeded_frame(seed: int, n: int, has_exit: bool) -> pd.DataFrame:
    """A PM frame of n rows over 3 symbols with about 3 rows per minute (duplicate event times within and across
    symbols), NaN probabilities, edges and exits, a few NaN actual edges, and ~30% rows whose short side mirrors
    the long side (equal scores: the long-wins-tie rule)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "sample_id": [f"s{i}" for i in range(n)], "symbol": rng.choice(["ETH", "BTC", "SOL"], n),
        "event_time": T0 + pd.to_timedelta(rng.integers(0, n // 3 + 1, n), unit="min"), "split_id": "tune_inner",
        "market_risk_prob": rng.choice(PROB_VALUES, n)})
    for s in ("long", "short"):
        for template in MIRRORED[:2]:
            frame[template.format(s=s)] = rng.choice(PROB_VALUES, n)
        frame[f"pred_{s}_expected_net_edge_bps"] = rng.choice(EDGE_VALUES, n)
        frame[f"actual_{s}_plan_edge_bps"] = rng.choice(EDGE_VALUES, n)
        frame[f"{s}_trade_net_edge_bps"] = np.where(rng.random(n) < 0.02, NAN, rng.normal(0.0, 15.0, n))
        for name in ("entry_target", "target_hit", "stop_hit"):
            frame[f"{s}_{name}"] = rng.integers(0, 2, n)
        for name in ("time_to_target_ms", "time_to_stop_ms", "time_to_exit_ms"):
            frame[f"{s}_{name}"] = rng.choice(EXIT_VALUES, n)
    mirror = rng.random(n) < 0.3
    for template in MIRRORED:
        frame.loc[mirror, template.format(s="short")] = frame.loc[mirror, template.format(s="long")]
    return frame if has_exit else frame.drop(columns=["long_time_to_exit_ms", "short_time_to_exit_ms"])


def assert_same_metrics(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Integers exactly, floats to 1e-9 relative (NaN and inf where the reference has them)."""
    assert list(got.columns) == list(METRIC_KEYS) and len(got) == len(want)
    assert got.dtypes.to_dict() == want.dtypes.to_dict()
    for key in METRIC_KEYS:
        if key in INT_KEYS:
            np.testing.assert_array_equal(got[key].to_numpy(), want[key].to_numpy(), err_msg=key)
        else:
            np.testing.assert_allclose(got[key].to_numpy(), want[key].to_numpy(), rtol=1e-9, atol=0.0,
                                       equal_nan=True, err_msg=key)


def check_batch(frame: pd.DataFrame, setups: list[tuple[dict, PMConfig, PricePlan]], use_configs: bool) -> None:
    prepared = PreparedFrame.build(frame, setups[0][2])
    candidates = [t for t, _, _ in setups]
    configs = [config for _, config, _ in setups] if use_configs else None
    assert_same_metrics(candidate_metrics(prepared, candidates, configs),
                        reference_metrics(prepared, candidates, configs))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), has_exit=st.booleans(),
       setups=st.lists(random_setups(), min_size=1, max_size=12), use_configs=st.booleans())
def test_batch_matches_reference_on_seeded_frames(seed, n, has_exit, setups, use_configs):
    check_batch(seeded_frame(seed, n, has_exit), setups, use_configs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=random_frames(), setups=st.lists(random_setups(), min_size=1, max_size=8), use_configs=st.booleans())
def test_batch_matches_reference_on_drawn_frames(frame, setups, use_configs):
    check_batch(frame, setups, use_configs)


def test_batch_matches_reference_on_the_expanded_grid():
    prepared = PreparedFrame.build(random_search_frame(1500, seed=5), CASE_PLAN)
    candidates = expanded_threshold_candidates()[::23]
    got = candidate_metrics(prepared, candidates)
    assert_same_metrics(got, reference_metrics(prepared, candidates))
    assert got["trade_count"].gt(0).any() and got["trade_count"].eq(0).any()


def test_empty_selection_is_all_zeros():
    closed = threshold_candidates()[-1] | {"long_open_prob": 1.01, "short_open_prob": 1.01}
    frame = pd.DataFrame([case_row(), case_row(sample_id="s1", symbol="ETH-USDT-PERP")])
    empty = metrics_from_arrays(np.array([]), np.array([]), np.array([]))
    for rows in (frame, frame.iloc[:0]):
        prepared = PreparedFrame.build(rows, None)
        got = candidate_metrics(prepared, [closed, closed])
        assert got.to_dict("records") == [empty, empty]
        assert [type(v) for v in got.to_dict("records")[0].values()] == [type(v) for v in empty.values()]
        assert len(select_trades(prepared, closed, pm_config_from_thresholds(closed)).positions) == 0
    with pytest.raises(ValueError, match="PM configs"):
        candidate_metrics(PreparedFrame.build(frame, None), [closed], [])


@pytest.mark.parametrize("explicit_configs", [False, True])
def test_bad_candidate_is_a_config_error_naming_the_key(explicit_configs):
    good = threshold_candidates()[0]
    bad = {k: v for k, v in good.items() if k != "min_entry_prob"}
    configs = [pm_config_from_thresholds(good)] * 2 if explicit_configs else None
    with pytest.raises(ConfigError, match="min_entry_prob"):
        candidate_metrics(PreparedFrame.build(pd.DataFrame([case_row()]), None), [good, bad], configs)


def test_search_table_matches_per_candidate_loop():
    frame = random_search_frame(400, seed=7)
    plan = CASE_PLAN
    candidates = threshold_candidates()[::5]
    result = search_thresholds(frame, plan, candidates=candidates, min_trades=5)
    metrics = reference_metrics(PreparedFrame.build(frame, plan), candidates).to_dict("records")
    want = pd.DataFrame([{**t, **m, "score": score_thresholds(m, 5)} for t, m in zip(candidates, metrics, strict=True)])
    pd.testing.assert_frame_equal(result.candidates, want, check_exact=False, rtol=1e-9, atol=0.0)
    assert result.best_thresholds == candidates[int(np.argmax(want["score"].to_numpy()))]


def test_nonlinear_search_matches_per_candidate_loop():
    prepared = PreparedFrame.build(random_search_frame(600, seed=11), CASE_PLAN)
    candidates = expanded_threshold_candidates()[::41]
    metrics = reference_metrics(prepared, candidates).to_dict("records")
    want = pd.DataFrame([{**t, **m, "score": probe_score(m)} for t, m in zip(candidates, metrics, strict=True)])
    pd.testing.assert_frame_equal(_search(prepared, candidates), want, check_exact=False, rtol=1e-9, atol=0.0)

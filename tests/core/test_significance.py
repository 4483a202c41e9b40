"""Significance of the sealed edge (block bootstrap, Sidak deflation by looks) and the ledger of looks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping
from trader_core.errors import ArtifactError
from trader_core.pm.significance import deflate, edge_significance, required_statistic
from trader_core.sealed_ledger import config_key, ledger_path, read_looks, record_look, window_key


def test_deflation_is_the_identity_at_one_look_and_stricter_after():
    assert deflate(0.01, 1)[0] == pytest.approx(0.01, rel=1e-12)
    assert deflate(0.01, 2)[0] == pytest.approx(1 - 0.99 ** 2, rel=1e-12)
    assert required_statistic(1) == pytest.approx(2.0, abs=1e-9)
    for looks in (2, 10):  # Sidak: each of k looks gets 1 - (1 - alpha)^(1/k), alpha = P(Z > 2) = 0.02275
        per_look = 1 - (1 - 0.022750131948179195) ** (1 / looks)
        assert required_statistic(looks) == pytest.approx(float(norm.isf(per_look)), rel=1e-12)
    assert 2.27 < required_statistic(2) < 2.28 and 2.83 < required_statistic(10) < 2.84


@settings(max_examples=50, deadline=None)
@given(st.floats(1e-12, 0.5), st.integers(1, 50))
def test_a_deflated_statistic_never_exceeds_the_undeflated_one(p, looks):
    p_k, z_k = deflate(p, looks)
    p_more, z_more = deflate(p, looks + 1)
    assert p <= p_k + 1e-15 and p_k <= p_more + 1e-15
    assert z_more <= z_k + 1e-9


def test_iid_returns_get_the_textbook_standard_error_and_a_consistent_p_value():
    x = np.random.default_rng(3).normal(1.0, 10.0, 2000)
    sig = edge_significance(x)
    assert sig.standard_error_bps == pytest.approx(10.0 / math.sqrt(2000), rel=0.15)
    assert sig.statistic == pytest.approx(x.mean() / sig.standard_error_bps, rel=1e-12)
    assert sig.p_value == pytest.approx(0.5 * math.erfc(sig.statistic / math.sqrt(2)), rel=1e-9)
    assert sig.interval_bps[0] < x.mean() < sig.interval_bps[1]
    assert edge_significance(x) == sig  # seeded: the same trades give the same figures


def test_serially_dependent_returns_get_a_wider_standard_error_than_iid_ones():
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 1, 3000)
    ar = np.empty_like(noise)
    ar[0] = noise[0]
    for i in range(1, len(ar)):  # AR(1) with phi 0.8: building test data
        ar[i] = 0.8 * ar[i - 1] + noise[i]
    naive = ar.std(ddof=1) / math.sqrt(len(ar))
    assert edge_significance(ar).standard_error_bps > 2.0 * naive


def test_no_edge_is_not_significant_and_looks_make_the_gate_stricter():
    flat = np.random.default_rng(9).normal(0.0, 10.0, 400)
    assert edge_significance(flat).deflated_statistic < 2.0
    strong = np.random.default_rng(9).normal(2.0, 10.0, 400)
    one, ten = edge_significance(strong, looks=1), edge_significance(strong, looks=10)
    assert one.statistic == ten.statistic and ten.deflated_statistic < one.deflated_statistic
    assert one.deflated_statistic == pytest.approx(one.statistic, rel=1e-9)


def test_too_few_trades_are_never_significant():
    sig = edge_significance(np.array([50.0]))
    assert sig.trades == 1 and sig.deflated_statistic == -math.inf and sig.p_value == 1.0


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_a_handful_of_trades_gets_independent_draws_instead_of_an_estimator_error(n):
    x = np.random.default_rng(n).normal(1.0, 3.0, n)
    sig = edge_significance(x)
    assert sig.block_length == 1.0 and sig.trades == n and np.isfinite(sig.standard_error_bps)


def _spec(**changes) -> RunSpec:
    return from_mapping(RunSpec, {"run_id": "a", **changes})


def test_ledger_counts_distinct_configurations_per_window(tmp_path):
    spec = _spec()
    window = window_key(spec, {"validation_locked": [1, 2]})
    config = config_key(spec)
    assert config_key(_spec(run_id="b")) == config  # the run id is not part of the configuration
    assert record_look(tmp_path, window=window, config=config, run_id="a", kind="backtest", what="sealed") == 1
    assert record_look(tmp_path, window=window, config=config, run_id="a", kind="backtest", what="sealed") == 1
    assert len(read_looks(tmp_path)) == 1  # the same look is recorded once
    changed = config_key(_spec(costs={"fee_bps": 5.0}))
    assert record_look(tmp_path, window=window, config=changed, run_id="c", kind="backtest", what="sealed") == 2
    other = window_key(_spec(symbols=["BTC-USDT-PERP"]), {"validation_locked": [1, 2]})
    assert record_look(tmp_path, window=other, config=changed, run_id="d", kind="backtest", what="sealed") == 1


def test_a_corrupt_ledger_line_is_named(tmp_path):
    path = ledger_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{"window": "w"}\nnot json\n')
    with pytest.raises(ArtifactError, match=r"sealed_looks.jsonl:2: corrupt ledger line"):
        read_looks(tmp_path)

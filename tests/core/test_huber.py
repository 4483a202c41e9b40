"""The copy-free Huber regression against sklearn's loss (slow reference) and sklearn's HuberRegressor."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import HuberRegressor
from sklearn.linear_model._huber import _huber_loss_and_gradient as sklearn_huber_loss

from trader_core.models.huber import FastHuberRegressor, huber_loss_and_gradient


def _data(seed: int, rows: int = 400, features: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    y = x @ rng.normal(size=features) + 0.5 + rng.standard_t(2, size=rows)  # heavy tails: outliers on both sides
    return x, y


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), sigma=st.floats(0.05, 20.0), epsilon=st.floats(1.0, 3.0),
       alpha=st.floats(0.0, 1.0))
def test_loss_and_gradient_equal_sklearns(seed, sigma, epsilon, alpha):
    x, y = _data(seed, rows=120, features=4)
    params = np.append(np.random.default_rng(seed + 1).normal(size=5), sigma)
    loss, grad = huber_loss_and_gradient(params, x, y, epsilon, alpha)
    ref_loss, ref_grad = sklearn_huber_loss(params, x, y, epsilon, alpha, np.ones(len(y)))
    assert loss == pytest.approx(ref_loss, rel=1e-10, abs=1e-9)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_matches_sklearn_huber_regressor(seed):
    x, y = _data(seed)
    ours = FastHuberRegressor(alpha=0.001, epsilon=1.35, max_iter=500).fit(x, y)
    ref = HuberRegressor(alpha=0.001, epsilon=1.35, max_iter=500).fit(x, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-4)
    assert ours.scale_ == pytest.approx(ref.scale_, rel=1e-4)
    np.testing.assert_allclose(ours.predict(x), ref.predict(x), atol=1e-3)
    assert (ours.outliers_ == ref.outliers_).mean() > 0.99


def test_max_iter_reached_warns_like_sklearn():
    x, y = _data(3)
    with pytest.warns(ConvergenceWarning):
        FastHuberRegressor(max_iter=2).fit(x, y)


def test_non_finite_input_is_refused():
    x, y = _data(4)
    x[5, 2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        FastHuberRegressor().fit(x, y)

"""binary_auc (rank form) against sklearn's roc_auc_score (slow reference)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from trader_core.models.metrics import binary_auc, safe_auc


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(2, 400), levels=st.sampled_from([2, 5, 50, 0]),
       labels=st.sampled_from(["int", "bool", "float", "signed"]))
def test_binary_auc_equals_sklearn(seed, n, levels, labels):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    # levels 0: continuous scores; otherwise few distinct values (many ties)
    score = rng.normal(size=n) + 0.7 * y if levels == 0 else rng.integers(0, levels, n) + 0.5 * y
    y_in = {"int": y, "bool": y.astype(bool), "float": y.astype(float), "signed": 2 * y - 1}[labels]
    assert binary_auc(y_in, score) == pytest.approx(roc_auc_score(y_in, score), abs=1e-12)


def test_binary_auc_refuses_bad_input():
    with pytest.raises(ValueError, match="two classes"):
        binary_auc(np.ones(5), np.arange(5.0))
    with pytest.raises(ValueError, match="NaN"):
        binary_auc(np.array([0, 1, 0]), np.array([0.1, np.nan, 0.3]))
    with pytest.raises(ValueError, match="equal-length"):
        binary_auc(np.array([0, 1, 0]), np.array([0.1, 0.3]))


def test_safe_auc_is_none_where_the_auc_is_undefined():
    assert safe_auc(np.array([1, 1, 1]), np.array([0.1, 0.2, 0.3])) is None  # one class
    assert safe_auc(np.array([1]), np.array([0.4])) is None  # one row
    y, score = np.array([0, 1, 0, 1, 1]), np.array([0.2, 0.9, 0.4, 0.3, 0.8])
    assert safe_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)

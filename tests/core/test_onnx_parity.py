"""ONNX parity on real feature ranges: the double graph against the float32 one, and the check's single bound.

Features follow what markets produce (docs/models.md, "Checks"): returns and ranges of hundreds to ±2000 bps,
large volumes with a small relative spread, and all-zero columns (absent optional tables). Heads are folded
from standardized weights exactly as training folds them (float64), and the "trained" predictions are computed
the way training computes them: the float64 evaluation of the head on the float32 features, stored as float32.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper
from sklearn.preprocessing import StandardScaler

from trader_core.contracts.features import FEATURE_COUNT
from trader_core.contracts.models import ONNX_INPUT_NAME, ONNX_OUTPUT_NAME
from trader_core.models.checks import prediction_parity
from trader_core.models.heads import ACTIVATIONS, LinearHead
from trader_core.models.inference import make_session
from trader_core.models.onnx_export import build_model, model_bytes
from trader_core.models.training import fold_scaler

F = FEATURE_COUNT
WIDTH = {"softmax": 3, "sigmoid": 1, "identity": 1}


def market_features(rng: np.random.Generator, *, rows: int, ret_bps: float, volume: float,
                    zero_columns: int) -> np.ndarray:
    """float32 [rows, F]: signed returns (heavy-tailed, clipped to ±2000 bps), ranges, volumes, zero columns."""
    x = np.zeros((rows, F))
    live = F - zero_columns
    n_ret, n_range = live // 2, live // 4
    x[:, :n_ret] = np.clip(rng.standard_t(3, (rows, n_ret)) * ret_bps, -2000.0, 2000.0)
    x[:, n_ret:n_ret + n_range] = np.minimum(np.abs(rng.normal(0.0, ret_bps, (rows, n_range))), 2000.0)
    x[:, n_ret + n_range:live] = volume * rng.lognormal(0.0, 0.05, (rows, live - n_ret - n_range))
    return x.astype(np.float32)


def trained_head(rng: np.random.Generator, x: np.ndarray, *, kind: str,
                 weight_scale: float) -> tuple[LinearHead, np.ndarray]:
    """A head folded from standardized weights (training.fold_scaler) and its training-style predictions."""
    x64 = x.astype(np.float64)
    scaler = StandardScaler().fit(x64[: len(x) // 2])
    w_scaled = rng.normal(0.0, weight_scale, (F, WIDTH[kind]))
    b_scaled = rng.normal(0.0, weight_scale, WIDTH[kind])
    head = LinearHead("head", kind, *fold_scaler(w_scaled, b_scaled, scaler))
    return head, head.predict(x64).astype(np.float32)


def run_graph(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    return make_session(model_bytes(model)).run([ONNX_OUTPUT_NAME], {ONNX_INPUT_NAME: x})[0]


def float32_graph(head: LinearHead) -> onnx.ModelProto:
    """The exporter's graph before the double computation: float32 initializers, MatMul -> Add -> activation in
    float32."""
    op = {"softmax": "Softmax", "sigmoid": "Sigmoid", "identity": "Identity"}[head.kind]
    attrs = {"axis": 1} if head.kind == "softmax" else {}
    nodes = [helper.make_node("MatMul", [ONNX_INPUT_NAME, "W"], ["mm"]),
             helper.make_node("Add", ["mm", "B"], ["z"]),
             helper.make_node(op, ["z"], [ONNX_OUTPUT_NAME], **attrs)]
    graph = helper.make_graph(
        nodes, "float32_heads",
        [helper.make_tensor_value_info(ONNX_INPUT_NAME, TensorProto.FLOAT, ["batch", F])],
        [helper.make_tensor_value_info(ONNX_OUTPUT_NAME, TensorProto.FLOAT, ["batch", head.width])],
        initializer=[numpy_helper.from_array(head.weight.astype(np.float32), "W"),
                     numpy_helper.from_array(head.bias.astype(np.float32), "B")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def parity(model: onnx.ModelProto, x: np.ndarray, expected: np.ndarray) -> tuple[bool, dict]:
    return prediction_parity(got=run_graph(model, x), expected=expected)


@pytest.mark.parametrize("kind", ACTIVATIONS)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), ret_bps=st.floats(1.0, 900.0), volume=st.floats(1.0, 1e7),
       zero_columns=st.integers(0, 8), weight_scale=st.floats(0.01, 60.0))
def test_parity_holds_on_market_ranges(kind: str, seed: int, ret_bps: float, volume: float, zero_columns: int,
                                       weight_scale: float) -> None:
    rng = np.random.default_rng(seed)
    x = market_features(rng, rows=256, ret_bps=ret_bps, volume=volume, zero_columns=zero_columns)
    head, expected = trained_head(rng, x, kind=kind, weight_scale=weight_scale)
    passed, details = parity(build_model([head], F), x, expected)
    assert passed, details


def test_a_bps_head_on_real_ranges_fails_the_float32_graph_and_passes_the_double_graph() -> None:
    rng = np.random.default_rng(17)
    x = market_features(rng, rows=2000, ret_bps=300.0, volume=2e6, zero_columns=6)
    head, expected = trained_head(rng, x, kind="identity", weight_scale=30.0)
    old_passed, old = parity(float32_graph(head), x, expected)
    new_passed, new = parity(build_model([head], F), x, expected)
    assert not old_passed and old["max_tolerance_ratio"] > 10.0, old
    # Both sides are float32 roundings of the same float64 value: equal, or one ulp (<= eps32 * |v|) apart.
    assert new_passed and new["max_tolerance_ratio"] <= 0.25, new


def test_a_wrong_weight_fails_the_check() -> None:
    rng = np.random.default_rng(3)
    x = market_features(rng, rows=500, ret_bps=100.0, volume=1e5, zero_columns=2)
    head, expected = trained_head(rng, x, kind="identity", weight_scale=10.0)
    weight = head.weight.copy()
    weight[0, 0] *= 1.001
    passed, details = parity(build_model([LinearHead(head.name, head.kind, weight, head.bias)], F), x, expected)
    assert not passed and details["max_tolerance_ratio"] > 1.0, details


def test_an_empty_input_fails_the_check() -> None:
    passed, details = prediction_parity(got=np.zeros((0, 1), np.float32), expected=np.zeros((0, 1)))
    assert not passed and details["rows"] == 0, details

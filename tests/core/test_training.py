"""Head training (docs/models.md, "Training"): the worked cases (Huber settings, actual-plan regression targets,
conditional ENTRY fit rows); constant heads; scaler folding; conformance."""

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from trader_core.config import ModelConfig
from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.labels import dataset_columns
from trader_core.contracts.models import DIRECTION, ENTRY, MODEL_OUTPUTS, TARGETS
from trader_core.errors import DataContractError
from trader_core.models.checks import prediction_parity
from trader_core.models.frozen import predict_frozen
from trader_core.models.inference import InferenceEngine
from trader_core.models.onnx_export import export_heads, load_heads
from trader_core.models.training import fold_scaler, head_train_mask, train_model

SPLITS = ("fit_inner", "tune_inner", "validation_locked", "latest_stress")


def random_dataset(model: str, n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """A dataset with the model's columns: features with very different scales, labels tied to feature 0."""
    rng = np.random.default_rng(seed)
    spec = TARGETS[model]
    frame = pd.DataFrame({
        "sample_id": [f"S:{i}" for i in range(n)], "symbol": "S",
        "event_time": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="min"),
        "open_time_ms": np.arange(n, dtype=np.int64), "split_id": np.repeat(SPLITS, n // 4),
        "walk_forward_fold": "NO_FOLD"})
    scales = np.logspace(-2, 4, len(FEATURE_ORDER))
    x = rng.normal(size=(n, len(FEATURE_ORDER))) * scales
    for j, name in enumerate(FEATURE_ORDER):
        frame[name] = x[:, j].astype(np.float32)
    signal = x[:, 0] / scales[0] + 0.5 * rng.normal(size=n)
    for column in dataset_columns(spec.dataset)[len(FEATURE_ORDER) + 6:]:
        frame[column] = ((signal > 0) if column.endswith("target") else 5 * signal).astype(float)
    if model == DIRECTION:
        frame["long_target"] = (signal > 0.5).astype(float)
        frame["short_target"] = (signal < -0.5).astype(float)
        frame["neutral_target"] = 1.0 - frame["long_target"] - frame["short_target"]
    return frame


@pytest.mark.parametrize("model", list(TARGETS))
def test_every_head_exports_with_parity(tmp_path, model):
    """Export -> onnxruntime passes the parity check on every split; the frozen reader (the same float64
    evaluation, cast to float32) reproduces the stored predictions bit for bit."""
    data = random_dataset(model)
    trained = train_model(TARGETS[model], data)
    path = tmp_path / f"{model}.onnx"
    export_heads(path, trained.heads, len(FEATURE_ORDER), fields=MODEL_OUTPUTS[model])
    x = data[list(FEATURE_ORDER)].to_numpy(np.float32)
    expected = trained.predictions[list(MODEL_OUTPUTS[model])].to_numpy()
    onnx_out = ort.InferenceSession(str(path)).run(["prediction"], {"features": x})[0]
    passed, details = prediction_parity(got=onnx_out, expected=expected)
    assert passed, details
    np.testing.assert_array_equal(predict_frozen(path, x), expected)
    for head in trained.heads:
        assert trained.fit[head.name]["converged"]


@pytest.mark.parametrize("model", list(TARGETS))
def test_trained_predictions_are_the_float64_evaluation_of_the_exported_heads(tmp_path, model):
    """Training rounds nothing before the export (docs/models.md, "Checks"): the exported initializers are its
    float64 weights, and its predictions are their float64 evaluation on the float32 features, stored as float32
    like the graph's output. A float32 standardization or float32 weights put ulps between the two."""
    data = random_dataset(model)
    trained = train_model(TARGETS[model], data)
    path = tmp_path / f"{model}.onnx"
    export_heads(path, trained.heads, len(FEATURE_ORDER), fields=MODEL_OUTPUTS[model])
    exported = load_heads(path)
    for ours, theirs in zip(trained.heads, exported, strict=True):
        assert ours.weight.dtype == ours.bias.dtype == np.float64
        np.testing.assert_array_equal(theirs.weight, ours.weight)
        np.testing.assert_array_equal(theirs.bias, ours.bias)
    x = data[list(FEATURE_ORDER)].to_numpy(np.float32)
    reference = np.concatenate([h.predict(x) for h in exported], axis=1)
    stored = trained.predictions[list(MODEL_OUTPUTS[model])]
    assert (stored.dtypes == np.float32).all()
    np.testing.assert_array_equal(stored.to_numpy(), reference.astype(np.float32))


def test_fold_scaler_equals_scaled_model():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 4)) * [1, 10, 100, 0]  # a constant column: scale 0 counts as 1
    scaler = StandardScaler().fit(x)
    w_s, b_s = rng.normal(size=(4, 2)), rng.normal(size=2)
    w, b = fold_scaler(w_s, b_s, scaler)
    np.testing.assert_allclose(x @ w + b, scaler.transform(x) @ w_s + b_s, atol=1e-9)


def test_case_20_entry_regression_heads_train_on_actual_plan_edge():
    heads = {h.name: h for h in TARGETS[ENTRY].heads}
    assert heads["long_expected_net_edge_bps"].target == ("long_actual_plan_net_edge_bps",)
    assert heads["short_expected_net_edge_bps"].target == ("short_actual_plan_net_edge_bps",)
    assert heads["long_entry_prob"].target == ("long_entry_target",)


def test_case_13_huber_settings_echo_and_regression_metrics():
    config = ModelConfig(huber_alpha=0.002, huber_epsilon=1.10, huber_max_iter=100)
    trained = train_model(TARGETS[ENTRY], random_dataset(ENTRY), config)
    metrics = trained.metrics["long_expected_net_edge_bps"]
    assert {"mae", "constant_mae", "mae_vs_constant_ratio", "train_target_median"} <= set(metrics)
    assert metrics["target_source"] == "long_actual_plan_net_edge_bps"
    assert metrics["mae_vs_constant_ratio"] < 1.0  # the label is linear in feature 0


def test_case_21_conditional_entry_direction_label_rows():
    train = pd.DataFrame({"long_target": [1, 0, 1, 0], "short_target": [0, 1, 0, 1]})
    heads = {h.name: h for h in TARGETS[ENTRY].heads}
    on = ModelConfig(conditional_entry_source="direction_label", conditional_entry_min_fit_rows=1)
    mask, name = head_train_mask(ENTRY, heads["long_entry_prob"], train, on)
    assert mask.tolist() == [True, False, True, False] and name == "DIRECTION_LABEL_LONG_FIT_ROWS"
    mask, name = head_train_mask(ENTRY, heads["short_entry_prob"], train, on)
    assert mask.tolist() == [False, True, False, True] and name == "DIRECTION_LABEL_SHORT_FIT_ROWS"
    mask, name = head_train_mask(ENTRY, heads["long_entry_prob"], train, ModelConfig())
    assert mask.all() and name == "ALL_FIT_ROWS"


def test_case_22_conditional_entry_side_opportunity_rows():
    train = pd.DataFrame({"long_max_achievable_net_edge_bps": [45, 10, 60, 39],
                          "short_max_achievable_net_edge_bps": [8, 42, 15, 80]})
    heads = {h.name: h for h in TARGETS[ENTRY].heads}
    config = ModelConfig(conditional_entry_source="side_opportunity", conditional_entry_min_fit_rows=1)
    mask, name = head_train_mask(ENTRY, heads["long_entry_prob"], train, config)
    assert mask.tolist() == [True, False, True, False] and name == "SIDE_OPPORTUNITY_LONG_GE_40_BPS_FIT_ROWS"
    mask, name = head_train_mask(ENTRY, heads["short_expected_net_edge_bps"], train, config)
    assert mask.tolist() == [False, True, False, True] and name == "SIDE_OPPORTUNITY_SHORT_GE_40_BPS_FIT_ROWS"
    with pytest.raises(ValueError, match="too few fit rows after SIDE_OPPORTUNITY_LONG_GE_40_BPS_FIT_ROWS"):
        head_train_mask(ENTRY, heads["long_entry_prob"], train, ModelConfig(conditional_entry_source="side_opportunity"))


def test_one_class_binary_head_is_constant_at_clipped_prevalence():
    data = random_dataset(ENTRY)
    data["long_entry_target"] = 0.0
    trained = train_model(TARGETS[ENTRY], data)
    head = next(h for h in trained.heads if h.name == "long_entry_prob")
    assert not head.weight.any()
    np.testing.assert_allclose(trained.predictions["long_entry_prob"], 1e-6, rtol=1e-3)


def test_bad_datasets_are_refused():
    data = random_dataset(DIRECTION)
    with pytest.raises(DataContractError, match="no fit_inner rows"):
        train_model(TARGETS[DIRECTION], data[data["split_id"] != "fit_inner"])
    with pytest.raises(DataContractError, match="empty"):
        train_model(TARGETS[DIRECTION], data.iloc[:0])
    broken = data.copy()
    broken.loc[3, FEATURE_ORDER[2]] = np.inf
    with pytest.raises(DataContractError, match="non-finite"):
        train_model(TARGETS[DIRECTION], broken)


def test_inference_engine_on_a_trained_bundle(tmp_path):
    bundle = tmp_path / "model"
    rows = {}
    for model in TARGETS:
        data = random_dataset(model, seed=5)
        trained = train_model(TARGETS[model], data)
        name = model.lower()
        export_heads(bundle / name / f"{name}.onnx", trained.heads, len(FEATURE_ORDER), fields=MODEL_OUTPUTS[model])
        rows[model] = (data[list(FEATURE_ORDER)].to_numpy(np.float32)[:5],
                       trained.predictions[list(MODEL_OUTPUTS[model])].to_numpy()[:5])
    engine = InferenceEngine.from_bundle(bundle)
    for model, (x, expected) in rows.items():
        np.testing.assert_allclose(engine.predict(x)[model], expected, atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(engine.predict(x[0])[model][0], expected[0], atol=1e-5, rtol=1e-5)
    with pytest.raises(DataContractError, match="41"):
        engine.predict(np.zeros((1, 40), np.float32))

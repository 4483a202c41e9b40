"""Butterfly model: training contract (scaler on fit_inner, class values, expected ROI), ONNX export through the
project's exporter with parity against sklearn, the exported contract, monitoring and the reports."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from trader_core.butterfly_config import SamplingSection, SyntheticSection
from trader_core.contracts.butterfly import (
    BUTTERFLY_FEATURE_ORDER,
    OUTPUT_FIELDS,
    STRATEGY,
    butterfly_feature_order_hash,
)
from trader_core.butterfly.inference import get_inference_engine
from trader_core.butterfly.model import contract_of, export, feature_matrix, train
from trader_core.butterfly.pipeline import (
    ButterflyConfig,
    build_features,
    generate_market,
    monitor,
    run,
    sample_and_label,
)
from trader_core.butterfly.report import markdown, summary, write_plots
from trader_core.contracts.versions import FIT_SPLIT, TRAINING_SPLITS
from trader_core.errors import ArtifactError, DataContractError
from trader_core.models.frozen import predict_frozen
from trader_core.models.heads import LinearHead
from trader_core.models.onnx_export import export_heads, load_heads, metadata, read_model


@pytest.fixture(scope="module")
def result():
    return run(ButterflyConfig())


@pytest.fixture(scope="module")
def onnx_path(result, tmp_path_factory):
    path = tmp_path_factory.mktemp("bf") / "butterfly.onnx"
    export(result.trained, path)
    return path


@pytest.fixture(scope="module")
def engine(onnx_path):
    return get_inference_engine(onnx_path.parent)


def test_scaler_on_fit_rows_class_values_and_expected_roi(result):
    trained, data = result.trained, result.dataset
    fit = data[data["split_id"] == FIT_SPLIT]
    np.testing.assert_allclose(trained.scaler.mean_, fit[list(BUTTERFLY_FEATURE_ORDER)].to_numpy(np.float32).mean(0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trained.class_values, fit.groupby("label")["roi"].mean().reindex(range(4)).to_numpy())
    assert trained.class_values[0] < -0.10 <= trained.class_values[1] < 0.05 <= trained.class_values[2] < 0.15 \
        <= trained.class_values[3]
    pred = trained.predictions
    assert set(pred["split_id"]) == set(TRAINING_SPLITS)
    proba = pred[list(OUTPUT_FIELDS)].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(pred["expected_roi"], proba @ trained.class_values)
    assert trained.fit["converged"] and trained.fit["class_weight"] == "balanced"


def test_feature_matrix_is_the_column_selection_in_its_memory_layout(result):
    """The fit depends on the layout of its input, so the column-by-column build must equal pandas' selection."""
    expected = result.dataset[list(BUTTERFLY_FEATURE_ORDER)].to_numpy(dtype=np.float32)
    got = feature_matrix(result.dataset)
    np.testing.assert_array_equal(got, expected)
    assert (got.flags.f_contiguous, got.flags.c_contiguous) == (expected.flags.f_contiguous,
                                                                expected.flags.c_contiguous)


def test_onnx_parity_with_sklearn(result, onnx_path, engine):
    data = result.dataset[result.dataset["split_id"].isin(TRAINING_SPLITS)]
    x = data[list(BUTTERFLY_FEATURE_ORDER)].to_numpy(np.float32)
    sklearn = result.trained.estimator.predict_proba(result.trained.scaler.transform(x))
    onnx_out = ort.InferenceSession(str(onnx_path)).run(["prediction"], {"features": x})[0]
    np.testing.assert_allclose(onnx_out, sklearn, atol=1e-5, rtol=0)
    np.testing.assert_allclose(engine.predict_proba(data), sklearn, atol=1e-5, rtol=0)
    np.testing.assert_allclose(predict_frozen(onnx_path, x), sklearn, atol=1e-5, rtol=0)


def test_exported_contract(result, onnx_path, tmp_path):
    props = metadata(read_model(onnx_path))
    assert props["strategy"] == STRATEGY and props["feature_order_hash"] == butterfly_feature_order_hash()
    assert props["fields"] == '["p_loss", "p_marginal", "p_good", "p_excellent"]'
    contract = contract_of(read_model(onnx_path), str(onnx_path))
    np.testing.assert_allclose(contract["class_values"], result.trained.class_values)
    (head,) = load_heads(onnx_path)
    assert (head.kind, head.width, head.weight.shape) == ("softmax", 4, (23, 4))
    assert export(result.trained, tmp_path / "again.onnx") == export(result.trained, tmp_path / "twice.onnx")
    perp = tmp_path / "perp.onnx"
    export_heads(perp, [LinearHead("h", "softmax", np.zeros((23, 4)), np.zeros(4))], 23)
    with pytest.raises(ArtifactError, match="not a butterfly model"):
        contract_of(read_model(perp), str(perp))


def test_absent_class_gets_no_probability(result):
    data = result.dataset.copy()
    fit = data["split_id"] == FIT_SPLIT
    data.loc[fit & (data["label"] == 2), "label"] = 1
    trained = train(data)
    assert trained.fit["classes_present"] == [0, 1, 3]
    assert trained.predictions["p_good"].max() < 1e-9 and trained.head.bias[2] == -30.0
    with pytest.raises(DataContractError, match="only class"):
        train(data.assign(label=np.where(fit, 3, data["label"])))


def test_monitoring_predicted_vs_realized(result, engine):
    rows = result.dataset[result.dataset["split_id"] == "latest_stress"]
    report = monitor(engine, rows)
    expected = engine.predict_proba(rows).astype(float) @ result.trained.class_values
    realized = rows["roi"].to_numpy()
    overall = report["all_rows"]
    assert overall["rows"] == len(rows)
    assert overall["mean_predicted_roi"] == pytest.approx(expected.mean(), abs=1e-6)
    assert overall["abs_deviation"] == pytest.approx(abs(expected.mean() - realized.mean()), abs=1e-6)
    assert overall["predicted_success"] == int((expected > 0.15).sum())
    assert overall["actual_success"] == int((realized > 0).sum())
    assert overall["success_accuracy"] == pytest.approx(np.mean((expected > 0.15) == (realized > 0)))
    traded = report["traded_rows"]
    backtest = result.backtest["splits"]["latest_stress"]
    assert traded["rows"] == backtest["trades"] and traded["mean_realized_roi"] == pytest.approx(backtest["mean_roi"])
    with pytest.raises(DataContractError, match="no rows"):
        monitor(engine, rows.head(0))
    with pytest.raises(DataContractError, match="missing feature"):
        monitor(engine, rows.drop(columns="hv_20"))


def test_monitoring_on_newly_landed_market(result, engine):
    """A later market (new seed, after the training window) sampled, labelled and scored by the exported model."""
    config = ButterflyConfig(synthetic=SyntheticSection(seed=99, start="2029-01-01", trading_days=400),
                             sampling=SamplingSection(low_days=10, normal_days=10, high_days=10))
    market = generate_market(config)
    samples, _ = sample_and_label(market, config)
    rows = samples.merge(build_features(samples, market, config), on="sample_id")
    report = monitor(engine, rows, config)
    assert report["all_rows"]["rows"] == len(rows) > 0 and report["model_version"] == "butterfly-model-v1"
    predicted_class = engine.predict_proba(rows).argmax(axis=1)
    assert report["class_accuracy"] == pytest.approx(np.mean(predicted_class == rows["label"].to_numpy()), abs=1e-12)
    expected = engine.predict_proba(rows).astype(float) @ result.trained.class_values
    realized = rows["roi"].to_numpy(dtype=float)
    assert report["all_rows"]["mean_predicted_roi"] == pytest.approx(expected.mean(), abs=1e-9)
    assert report["all_rows"]["abs_deviation"] == pytest.approx(abs(expected.mean() - realized.mean()), abs=1e-9)


def test_reports(result, tmp_path):
    files = write_plots(result.trained, tmp_path)
    assert set(files) == {f"{kind}_{split}.png" for kind in ("confusion", "calibration")
                          for split in ("tune_inner", "validation_locked", "latest_stress")}
    for name in files:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = markdown(result.trained, result.backtest)
    assert f"## Backtest: {result.backtest['status']}" in text and "Confusion matrix, validation_locked" in text
    flat = summary(result.trained, result.backtest)
    assert flat["validation_macro_f1"] == result.trained.metrics["validation_locked"]["macro_f1"]
    assert all(isinstance(v, (int, float, str, list)) for v in flat.values())
    confusion = np.asarray(result.trained.metrics["validation_locked"]["confusion_matrix"])
    assert confusion.sum() == result.trained.metrics["validation_locked"]["row_count"]
    table = pd.DataFrame(result.trained.metrics["validation_locked"]["reliability"]["excellent"])
    assert table["rows"].sum() == confusion.sum()

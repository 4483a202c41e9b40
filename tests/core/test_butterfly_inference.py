"""The butterfly inference engine: the same scores as a fresh session per call, one session per model file, and a
tampered release or a feature-order mismatch refused in one line."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from scipy.special import entr

from trader_core.butterfly import inference
from trader_core.butterfly.inference import DISTRIBUTION_COLUMNS, confidence, get_inference_engine
from trader_core.butterfly.model import export, onnx_model
from trader_core.butterfly.pipeline import ButterflyConfig, monitor, run
from trader_core.contracts.butterfly import BUTTERFLY_FEATURE_ORDER, OUTPUT_FIELDS
from trader_core.contracts.models import ONNX_INPUT_NAME, ONNX_OUTPUT_NAME
from trader_core.errors import ArtifactError, DataContractError
from trader_core.io import sha256_file, write_json
from trader_core.models.inference import make_session
from trader_core.models.onnx_export import metadata, model_bytes, read_model
from trader_core.release_manifest import MANIFEST
from trader_core.strategies.butterfly import ONNX_FILE


@pytest.fixture(scope="module")
def result():
    return run(ButterflyConfig())


@pytest.fixture(scope="module")
def rows(result):
    return result.dataset[result.dataset["split_id"] == "latest_stress"]


def write_release(root, trained):
    """A release bundle as the release store lays it out: the model and a manifest of every file's sha256."""
    export(trained, root / ONNX_FILE)
    (root / "run_spec.json").write_text("{}")
    write_json(root / MANIFEST, {"files": {rel: sha256_file(root / rel) for rel in (ONNX_FILE, "run_spec.json")}})
    return root


def old_per_call_scoring(path, rows):
    """The scoring the engine replaces: a new session and a metadata read on every call."""
    proba = make_session(path).run([ONNX_OUTPUT_NAME], {ONNX_INPUT_NAME: rows[list(BUTTERFLY_FEATURE_ORDER)]
                                                        .to_numpy(np.float32)})[0].astype(np.float64)
    values = np.asarray(json.loads(metadata(read_model(path))["class_values"]))
    return proba, proba @ values


def test_engine_scores_equal_the_old_per_call_scoring(result, rows, tmp_path):
    release = write_release(tmp_path / "r0001", result.trained)
    engine = get_inference_engine(release)
    proba, expected = old_per_call_scoring(release / ONNX_FILE, rows)
    got = engine.predict_roi_distribution(rows)
    assert list(got.columns) == list(DISTRIBUTION_COLUMNS) and got.index.equals(rows.index)
    np.testing.assert_array_equal(got[list(OUTPUT_FIELDS)].to_numpy(), proba)
    np.testing.assert_array_equal(got["expected_roi"].to_numpy(), expected)
    np.testing.assert_array_equal(got["top_class"].to_numpy(), proba.argmax(axis=1))
    np.testing.assert_array_equal(got["top_probability"].to_numpy(), proba.max(axis=1))
    np.testing.assert_allclose(got["confidence"].to_numpy(), 1 - entr(proba).sum(axis=1) / np.log(4), atol=1e-12)
    assert got["confidence"].min() < 0.5 < got["confidence"].max()  # the rows span confident and unsure scores


def test_confidence_is_one_for_a_certain_class_and_zero_for_a_uniform_guess():
    proba = np.array([[0.0, 0.0, 1.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0.0, 0.0], [0.7, 0.1, 0.1, 0.1]])
    np.testing.assert_allclose(confidence(proba), [1.0, 0.0, 0.5, 1 - entr(proba[3]).sum() / np.log(4)], atol=1e-12)


def test_sessions_are_created_once_per_model_file(result, rows, tmp_path, monkeypatch):
    created = []
    monkeypatch.setattr(inference, "make_session", lambda *a, **k: created.append(a) or make_session(*a, **k))
    folder = tmp_path / "run" / "butterfly" / "model"
    export(result.trained, folder / "butterfly.onnx")
    engine = get_inference_engine(folder)
    assert get_inference_engine(folder) is engine and get_inference_engine(str(folder) + "/") is engine
    engine.predict_roi_distribution(rows)
    monitor(engine, rows)
    engine.predict_proba(rows.head(1))
    assert len(created) == 1
    export(result.trained, folder / "butterfly.onnx")  # a new materialization rewrites the model file
    assert get_inference_engine(folder) is not engine and len(created) == 2


def test_a_tampered_release_is_refused_in_one_line(result, tmp_path):
    release = write_release(tmp_path / "r0001", result.trained)
    model = onnx_model(result.trained)
    onnx.helper.set_model_props(model, metadata(model) | {"class_values": json.dumps([0.0, 0.0, 0.0, 9.0])})
    (release / ONNX_FILE).write_bytes(model_bytes(model))
    with pytest.raises(ArtifactError) as refused:
        get_inference_engine(release)
    message = str(refused.value)
    assert "\n" not in message
    assert message == f"release r0001: file(s) ['{ONNX_FILE}'] missing or not matching their sha256"
    with pytest.raises(ArtifactError, match="not matching their sha256"):  # the release's model folder too
        get_inference_engine(release / "butterfly" / "model")


def test_a_feature_order_mismatch_is_refused_in_one_line(result, tmp_path):
    model = onnx_model(result.trained)
    swapped = list(BUTTERFLY_FEATURE_ORDER)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    onnx.helper.set_model_props(model, metadata(model) | {"feature_order": json.dumps(swapped)})
    path = tmp_path / "model" / "butterfly.onnx"
    path.parent.mkdir()
    path.write_bytes(model_bytes(model))
    with pytest.raises(DataContractError) as refused:
        get_inference_engine(path.parent)
    assert str(refused.value) == (f"{path}: feature order differs from BUTTERFLY_FEATURE_ORDER at position 1: "
                                  f"expected 'hv_20', got 'hv_60' (23 features, expected 23)")


def test_what_is_not_a_butterfly_model_is_refused(result, rows, tmp_path):
    with pytest.raises(ArtifactError, match="neither a butterfly release bundle"):
        get_inference_engine(tmp_path)
    write_json(tmp_path / "perp" / MANIFEST, {"files": {}})
    with pytest.raises(ArtifactError, match="release holds no butterfly model"):
        get_inference_engine(tmp_path / "perp")
    engine = get_inference_engine(write_release(tmp_path / "r0001", result.trained))
    with pytest.raises(DataContractError, match="non-finite values in feature 'hv_10'"):
        engine.predict_roi_distribution(rows.assign(hv_10=np.nan))
    with pytest.raises(DataContractError, match=r"shape \[n, 23\]"):
        engine.predict_proba(np.zeros((2, 22), np.float32))

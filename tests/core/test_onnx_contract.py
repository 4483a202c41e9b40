"""ONNX contract: export, frozen reader, Java feature shape, conformance and the live inference engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest

from trader_core.contracts.features import FEATURE_COUNT, FEATURE_ORDER, feature_order_hash
from trader_core.contracts.models import (ACTIVATION, MODEL_OUTPUTS, MODELS, ONNX_INPUT_NAME, ONNX_OPSET,
                                          ONNX_OUTPUT_NAME, OUTPUT_MAPPING, TARGETS, model_dir_name)
from trader_core.errors import ArtifactError, DataContractError
from trader_core.io import sha256_file
from trader_core.models.frozen import predict_frozen
from trader_core.models.heads import LinearHead
from trader_core.models.inference import InferenceEngine, bundle_model_path, make_session
from trader_core.models.onnx_export import export_heads, load_heads

F = FEATURE_COUNT


def random_heads(model: str, seed: int) -> list[LinearHead]:
    rng = np.random.default_rng(seed)
    return [LinearHead(h.name, ACTIVATION[h.kind], rng.normal(0.0, 0.2, (F, len(h.fields))),
                       rng.normal(0.0, 1.0, len(h.fields))) for h in TARGETS[model].heads]


def head_map(model: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {h.name: (h.kind, h.fields) for h in TARGETS[model].heads}


def random_x(n: int, seed: int = 99) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, (n, F)).astype(np.float32)


def ort_predict(path: Path, x: np.ndarray) -> np.ndarray:
    return make_session(path).run([ONNX_OUTPUT_NAME], {ONNX_INPUT_NAME: x})[0]


def write_bundle(root: Path, seed: int = 0) -> dict[str, list[LinearHead]]:
    heads = {m: random_heads(m, seed + i) for i, m in enumerate(MODELS)}
    for m, hs in heads.items():
        export_heads(bundle_model_path(root, m), hs, F, MODEL_OUTPUTS[m])
    (root / "feature_order.json").write_text(json.dumps(list(FEATURE_ORDER)))
    return heads


# --- frozen reader ----------------------------------------------------------------------------------------------

def test_frozen_linear_onnx(tmp_path: Path) -> None:
    path = tmp_path / "direction.onnx"
    export_heads(path, [
        LinearHead("direction", "softmax", np.zeros((F, 3), np.float32), np.array([0.0, 1.0, 2.0], np.float32)),
        LinearHead("long_expected_net_edge_bps", "identity", np.zeros((F, 1), np.float32),
                   np.array([7.25], np.float32)),
    ], F)
    frame = pd.DataFrame(0.0, index=[0, 1], columns=list(FEATURE_ORDER))
    frame.insert(0, "sample_id", ["s-a", "s-b"])
    out = predict_frozen(path, frame, {
        "direction": ("softmax", ["long_prob", "short_prob", "neutral_prob"]),
        "long_expected_net_edge_bps": ("identity", ["long_edge"]),
    })
    assert out["sample_id"].tolist() == ["s-a", "s-b"]
    probs = out[["long_prob", "short_prob", "neutral_prob"]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert (out["long_prob"] < out["neutral_prob"]).all()
    np.testing.assert_allclose(out["long_edge"], 7.25)
    assert all(out[c].dtype == np.float32 for c in out.columns if c != "sample_id")


# --- output mapping ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS)
def test_output_mapping_matches_model_outputs(model: str) -> None:
    fields = MODEL_OUTPUTS[model]
    assert set(fields) == set(OUTPUT_MAPPING[model])
    for i, field in enumerate(fields):
        assert OUTPUT_MAPPING[model][field] == f"prediction[{i}]"


def test_output_fields_are_unique_across_models() -> None:
    fields = [f for m in MODELS for f in MODEL_OUTPUTS[m]]
    assert len(fields) == len(set(fields))


# --- the consumer's feature shape --------------------------------------------------------------------------------

def test_exported_onnx_accepts_java_feature_shape(tmp_path: Path) -> None:
    path = tmp_path / "entry.onnx"
    heads = random_heads("ENTRY", 3)
    export_heads(path, heads, F, MODEL_OUTPUTS["ENTRY"])
    session = make_session(path)
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert inp.name == "features" and inp.type == "tensor(float)"
    assert inp.shape == ["batch", F]
    assert out.name == "prediction" and out.type == "tensor(float)"
    for n in (1, 7):
        y = session.run(["prediction"], {"features": random_x(n)})[0]
        assert y.shape == (n, sum(h.width for h in heads)) and y.dtype == np.float32
    model = onnx.load(path)
    assert [o.version for o in model.opset_import if o.domain == ""] == [ONNX_OPSET]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["feature_order_hash"] == feature_order_hash()
    assert json.loads(props["fields"]) == list(MODEL_OUTPUTS["ENTRY"])
    assert [h["name"] for h in json.loads(props["heads"])] == [h.name for h in TARGETS["ENTRY"].heads]


# --- conformance -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS)
def test_export_conformance(tmp_path: Path, model: str) -> None:
    heads = random_heads(model, 7)
    path = tmp_path / f"{model_dir_name(model)}.onnx"
    sha = export_heads(path, heads, F, MODEL_OUTPUTS[model])
    assert sha == sha256_file(path)
    x = random_x(50)
    reference = np.concatenate([h.predict(x) for h in heads], axis=1)
    loaded = load_heads(path)
    assert [(h.name, h.kind) for h in loaded] == [(h.name, h.kind) for h in heads]
    frame = pd.DataFrame(x, columns=list(FEATURE_ORDER)).assign(sample_id=np.arange(50))
    frozen_frame = predict_frozen(path, frame, head_map(model))
    assert list(frozen_frame.columns) == ["sample_id", *MODEL_OUTPUTS[model]]
    candidates = {
        "onnxruntime": ort_predict(path, x),
        "load_heads": np.concatenate([h.predict(x) for h in loaded], axis=1),
        "frozen": predict_frozen(path, x, head_map(model)),
        "frozen_metadata": predict_frozen(path, x),
        "frozen_frame": frozen_frame[list(MODEL_OUTPUTS[model])].to_numpy(),
    }
    for name, y in candidates.items():
        np.testing.assert_allclose(y, reference, atol=1e-5, rtol=1e-5, err_msg=name)


def test_export_is_deterministic(tmp_path: Path) -> None:
    heads = random_heads("CONTINUE", 5)
    first = export_heads(tmp_path / "a.onnx", heads, F, MODEL_OUTPUTS["CONTINUE"])
    second = export_heads(tmp_path / "b.onnx", random_heads("CONTINUE", 5), F, MODEL_OUTPUTS["CONTINUE"])
    assert first == second == sha256_file(tmp_path / "a.onnx")


def test_heads_are_computed_in_double_behind_a_float32_contract(tmp_path: Path) -> None:
    path = tmp_path / "entry.onnx"
    heads = random_heads("ENTRY", 2)
    export_heads(path, heads, F, MODEL_OUTPUTS["ENTRY"])
    model = onnx.load(path)
    assert {t.data_type for t in model.graph.initializer} == {onnx.TensorProto.DOUBLE}
    first, last = model.graph.node[0], model.graph.node[-1]
    assert (first.op_type, first.input[0], first.attribute[0].i) == ("Cast", "features", onnx.TensorProto.DOUBLE)
    assert (last.op_type, last.output[0], last.attribute[0].i) == ("Cast", "prediction", onnx.TensorProto.FLOAT)
    assert all(np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)
               for a, b in zip(load_heads(path), heads, strict=True))


def test_single_head_output_name_is_stable(tmp_path: Path) -> None:
    path = tmp_path / "direction.onnx"
    export_heads(path, random_heads("DIRECTION", 1), F)
    assert [o.name for o in make_session(path).get_outputs()] == ["prediction"]


def test_engine_matches_per_model_results(tmp_path: Path) -> None:
    heads = write_bundle(tmp_path)
    engine = InferenceEngine.from_bundle(tmp_path, feature_order=FEATURE_ORDER)
    x = random_x(33)
    got = engine.predict(x)
    assert list(got) == list(MODELS)
    for m in MODELS:
        path = bundle_model_path(tmp_path, m)
        assert got[m].shape == (33, len(MODEL_OUTPUTS[m]))
        np.testing.assert_allclose(got[m], ort_predict(path, x), atol=1e-6, err_msg=m)
        np.testing.assert_allclose(got[m], predict_frozen(path, x, head_map(m)), atol=1e-6, err_msg=m)
        np.testing.assert_allclose(got[m], np.concatenate([h.predict(x) for h in heads[m]], axis=1), atol=1e-5)
    fields = engine.predict_fields(x[0])
    assert list(fields) == [f for m in MODELS for f in MODEL_OUTPUTS[m]]
    np.testing.assert_allclose(fields["neutral_prob"], got["DIRECTION"][:1, 2])
    frame = pd.DataFrame(x, columns=list(FEATURE_ORDER))
    np.testing.assert_array_equal(engine.predict(frame)["RISK"], got["RISK"])


# --- error cases -----------------------------------------------------------------------------------------------

def test_engine_rejects_bad_inputs(tmp_path: Path) -> None:
    write_bundle(tmp_path)
    engine = InferenceEngine.from_bundle(tmp_path)
    with pytest.raises(DataContractError, match=rf"\[n, {F}\].*got \[2, {F - 1}\]"):
        engine.predict(np.zeros((2, F - 1), np.float32))
    x = random_x(3)
    x[1, 4] = np.nan
    with pytest.raises(DataContractError, match=rf"non-finite.*row 1.*{FEATURE_ORDER[4]}"):
        engine.predict(x)
    x[1, 4] = np.inf
    with pytest.raises(DataContractError, match="non-finite"):
        engine.predict_fields(x[1])
    frame = pd.DataFrame(random_x(2), columns=list(FEATURE_ORDER)).drop(columns=["spread_bps", "funding_bps"])
    with pytest.raises(DataContractError, match="spread_bps.*funding_bps"):
        engine.predict(frame)


def test_engine_rejects_broken_bundles(tmp_path: Path) -> None:
    write_bundle(tmp_path)
    swapped = list(FEATURE_ORDER)
    swapped[2], swapped[3] = swapped[3], swapped[2]
    expected = rf"position 2: expected '{FEATURE_ORDER[2]}', got '{FEATURE_ORDER[3]}'"
    with pytest.raises(DataContractError, match=expected):
        InferenceEngine.from_bundle(tmp_path, feature_order=swapped)
    (tmp_path / "feature_order.json").write_text(json.dumps(list(FEATURE_ORDER[:-1])))
    with pytest.raises(DataContractError, match=rf"feature_order.json.*position {F - 1}"):
        InferenceEngine.from_bundle(tmp_path)
    (tmp_path / "feature_order.json").unlink()
    narrow = [LinearHead(h.name, h.kind, h.weight[:-1], h.bias) for h in random_heads("ENTRY", 1)]
    export_heads(bundle_model_path(tmp_path, "ENTRY"), narrow, F - 1)
    with pytest.raises(DataContractError, match=rf"entry.onnx.*width {F - 1}, expected {F}"):
        InferenceEngine.from_bundle(tmp_path)
    export_heads(bundle_model_path(tmp_path, "ENTRY"), random_heads("RISK", 1), F)
    with pytest.raises(ArtifactError, match="model ENTRY: heads"):
        InferenceEngine.from_bundle(tmp_path)
    bundle_model_path(tmp_path, "RISK").unlink()
    with pytest.raises(ArtifactError, match="risk.onnx"):
        InferenceEngine.from_bundle(tmp_path)


def test_missing_initializer_is_named(tmp_path: Path) -> None:
    write_bundle(tmp_path)
    path = bundle_model_path(tmp_path, "DIRECTION")
    model = onnx.load(path)
    kept = [t for t in model.graph.initializer if t.name != "direction_B"]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    onnx.save(model, path)
    for call in (lambda: load_heads(path), lambda: predict_frozen(path, random_x(2)),
                 lambda: predict_frozen(path, random_x(2), head_map("DIRECTION")),
                 lambda: InferenceEngine.from_bundle(tmp_path)):
        with pytest.raises(ValueError, match="direction_B"):
            call()


def test_truncated_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "risk.onnx"
    export_heads(path, random_heads("RISK", 2), F)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="risk.onnx.*corrupt"):
        load_heads(path)
    with pytest.raises(ArtifactError, match="risk.onnx"):
        predict_frozen(path, random_x(2))
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        load_heads(tmp_path / "nope.onnx")
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        predict_frozen(tmp_path / "nope.onnx", random_x(2))


def test_width_mismatches_raise_value_error(tmp_path: Path) -> None:
    path = tmp_path / "direction.onnx"
    heads = random_heads("DIRECTION", 4)
    with pytest.raises(ValueError, match=f"expected {F + 1} features"):
        export_heads(path, heads, F + 1)
    with pytest.raises(ValueError, match="2 fields given for an output of width 3"):
        export_heads(path, heads, F, ["a", "b"])
    export_heads(path, heads, F)
    with pytest.raises(ValueError, match="width 3, expected 2 columns"):
        predict_frozen(path, random_x(2), {"direction": ("softmax", ["long_prob", "short_prob"])})

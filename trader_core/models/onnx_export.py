"""ONNX export of linear heads and the shared reader (docs/models.md, "ONNX contract").

One file per model: input ``features`` float32 ``[batch, F]`` (dynamic batch), ``Cast`` to double, per head
``MatMul(features_double, <head>_W) -> Add(<head>_B) -> Softmax(axis=1) | Sigmoid | Identity`` in double with
float64 initializers, then one ``Concat(axis=1)`` and one ``Cast`` to float into ``prediction`` float32
``[batch, sum K]`` whose column i is field i of the model. Computing in double leaves the final float32 rounding
as the graph's only visible error, so parity holds on real feature ranges (docs/models.md, "ONNX contract").
Opset 17 with IR version 8 (the lowest IR that carries opset 17, so older Java runtimes load it).
Bytes are deterministic: no timestamps, fixed node names, deterministic protobuf serialization.
``metadata_props`` hold ``feature_order_hash``, ``feature_count``, ``heads`` (JSON list of
name/kind/width) and, when given, ``fields`` (JSON list of output field names).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, helper, numpy_helper

import trader_core
from trader_core.contracts.features import feature_order_hash
from trader_core.contracts.models import ONNX_INPUT_NAME, ONNX_OPSET, ONNX_OUTPUT_NAME
from trader_core.errors import ArtifactError
from trader_core.io import atomic_write_bytes
from trader_core.models.heads import LinearHead

IR_VERSION = 8
BATCH_DIM = "batch"
_OP_TYPE = {"softmax": "Softmax", "sigmoid": "Sigmoid", "identity": "Identity"}
_INPUT_DOUBLE = f"{ONNX_INPUT_NAME}_double"
_OUTPUT_DOUBLE = f"{ONNX_OUTPUT_NAME}_double"


def _head_nodes(head: LinearHead) -> list[onnx.NodeProto]:
    """MatMul -> Add -> activation for one head, in double; the last node writes ``<head>_out``."""
    n = head.name
    activation = {"axis": 1} if head.kind == "softmax" else {}
    return [
        helper.make_node("MatMul", [_INPUT_DOUBLE, f"{n}_W"], [f"{n}_matmul"], name=f"{n}_MatMul"),
        helper.make_node("Add", [f"{n}_matmul", f"{n}_B"], [f"{n}_logits"], name=f"{n}_Add"),
        helper.make_node(_OP_TYPE[head.kind], [f"{n}_logits"], [f"{n}_out"], name=f"{n}_{_OP_TYPE[head.kind]}",
                         **activation),
    ]


def _check_heads(heads: Sequence[LinearHead], feature_count: int, fields: Sequence[str] | None) -> None:
    if not heads:
        raise ValueError("export needs at least one head")
    names = [h.name for h in heads]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate head names: {names}")
    for h in heads:
        if h.weight.shape[0] != feature_count:
            raise ValueError(f"head {h.name!r}: weight has {h.weight.shape[0]} rows, "
                             f"expected {feature_count} features")
    width = sum(h.width for h in heads)
    if fields is not None and len(fields) != width:
        raise ValueError(f"{len(fields)} fields given for an output of width {width}")


def build_model(heads: Sequence[LinearHead], feature_count: int,
                fields: Sequence[str] | None = None) -> onnx.ModelProto:
    """The checked ONNX model of ``heads`` (see the module docstring for the layout)."""
    _check_heads(heads, feature_count, fields)
    width = sum(h.width for h in heads)
    nodes = [helper.make_node("Cast", [ONNX_INPUT_NAME], [_INPUT_DOUBLE], name="CastToDouble",
                              to=TensorProto.DOUBLE)]
    nodes += [node for h in heads for node in _head_nodes(h)]
    nodes += [helper.make_node("Concat", [f"{h.name}_out" for h in heads], [_OUTPUT_DOUBLE], name="Concat", axis=1),
              helper.make_node("Cast", [_OUTPUT_DOUBLE], [ONNX_OUTPUT_NAME], name="CastToFloat",
                               to=TensorProto.FLOAT)]
    initializers = [numpy_helper.from_array(np.asarray(value, dtype=np.float64), f"{h.name}_{suffix}")
                    for h in heads for suffix, value in (("W", h.weight), ("B", h.bias))]
    graph = helper.make_graph(
        nodes, "trader_linear_heads",
        [helper.make_tensor_value_info(ONNX_INPUT_NAME, TensorProto.FLOAT, [BATCH_DIM, feature_count])],
        [helper.make_tensor_value_info(ONNX_OUTPUT_NAME, TensorProto.FLOAT, [BATCH_DIM, width])],
        initializer=initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)], ir_version=IR_VERSION,
        producer_name="trader", producer_version=trader_core.__version__,
        doc_string="linear heads: " + ", ".join(f"{h.name} ({h.kind}, {h.width})" for h in heads))
    props = {"feature_order_hash": feature_order_hash(), "feature_count": str(feature_count),
             "heads": json.dumps([{"name": h.name, "kind": h.kind, "width": h.width} for h in heads])}
    if fields is not None:
        props["fields"] = json.dumps(list(fields))
    helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)
    return model


def model_bytes(model: onnx.ModelProto) -> bytes:
    return model.SerializeToString(deterministic=True)


def export_heads(path: Path | str, heads: Sequence[LinearHead], feature_count: int,
                 fields: Sequence[str] | None = None) -> str:
    """Write the ONNX file of ``heads`` atomically; returns its sha256."""
    return atomic_write_bytes(Path(path), model_bytes(build_model(heads, feature_count, fields)))


def read_model(path: Path | str) -> onnx.ModelProto:
    """Parse an ONNX file (no checker, so a missing initializer is reported by name later)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: ONNX model not found")
    try:
        return onnx.load_model_from_string(path.read_bytes())
    except (DecodeError, RuntimeWarning, ValueError) as exc:
        raise ArtifactError(f"{path}: corrupt ONNX file ({exc})") from exc


def metadata(model: onnx.ModelProto) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}


def initializer(model: onnx.ModelProto, name: str, source: str) -> np.ndarray:
    """The initializer ``name`` as a numpy array; ValueError naming it (and ``source``) if absent."""
    for tensor in model.graph.initializer:
        if tensor.name == name:
            return numpy_helper.to_array(tensor)
    raise ValueError(f"{source}: ONNX model has no initializer {name!r}")


def input_width(model: onnx.ModelProto) -> int | None:
    """Feature width (dim 1) of the ``features`` input; None if it is symbolic or the input is absent."""
    for value in model.graph.input:
        if value.name == ONNX_INPUT_NAME:
            dims = value.type.tensor_type.shape.dim
            return dims[1].dim_value if len(dims) == 2 and dims[1].HasField("dim_value") else None
    return None


def stored_fields(model: onnx.ModelProto, source: str) -> list[str] | None:
    """The output field names stored at export, if any."""
    raw = metadata(model).get("fields")
    return None if raw is None else _json(raw, "fields", source)


def heads_from_model(model: onnx.ModelProto, source: str) -> list[LinearHead]:
    """Rebuild the heads from the ``heads`` metadata and the ``<head>_W`` / ``<head>_B`` initializers."""
    raw = metadata(model).get("heads")
    if raw is None:
        raise ArtifactError(f"{source}: no 'heads' metadata in the ONNX model (not exported by trader, or truncated)")
    try:
        specs = [(h["name"], h["kind"]) for h in _json(raw, "heads", source)]
    except (KeyError, TypeError) as exc:
        raise ArtifactError(f"{source}: malformed 'heads' metadata ({exc!r})") from exc
    return [LinearHead(name, kind, initializer(model, f"{name}_W", source), initializer(model, f"{name}_B", source))
            for name, kind in specs]


def load_heads(path: Path | str) -> list[LinearHead]:
    """Heads of an exported file (FileNotFoundError, ArtifactError if corrupt, ValueError on a missing initializer)."""
    return heads_from_model(read_model(path), str(path))


def _json(raw: str, key: str, source: str) -> list:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{source}: ONNX metadata {key!r} is not valid JSON ({exc})") from exc

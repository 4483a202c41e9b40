"""Live inference engine: every head of a model bundle in ONE combined ONNX graph and ONE onnxruntime session.

``from_bundle`` reads ``<dir>/<m>/<m>.onnx`` for each model (``m = model_dir_name(model)``) and checks
``<dir>/feature_order.json``; the combined graph is the exporter's graph over all heads (renamed
``<m>.<head>``) with one ``Concat``, so a decision is one ``session.run`` call. Column slices per model
follow MODEL_OUTPUTS. Unlike the frozen reader, the engine refuses NaN/inf inputs instead of zero-filling.
When ``<dir>`` is the ``model`` folder of a release (its parent holds ``release_manifest.json``), every file
of the release is checked against its recorded sha256 before anything is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd

from trader_core.contracts.features import FEATURE_COUNT, FEATURE_ORDER
from trader_core.contracts.models import (ACTIVATION, MODEL_OUTPUTS, MODELS, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME,
                                          TARGETS, model_dir_name)
from trader_core.errors import ArtifactError, DataContractError
from trader_core.io import read_json
from trader_core.models.heads import LinearHead
from trader_core.models.onnx_export import build_model, heads_from_model, input_width, model_bytes, read_model
from trader_core.release_manifest import MANIFEST as RELEASE_MANIFEST, verify_release

FEATURE_ORDER_FILE = "feature_order.json"


def make_session(model: bytes | Path | str, threads: int = 1) -> ort.InferenceSession:
    """A CPU session: ``threads`` intra-op threads, one inter-op thread, sequential, all graph optimizations."""
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])


def check_feature_order(order: Sequence[str], source: str, *, expected: Sequence[str] = FEATURE_ORDER,
                        expected_name: str = "FEATURE_ORDER") -> None:
    """DataContractError naming the first position where ``order`` differs from ``expected`` (the perp
    FEATURE_ORDER unless a strategy passes its own, e.g. the butterfly's)."""
    order, expected = list(order), list(expected)
    if order == expected:
        return
    pos = next((i for i, (a, b) in enumerate(zip(order, expected)) if a != b), min(len(order), len(expected)))
    got = repr(order[pos]) if pos < len(order) else "<end>"
    want = repr(expected[pos]) if pos < len(expected) else "<end>"
    raise DataContractError(f"{source}: feature order differs from {expected_name} at position {pos}: expected {want}, "
                            f"got {got} ({len(order)} features, expected {len(expected)})")


def bundle_model_path(model_dir: Path | str, model: str) -> Path:
    """``<model_dir>/<m>/<m>.onnx`` with ``m = model_dir_name(model)``."""
    name = model_dir_name(model)
    return Path(model_dir) / name / f"{name}.onnx"


def _read_bundle_model(path: Path) -> list[LinearHead]:
    model = read_model(path)
    width = input_width(model)
    if width != FEATURE_COUNT:
        raise DataContractError(f"{path}: ONNX input {ONNX_INPUT_NAME!r} has width {width}, expected {FEATURE_COUNT} "
                                f"(len(FEATURE_ORDER))")
    return heads_from_model(model, str(path))


def _check_model_heads(model: str, heads: Sequence[LinearHead]) -> None:
    """The heads must be TARGETS[model]'s heads, in order, with their kinds and widths."""
    expected = [(h.name, ACTIVATION[h.kind], len(h.fields)) for h in TARGETS[model].heads]
    actual = [(h.name, h.kind, h.width) for h in heads]
    if actual != expected:
        raise ArtifactError(f"model {model}: heads (name, kind, width) {actual} do not match the contract {expected}")


class InferenceEngine:
    """All heads of the given models evaluated by one onnxruntime session (one call per decision)."""

    def __init__(self, model_heads: Mapping[str, Sequence[LinearHead]], *, threads: int = 1) -> None:
        combined, slices, start = [], {}, 0
        for model, heads in model_heads.items():
            _check_model_heads(model, heads)
            combined += [LinearHead(f"{model_dir_name(model)}.{h.name}", h.kind, h.weight, h.bias) for h in heads]
            slices[model] = slice(start, start + len(MODEL_OUTPUTS[model]))
            start = slices[model].stop
        self.fields: tuple[str, ...] = tuple(f for model in model_heads for f in MODEL_OUTPUTS[model])
        self.slices: dict[str, slice] = slices
        self._session = make_session(model_bytes(build_model(combined, FEATURE_COUNT, self.fields)), threads)
        self._outputs = [ONNX_OUTPUT_NAME]

    @classmethod
    def from_bundle(cls, model_dir: Path | str, *, feature_order: Sequence[str] | None = None,
                    threads: int = 1) -> InferenceEngine:
        """Load every model of MODELS from ``model_dir`` after checking the release hashes (when ``model_dir``
        is a release's model folder), the feature order and the input widths."""
        model_dir = Path(model_dir)
        if (model_dir.parent / RELEASE_MANIFEST).is_file():
            verify_release(model_dir.parent)
        order_file = model_dir / FEATURE_ORDER_FILE
        if order_file.exists():
            order = read_json(order_file)
            if not isinstance(order, list):
                raise DataContractError(f"{order_file}: expected a JSON list of feature names")
            check_feature_order(order, str(order_file))
        if feature_order is not None:
            check_feature_order(feature_order, "feature_order argument")
        paths = {m: bundle_model_path(model_dir, m) for m in MODELS}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise ArtifactError(f"{model_dir}: model bundle lacks {missing}")
        return cls({m: _read_bundle_model(p) for m, p in paths.items()}, threads=threads)

    def _matrix(self, x: np.ndarray | pd.DataFrame) -> np.ndarray:
        """Contiguous float32 [n, F]; DataContractError on missing columns, wrong width or NaN/inf."""
        if isinstance(x, pd.DataFrame):
            missing = [c for c in FEATURE_ORDER if c not in x.columns]
            if missing:
                raise DataContractError(f"input frame lacks FEATURE_ORDER column(s) {missing}")
            try:
                x = x[list(FEATURE_ORDER)].to_numpy(dtype=np.float32, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise DataContractError(f"input frame has non-numeric feature values ({exc})") from exc
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 1:
            x = x.reshape(1, -1)
        if x.ndim != 2 or x.shape[1] != FEATURE_COUNT:
            raise DataContractError(f"expected features of shape [n, {FEATURE_COUNT}] or [{FEATURE_COUNT}], "
                                    f"got {list(x.shape)}")
        if not np.isfinite(x).all():
            row, col = np.argwhere(~np.isfinite(x))[0]
            raise DataContractError(f"non-finite feature value {x[row, col]} at row {row}, feature "
                                    f"{FEATURE_ORDER[col]!r}; the live engine refuses NaN/inf inputs")
        return np.ascontiguousarray(x)

    def run(self, x: np.ndarray | pd.DataFrame) -> np.ndarray:
        """The combined output float32 [n, len(fields)] (column i is ``fields[i]``)."""
        return self._session.run(self._outputs, {ONNX_INPUT_NAME: self._matrix(x)})[0]

    def predict(self, x: np.ndarray | pd.DataFrame) -> dict[str, np.ndarray]:
        """{model: float32 [n, k]} in MODEL_OUTPUTS column order."""
        y = self.run(x)
        return {model: y[:, s] for model, s in self.slices.items()}

    def predict_fields(self, x: np.ndarray | pd.DataFrame) -> dict[str, np.ndarray]:
        """{field: float32 [n]} for every output field of every model."""
        y = self.run(x)
        return {field: y[:, i] for i, field in enumerate(self.fields)}

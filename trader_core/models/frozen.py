"""Frozen reader (docs/models.md, "ONNX contract"): evaluate an exported ONNX file with numpy only (no onnxruntime).

It loads the ``<head>_W`` / ``<head>_B`` initializers with ``onnx`` and computes X·W + B for the whole
batch at once (in float64), then softmax (max-shifted), sigmoid (logits clipped to ±50) or identity.
X is the FEATURE_ORDER columns of a frame (non-numeric/inf -> NaN -> 0.0, float32) or a float array.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.models import ACTIVATION
from trader_core.errors import DataContractError
from trader_core.models.heads import ACTIVATIONS
from trader_core.models.onnx_export import heads_from_model, initializer, read_model, stored_fields

HeadMap = Mapping[str, tuple[str, Sequence[str]]]


def feature_matrix(frame: pd.DataFrame) -> np.ndarray:
    """FEATURE_ORDER columns as float32 with non-numeric/NaN/inf values set to 0.0."""
    missing = [c for c in FEATURE_ORDER if c not in frame.columns]
    if missing:
        raise DataContractError(f"frame lacks {len(missing)} FEATURE_ORDER column(s): {missing}")
    x = np.column_stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
                         for c in FEATURE_ORDER])
    return np.where(np.isfinite(x), x, 0.0).astype(np.float32)


def _activate(z: np.ndarray, kind: str) -> np.ndarray:
    if kind == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if kind == "sigmoid":
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
    if kind == "identity":
        return z
    raise ValueError(f"unknown head kind {kind!r}; expected one of {ACTIVATIONS} or {tuple(ACTIVATION)}")


def _head_map_from_model(model: onnx.ModelProto, source: str) -> dict[str, tuple[str, list[str]]]:
    """{head: (kind, out_cols)} from the file's metadata; columns are the stored fields or ``prediction[i]``."""
    heads = heads_from_model(model, source)
    width = sum(h.width for h in heads)
    fields = stored_fields(model, source) or [f"prediction[{i}]" for i in range(width)]
    out, start = {}, 0
    for h in heads:
        out[h.name] = (h.kind, list(fields[start:start + h.width]))
        start += h.width
    return out


def _evaluate(model: onnx.ModelProto, source: str, x: np.ndarray, heads: HeadMap) -> np.ndarray:
    x64, blocks = x.astype(np.float64), []
    for name, (kind, cols) in heads.items():
        weight = initializer(model, f"{name}_W", source).astype(np.float64)
        bias = initializer(model, f"{name}_B", source).astype(np.float64).reshape(-1)
        if weight.ndim != 2 or weight.shape[0] != x.shape[1]:
            raise ValueError(f"{source}: head {name!r} weight {weight.shape} does not fit {x.shape[1]} features")
        if weight.shape[1] != len(cols) or bias.shape[0] != len(cols):
            raise ValueError(f"{source}: head {name!r} has width {weight.shape[1]}, "
                             f"expected {len(cols)} columns {list(cols)}")
        blocks.append(_activate(x64 @ weight + bias, ACTIVATION.get(kind, kind)))
    return np.concatenate(blocks, axis=1).astype(np.float32)


def predict_frozen(path: Path | str, frame_or_array: pd.DataFrame | np.ndarray,
                   heads: HeadMap | None = None) -> pd.DataFrame | np.ndarray:
    """Evaluate ``heads`` ({head: (kind, out_cols)}, default: all heads of the file) on a frame or array.

    A frame gives ``sample_id`` (if present) + the out columns as float32; an array gives float32 [n, sum K].
    FileNotFoundError for a missing file, ValueError for missing initializers or a width mismatch.
    """
    model = read_model(path)
    source = str(path)
    heads = _head_map_from_model(model, source) if heads is None else heads
    if isinstance(frame_or_array, pd.DataFrame):
        x = feature_matrix(frame_or_array)
    else:
        x = np.asarray(frame_or_array, dtype=np.float32).reshape(-1, np.shape(frame_or_array)[-1])
        x = np.where(np.isfinite(x), x, np.float32(0.0))
    y = _evaluate(model, source, x, heads)
    if not isinstance(frame_or_array, pd.DataFrame):
        return y
    columns = [c for _, cols in heads.values() for c in cols]
    out = pd.DataFrame(y, columns=columns)
    if "sample_id" in frame_or_array.columns:
        out.insert(0, "sample_id", frame_or_array["sample_id"].to_numpy())
    return out

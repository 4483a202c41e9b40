"""Model contract properties the asset checks verify (pure functions returning (passed, details))."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.models import (MODEL_OUTPUTS, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, ONNX_PARITY_EPSILONS,
                                          TARGETS)
from trader_core.contracts.versions import TUNE_SPLIT
from trader_core.models.metrics import beats_baseline

if TYPE_CHECKING:
    import onnxruntime as ort

#: float32 machine epsilon (2**-23): one float32 rounding moves a value v by at most EPS32 / 2 * |v|.
EPS32 = float(np.finfo(np.float32).eps)


def _session(path: Path) -> ort.InferenceSession:
    import onnxruntime as ort  # lazy import (docs/layers.md)

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def parity_tolerance(trained: np.ndarray) -> np.ndarray:
    """Allowed |onnx - trained| per value: ONNX_PARITY_EPSILONS float32 epsilons of max(1, |trained|). Training
    predicts with the float64 evaluation of the exported heads, so the graph's final cast and summation order
    are the only differences left (docs/models.md, "Checks")."""
    return ONNX_PARITY_EPSILONS * EPS32 * np.maximum(1.0, np.abs(trained))


def prediction_parity(*, got: np.ndarray, expected: np.ndarray) -> tuple[bool, dict]:
    """``got`` (onnxruntime on the float32 features) against the trained ``expected`` within parity_tolerance;
    an empty input fails, so a broken join cannot pass."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    diff = np.abs(got - expected)
    max_abs = float(diff.max()) if diff.size else 0.0
    ratio = float((diff / parity_tolerance(expected)).max()) if diff.size else 0.0
    details = {"rows": int(len(expected)), "max_abs_diff": max_abs, "max_tolerance_ratio": ratio,
               "epsilons": ONNX_PARITY_EPSILONS}
    return diff.size > 0 and ratio <= 1.0, details


def onnx_parity(onnx_path: Path, dataset: pd.DataFrame, tune_predictions: pd.DataFrame, model: str) -> tuple[bool, dict]:
    """onnxruntime on the raw tune features equals the trained predictions (``prediction_parity``)."""
    tune = dataset[dataset["split_id"] == TUNE_SPLIT]
    merged = tune[["sample_id", *FEATURE_ORDER]].merge(tune_predictions, on="sample_id", how="inner",
                                                       validate="one_to_one")
    x = merged[list(FEATURE_ORDER)].to_numpy(dtype=np.float32)
    got = _session(onnx_path).run([ONNX_OUTPUT_NAME], {ONNX_INPUT_NAME: x})[0]
    return prediction_parity(got=got, expected=merged[list(MODEL_OUTPUTS[model])].to_numpy(dtype=np.float64))


def onnx_io_contract(onnx_path: Path, model: str) -> tuple[bool, dict]:
    """Input ``features`` float32 [batch, F]; output ``prediction`` [batch, len(MODEL_OUTPUTS[model])]."""
    session = _session(onnx_path)
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    width = len(MODEL_OUTPUTS[model])
    probe = session.run([out.name], {inp.name: np.zeros((3, len(FEATURE_ORDER)), dtype=np.float32)})[0]
    details: dict[str, Any] = {"input": inp.name, "input_shape": [str(d) for d in inp.shape], "input_type": inp.type,
                               "output": out.name, "output_width": int(probe.shape[1]), "expected_width": width}
    passed = (inp.name == ONNX_INPUT_NAME and inp.type == "tensor(float)" and len(inp.shape) == 2
              and inp.shape[1] == len(FEATURE_ORDER) and not isinstance(inp.shape[0], int)
              and out.name == ONNX_OUTPUT_NAME and probe.shape == (3, width))
    return passed, details


def heads_beating_baseline(manifest: dict[str, Any], model: str) -> tuple[bool, dict]:
    """Every head beats its constant baseline on tune_inner (a WARN when not)."""
    verdict = {h.name: beats_baseline(manifest["metrics"][h.name]) for h in TARGETS[model].heads}
    return all(verdict.values()), {"beats_constant": verdict}

"""Model contract properties the asset checks verify (pure functions returning (passed, details))."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.models import MODEL_OUTPUTS, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, TARGETS
from trader_core.contracts.versions import TUNE_SPLIT
from trader_core.models.metrics import beats_baseline

#: |onnx - trained| <= 1e-5 * max(1, |trained|): absolute for probabilities, relative for bps-valued heads,
#: whose float32 outputs near 100 bps are only representable to ~7.6e-6.
PARITY_TOLERANCE = 1e-5


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_parity(onnx_path: Path, dataset: pd.DataFrame, tune_predictions: pd.DataFrame, model: str) -> tuple[bool, dict]:
    """onnxruntime on the raw tune features equals the trained (sklearn) predictions (PARITY_TOLERANCE)."""
    tune = dataset[dataset["split_id"] == TUNE_SPLIT]
    merged = tune[["sample_id", *FEATURE_ORDER]].merge(tune_predictions, on="sample_id", how="inner",
                                                       validate="one_to_one")
    x = merged[list(FEATURE_ORDER)].to_numpy(dtype=np.float32)
    expected = merged[list(MODEL_OUTPUTS[model])].to_numpy(dtype=np.float64)
    got = _session(onnx_path).run([ONNX_OUTPUT_NAME], {ONNX_INPUT_NAME: x})[0].astype(np.float64)
    scaled = np.abs(got - expected) / np.maximum(1.0, np.abs(expected))
    worst = float(scaled.max()) if len(x) else 0.0
    max_abs = float(np.abs(got - expected).max()) if len(x) else 0.0
    return len(x) > 0 and worst <= PARITY_TOLERANCE, {"rows": int(len(x)), "max_scaled_diff": worst,
                                                      "max_abs_diff": max_abs, "tolerance": PARITY_TOLERANCE}


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

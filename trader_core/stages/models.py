"""Model stage: train, export ONNX, write predictions per split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from trader_core import io, layout, sealed_ledger
from trader_core.config import RunSpec
from trader_core.contracts.features import FEATURE_ORDER, feature_order_hash
from trader_core.contracts.models import MODEL_OUTPUTS, OUTPUT_MAPPING, TARGETS
from trader_core.models.onnx_export import export_heads
from trader_core.models.training import split_predictions, train_model


def model_stage(model: str, dataset: pd.DataFrame, spec: RunSpec, run_dir: Path,
                direction_train: pd.DataFrame | None = None, *, home: Path) -> dict[str, Any]:
    """Train one model, export its ONNX file and per-split predictions; returns the model manifest. The sealed
    metrics it reports are a look at the sealed window, recorded in the ledger (docs/trading.md)."""
    target = TARGETS[model]
    trained = train_model(target, dataset, spec.models, direction_train)
    sealed_ledger.record_run_look(run_dir, spec, home, kind="model_metrics", what=f"{model} sealed metrics")
    onnx_path = layout.model_onnx_path(run_dir, model)
    onnx_sha = export_heads(onnx_path, trained.heads, len(FEATURE_ORDER), fields=MODEL_OUTPUTS[model])
    prediction_files = {}
    for split, frame in split_predictions(trained).items():
        path = layout.model_predictions_path(run_dir, model, split)
        prediction_files[split] = {"path": str(path.relative_to(run_dir)), "sha256": io.write_parquet(path, frame),
                                   "rows": len(frame)}
    return {
        "model": model, "dataset": f"{target.dataset}_train", "dataset_hash_sha256": io.frame_hash(dataset),
        "feature_order_hash": feature_order_hash(), "onnx_path": str(onnx_path.relative_to(run_dir)),
        "onnx_sha256": onnx_sha, "output_mapping": OUTPUT_MAPPING[model], "predictions": prediction_files,
        **trained.manifest(),
    }

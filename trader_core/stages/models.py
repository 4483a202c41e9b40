"""Model stage: train, export ONNX, write predictions per split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from trader_core import io, layout, sealed_ledger
from trader_core.contracts.features import FEATURE_ORDER, feature_order_hash
from trader_core.contracts.models import MODEL_OUTPUTS, OUTPUT_MAPPING, TARGETS
from trader_core.models.onnx_export import export_heads
from trader_core.models.training import split_predictions, train_model
from trader_core.report import markdown_table
from trader_core.run_context import RunContext
from trader_core.stages.result import StageResult


def model_stage(*, ctx: RunContext, model: str, dataset: pd.DataFrame,
                direction_train: pd.DataFrame | None = None) -> StageResult:
    """Train one model, export its ONNX file and per-split predictions; the value is the model manifest. The
    sealed metrics it reports are a look at the sealed window, recorded in the ledger (docs/trading.md)."""
    run_dir = ctx.run_dir
    target = TARGETS[model]
    trained = train_model(target, dataset, ctx.spec.models, direction_train)
    sealed_ledger.record_run_look(run_dir, ctx.spec, ctx.home, kind="model_metrics", what=f"{model} sealed metrics")
    onnx_path = layout.model_onnx_path(run_dir, model)
    onnx_sha = export_heads(onnx_path, trained.heads, len(FEATURE_ORDER), fields=MODEL_OUTPUTS[model])
    prediction_files = {}
    for split, frame in split_predictions(trained).items():
        path = layout.model_predictions_path(run_dir, model, split)
        prediction_files[split] = {"path": str(path.relative_to(run_dir)), "sha256": io.write_parquet(path, frame),
                                   "rows": len(frame)}
    manifest = {
        "model": model, "dataset": f"{target.dataset}_train", "dataset_hash_sha256": io.frame_hash(dataset),
        "feature_order_hash": feature_order_hash(), "onnx_path": str(onnx_path.relative_to(run_dir)),
        "onnx_sha256": onnx_sha, "output_mapping": OUTPUT_MAPPING[model], "predictions": prediction_files,
        **trained.manifest(),
    }
    tune = [{"head": head, **{k: v for k, v in metrics.items() if k.endswith(("auc", "ratio", "row_count"))}}
            for head, metrics in manifest["metrics"].items()]
    sealed = [{"split": split, "head": head, **{k: v for k, v in m.items() if k.endswith(("auc", "ratio"))}}
              for split, heads in manifest["sealed_metrics"].items() for head, m in heads.items()]
    return StageResult(value=manifest,
                       figures={"onnx_sha256": onnx_sha, "fit": manifest["fit"],
                                "output_mapping": manifest["output_mapping"]},
                       reports={"tune_metrics": markdown_table(tune), "sealed_metrics_report_only": markdown_table(sealed)},
                       paths={"onnx_path": Path(manifest["onnx_path"])})


def model_train_manifest_stage(*, models: dict[str, dict[str, Any]]) -> StageResult:
    """Every model's manifest in one document (model/model_train_manifest.json)."""
    return StageResult(value=models, figures={"models": sorted(models)})

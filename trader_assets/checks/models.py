"""Model checks: ONNX parity with the trained predictions, the ONNX input/output contract, heads vs baselines."""

import dagster as dg
import pandas as pd

from trader_assets.assets.models import MODEL_ASSETS
from trader_assets.checks.results import result
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import io, layout
from trader_core.contracts.models import OUTPUT_MAPPING, TARGETS
from trader_core.models.checks import heads_beating_baseline, onnx_io_contract, onnx_parity


def _model_checks(model: str, asset: dg.AssetsDefinition) -> list:
    dataset_key = f"{TARGETS[model].dataset}_train"
    prefix = model.lower()

    @dg.asset_check(asset=asset, name=f"{prefix}_onnx_parity", blocking=True, partitions_def=runs_partitions,
                    additional_ins={"dataset": dg.AssetIn(dataset_key)},
                    description="onnxruntime on raw tune features equals the trained predictions within "
                                "4 float32 epsilons of max(1, |value|) (docs/models.md, \"Checks\").")
    def parity(context: dg.AssetCheckExecutionContext, trader_home: TraderHome, manifest: dict,
               dataset: pd.DataFrame) -> dg.AssetCheckResult:
        run_dir = trader_home.run_dir(context.partition_key)
        tune = io.read_parquet(layout.model_predictions_path(run_dir, model, "tune_inner"), verify=False)
        passed, details = onnx_parity(run_dir / manifest["onnx_path"], dataset, tune, model)
        return result(passed, **details)

    @dg.asset_check(asset=asset, name=f"{prefix}_onnx_contract", blocking=True, partitions_def=runs_partitions,
                    description="Input `features` float32 [batch, F]; output `prediction` with one column per "
                                "MODEL_OUTPUTS field; the manifest's output mapping equals OUTPUT_MAPPING.")
    def contract(context: dg.AssetCheckExecutionContext, trader_home: TraderHome,
                 manifest: dict) -> dg.AssetCheckResult:
        passed, details = onnx_io_contract(trader_home.run_dir(context.partition_key) / manifest["onnx_path"], model)
        mapping_ok = manifest["output_mapping"] == OUTPUT_MAPPING[model]
        return result(passed and mapping_ok, output_mapping_matches=mapping_ok, **details)

    @dg.asset_check(asset=asset, name=f"{prefix}_heads_beat_baseline", partitions_def=runs_partitions,
                    description="Every head beats its constant baseline on tune_inner (WARN otherwise).")
    def baseline(manifest: dict) -> dg.AssetCheckResult:
        passed, details = heads_beating_baseline(manifest, model)
        return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={k: dg.MetadataValue.json(v) for k, v in details.items()})

    return [parity, contract, baseline]


MODEL_CHECKS = [check for model, asset in MODEL_ASSETS.items() for check in _model_checks(model, asset)]

"""Models group: DIRECTION, ENTRY, CONTINUE and RISK (ONNX file, predictions per split, metrics)."""

import dagster as dg
import pandas as pd

from trader_assets.metadata import json_value
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.contracts.models import CONTINUE, DIRECTION, ENTRY, RISK, TARGETS
from trader_core.contracts.versions import MODEL_BUNDLE_VERSION
from trader_core.report import markdown_table

COMMON = dict(partitions_def=runs_partitions, group_name="models", owners=["team:research"],
              code_version=MODEL_BUNDLE_VERSION, kinds={"python", "sklearn", "onnx"})


def _metadata(manifest: dict) -> dict:
    rows = [{"head": head, **{k: v for k, v in metrics.items() if k.endswith(("auc", "ratio", "row_count"))}}
            for head, metrics in manifest["metrics"].items()]
    sealed = [{"split": split, "head": head, **{k: v for k, v in m.items() if k.endswith(("auc", "ratio"))}}
              for split, heads in manifest["sealed_metrics"].items() for head, m in heads.items()]
    return {"onnx_path": dg.MetadataValue.path(manifest["onnx_path"]), "onnx_sha256": manifest["onnx_sha256"],
            "tune_metrics": dg.MetadataValue.md(markdown_table(rows)),
            "sealed_metrics_report_only": dg.MetadataValue.md(markdown_table(sealed)),
            "fit": json_value(manifest["fit"]), "output_mapping": json_value(manifest["output_mapping"])}


def _materialize(context: dg.AssetExecutionContext, trader_home: TraderHome, model: str, dataset: pd.DataFrame,
                 direction_train: pd.DataFrame | None = None) -> dg.Output[dict]:
    run_id = context.partition_key
    manifest = stages.model_stage(model, dataset, trader_home.run_spec(run_id), trader_home.run_dir(run_id),
                                  direction_train=direction_train, home=trader_home.path)
    return dg.Output(manifest, metadata=_metadata(manifest))


def _description(model: str) -> str:
    heads = ", ".join(h.name for h in TARGETS[model].heads)
    return (f"{model}: heads {heads} trained on fit_inner; ONNX export on raw features; predictions for every "
            "split; tune metrics vs constant baselines (sealed-split metrics reported, never used).")


@dg.asset(**COMMON, description=_description(DIRECTION))
def direction_model(context: dg.AssetExecutionContext, trader_home: TraderHome,
                    direction_train: pd.DataFrame) -> dg.Output[dict]:
    return _materialize(context, trader_home, DIRECTION, direction_train)


@dg.asset(**COMMON, description=_description(ENTRY))
def entry_model(context: dg.AssetExecutionContext, trader_home: TraderHome, entry_train: pd.DataFrame,
                direction_train: pd.DataFrame) -> dg.Output[dict]:
    return _materialize(context, trader_home, ENTRY, entry_train, direction_train)


@dg.asset(**COMMON, description=_description(CONTINUE))
def continue_model(context: dg.AssetExecutionContext, trader_home: TraderHome,
                   continue_train: pd.DataFrame) -> dg.Output[dict]:
    return _materialize(context, trader_home, CONTINUE, continue_train)


@dg.asset(**COMMON, description=_description(RISK))
def risk_model(context: dg.AssetExecutionContext, trader_home: TraderHome, risk_train: pd.DataFrame) -> dg.Output[dict]:
    return _materialize(context, trader_home, RISK, risk_train)


@dg.asset(partitions_def=runs_partitions, group_name="models", owners=["team:research"], kinds={"python", "json"},
          description="model/model_train_manifest.json: every model's metrics, fit filters and ONNX hashes.")
def model_train_manifest(direction_model: dict, entry_model: dict, continue_model: dict,
                         risk_model: dict) -> dg.Output[dict]:
    manifest = {DIRECTION: direction_model, ENTRY: entry_model, CONTINUE: continue_model, RISK: risk_model}
    return dg.Output(manifest, metadata={"models": json_value(sorted(manifest))})


MODEL_ASSETS = {DIRECTION: direction_model, ENTRY: entry_model, CONTINUE: continue_model, RISK: risk_model}
MODEL_GROUP_ASSETS = [*MODEL_ASSETS.values(), model_train_manifest]

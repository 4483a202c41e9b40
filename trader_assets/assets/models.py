"""Models group: DIRECTION, ENTRY, CONTINUE and RISK (ONNX file, predictions per split, metrics)."""

import dagster as dg
import pandas as pd

from trader_assets.metadata import stage_output
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.contracts.models import CONTINUE, DIRECTION, ENTRY, RISK, TARGETS
from trader_core.contracts.versions import MODEL_BUNDLE_VERSION

COMMON = dict(partitions_def=runs_partitions, group_name="models", owners=["team:research"],
              code_version=MODEL_BUNDLE_VERSION, kinds={"python", "sklearn", "onnx"})


def _materialize(context: dg.AssetExecutionContext, trader_home: TraderHome, model: str, dataset: pd.DataFrame,
                 direction_train: pd.DataFrame | None = None) -> dg.Output[dict]:
    return stage_output(stages.model_stage(ctx=trader_home.context(context.partition_key), model=model,
                                           dataset=dataset, direction_train=direction_train))


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
    return stage_output(stages.model_train_manifest_stage(models={
        DIRECTION: direction_model, ENTRY: entry_model, CONTINUE: continue_model, RISK: risk_model}))


MODEL_ASSETS = {DIRECTION: direction_model, ENTRY: entry_model, CONTINUE: continue_model, RISK: risk_model}
MODEL_GROUP_ASSETS = [*MODEL_ASSETS.values(), model_train_manifest]

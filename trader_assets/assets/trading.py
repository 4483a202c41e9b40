"""Trading and release groups: the PM frame, PM threshold search, integrated backtest, promotion of a release
bundle."""

import dagster as dg
import pandas as pd

from trader_assets.metadata import stage_output
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import MODEL_BUNDLE_VERSION
from trader_core.pm.config import PM_CONFIG_VERSION

TRADING = dict(partitions_def=runs_partitions, group_name="trading", owners=["team:research"],
               code_version=PM_CONFIG_VERSION)


@dg.asset(**TRADING, kinds={"python", "parquet"}, deps=["direction_model", "entry_model", "risk_model"],
          description="The PM frame of tune_inner and the sealed splits: the three models' predictions joined with "
                      "entry_train and the entry-label outcomes, with the predicted edge the price plan implies. "
                      "Read by the threshold search, the backtest and the diagnostics.")
def pm_frame(context: dg.AssetExecutionContext, trader_home: TraderHome, entry_train: pd.DataFrame,
             entry_labels: pd.DataFrame, price_plan: PricePlan) -> dg.Output[pd.DataFrame]:
    return stage_output(stages.pm_frame_stage(ctx=trader_home.context(context.partition_key), entry_train=entry_train,
                                              entry_labels=entry_labels, plan=price_plan))


@dg.asset(**TRADING, kinds={"python", "json"},
          deps=["direction_model", "risk_model", "entry_train"],
          description="Position-manager threshold search over the 1536-candidate grid on tune_inner only; the "
                      "chosen config (JSON + hash), the candidate table and the best tune trades.")
def pm_search(context: dg.AssetExecutionContext, trader_home: TraderHome, entry_model: dict, pm_frame: pd.DataFrame,
              entry_labels: pd.DataFrame, price_plan: PricePlan) -> dg.Output[dict]:
    return stage_output(stages.pm_search_stage(ctx=trader_home.context(context.partition_key), frame=pm_frame,
                                               entry_labels=entry_labels, plan=price_plan))


@dg.asset(**TRADING, kinds={"python", "json"}, deps=["entry_train"],
          description="The chosen PM config replayed on validation_locked and latest_stress: trades, metrics per "
                      "split, PASS/FAIL with reasons, an equity curve per split.")
def backtest(context: dg.AssetExecutionContext, trader_home: TraderHome, pm_frame: pd.DataFrame, pm_search: dict,
             entry_labels: pd.DataFrame, price_plan: PricePlan) -> dg.Output[dict]:
    return stage_output(stages.backtest_stage(ctx=trader_home.context(context.partition_key), frame=pm_frame,
                                              pm_doc=pm_search, entry_labels=entry_labels, plan=price_plan))


@dg.asset(partitions_def=runs_partitions, group_name="release", owners=["team:research"], kinds={"python", "onnx"},
          code_version=MODEL_BUNDLE_VERSION,
          deps=["model_train_manifest", "direction_model", "continue_model", "risk_model", "feature_frame",
                "reference_profile", "shadow_scoring", "drift_report"],
          description="Promote the run's bundle (4 ONNX models, feature order/schema, price plan, PM config, "
                      "metrics, backtest, reference profile) to a new immutable version under releases/ and make it "
                      "the champion of the run's model line. Skipped when the backtest fails (blocking check); refuses (ReleaseRefused) when "
                      "the champion-vs-challenger decision keeps the champion.")
def release(context: dg.AssetExecutionContext, trader_home: TraderHome, backtest: dict, pm_search: dict,
            price_plan: PricePlan, entry_model: dict, champion_challenger: dict) -> dg.Output[dict]:
    result = stages.release_stage(ctx=trader_home.context(context.partition_key), backtest=backtest,
                                  challenger=champion_challenger)
    return stage_output(result, log=context.log)


@dg.asset(partitions_def=runs_partitions, group_name="experiments", owners=["team:research"], kinds={"python", "json"},
          code_version=PM_CONFIG_VERSION, deps=["entry_labels"],
          description="Training diagnostics (docs/experiments.md): label summary from the datasets, PM gate funnel "
                      "with the "
                      "active thresholds, relaxed variants, top-bucket edge and a plain-language conclusion. "
                      "Diagnostic only: nothing depends on it.")
def training_diagnostics(context: dg.AssetExecutionContext, trader_home: TraderHome, pm_frame: pd.DataFrame,
                         pm_search: dict, direction_train: pd.DataFrame, entry_train: pd.DataFrame,
                         price_plan: PricePlan) -> dg.Output[dict]:
    return stage_output(stages.diagnostics_stage(ctx=trader_home.context(context.partition_key), frame=pm_frame,
                                                 direction_train=direction_train, entry_train=entry_train,
                                                 plan=price_plan, pm_doc=pm_search))


TRADING_ASSETS = [pm_frame, pm_search, backtest, release, training_diagnostics]

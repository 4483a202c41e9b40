"""Experiments group (docs/experiments.md): screens, probes and searches on a run's artifacts. Diagnostic only.

Every asset is configurable from the launchpad: its config class is generated from the experiment's
params dataclass (same field names and defaults, tuples as lists), and the dataclass validates the values.
Outputs go to ``experiments/<asset>/`` (result JSON last); the asset value is a short summary. Nothing in
the release chain depends on this group, so an experiment can never gate a promotion.
"""

from typing import Any

import dagster as dg
import pandas as pd

from trader_assets.launchpad import launchpad_config
from trader_assets.metadata import stage_output
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.contracts.price_plan import PricePlan
from trader_core.experiments.entry_probes_params import ConditionalEntryParams, EntryMaeParams
from trader_core.experiments.entry_screens_params import FeatureScreenParams, PairScreenParams
from trader_core.experiments.good_trade_params import GoodTradeParams
from trader_core.experiments.nonlinear_pm_params import NonlinearPmParams
from trader_core.experiments.ofi_params import OfiParams
from trader_core.experiments.plan_search_params import DynamicExitParams, PricePlanSearchParams
from trader_core.experiments.state_continue_params import StateContinueParams

EXPERIMENTS = dict(partitions_def=runs_partitions, group_name="experiments", owners=["team:research"],
                   kinds={"python", "markdown"})


def to_params(params_cls: type, config: dg.Config) -> Any:
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in config.model_dump().items()}
    return params_cls(**values)


OfiConfig = launchpad_config(OfiParams)
StateContinueConfig = launchpad_config(StateContinueParams)
PricePlanConfig = launchpad_config(PricePlanSearchParams)
DynamicExitConfig = launchpad_config(DynamicExitParams)
FeatureScreenConfig = launchpad_config(FeatureScreenParams)
PairScreenConfig = launchpad_config(PairScreenParams)
EntryMaeConfig = launchpad_config(EntryMaeParams)
ConditionalEntryConfig = launchpad_config(ConditionalEntryParams)
NonlinearPmConfig = launchpad_config(NonlinearPmParams)
GoodTradeConfig = launchpad_config(GoodTradeParams)


@dg.asset(**EXPERIMENTS, description="OFI experiment (docs/experiments.md): L1 and multi-level snapshot-diff OFI, "
                                     "microprice basis change, "
                                     "z-scores and cross features; market_only vs market_plus_ofi. Needs 20 book "
                                     "levels (source.depth_levels = 20).")
def ofi_experiment(context: dg.AssetExecutionContext, trader_home: TraderHome, config: OfiConfig,
                   feature_frame: pd.DataFrame, raw_market: dict, direction_labels: pd.DataFrame,
                   entry_train: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.ofi_stage(ctx=trader_home.context(context.partition_key), params=to_params(OfiParams, config),
                                         features=feature_frame, raw_market=raw_market,
                                         direction_labels=direction_labels, entry_train=entry_train))


@dg.asset(**EXPERIMENTS, deps=["direction_model", "entry_model"],
          description="State-aware continue experiment (docs/experiments.md): position-state rows by age, frozen "
                      "scores from the run's ONNX models, "
                      "market_only vs market_plus_state continue models and the formal-chain verdict.")
def state_continue_experiment(context: dg.AssetExecutionContext, trader_home: TraderHome,
                              config: StateContinueConfig, feature_frame: pd.DataFrame,
                              entry_labels: pd.DataFrame, replay_1m: pd.DataFrame,
                              price_plan: PricePlan) -> dg.Output[dict]:
    return stage_output(stages.state_continue_stage(
        ctx=trader_home.context(context.partition_key), params=to_params(StateContinueParams, config),
        features=feature_frame, entry_labels=entry_labels, replay=replay_1m, plan=price_plan))


@dg.asset(**EXPERIMENTS, description="Price-plan search (docs/experiments.md): a (target, stop) grid of fixed price "
                                     "plans scored on the eval splits; "
                                     "the best robust plan is a candidate for the next experiment, not a go-live "
                                     "decision.")
def price_plan_search(context: dg.AssetExecutionContext, trader_home: TraderHome, config: PricePlanConfig,
                      feature_frame: pd.DataFrame, replay_1m: pd.DataFrame, split_manifest: dict) -> dg.Output[dict]:
    return stage_output(stages.plan_search_stage(
        ctx=trader_home.context(context.partition_key), asset="price_plan_search",
        params=to_params(PricePlanSearchParams, config), features=feature_frame, replay=replay_1m,
        manifest=split_manifest))


@dg.asset(**EXPERIMENTS, description="Dynamic exit search (docs/experiments.md): DYNAMIC_TRAILING_V1 exit plans "
                                     "(default grid of 81), per split and "
                                     "side, with the robust filter and the best plan.")
def dynamic_exit_search(context: dg.AssetExecutionContext, trader_home: TraderHome, config: DynamicExitConfig,
                        feature_frame: pd.DataFrame, replay_1m: pd.DataFrame, split_manifest: dict) -> dg.Output[dict]:
    return stage_output(stages.plan_search_stage(
        ctx=trader_home.context(context.partition_key), asset="dynamic_exit_search",
        params=to_params(DynamicExitParams, config), features=feature_frame, replay=replay_1m,
        manifest=split_manifest))


@dg.asset(**EXPERIMENTS, description="Entry feature screen (docs/experiments.md): per feature bucket (edges learned on "
                                     "fit_inner) actual-plan entry "
                                     "edge; candidates picked on tune_inner, checked on the sealed splits.")
def entry_feature_screen(context: dg.AssetExecutionContext, trader_home: TraderHome, config: FeatureScreenConfig,
                         entry_train: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.entry_train_experiment_stage(
        ctx=trader_home.context(context.partition_key), asset="entry_feature_screen",
        params=to_params(FeatureScreenParams, config), entry_train=entry_train))


@dg.asset(**EXPERIMENTS, description="Entry condition-pair screen (docs/experiments.md): pairs of tune-selected bucket "
                                     "conditions; stable candidates have a "
                                     "positive edge and lift on tune, validation_locked and latest_stress.")
def entry_condition_pair_screen(context: dg.AssetExecutionContext, trader_home: TraderHome, config: PairScreenConfig,
                                entry_train: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.entry_train_experiment_stage(
        ctx=trader_home.context(context.partition_key), asset="entry_condition_pair_screen",
        params=to_params(PairScreenParams, config), entry_train=entry_train))


@dg.asset(**EXPERIMENTS, description="Entry MAE diagnostic (docs/experiments.md): can the features rank low-drawdown, "
                                     "enough-room entries first? "
                                     "(MAE x opportunity target grid, top-fraction metrics).")
def entry_mae_label_diagnostic(context: dg.AssetExecutionContext, trader_home: TraderHome, config: EntryMaeConfig,
                               entry_train: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.entry_train_experiment_stage(
        ctx=trader_home.context(context.partition_key), asset="entry_mae_label_diagnostic",
        params=to_params(EntryMaeParams, config), entry_train=entry_train))


@dg.asset(**EXPERIMENTS, description="Conditional entry probe (docs/experiments.md): entry classifiers trained inside "
                                     "an oracle opportunity filter "
                                     "(diagnostic: the filter uses the future).")
def conditional_entry_probe(context: dg.AssetExecutionContext, trader_home: TraderHome,
                            config: ConditionalEntryConfig, entry_train: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.entry_train_experiment_stage(
        ctx=trader_home.context(context.partition_key), asset="conditional_entry_probe",
        params=to_params(ConditionalEntryParams, config), entry_train=entry_train))


@dg.asset(**EXPERIMENTS, deps=["direction_model", "risk_model", "entry_labels"],
          description="Nonlinear PM probe (docs/experiments.md): gradient-boosted Direction/Entry outputs in the PM "
                      "frame and the expanded 17280-"
                      "candidate threshold grid on tune_inner, re-simulated on the sealed splits.")
def nonlinear_pm_probe(context: dg.AssetExecutionContext, trader_home: TraderHome, config: NonlinearPmConfig,
                       direction_train: pd.DataFrame, entry_train: pd.DataFrame, pm_frame: pd.DataFrame,
                       price_plan: PricePlan, entry_model: dict) -> dg.Output[dict]:
    return stage_output(stages.nonlinear_pm_stage(
        ctx=trader_home.context(context.partition_key), params=to_params(NonlinearPmParams, config),
        direction_train=direction_train, entry_train=entry_train, frame=pm_frame, plan=price_plan))


@dg.asset(**EXPERIMENTS, description="Good-trade structure (docs/experiments.md): what separates good from bad trades: "
                                     "single-feature AUCs and a "
                                     "tree, judged on top fractions of the eval splits.")
def good_trade_structure(context: dg.AssetExecutionContext, trader_home: TraderHome, config: GoodTradeConfig,
                         entry_train: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.entry_train_experiment_stage(
        ctx=trader_home.context(context.partition_key), asset="good_trade_structure",
        params=to_params(GoodTradeParams, config), entry_train=entry_train))


EXPERIMENT_ASSETS = [ofi_experiment, state_continue_experiment, price_plan_search, dynamic_exit_search,
                     entry_feature_screen, entry_condition_pair_screen, entry_mae_label_diagnostic,
                     conditional_entry_probe, nonlinear_pm_probe, good_trade_structure]

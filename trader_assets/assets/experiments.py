"""Experiments group (spec 12-13): screens, probes and searches on a run's artifacts. Diagnostic only.

Every asset is configurable from the launchpad: its config class is generated from the experiment's
params dataclass (same field names and defaults, tuples as lists), and the dataclass validates the values.
Outputs go to ``experiments/<asset>/`` (result JSON last); the asset value is a short summary. Nothing in
the release chain depends on this group, so an experiment can never gate a promotion.
"""

import dataclasses
import types
import typing
from typing import Any, Optional

import dagster as dg
import pandas as pd
import pydantic

from trader_assets.metadata import json_value
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import layout, stages
from trader_core.contracts.models import DIRECTION, ENTRY
from trader_core.experiments import entry_probes, entry_screens, good_trade, nonlinear_pm, ofi, plan_search
from trader_core.experiments import state_continue
from trader_core.splits import assign_split
from trader_core.stages.experiments import experiment_stage, skipped_output

EXPERIMENTS = dict(partitions_def=runs_partitions, group_name="experiments", owners=["team:research"],
                   kinds={"python", "markdown"})


def _config_type(tp: Any) -> Any:
    """Launchpad type of a params field: tuples become lists, ``X | None`` stays optional."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple:
        return list[args[0]]
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in args if a is not type(None)]
        tuple_arm = next((a for a in arms if typing.get_origin(a) is tuple), None)
        chosen = _config_type(tuple_arm or arms[0])
        return Optional[chosen] if type(None) in args else chosen
    return tp


def launchpad_config(params_cls: type) -> type[dg.Config]:
    """A dg.Config class mirroring ``params_cls`` (a frozen dataclass with defaults)."""
    hints = typing.get_type_hints(params_cls)
    fields = {}
    for f in dataclasses.fields(params_cls):
        default = list(f.default) if isinstance(f.default, tuple) else f.default
        fields[f.name] = (_config_type(hints[f.name]), default)
    return pydantic.create_model(f"{params_cls.__name__}Config", __base__=dg.Config, **fields)


def to_params(params_cls: type, config: dg.Config) -> Any:
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in config.model_dump().items()}
    return params_cls(**values)


def _output(context: dg.AssetExecutionContext, trader_home: TraderHome, output) -> dg.Output[dict]:
    asset = context.asset_key.path[-1]
    run_dir = trader_home.run_dir(context.partition_key)
    summary = experiment_stage(run_dir, asset, output, spec=trader_home.run_spec(context.partition_key),
                               home=trader_home.path)
    return dg.Output(summary, metadata={
        "verdict": summary["verdict"], "headline": json_value(summary["headline"]),
        "folder": dg.MetadataValue.path(str(run_dir / summary["folder"])),
        "report": dg.MetadataValue.md((run_dir / summary["report"]).read_text())})


OfiConfig = launchpad_config(ofi.OfiParams)
StateContinueConfig = launchpad_config(state_continue.StateContinueParams)
PricePlanConfig = launchpad_config(plan_search.PricePlanSearchParams)
DynamicExitConfig = launchpad_config(plan_search.DynamicExitParams)
FeatureScreenConfig = launchpad_config(entry_screens.FeatureScreenParams)
PairScreenConfig = launchpad_config(entry_screens.PairScreenParams)
EntryMaeConfig = launchpad_config(entry_probes.EntryMaeParams)
ConditionalEntryConfig = launchpad_config(entry_probes.ConditionalEntryParams)
NonlinearPmConfig = launchpad_config(nonlinear_pm.NonlinearPmParams)
GoodTradeConfig = launchpad_config(good_trade.GoodTradeParams)


@dg.asset(**EXPERIMENTS, description="Spec 13.1: L1 and multi-level snapshot-diff OFI, microprice basis change, "
                                     "z-scores and cross features; market_only vs market_plus_ofi. Needs 20 book "
                                     "levels (source.depth_levels = 20).")
def ofi_experiment(context: dg.AssetExecutionContext, trader_home: TraderHome, config: OfiConfig,
                   feature_frame: pd.DataFrame, raw_market: dict, direction_labels: pd.DataFrame,
                   entry_train: pd.DataFrame) -> dg.Output[dict]:
    book = raw_market.get("book_depth")
    levels = 0 if book is None else sum(f"bid_{i}_price" in book.columns and bool(book[f"bid_{i}_price"].notna().any())
                                        for i in range(ofi.BOOK_LEVELS))
    if levels < ofi.BOOK_LEVELS:
        reason = (f"the OFI experiment needs {ofi.BOOK_LEVELS} book levels (mlofi_l20); this run's source records "
                  f"{levels} (synthetic: set source.depth_levels to 20)")
        return _output(context, trader_home, skipped_output("ofi", reason))
    output = ofi.run_ofi_experiment(feature_frame, book, direction_labels, entry_train,
                                    to_params(ofi.OfiParams, config))
    return _output(context, trader_home, output)


@dg.asset(**EXPERIMENTS, deps=["direction_model", "entry_model"],
          description="Spec 13.2: position-state rows by age, frozen scores from the run's ONNX models, "
                      "market_only vs market_plus_state continue models and the formal-chain verdict.")
def state_continue_experiment(context: dg.AssetExecutionContext, trader_home: TraderHome,
                              config: StateContinueConfig, feature_frame: pd.DataFrame,
                              entry_labels: pd.DataFrame, replay_1m: pd.DataFrame,
                              price_plan: dict) -> dg.Output[dict]:
    run_dir = trader_home.run_dir(context.partition_key)
    output = state_continue.run_state_continue_experiment(
        feature_frame, entry_labels, replay_1m, price_plan, layout.model_onnx_path(run_dir, DIRECTION),
        layout.model_onnx_path(run_dir, ENTRY), to_params(state_continue.StateContinueParams, config))
    return _output(context, trader_home, output)


def _plan_search_inputs(trader_home: TraderHome, run_id: str, replay: pd.DataFrame, manifest: dict):
    spec = trader_home.run_spec(run_id)
    return dict(labels=spec.labels, costs=spec.costs, run_id=run_id,
                replay_split_ids=assign_split(replay["event_time"], manifest))


@dg.asset(**EXPERIMENTS, description="Spec 12: a (target, stop) grid of fixed price plans scored on the eval splits; "
                                     "the best robust plan is a candidate for the next experiment, not a go-live "
                                     "decision.")
def price_plan_search(context: dg.AssetExecutionContext, trader_home: TraderHome, config: PricePlanConfig,
                      feature_frame: pd.DataFrame, replay_1m: pd.DataFrame, split_manifest: dict) -> dg.Output[dict]:
    output = plan_search.search_price_plans(
        feature_frame, replay_1m, params=to_params(plan_search.PricePlanSearchParams, config),
        **_plan_search_inputs(trader_home, context.partition_key, replay_1m, split_manifest))
    return _output(context, trader_home, output)


@dg.asset(**EXPERIMENTS, description="Spec 13.3: DYNAMIC_TRAILING_V1 exit plans (default grid of 81), per split and "
                                     "side, with the robust filter and the best plan.")
def dynamic_exit_search(context: dg.AssetExecutionContext, trader_home: TraderHome, config: DynamicExitConfig,
                        feature_frame: pd.DataFrame, replay_1m: pd.DataFrame, split_manifest: dict) -> dg.Output[dict]:
    output = plan_search.search_dynamic_exit_plans(
        feature_frame, replay_1m, params=to_params(plan_search.DynamicExitParams, config),
        **_plan_search_inputs(trader_home, context.partition_key, replay_1m, split_manifest))
    return _output(context, trader_home, output)


@dg.asset(**EXPERIMENTS, description="Spec 13.4: per feature bucket (edges learned on fit_inner) actual-plan entry "
                                     "edge; candidates picked on tune_inner, checked on the sealed splits.")
def entry_feature_screen(context: dg.AssetExecutionContext, trader_home: TraderHome, config: FeatureScreenConfig,
                         entry_train: pd.DataFrame) -> dg.Output[dict]:
    output = entry_screens.screen_entry_features(entry_train, to_params(entry_screens.FeatureScreenParams, config))
    return _output(context, trader_home, output)


@dg.asset(**EXPERIMENTS, description="Spec 13.5: pairs of tune-selected bucket conditions; stable candidates have a "
                                     "positive edge and lift on tune, validation_locked and latest_stress.")
def entry_condition_pair_screen(context: dg.AssetExecutionContext, trader_home: TraderHome, config: PairScreenConfig,
                                entry_train: pd.DataFrame) -> dg.Output[dict]:
    output = entry_screens.screen_entry_condition_pairs(entry_train, to_params(entry_screens.PairScreenParams, config))
    return _output(context, trader_home, output)


@dg.asset(**EXPERIMENTS, description="Spec 13.6: can the features rank low-drawdown, enough-room entries first? "
                                     "(MAE x opportunity target grid, top-fraction metrics).")
def entry_mae_label_diagnostic(context: dg.AssetExecutionContext, trader_home: TraderHome, config: EntryMaeConfig,
                               entry_train: pd.DataFrame) -> dg.Output[dict]:
    output = entry_probes.diagnose_entry_mae_labels(entry_train, to_params(entry_probes.EntryMaeParams, config))
    return _output(context, trader_home, output)


@dg.asset(**EXPERIMENTS, description="Spec 13.7: entry classifiers trained inside an oracle opportunity filter "
                                     "(diagnostic: the filter uses the future).")
def conditional_entry_probe(context: dg.AssetExecutionContext, trader_home: TraderHome,
                            config: ConditionalEntryConfig, entry_train: pd.DataFrame) -> dg.Output[dict]:
    output = entry_probes.probe_conditional_entry_training(entry_train,
                                                           to_params(entry_probes.ConditionalEntryParams, config))
    return _output(context, trader_home, output)


@dg.asset(**EXPERIMENTS, deps=["direction_model", "risk_model"],
          description="Spec 13.8: gradient-boosted Direction/Entry outputs in the PM frame and the expanded 17280-"
                      "candidate threshold grid on tune_inner, re-simulated on the sealed splits.")
def nonlinear_pm_probe(context: dg.AssetExecutionContext, trader_home: TraderHome, config: NonlinearPmConfig,
                       direction_train: pd.DataFrame, entry_train: pd.DataFrame, entry_labels: pd.DataFrame,
                       price_plan: dict, entry_model: dict) -> dg.Output[dict]:
    frames, _ = stages.pm_frames(trader_home.run_dir(context.partition_key), entry_train, entry_labels, price_plan)
    output = nonlinear_pm.probe_nonlinear_pm(direction_train, entry_train, pd.concat(frames.values(), ignore_index=True),
                                             price_plan, to_params(nonlinear_pm.NonlinearPmParams, config))
    return _output(context, trader_home, output)


@dg.asset(**EXPERIMENTS, description="Spec 13.9: what separates good from bad trades: single-feature AUCs and a "
                                     "tree, judged on top fractions of the eval splits.")
def good_trade_structure(context: dg.AssetExecutionContext, trader_home: TraderHome, config: GoodTradeConfig,
                         entry_train: pd.DataFrame) -> dg.Output[dict]:
    output = good_trade.diagnose_good_trade_structure(entry_train, to_params(good_trade.GoodTradeParams, config))
    return _output(context, trader_home, output)


EXPERIMENT_ASSETS = [ofi_experiment, state_continue_experiment, price_plan_search, dynamic_exit_search,
                     entry_feature_screen, entry_condition_pair_screen, entry_mae_label_diagnostic,
                     conditional_entry_probe, nonlinear_pm_probe, good_trade_structure]

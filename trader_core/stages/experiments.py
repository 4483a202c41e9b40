"""Experiment stages: run an experiment, write its output under ``experiments/<asset>/`` and summarize it.

Experiments are diagnostic only (docs/experiments.md): nothing in the formal chain reads their outputs.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from trader_core import layout, sealed_ledger
from trader_core.contracts.models import DIRECTION, ENTRY
from trader_core.contracts.price_plan import PricePlan
from trader_core.experiments import entry_probes, entry_screens, good_trade, nonlinear_pm, ofi, plan_search
from trader_core.experiments import state_continue
from trader_core.experiments.ofi_features import BOOK_LEVELS
from trader_core.experiments.toolkit import DIAGNOSTIC_ONLY, ExperimentOutput, write_experiment
from trader_core.report import jsonable
from trader_core.run_context import RunContext
from trader_core.splits import assign_split
from trader_core.stages.result import StageResult

EXPERIMENTS_DIR = "experiments"
#: Result keys worth showing at a glance when an experiment has them.
HEADLINE_KEYS = ("stable_candidate_count", "candidate_count", "positive_top_edge_candidate_count",
                 "stable_positive_count", "robust_candidate_found", "trainable_row_count", "bucket_metric_count")


#: Screens without a verdict of their own are summarized by their count of stable candidates.
STABLE_COUNT_KEYS = ("stable_candidate_count", "positive_top_edge_candidate_count", "stable_positive_count")


def verdict_of(result: dict[str, Any]) -> str:
    """The experiment's verdict as one string (the verdict's status when it is a dict)."""
    verdict = result.get("verdict")
    if isinstance(verdict, dict):
        return str(verdict.get("status", verdict))
    if verdict is not None:
        return str(verdict)
    if "robust_candidate_found" in result:
        return "ROBUST_CANDIDATE_FOUND" if result["robust_candidate_found"] else "NO_ROBUST_CANDIDATE"
    count = next((result[k] for k in STABLE_COUNT_KEYS if k in result), None)
    if count is None:
        return "REPORT_ONLY"
    return "STABLE_CANDIDATE_FOUND" if count > 0 else "NO_STABLE_CANDIDATE"


def ofi_stage(*, ctx: RunContext, params: ofi.OfiParams, features: pd.DataFrame, raw_market: dict[str, pd.DataFrame],
              direction_labels: pd.DataFrame, entry_train: pd.DataFrame) -> StageResult:
    """The OFI experiment, or its skipped result when the run's source records fewer book levels than it needs."""
    book = raw_market.get("book_depth")
    levels = 0 if book is None else sum(f"bid_{i}_price" in book.columns and bool(book[f"bid_{i}_price"].notna().any())
                                        for i in range(BOOK_LEVELS))
    if levels < BOOK_LEVELS:
        reason = (f"the OFI experiment needs {BOOK_LEVELS} book levels (mlofi_l20); this run's source records "
                  f"{levels} (synthetic: set source.depth_levels to 20)")
        return _record(ctx, "ofi_experiment", skipped_output("ofi", reason))
    return _record(ctx, "ofi_experiment", ofi.run_ofi_experiment(features, book, direction_labels, entry_train, params))


def state_continue_stage(*, ctx: RunContext, params: state_continue.StateContinueParams, features: pd.DataFrame,
                         entry_labels: pd.DataFrame, replay: pd.DataFrame, plan: PricePlan) -> StageResult:
    """Position-state continue models scored with the run's frozen ONNX direction and entry models."""
    output = state_continue.run_state_continue_experiment(
        features, entry_labels, replay, plan, layout.model_onnx_path(ctx.run_dir, DIRECTION),
        layout.model_onnx_path(ctx.run_dir, ENTRY), params)
    return _record(ctx, "state_continue_experiment", output)


#: Plan searches by asset: each scores plans on the replay's paths with the run's label and cost configs.
PLAN_SEARCHES = {"price_plan_search": plan_search.search_price_plans,
                 "dynamic_exit_search": plan_search.search_dynamic_exit_plans}


def plan_search_stage(*, ctx: RunContext, asset: str, params: Any, features: pd.DataFrame, replay: pd.DataFrame,
                      manifest: dict[str, Any]) -> StageResult:
    """One of ``PLAN_SEARCHES`` on this run's replay and split manifest."""
    output = PLAN_SEARCHES[asset](features, replay, params=params, labels=ctx.spec.labels, costs=ctx.spec.costs,
                                  run_id=ctx.run_id, replay_split_ids=assign_split(replay["event_time"], manifest))
    return _record(ctx, asset, output)


#: Screens and probes by asset that read entry_train only.
ENTRY_TRAIN_EXPERIMENTS = {
    "entry_feature_screen": entry_screens.screen_entry_features,
    "entry_condition_pair_screen": entry_screens.screen_entry_condition_pairs,
    "entry_mae_label_diagnostic": entry_probes.diagnose_entry_mae_labels,
    "conditional_entry_probe": entry_probes.probe_conditional_entry_training,
    "good_trade_structure": good_trade.diagnose_good_trade_structure,
}


def entry_train_experiment_stage(*, ctx: RunContext, asset: str, params: Any, entry_train: pd.DataFrame) -> StageResult:
    """One of ``ENTRY_TRAIN_EXPERIMENTS`` on this run's entry dataset."""
    return _record(ctx, asset, ENTRY_TRAIN_EXPERIMENTS[asset](entry_train, params))


def nonlinear_pm_stage(*, ctx: RunContext, params: nonlinear_pm.NonlinearPmParams, direction_train: pd.DataFrame,
                       entry_train: pd.DataFrame, frame: pd.DataFrame, plan: PricePlan) -> StageResult:
    """Gradient-boosted direction/entry outputs in the run's PM frame and the expanded threshold grid."""
    return _record(ctx, "nonlinear_pm_probe",
                   nonlinear_pm.probe_nonlinear_pm(direction_train, entry_train, frame, plan, params))


def _record(ctx: RunContext, asset: str, output: ExperimentOutput) -> StageResult:
    """Write ``output`` under ``experiments/<asset>/`` (result JSON last); the value is its summary. Experiments read
    the sealed splits' rows, so each is a look recorded in the sealed ledger (docs/trading.md)."""
    sealed_ledger.record_run_look(ctx.run_dir, ctx.spec, ctx.home, kind="experiment", what=asset)
    folder = ctx.run_dir / EXPERIMENTS_DIR / asset
    hashes = write_experiment(output, folder)
    summary = jsonable({
        "experiment": output.name, "diagnostic_only": True, "verdict": verdict_of(output.result),
        "headline": {k: output.result[k] for k in HEADLINE_KEYS if k in output.result},
        "folder": f"{EXPERIMENTS_DIR}/{asset}", "files": hashes,
        "report": f"{EXPERIMENTS_DIR}/{asset}/{output.name}_report.md",
    })
    return StageResult(value=summary, figures={"verdict": summary["verdict"], "headline": summary["headline"]},
                       reports={"report": output.report}, paths={"folder": folder})


def skipped_output(name: str, reason: str) -> ExperimentOutput:
    """The output of an experiment that cannot run on this run's data (a result, not a failure)."""
    return ExperimentOutput(name, {"experiment": name, "status": DIAGNOSTIC_ONLY, "diagnostic_only": True,
                                   "verdict": "SKIPPED", "skip_reason": reason},
                            f"# {name}: skipped\n\n{reason}\n")

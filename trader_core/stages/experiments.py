"""Experiment stage: write an experiment's output under ``experiments/<asset>/`` and summarize it.

Experiments are diagnostic only (spec 13): nothing in the formal chain reads their outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trader_core import sealed_ledger
from trader_core.config import RunSpec
from trader_core.experiments.toolkit import DIAGNOSTIC_ONLY, ExperimentOutput, write_experiment
from trader_core.report import jsonable

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


def experiment_stage(run_dir: Path, asset: str, output: ExperimentOutput, *, spec: RunSpec,
                     home: Path) -> dict[str, Any]:
    """Write ``output`` (result JSON last) and return the summary stored as the asset's value. Experiments read the
    sealed splits' rows, so each is a look recorded in the sealed ledger (docs/trading.md)."""
    sealed_ledger.record_run_look(run_dir, spec, home, kind="experiment", what=asset)
    folder = Path(run_dir) / EXPERIMENTS_DIR / asset
    hashes = write_experiment(output, folder)
    return jsonable({
        "experiment": output.name, "diagnostic_only": True, "verdict": verdict_of(output.result),
        "headline": {k: output.result[k] for k in HEADLINE_KEYS if k in output.result},
        "folder": f"{EXPERIMENTS_DIR}/{asset}", "files": hashes,
        "report": f"{EXPERIMENTS_DIR}/{asset}/{output.name}_report.md",
    })


def skipped_output(name: str, reason: str) -> ExperimentOutput:
    """The output of an experiment that cannot run on this run's data (a result, not a failure)."""
    return ExperimentOutput(name, {"experiment": name, "status": DIAGNOSTIC_ONLY, "diagnostic_only": True,
                                   "verdict": "SKIPPED", "skip_reason": reason},
                            f"# {name}: skipped\n\n{reason}\n")

"""Stage functions: compute a stage's output and write its side artifacts (reports, locks, schemas).

Each takes keyword-only arguments (a ``RunContext`` when it needs the run) and returns a ``StageResult``: the
stage's main value (stored by the caller, e.g. the Dagster IO manager, manifest last) and what to show about
it. Every Dagster asset calls one of these and turns the result into its output with
``trader_assets.metadata.stage_output``.

The stage modules load the model libraries (sklearn, onnx, numba, matplotlib, ...), so this package imports
them on first use (PEP 562 ``__getattr__``): ``stages.model_stage`` or ``stages.butterfly`` inside an asset body
loads its module in the step that runs it, never when the code location is defined (docs/layers.md, "Lazy
imports").
"""

from __future__ import annotations

import importlib
from typing import Any

#: The stage functions re-exported here, by the stage module that defines them (the butterfly strategy's stages
#: share names with the perp chain's: they are reached as ``stages.butterfly.<name>``).
_EXPORTS = {
    "decisions": ("weekly_report_stage",),
    "experiments": ("entry_train_experiment_stage", "nonlinear_pm_stage", "ofi_stage", "plan_search_stage",
                    "state_continue_stage"),
    "fanout": ("replay_slices_stage",),
    "features": ("feature_frame_stage", "symbol_features_stage"),
    "labels": ("direction_labels_stage", "direction_opportunity_stage", "entry_labels_stage", "label_summary",
               "path_stats_stage", "position_label_stage", "price_plan_stage", "symbol_path_stats_stage",
               "train_dataset_stage"),
    "market": ("raw_market_stage", "read_split_lock", "replay_stage", "split_stage"),
    "models": ("model_stage", "model_train_manifest_stage"),
    "monitoring": ("challenger_stage", "drift_stage", "monitoring_report_stage", "reference_profile_stage",
                   "shadow_stage"),
    "result": ("StageResult",),
    "trading": ("backtest_stage", "diagnostics_stage", "pm_frame_stage", "pm_report", "pm_search_stage",
                "release_stage"),
    "walk_forward": ("walk_forward_report_stage",),
}
_FUNCTIONS = {name: module for module, names in _EXPORTS.items() for name in names}
_MODULES = ("butterfly", *_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(f"{__name__}.{_FUNCTIONS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FUNCTIONS, *_MODULES})

"""The perp strategy: the 1-minute perpetual-futures chain (market -> replay -> features -> labels -> four models
-> PM -> backtest -> release).

Its monthly retrain reads the trailing ``months`` complete landed months ending with the new one (default 6,
or the home's ``RETRAIN_WINDOW_FILE``, or ``$TRADER_RETRAIN_MONTHS``; months not landed yet contribute no data); its label/cost/PM sections come
from ``configs/retrain.json`` in the checkout when it exists (the same plan as the demo), else the defaults
(docs/retraining.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from trader_core import layout
from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping, merge_sections, read_json_object, to_mapping
from trader_core.contracts.models import MODELS
from trader_core.market.landing import landing_root, parse_month
from trader_core.strategies.base import Strategy, source_identity

DEFAULT_TRAILING_MONTHS = 6
RETRAIN_CONFIG = layout.PROJECT_ROOT / "configs" / "retrain.json"


#: A home's own retrain window, beside its landed months: ``{"months": N}`` (a walk-forward home writes it, so the
#: sensor of any process on that home, the daemon's too, retrains with the window the walk-forward was made with).
RETRAIN_WINDOW_FILE = "retrain_window.json"


def trailing_months(home: Path | None = None) -> int:
    """The retrain window: the home's ``RETRAIN_WINDOW_FILE``, else ``$TRADER_RETRAIN_MONTHS``, else 6."""
    window = landing_root(home) / RETRAIN_WINDOW_FILE
    if window.exists():
        value = str(read_json_object(window, "retrain window").get("months"))
        source = str(window)
    else:
        value, source = os.environ.get("TRADER_RETRAIN_MONTHS", str(DEFAULT_TRAILING_MONTHS)), "TRADER_RETRAIN_MONTHS"
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{source}: the retrain window must be a positive integer of months, got {value!r}")
    return int(value)


def model_files(run_dir: Path) -> dict[str, Path]:
    """Release-relative path -> ONNX file, for the four models of a run."""
    return {f"model/{m.lower()}/{m.lower()}.onnx": layout.model_onnx_path(run_dir, m) for m in MODELS}


class Perp(Strategy):
    name = "perp"
    job = "retrain_job"
    job_with_experiments = "everything_job"
    folders = ("market", "replay", "split", "feature", "label", "dataset", "model", "pm-frame", "pm-search", "backtest",
               "release", "diagnostics", "monitoring", "experiments")
    landing_tag = None
    retrain_prefix = "retrain-"
    synthetic_section = ("source",)
    decider = "perp"

    def retrain_spec(self, marker: Mapping[str, Any], *, home: Path | None = None, months: int | None = None,
                     config_path: Path | None = RETRAIN_CONFIG) -> RunSpec:
        month = marker["month"]
        end = parse_month(month) + pd.offsets.MonthBegin(1)
        start = parse_month(month) - pd.offsets.MonthBegin((months or trailing_months(home)) - 1)
        data = to_mapping(RunSpec(run_id=self.retrain_run_id(month)))
        if config_path is not None and Path(config_path).exists():
            data = merge_sections(data, read_json_object(config_path, "retrain config"))
        data.update({
            "source": {**data["source"], "kind": "landed", "path": str(landing_root(home) / marker["source"])},
            "symbols": list(marker["symbols"]), "start": start.strftime("%Y-%m-%d"), "end": end.strftime("%Y-%m-%d"),
        })
        return from_mapping(RunSpec, data)

    def release_files(self, run_dir: Path) -> dict[str, Path]:
        return {**model_files(run_dir),
                "model/feature_order.json": run_dir / layout.FEATURE_ORDER_FILE,
                "model/model_train_manifest.json": run_dir / layout.ARTIFACT_PATHS["model_train_manifest"],
                "feature/feature_schema.json": run_dir / layout.FEATURE_SCHEMA_FILE,
                "label/price_plan_context.json": run_dir / layout.ARTIFACT_PATHS["price_plan"],
                "pm/position_manager_config.json": run_dir / layout.ARTIFACT_PATHS["pm_search"],
                "backtest/backtest_result.json": run_dir / layout.ARTIFACT_PATHS["backtest"],
                "run_spec.json": run_dir / layout.RUN_SPEC_FILE,
                "monitoring/reference_profile.json": run_dir / layout.ARTIFACT_PATHS["reference_profile"]}

    def line_universe(self, spec: RunSpec) -> tuple[str, ...]:
        return spec.symbols

    def line_market(self, spec: RunSpec) -> dict[str, Any]:
        return source_identity(spec.source)

    def describe(self, spec: RunSpec) -> str:
        return (f"{spec.source.kind}, symbols {','.join(spec.symbols)}, "
                f"{spec.start or 'first bar'} .. {spec.end or 'last bar'}")


PERP = Perp()

"""On-disk layout (README, "Where things are"): ``<TRADER_HOME>/trader-v4/runs/<run_id>/<stage>/<file>``.

``TRADER_HOME`` defaults to ``data/`` in the source checkout (git-ignored). Raw landed market data lives
under ``<TRADER_HOME>/market/`` and promoted bundles under ``<TRADER_HOME>/releases/``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from trader_core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

#: Suffix of an artifact stored as one parquet part per symbol (a folder; ``trader_core.parts``, docs/scaling.md,
#: "Per-symbol parts"): its manifest is the sibling ``<name>.manifest.json``.
PARTS_SUFFIX = ".parts"
#: Artifact file of each stage output, relative to the run root. Asset names are the keys.
ARTIFACT_PATHS: dict[str, str] = {
    "raw_market": "market/raw",
    "replay_1m": "replay/replay_1m.parquet",
    "split_manifest": "split/split_manifest.json",
    "feature_frame": f"feature/feature_frame{PARTS_SUFFIX}",
    "price_plan": "label/price_plan_context.json",
    "path_stats": f"label/path_stats{PARTS_SUFFIX}",
    "direction_labels": "label/direction_labels.parquet",
    "entry_labels": "label/entry_labels.parquet",
    "continue_labels": "label/continue_labels.parquet",
    "exit_labels": "label/exit_labels.parquet",
    "risk_labels": "label/risk_labels.parquet",
    "direction_train": "dataset/direction_train.parquet",
    "entry_train": "dataset/entry_train.parquet",
    "continue_train": "dataset/continue_train.parquet",
    "risk_train": "dataset/risk_train.parquet",
    "direction_opportunity_train": "dataset/direction_opportunity_train.parquet",
    "direction_model": "model/direction/direction_model.json",
    "entry_model": "model/entry/entry_model.json",
    "continue_model": "model/continue/continue_model.json",
    "risk_model": "model/risk/risk_model.json",
    "model_train_manifest": "model/model_train_manifest.json",
    "pm_frame": "pm-frame/pm_frame.parquet",
    "pm_search": "pm-search/position_manager_config.json",
    "backtest": "backtest/backtest_result.json",
    "release": "release/release.json",
    "training_diagnostics": "diagnostics/training_diagnostics.json",
    "reference_profile": "monitoring/reference_profile.json",
    "shadow_scoring": "monitoring/shadow_scoring.json",
    "drift_report": "monitoring/drift_report.json",
    "champion_challenger": "monitoring/champion_challenger.json",
    "monitoring_report": "monitoring/monitoring_report.json",
    "butterfly_market": "butterfly/market",
    "butterfly_dataset": "butterfly/dataset.parquet",
    "butterfly_model": "butterfly/model/model_manifest.json",
    "butterfly_backtest": "butterfly/backtest.json",
    "butterfly_monitoring": "butterfly/monitoring.json",
    "butterfly_release": "butterfly/release.json",
    **{name: f"experiments/{name}/summary.json" for name in (
        "ofi_experiment", "state_continue_experiment", "price_plan_search", "dynamic_exit_search",
        "entry_feature_screen", "entry_condition_pair_screen", "entry_mae_label_diagnostic",
        "conditional_entry_probe", "nonlinear_pm_probe", "good_trade_structure")},
}
RUN_SPEC_FILE = "run_spec.json"
SPLIT_LOCK_FILE = "split/validation_lock.json"
FEATURE_ORDER_FILE = "feature/feature_order.json"
FEATURE_SCHEMA_FILE = "feature/feature_schema.json"
FEATURE_REPORT_FILE = "feature/feature_quality_report.md"
REPLAY_REPORT_FILE = "replay/replay_report.json"
PRICE_PLAN_PARQUET_FILE = "label/price_plan_context.parquet"
POSITION_LABEL_REPORT_FILE = "label/continue_exit_risk_label_report.md"
DIRECTION_OPPORTUNITY_RESULT_FILE = "dataset/direction_opportunity_dataset_result.json"
PM_CANDIDATES_FILE = "pm-search/pm_threshold_candidates.parquet"
PM_TUNE_TRADES_FILE = "pm-search/pm_backtest_trades.parquet"
PM_REPORT_FILE = "pm-search/pm_threshold_report.md"
BACKTEST_TRADES_FILE = "backtest/backtest_trades.parquet"
BACKTEST_REPORT_FILE = "backtest/integrated_backtest_report.md"
DIAGNOSTICS_REPORT_FILE = "diagnostics/training_diagnostics.md"


def model_onnx_path(run_dir: Path, model: str) -> Path:
    """``model/<name>/<name>.onnx`` (docs/models.md, "ONNX contract")."""
    name = model.lower()
    return run_dir / "model" / name / f"{name}.onnx"


def model_predictions_path(run_dir: Path, model: str, split: str) -> Path:
    """``model/<name>/<split>_predictions.parquet`` (e.g. tune_predictions.parquet for tune_inner)."""
    name = model.lower()
    stem = "tune" if split == "tune_inner" else "fit" if split == "fit_inner" else split
    return run_dir / "model" / name / f"{stem}_predictions.parquet"


def trader_home() -> Path:
    """The data root: ``$TRADER_HOME`` or ``<checkout>/data``."""
    return Path(os.environ.get("TRADER_HOME") or PROJECT_ROOT / "data").resolve()


def validate_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        raise ConfigError(f"run id {run_id!r} is invalid: use 1-64 characters from A-Z a-z 0-9 . _ - "
                          "starting with a letter or digit")
    return run_id


def runs_root(home: Path | None = None) -> Path:
    return (home or trader_home()) / "trader-v4" / "runs"


def run_root(run_id: str, home: Path | None = None) -> Path:
    return runs_root(home) / validate_run_id(run_id)


def artifact_path(run_id: str, asset: str, home: Path | None = None) -> Path:
    try:
        rel = ARTIFACT_PATHS[asset]
    except KeyError as exc:
        raise KeyError(f"no artifact path declared for asset {asset!r}") from exc
    return run_root(run_id, home) / rel

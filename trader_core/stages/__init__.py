"""Stage functions: compute a stage's output and write its side artifacts (reports, locks, schemas).

Each takes keyword-only arguments (a ``RunContext`` when it needs the run) and returns a ``StageResult``: the
stage's main value (stored by the caller, e.g. the Dagster IO manager, manifest last) and what to show about
it. Every Dagster asset calls one of these and turns the result into its output with
``trader_assets.metadata.stage_output``.
"""

from trader_core.stages.fanout import replay_slices_stage  # noqa: F401
from trader_core.stages.features import feature_frame_stage, symbol_features_stage  # noqa: F401
from trader_core.stages.labels import (  # noqa: F401
    direction_labels_stage,
    direction_opportunity_stage,
    entry_labels_stage,
    label_summary,
    path_stats_stage,
    position_label_stage,
    price_plan_stage,
    symbol_path_stats_stage,
    train_dataset_stage,
)
from trader_core.stages.market import raw_market_stage, read_split_lock, replay_stage, split_stage  # noqa: F401
from trader_core.stages.models import model_stage, model_train_manifest_stage  # noqa: F401
from trader_core.stages.result import StageResult  # noqa: F401
from trader_core.stages.trading import (  # noqa: F401
    backtest_stage,
    diagnostics_stage,
    pm_frame_stage,
    pm_report,
    pm_search_stage,
    release_stage,
)

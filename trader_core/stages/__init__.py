"""Stage functions: compute a stage's output and write its side artifacts (reports, locks, schemas).

Each returns the stage's main value (stored by the caller, e.g. the Dagster IO manager, manifest last)
and a summary for display. The Dagster assets are thin wrappers around these.
"""

from trader_core.stages.features import feature_stage, finish_feature_stage, trainable_split_counts  # noqa: F401
from trader_core.stages.labels import (  # noqa: F401
    direction_opportunity_stage,
    label_summary,
    path_stats_stage,
    position_label_stage,
    price_plan_stage,
)
from trader_core.stages.market import raw_market_stage, read_split_lock, replay_stage, split_stage  # noqa: F401
from trader_core.stages.models import model_stage  # noqa: F401
from trader_core.stages.trading import (  # noqa: F401
    backtest_stage,
    diagnostics_stage,
    pm_frames,
    pm_report,
    pm_search_stage,
    release_stage,
)

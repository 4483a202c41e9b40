"""The fan-out stage: a replay split into one slice per symbol, for the per-symbol feature and path-statistics
steps (``trader_core.fanout``; the Dagster layer maps the per-symbol steps over the slices)."""

from __future__ import annotations

import pandas as pd

from trader_core.fanout import mapping_key, symbol_slices
from trader_core.stages.result import StageResult


def replay_slices_stage(*, replay: pd.DataFrame) -> StageResult:
    """One output per symbol, keyed by its mapping key: that symbol's replay rows (ascending symbol order)."""
    return StageResult(outputs={mapping_key(symbol): StageResult(value=part, figures={"symbol": symbol,
                                                                                      "rows": len(part)})
                                for symbol, part in symbol_slices(replay)})

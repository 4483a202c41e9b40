"""The fan-out stage: one replay slice per symbol of the stored replay, for the per-symbol feature and
path-statistics steps (``trader_core.fanout``; the Dagster layer maps the per-symbol steps over the slices). Only
the replay's symbol column is read here; each symbol step reads its own rows."""

from __future__ import annotations

from trader_core.fanout import StoredReplay, mapping_key
from trader_core.stages.result import StageResult


def replay_slices_stage(*, replay: StoredReplay) -> StageResult:
    """One output per symbol, keyed by its mapping key: where that symbol's replay rows are (ascending symbol
    order)."""
    return StageResult(outputs={mapping_key(symbol): StageResult(value=replay.slice(symbol),
                                                                 figures={"symbol": symbol, "rows": rows})
                                for symbol, rows in replay.symbol_rows().items()})

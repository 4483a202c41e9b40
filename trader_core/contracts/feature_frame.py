"""The feature frame contract: META columns then FEATURE_ORDER, one row per replay row (docs/features.md)."""

from __future__ import annotations

from trader_core.contracts.features import FEATURE_COLUMNS, META
from trader_core.contracts.invariants import trainable_rows_finite
from trader_core.contracts.table import TableContract

FEATURE_FRAME = TableContract(
    name="feature_frame",
    description="Look-ahead-free features per symbol-minute (float32), in replay order; WARMUP rows may hold NaN.",
    columns=META + FEATURE_COLUMNS,
    key=("symbol", "open_time_ms"),
    sort=("symbol", "open_time_ms"),
    invariants=(trainable_rows_finite(),),
)

"""Direction labels (docs/labels.md, "Families"; our rule).

Rule (the original intent): ``future_return_bps`` is the close-to-close return over the next
``horizon_minutes`` (45) bars, ``(close[t+h] / close[t] - 1) * 1e4``, on a valid window (contiguous
minutes, one split, finite prices; the path statistics' validity, whose ``future_return_bps`` of the
LONG side is exactly this return whatever the plan). The label is LONG if ``future_return_bps >=
long_threshold_bps`` (+5), SHORT if ``<= short_threshold_bps`` (-5), otherwise NEUTRAL. Both thresholds
are inclusive (up to ``THRESHOLD_TOLERANCE_BPS`` of floating-point error: 100 -> 100.05 computes as
4.9999999999994 bps and counts as +5) and costs are not subtracted: direction is a market call, the
cost-aware decision belongs to the entry labels and the position manager.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_core.config import DirectionLabelConfig
from trader_core.contracts.labels import DIRECTION_LABEL_COLUMNS, LONG, SHORT
from trader_core.contracts.versions import LABEL_VERSION
from trader_core.labels.base import aligned_sides, constant, label_base

NEUTRAL = "NEUTRAL"
THRESHOLD_TOLERANCE_BPS = 1e-9


def build_direction_labels(features: pd.DataFrame, path_stats: pd.DataFrame,
                           config: DirectionLabelConfig) -> pd.DataFrame:
    """One row per sample with a valid forward window: future return and one-hot direction targets."""
    frame, sides = aligned_sides(label_base(features), path_stats, config.horizon_minutes,
                                  {"LONG": ("future_return_bps",), "SHORT": ()})
    ret = sides["LONG"]["future_return_bps"]
    long = ret >= config.long_threshold_bps - THRESHOLD_TOLERANCE_BPS
    short = (ret <= config.short_threshold_bps + THRESHOLD_TOLERANCE_BPS) & ~long
    frame["future_return_bps"] = ret
    frame["direction_label"] = np.where(long, LONG, np.where(short, SHORT, NEUTRAL))
    frame["long_target"] = long.astype(np.int8)
    frame["short_target"] = short.astype(np.int8)
    frame["neutral_target"] = (~long & ~short).astype(np.int8)
    frame["horizon_minutes"] = np.int64(config.horizon_minutes)
    frame["label_version"] = constant(LABEL_VERSION, len(frame))
    return frame[list(DIRECTION_LABEL_COLUMNS)]

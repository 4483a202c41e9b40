"""Feature frame stage: build_feature_frame (replay -> features) and its markdown quality report."""

from trader_core.features.build import HISTORY_ROWS, build_feature_frame
from trader_core.features.report import feature_quality_report

__all__ = ["HISTORY_ROWS", "build_feature_frame", "feature_quality_report"]

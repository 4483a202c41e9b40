"""Asset checks: one property each, metadata on every result. Blocking checks stop downstream assets.

The checks of the stored tables are generated from their contracts (``tables``); the rest guard what is not a
table: the locked split, the feature order, the ONNX models, the PM config, the backtest gate, the release
bundle and monitoring.
"""

from trader_assets.checks.features import feature_order_hash_matches
from trader_assets.checks.models import MODEL_CHECKS
from trader_assets.checks.monitoring import MONITORING_CHECKS
from trader_assets.checks.splits import SPLIT_CHECKS
from trader_assets.checks.tables import TABLE_CHECKS
from trader_assets.checks.trading import TRADING_CHECKS

CHECKS = [*TABLE_CHECKS, *SPLIT_CHECKS, feature_order_hash_matches, *MODEL_CHECKS, *TRADING_CHECKS, *MONITORING_CHECKS]

"""Contracts declared once: versions, split ids, raw/replay table contracts, feature order."""

from trader_core.contracts.features import (
    FEATURE_COUNT,
    FEATURE_ORDER,
    FEATURES,
    META_COLUMNS,
    OPTIONAL_SOURCE_FEATURES,
    QUALITY_OK,
    QUALITY_PARTIAL_OPTIONAL,
    QUALITY_WARMUP,
    TRAINABLE_QUALITY,
    FeatureSpec,
    canonical_json,
    feature_order_hash,
    feature_schema,
    sha256_json,
)
from trader_core.contracts.raw import RAW_TABLES, REQUIRED_RAW_TABLES
from trader_core.contracts.replay import AVAILABILITY_COLUMNS, MINUTE_MS, REPLAY, REPLAY_COLUMNS
from trader_core.contracts.table import Column, TableContract, validate_frame
from trader_core.contracts.versions import *  # noqa: F401,F403 - versions and split ids are the public surface

"""Feature contract: FEATURE_ORDER, the feature schema, META columns and quality flags.

Formulas 1-33 are the original formulas verbatim (docs/features.md); windows count rows of one symbol, not wall time. The
pass-through and book features (34-41) are our definitions (docs/features.md). Every book
feature uses only the bar-close snapshot of its own row or earlier rows, so it is look-ahead free.
When the optional source a feature depends on is unavailable the feature is 0 (a neutral value, the
same convention as ``safe_divide`` (docs/features.md)``) and the row is flagged PARTIAL_OPTIONAL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from trader_core.contracts.table import Column, names
from trader_core.contracts.versions import FEATURE_VERSION, FIT_FOLD, NO_FOLD, SPLIT_IDS


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    unit: str
    window: int  # rows of history used, including the current one (1 = current row only)
    formula: str
    source: str

    def as_json(self) -> dict:
        return asdict(self) | {"feature_version": FEATURE_VERSION}


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("ret_1m_bps", "bps", 2, "(c/c.shift(1) - 1) * 1e4", "trades"),
    FeatureSpec("ret_5m_bps", "bps", 6, "(c/c.shift(5) - 1) * 1e4", "trades"),
    FeatureSpec("ret_15m_bps", "bps", 16, "(c/c.shift(15) - 1) * 1e4", "trades"),
    FeatureSpec("ret_60m_bps", "bps", 61, "(c/c.shift(60) - 1) * 1e4", "trades"),
    FeatureSpec("ret_240m_bps", "bps", 241, "(c/c.shift(240) - 1) * 1e4", "trades"),
    FeatureSpec("realized_vol_15m_bps", "bps", 16, "rolling-15 (min 15) sample std of log(c/c.shift(1)) * 1e4", "trades"),
    FeatureSpec("realized_vol_60m_bps", "bps", 61, "rolling-60 (min 60) sample std of log(c/c.shift(1)) * 1e4", "trades"),
    FeatureSpec("vol_ratio_15m_60m", "ratio", 61, "safe_divide(rv15, max(rv60, 1.0))", "trades"),
    FeatureSpec("range_15m_bps", "bps", 15, "(max15(h) / min15(l) - 1) * 1e4 (min 15)", "trades"),
    FeatureSpec("range_60m_bps", "bps", 60, "(max60(h) / min60(l) - 1) * 1e4 (min 60)", "trades"),
    FeatureSpec("volume_zscore_60m", "z", 60, "(v - mean60(v)) / std60(v); std 0 -> NaN; NaN -> 0", "trades"),
    FeatureSpec("trend_consistency_15m", "ratio", 16, "rolling-15 mean of sign(ret_1m_bps)", "trades"),
    FeatureSpec("channel_position_60m_pct", "fraction", 60,
                "clip((c - min60(l)) / max(max60(h) - min60(l), 1e-12), 0, 1)", "trades"),
    FeatureSpec("upper_breakout_60m_bps", "bps", 61, "max(c / prev_high60 - 1, 0) * 1e4; prev_high60 = max60(h).shift(1)",
                "trades"),
    FeatureSpec("lower_breakout_60m_bps", "bps", 61, "max(prev_low60 / c - 1, 0) * 1e4; prev_low60 = min60(l).shift(1)",
                "trades"),
    FeatureSpec("upper_failed_break_reclaim_15m_bps", "bps", 61,
                "max15(h) > prev_high60 ? max(prev_high60 - c, 0) / c * 1e4 : 0", "trades"),
    FeatureSpec("lower_failed_break_reclaim_15m_bps", "bps", 61,
                "min15(l) < prev_low60 ? max(c - prev_low60, 0) / c * 1e4 : 0", "trades"),
    FeatureSpec("sweep_up_15m_bps", "bps", 15, "max(max15(h) / c - 1, 0) * 1e4", "trades"),
    FeatureSpec("sweep_down_15m_bps", "bps", 15, "max(c / min15(l) - 1, 0) * 1e4", "trades"),
    FeatureSpec("compression_score_4h_pct", "fraction", 254, "1 - rolling_rank_last(range_15m_bps, 240)", "trades"),
    FeatureSpec("compression_release_15m_bps", "bps", 254,
                "max(range_15m_bps - rolling-240 median(range_15m_bps), 0)", "trades"),
    FeatureSpec("taker_imbalance_1m", "ratio", 1, "safe_divide(buy - sell, buy + sell)", "trades"),
    FeatureSpec("taker_imbalance_5m", "ratio", 5, "safe_divide(sum5(buy) - sum5(sell), sum5(buy + sell)) (min 5)",
                "trades"),
    FeatureSpec("taker_imbalance_15m", "ratio", 15, "safe_divide(sum15(buy) - sum15(sell), sum15(buy + sell)) (min 15)",
                "trades"),
    FeatureSpec("spread_rank_24h_pct", "fraction", 1440, "rolling_rank_last(spread_bps, 1440)", "book + level_1"),
    FeatureSpec("oi_delta_15m_bps", "bps", 16, "(oi / oi.shift(15) - 1) * 1e4", "open_interest"),
    FeatureSpec("oi_delta_60m_bps", "bps", 61, "(oi / oi.shift(60) - 1) * 1e4", "open_interest"),
    FeatureSpec("mark_index_basis_bps", "bps", 1, "(mark_price / index_price - 1) * 1e4", "mark_index"),
    FeatureSpec("liquidation_imbalance_15m", "ratio", 15,
                "safe_divide(sum15(liq_buy) - sum15(liq_sell), sum15(liq_buy + liq_sell)) (min 1)", "liquidations"),
    FeatureSpec("liquidation_notional_zscore_15m", "z", 1454,
                "x = sum15(liq_buy + liq_sell) (min 1); (x - mean1440(x)) / std1440(x) (min 60); std 0 -> NaN; NaN -> 0",
                "liquidations"),
    FeatureSpec("minute_of_day_sin", "unit", 1, "sin(2 pi (hour*60 + minute) / 1440)", "clock"),
    FeatureSpec("minute_of_day_cos", "unit", 1, "cos(2 pi (hour*60 + minute) / 1440)", "clock"),
    FeatureSpec("minutes_to_next_funding", "minutes", 1, "clip((next_funding_time - event_time) in minutes, 0, 480)",
                "funding"),
    FeatureSpec("spread_bps", "bps", 1, "replay spread_bps: (ask - bid) / mid * 1e4 at bar close", "book + level_1"),
    FeatureSpec("funding_bps", "bps", 1, "replay funding_bps: latest funding rate * 1e4 as of bar close", "funding"),
    FeatureSpec("level1_ofi_1m", "quote notional", 2, "replay level1_ofi_1m: L1 snapshot-diff OFI", "book + level_1"),
    FeatureSpec("liquidation_available", "flag", 1, "replay liquidation_available (NaN -> 0)", "liquidations"),
    FeatureSpec("book_microprice_basis_bps", "bps", 1,
                "(microprice / mid - 1) * 1e4; microprice = (bid*ask_size + ask*bid_size) / (bid_size + ask_size)",
                "book + level_1"),
    FeatureSpec("book_pressure_taker_1m", "ratio", 1,
                "safe_divide((buy - sell) * c, (depth_bid_notional_5 + depth_ask_notional_5) / 2)", "book + trades"),
    FeatureSpec("book_pressure_taker_5m", "ratio", 5,
                "safe_divide(sum5((buy - sell) * c), mean5((depth_bid_notional_5 + depth_ask_notional_5) / 2)) (min 5)",
                "book + trades"),
    FeatureSpec("book_depth_imbalance_5", "ratio", 1,
                "safe_divide(depth_bid_notional_5 - depth_ask_notional_5, depth_bid_notional_5 + depth_ask_notional_5)",
                "book depth"),
)

FEATURE_ORDER: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURE_COUNT = len(FEATURE_ORDER)

#: Value ranges implied by a feature's unit (features of other units are unbounded).
_RANGE_BY_UNIT: dict[str, dict] = {"fraction": {"low": 0.0, "high": 1.0}, "unit": {"low": -1.0, "high": 1.0},
                                   "flag": {"values": (0, 1)}, "minutes": {"low": 0.0, "high": 480.0}}
#: The stored feature columns: float32, NaN allowed (WARMUP rows), never infinite.
FEATURE_COLUMNS: tuple[Column, ...] = tuple(
    Column(f.name, "float", f.unit, nullable=True, dtype="float32", description=f"{f.formula} (source: {f.source})",
           **_RANGE_BY_UNIT.get(f.unit, {})) for f in FEATURES)

QUALITY_OK = "OK"
QUALITY_PARTIAL_OPTIONAL = "PARTIAL_OPTIONAL"
QUALITY_WARMUP = "WARMUP"
#: A feature window in use spans a gap of the minute grid (an outage kept by the gap policy, docs/data.md).
QUALITY_GAP_WINDOW = "GAP_WINDOW"
#: The row is a no-trade minute filled by replay (``bar_filled``); trainable only when the run spec allows it.
QUALITY_FILLED_BAR = "FILLED_BAR"
TRAINABLE_QUALITY = (QUALITY_OK, QUALITY_PARTIAL_OPTIONAL)
QUALITY_FLAGS = (QUALITY_OK, QUALITY_PARTIAL_OPTIONAL, QUALITY_WARMUP, QUALITY_GAP_WINDOW, QUALITY_FILLED_BAR)

#: The key of every sample (feature row, label row, dataset row): also the first columns of those tables.
SAMPLE_KEY_COLUMNS: tuple[Column, ...] = (
    Column("sample_id", "str", description="<symbol>:<open_time_ms>, one per symbol-minute"),
    Column("symbol", "str", description="instrument id, e.g. BTC-USDT-PERP"),
    Column("event_time", "timestamp", "UTC", description="bar open"),
    Column("open_time_ms", "int", "ms since epoch", dtype="int64", description="bar open in epoch ms"),
    Column("split_id", "str", values=SPLIT_IDS, description="split of the row (embargo / unassigned outside them)"),
    Column("walk_forward_fold", "str", values=(FIT_FOLD, NO_FOLD)),
)
DATA_QUALITY_FLAG = Column("data_quality_flag", "str", values=QUALITY_FLAGS,
                           description="first that applies: WARMUP, GAP_WINDOW, FILLED_BAR, PARTIAL_OPTIONAL, OK")
META: tuple[Column, ...] = SAMPLE_KEY_COLUMNS + (
    Column("feature_version", "str", values=(FEATURE_VERSION,)), DATA_QUALITY_FLAG)
META_COLUMNS: tuple[str, ...] = names(META)


def trainable_quality(*, allow_filled_bars: bool) -> tuple[str, ...]:
    """The quality flags a train dataset takes (``replay.train_on_filled_bars`` adds FILLED_BAR)."""
    return TRAINABLE_QUALITY + ((QUALITY_FILLED_BAR,) if allow_filled_bars else ())

#: Replay availability flag -> features that are neutral (0) while that source is unavailable.
OPTIONAL_SOURCE_FEATURES: dict[str, tuple[str, ...]] = {
    "book_available": ("spread_bps", "spread_rank_24h_pct", "level1_ofi_1m", "book_microprice_basis_bps"),
    "depth_available": ("book_pressure_taker_1m", "book_pressure_taker_5m", "book_depth_imbalance_5"),
    "funding_available": ("funding_bps", "minutes_to_next_funding"),
    "mark_index_available": ("mark_index_basis_bps",),
    "open_interest_available": ("oi_delta_15m_bps", "oi_delta_60m_bps"),
    "liquidation_available": ("liquidation_imbalance_15m", "liquidation_notional_zscore_15m"),
}


def canonical_json(obj: object) -> str:
    """Canonical JSON used for every hash: sorted keys, no whitespace, UTF-8, NaN refused."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_json(obj: object) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def feature_order_hash() -> str:
    """sha256 of the canonical JSON of FEATURE_ORDER (docs/features.md)."""
    return sha256_json(list(FEATURE_ORDER))


def feature_schema() -> list[dict]:
    return [f.as_json() for f in FEATURES]

"""Feature frame: fast builder vs a slow pandas reference, no look-ahead, kernels, bad input, report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trader_core.contracts.features import (
    FEATURE_ORDER,
    META_COLUMNS,
    OPTIONAL_SOURCE_FEATURES,
    feature_order_hash,
)
from trader_core.contracts.replay import REPLAY
from trader_core.contracts.versions import FEATURE_VERSION
from trader_core.errors import DataContractError
from trader_core import threads
from trader_core.features import build_feature_frame, feature_quality_report
from trader_core.features import kernels, order_stats, rolling as rolling_kernels

EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
HYPOTHESIS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# optional source flag -> replay columns that hold no data while the flag is 0
SOURCE_COLUMNS = {
    "book_available": ("spread_bps", "level1_ofi_1m", "best_bid_price", "best_bid_size", "best_ask_price",
                       "best_ask_size"),
    "depth_available": ("depth_bid_notional_5", "depth_ask_notional_5"),
    "funding_available": ("funding_bps", "next_funding_time"),
    "mark_index_available": ("mark_price", "index_price"),
    "open_interest_available": ("open_interest",),
    "liquidation_available": ("liquidation_buy_notional_1m", "liquidation_sell_notional_1m"),
}


# ------------------------------------------------------------------------------------------------
# random replays


def _symbol_replay(symbol: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    start = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(minutes=int(rng.integers(0, 1440)))
    times = pd.date_range(start, periods=n, freq="min")
    close = np.round(100.0 * np.exp(np.cumsum(rng.normal(0, 1e-3, n))), 2)  # tick 0.01: ties in ranges
    open_ = np.concatenate(([close[0]], close[:-1]))
    wick = np.round(np.abs(rng.normal(0, 0.04, (2, n))), 2)
    volume = rng.exponential(10.0, n) * (rng.random(n) > 0.1)
    if n > 150 and rng.random() < 0.5:  # a dead stretch: std60(volume) == 0
        at = int(rng.integers(0, n - 80))
        volume[at:at + 80] = 0.0
    buy = np.round(volume * rng.random(n), 3)
    sell = volume - buy
    buy[rng.random(n) < 0.01] = np.nan
    spread = np.round(rng.exponential(1.0, n) + 0.5, 1)
    liq = np.round(rng.exponential(5e4, (2, n)), 0) * (rng.random((2, n)) < 0.05)
    frame = pd.DataFrame({
        "symbol": symbol, "event_time": times,
        "open_time_ms": ((times - EPOCH) // pd.Timedelta(milliseconds=1)).to_numpy(dtype=np.int64),
        "open": open_, "high": np.maximum(open_, close) + wick[0], "low": np.minimum(open_, close) - wick[1],
        "close": close, "volume": volume, "taker_buy_volume": buy, "taker_sell_volume": sell,
        "trade_count": np.round(volume * 3), "funding_bps": np.round(rng.normal(1.0, 0.5, n), 2),
        "mark_price": np.round(close * (1 + rng.normal(0, 1e-4, n)), 2),
        "index_price": np.round(close * (1 + rng.normal(0, 1e-4, n)), 2),
        "next_funding_time": times.ceil("8h"),
        "open_interest": np.round(1e6 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))),
        "spread_bps": spread, "level1_ofi_1m": rng.normal(0, 1e4, n),
        "best_bid_price": close * (1 - spread / 2e4), "best_bid_size": rng.exponential(5.0, n),
        "best_ask_price": close * (1 + spread / 2e4), "best_ask_size": rng.exponential(5.0, n),
        "depth_bid_notional_5": rng.exponential(1e6, n) * (rng.random(n) > 0.02),
        "depth_ask_notional_5": rng.exponential(1e6, n) * (rng.random(n) > 0.02),
        "liquidation_buy_notional_1m": liq[0], "liquidation_sell_notional_1m": liq[1],
        "bar_filled": np.zeros(n, dtype=np.int64),
        "gap_minutes_before": np.zeros(n, dtype=np.int64),
    })
    for flag, columns in SOURCE_COLUMNS.items():
        available = np.ones(n, dtype=np.int64)
        if rng.random() < 0.5:  # one outage block
            at = int(rng.integers(0, n))
            available[at:at + int(rng.integers(1, 200))] = 0
        frame[flag] = available
        for column in columns:
            frame.loc[available == 0, column] = pd.NaT if column == "next_funding_time" else np.nan
    return frame


def make_replay(n_symbols: int, n_rows: int, seed: int) -> pd.DataFrame:
    """A valid replay_1m: the first symbol has n_rows rows, the others a random 1..n_rows."""
    rng = np.random.default_rng(seed)
    lengths = [n_rows] + [int(rng.integers(1, n_rows + 1)) for _ in range(n_symbols - 1)]
    replay = pd.concat([_symbol_replay(f"SYM{k}", n, rng) for k, n in enumerate(lengths)], ignore_index=True)
    replay["symbol"] = replay["symbol"].astype("str")
    REPLAY.validate(replay)
    return replay[list(REPLAY.names)]


# ------------------------------------------------------------------------------------------------
# slow reference: straight pandas per symbol, the formulas of the feature contract (docs/features.md)


def safe_divide(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.replace(0, np.nan)).replace([np.inf, -np.inf], np.nan).fillna(0.0)


def rank_last(values: pd.Series, window: int) -> pd.Series:
    return values.rolling(window, min_periods=window).apply(lambda a: np.sum(a <= a[-1]) / len(a), raw=True)


def reference_symbol(g: pd.DataFrame) -> pd.DataFrame:
    c, h, lo, v = g["close"], g["high"], g["low"], g["volume"]
    f = {}
    for lag in (1, 5, 15, 60, 240):
        f[f"ret_{lag}m_bps"] = (c / c.shift(lag) - 1.0) * 1e4
    log_ret = np.log(c / c.shift(1))
    f["realized_vol_15m_bps"] = log_ret.rolling(15, min_periods=15).std() * 1e4
    f["realized_vol_60m_bps"] = log_ret.rolling(60, min_periods=60).std() * 1e4
    f["vol_ratio_15m_60m"] = safe_divide(f["realized_vol_15m_bps"], f["realized_vol_60m_bps"].clip(lower=1.0))
    high15, low15 = h.rolling(15, min_periods=15).max(), lo.rolling(15, min_periods=15).min()
    high60, low60 = h.rolling(60, min_periods=60).max(), lo.rolling(60, min_periods=60).min()
    f["range_15m_bps"] = (high15 / low15 - 1.0) * 1e4
    f["range_60m_bps"] = (high60 / low60 - 1.0) * 1e4
    std60 = v.rolling(60, min_periods=60).std().replace(0, np.nan)
    f["volume_zscore_60m"] = ((v - v.rolling(60, min_periods=60).mean()) / std60).fillna(0.0)
    f["trend_consistency_15m"] = np.sign(f["ret_1m_bps"]).rolling(15, min_periods=15).mean()
    f["channel_position_60m_pct"] = ((c - low60) / (high60 - low60).clip(lower=1e-12)).clip(0.0, 1.0)
    prev_high60 = h.shift(1).rolling(60, min_periods=60).max()
    prev_low60 = lo.shift(1).rolling(60, min_periods=60).min()
    f["upper_breakout_60m_bps"] = (c / prev_high60 - 1.0).clip(lower=0.0) * 1e4
    f["lower_breakout_60m_bps"] = (prev_low60 / c - 1.0).clip(lower=0.0) * 1e4
    f["upper_failed_break_reclaim_15m_bps"] = pd.Series(
        np.where(high15 > prev_high60, (prev_high60 - c).clip(lower=0.0) / c * 1e4, 0.0), index=g.index)
    f["lower_failed_break_reclaim_15m_bps"] = pd.Series(
        np.where(low15 < prev_low60, (c - prev_low60).clip(lower=0.0) / c * 1e4, 0.0), index=g.index)
    f["sweep_up_15m_bps"] = (high15 / c - 1.0).clip(lower=0.0) * 1e4
    f["sweep_down_15m_bps"] = (c / low15 - 1.0).clip(lower=0.0) * 1e4
    rng15 = f["range_15m_bps"]
    f["compression_score_4h_pct"] = 1.0 - rank_last(rng15, 240)
    f["compression_release_15m_bps"] = (rng15 - rng15.rolling(240, min_periods=240).apply(np.median, raw=True)
                                        ).clip(lower=0.0)
    buy, sell = g["taker_buy_volume"], g["taker_sell_volume"]
    f["taker_imbalance_1m"] = safe_divide(buy - sell, buy + sell)
    for w in (5, 15):
        f[f"taker_imbalance_{w}m"] = safe_divide(
            buy.rolling(w, min_periods=w).sum() - sell.rolling(w, min_periods=w).sum(),
            (buy + sell).rolling(w, min_periods=w).sum())
    f["spread_rank_24h_pct"] = rank_last(g["spread_bps"], 1440)
    oi = g["open_interest"]
    f["oi_delta_15m_bps"] = (oi / oi.shift(15) - 1.0) * 1e4
    f["oi_delta_60m_bps"] = (oi / oi.shift(60) - 1.0) * 1e4
    f["mark_index_basis_bps"] = (g["mark_price"] / g["index_price"] - 1.0) * 1e4
    liq_buy, liq_sell = g["liquidation_buy_notional_1m"], g["liquidation_sell_notional_1m"]
    liq15 = (liq_buy + liq_sell).rolling(15, min_periods=1).sum()
    f["liquidation_imbalance_15m"] = safe_divide(
        liq_buy.rolling(15, min_periods=1).sum() - liq_sell.rolling(15, min_periods=1).sum(), liq15)
    liq_std = liq15.rolling(1440, min_periods=60).std().replace(0, np.nan)
    f["liquidation_notional_zscore_15m"] = ((liq15 - liq15.rolling(1440, min_periods=60).mean()) / liq_std
                                            ).fillna(0.0)
    minute = g["event_time"].dt.hour * 60 + g["event_time"].dt.minute
    f["minute_of_day_sin"] = np.sin(2 * np.pi * minute / 1440.0)
    f["minute_of_day_cos"] = np.cos(2 * np.pi * minute / 1440.0)
    f["minutes_to_next_funding"] = ((g["next_funding_time"] - g["event_time"]).dt.total_seconds() / 60.0
                                    ).clip(0.0, 480.0)
    f["spread_bps"], f["funding_bps"], f["level1_ofi_1m"] = g["spread_bps"], g["funding_bps"], g["level1_ofi_1m"]
    f["liquidation_available"] = g["liquidation_available"].astype(float).fillna(0.0)
    bid, ask, bid_size, ask_size = g["best_bid_price"], g["best_ask_price"], g["best_bid_size"], g["best_ask_size"]
    microprice = (bid * ask_size + ask * bid_size) / (bid_size + ask_size)
    f["book_microprice_basis_bps"] = (microprice / ((bid + ask) / 2) - 1.0) * 1e4
    flow = (buy - sell) * c
    half_depth = (g["depth_bid_notional_5"] + g["depth_ask_notional_5"]) / 2
    f["book_pressure_taker_1m"] = safe_divide(flow, half_depth)
    f["book_pressure_taker_5m"] = safe_divide(flow.rolling(5, min_periods=5).sum(),
                                              half_depth.rolling(5, min_periods=5).mean())
    f["book_depth_imbalance_5"] = safe_divide(g["depth_bid_notional_5"] - g["depth_ask_notional_5"],
                                              g["depth_bid_notional_5"] + g["depth_ask_notional_5"])
    out = pd.DataFrame(f)[list(FEATURE_ORDER)]
    for flag, names in OPTIONAL_SOURCE_FEATURES.items():
        out.loc[g[flag].eq(0).to_numpy(), list(names)] = 0.0
    return out


def reference_frame(replay: pd.DataFrame) -> pd.DataFrame:
    features = pd.concat([reference_symbol(g) for _, g in replay.groupby("symbol", sort=True)])
    features = features.reset_index(drop=True).astype("float32")
    partial = replay[list(OPTIONAL_SOURCE_FEATURES)].eq(0).any(axis=1).to_numpy()
    flag = np.where(features.isna().any(axis=1), "WARMUP", np.where(partial, "PARTIAL_OPTIONAL", "OK"))
    meta = pd.DataFrame({"sample_id": replay["symbol"] + ":" + replay["open_time_ms"].astype(str),
                         "symbol": replay["symbol"], "data_quality_flag": flag})
    return pd.concat([meta, features], axis=1)


def assert_features_equal(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    for name in FEATURE_ORDER:
        got, want = ours[name].to_numpy(), ref[name].to_numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"NaN mask of {name}")
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, equal_nan=True, err_msg=name)


# ------------------------------------------------------------------------------------------------
# builder vs reference


@pytest.mark.parametrize("seed", range(6))
def test_matches_slow_reference(seed: int) -> None:
    replay = make_replay(n_symbols=3, n_rows=2000 if seed % 2 else 300, seed=seed)
    ours = build_feature_frame(replay)
    ref = reference_frame(replay)
    assert_features_equal(ours, ref)
    assert ours["data_quality_flag"].tolist() == ref["data_quality_flag"].tolist()
    assert ours["sample_id"].tolist() == ref["sample_id"].tolist()


def test_output_layout() -> None:
    replay = make_replay(n_symbols=2, n_rows=400, seed=11)
    splits = np.where(np.arange(len(replay)) % 3 == 0, "fit_inner", "tune_inner")
    frame = build_feature_frame(replay, split_ids=splits)
    assert list(frame.columns) == list(META_COLUMNS) + list(FEATURE_ORDER)
    assert isinstance(frame.index, pd.RangeIndex) and len(frame) == len(replay)
    assert all(frame[name].dtype == np.float32 for name in FEATURE_ORDER)
    for name in ("sample_id", "symbol", "split_id", "walk_forward_fold", "feature_version", "data_quality_flag"):
        assert frame[name].dtype == "str", name
    assert frame["event_time"].equals(replay["event_time"])
    assert (frame["open_time_ms"].to_numpy() == replay["open_time_ms"].to_numpy()).all()
    assert frame["split_id"].tolist() == splits.tolist()
    assert frame["walk_forward_fold"].tolist() == np.where(splits == "fit_inner", "fold_01", "NO_FOLD").tolist()
    assert set(frame["feature_version"]) == {FEATURE_VERSION}
    assert set(build_feature_frame(replay)["split_id"]) == {"unassigned"}


def test_worker_threads_do_not_change_the_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    replay = make_replay(n_symbols=3, n_rows=1600, seed=4)
    threaded = build_feature_frame(replay)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0})  # one CPU: no worker threads
    serial = build_feature_frame(replay)
    for name in FEATURE_ORDER:
        assert threaded[name].to_numpy().tobytes() == serial[name].to_numpy().tobytes(), name
    assert threaded.drop(columns=list(FEATURE_ORDER)).equals(serial.drop(columns=list(FEATURE_ORDER)))


def test_unavailable_sources_are_neutral_and_partial() -> None:
    replay = make_replay(n_symbols=1, n_rows=1600, seed=3)
    replay.loc[1500:1509, "depth_available"] = 0
    frame = build_feature_frame(replay)
    rows = frame.iloc[1500:1510]
    assert (rows[list(OPTIONAL_SOURCE_FEATURES["depth_available"])] == 0).all().all()
    assert set(rows["data_quality_flag"]) == {"PARTIAL_OPTIONAL"}  # warm-up (1454 rows) is over by row 1500


# ------------------------------------------------------------------------------------------------
# no look-ahead


@HYPOTHESIS
@given(seed=st.integers(0, 10_000), cut=st.floats(0.0, 1.0), per_symbol=st.booleans())
def test_no_look_ahead(seed: int, cut: float, per_symbol: bool) -> None:
    """Dropping every row after minute t leaves every feature at or before t bit-for-bit unchanged."""
    replay = make_replay(n_symbols=3, n_rows=1500, seed=seed)
    times = replay["open_time_ms"]
    t = times.min() + cut * (times.max() - times.min())
    keep = times <= t
    if per_symbol:  # truncate only the first symbol
        keep |= replay["symbol"] != "SYM0"
    assert keep.any()  # the earliest row is at or before every cut
    full = build_feature_frame(replay)[keep.to_numpy()].reset_index(drop=True)
    truncated = build_feature_frame(replay[keep].reset_index(drop=True))
    for name in FEATURE_ORDER:
        assert full[name].to_numpy().tobytes() == truncated[name].to_numpy().tobytes(), name
    assert full["data_quality_flag"].tolist() == truncated["data_quality_flag"].tolist()


# ------------------------------------------------------------------------------------------------
# kernels vs pandas

values_with_ties = st.lists(
    st.one_of(st.sampled_from([0.0, 0.1, 1.0, 1.5, 2.0, -3.0, 1e6, np.nan]), st.floats(-1e6, 1e6, allow_nan=False)),
    min_size=1, max_size=300)


@HYPOTHESIS
@given(values=values_with_ties, window=st.integers(1, 60))
def test_rank_and_median_match_pandas(values: list[float], window: int) -> None:
    x = np.array(values)
    rolling = pd.Series(x).rolling(window, min_periods=window)
    np.testing.assert_array_equal(order_stats.rolling_rank_last(x, window),
                                  rolling.rank(method="max", pct=True).to_numpy())
    np.testing.assert_array_equal(order_stats.rolling_median(x, window), rolling.median().to_numpy())


@HYPOTHESIS
@given(values=st.lists(st.one_of(st.floats(), st.sampled_from([0.0, -0.0, 1.0, -1.0])), max_size=400))
def test_radix_compression_orders_like_numpy(values: list[float]) -> None:
    """The radix-sorted codes rank the values like numpy's sort: equal values (0.0 and -0.0 too) share a code."""
    x = np.array(values, dtype=np.float64)
    codes, uniq = order_stats.compress(x)
    present = ~np.isnan(x)
    expected, inverse = np.unique(x[present], return_inverse=True)
    np.testing.assert_array_equal(uniq, expected)
    expected_codes = np.zeros(x.size, dtype=np.int64)  # NaN: code 0
    expected_codes[present] = inverse + 1
    np.testing.assert_array_equal(codes, expected_codes)


@HYPOTHESIS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), symbols=st.integers(1, 4))
def test_gap_window_kernel_matches_the_array_formula(seed: int, n: int, symbols: int) -> None:
    """The latest gap row of the symbol, after its first row, within w-2 rows (the formula the kernel replaced)."""
    rng = np.random.default_rng(seed)
    gap = rng.random(n) < 0.03
    window = rng.choice([15, 60, 254, 1454], n).astype(np.int64)
    bounds = np.unique(np.concatenate(([0, n], rng.integers(0, n, symbols - 1))))
    index = np.arange(n)
    last_gap = np.maximum.accumulate(np.where(gap, index, -1))
    symbol_start = np.repeat(bounds[:-1], np.diff(bounds))
    expected = (last_gap > symbol_start) & (index - last_gap <= window - 2)
    np.testing.assert_array_equal(kernels.spans_gap(gap, window, bounds), expected)


@HYPOTHESIS
@given(values=values_with_ties, window=st.integers(1, 60), min_periods=st.integers(0, 60))
def test_rolling_moments_match_pandas(values: list[float], window: int, min_periods: int) -> None:
    x = np.array(values)
    minp = min(min_periods, window)
    rolling = pd.Series(x).rolling(window, min_periods=minp)
    # same algorithms as pandas (Kahan sums, Welford with recompute), so bit-for-bit equal
    np.testing.assert_array_equal(rolling_kernels.rolling_sum(x, window, minp), rolling.sum().to_numpy())
    np.testing.assert_array_equal(rolling_kernels.rolling_mean(x, window, minp), rolling.mean().to_numpy())
    np.testing.assert_array_equal(rolling_kernels.rolling_std(x, window, minp), rolling.std().to_numpy())
    full = pd.Series(x).rolling(window, min_periods=window)
    np.testing.assert_array_equal(rolling_kernels.rolling_max(x, window), full.max().to_numpy())
    np.testing.assert_array_equal(rolling_kernels.rolling_min(x, window), full.min().to_numpy())


def test_constant_window_std_is_exactly_zero() -> None:
    # plain add/remove Welford leaves std ~0.0055 on the constant tail; pandas (and we) recompute to 0
    x = np.array([345584.19, 821618.14, 330437.08, -1303157.23, 905355.87] + [0.1] * 12)
    assert (rolling_kernels.rolling_std(x, 5, 5)[-5:] == 0.0).all()
    assert (rolling_kernels.rolling_mean(np.array([0.7] + [0.1] * 6), 3, 3)[-3:] == 0.1).all()  # not sum / n
    assert (rolling_kernels.rolling_sum(np.array([0.1, 0.2] + [0.0] * 10), 5, 5)[-5:] == 0.0).all()


# ------------------------------------------------------------------------------------------------
# bad input


@pytest.fixture(scope="module")
def small_replay() -> pd.DataFrame:
    return make_replay(n_symbols=2, n_rows=50, seed=5)


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.drop(columns=["close"]), "close"),
    (lambda r: r.assign(volume=r["volume"].astype(str)), "volume"),
    (lambda r: r.assign(close=r["close"].where(r.index != 7)), "close"),
    (lambda r: r.assign(event_time=r["event_time"].dt.tz_localize(None)), "event_time"),
    (lambda r: r.iloc[[1, 0, *range(2, len(r))]].reset_index(drop=True), "not strictly increasing"),
    (lambda r: r.iloc[::-1].reset_index(drop=True), "sorted"),
    (lambda r: pd.concat([r.iloc[:3], r.iloc[2:]], ignore_index=True), "duplicate"),
    (lambda r: r.iloc[:0], "empty"),
    (lambda r: r.assign(open_time_ms=r["open_time_ms"] + 1), "disagree"),
])
def test_bad_input_raises(small_replay: pd.DataFrame, mutate, message: str) -> None:
    with pytest.raises(DataContractError, match=message):
        build_feature_frame(mutate(small_replay.copy()))


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_event_time_in_any_resolution(small_replay: pd.DataFrame, unit: str) -> None:
    """event_time is compared with open_time_ms whatever its stored resolution."""
    replay = small_replay.assign(event_time=small_replay["event_time"].dt.as_unit(unit))
    frame = build_feature_frame(replay)
    assert frame[list(FEATURE_ORDER)].equals(build_feature_frame(small_replay)[list(FEATURE_ORDER)])
    with pytest.raises(DataContractError, match="disagree"):
        build_feature_frame(replay.assign(event_time=replay["event_time"] + pd.Timedelta(seconds=1)))


def test_bad_split_ids(small_replay: pd.DataFrame) -> None:
    with pytest.raises(DataContractError, match="split_ids"):
        build_feature_frame(small_replay, split_ids=np.array(["fit_inner"]))


# ------------------------------------------------------------------------------------------------
# quality report


def test_quality_report_sections_and_empty_split() -> None:
    replay = make_replay(n_symbols=2, n_rows=1600, seed=9)
    splits = np.where(np.arange(len(replay)) < len(replay) // 2, "fit_inner", "tune_inner")  # no validation
    frame = build_feature_frame(replay, split_ids=splits)
    text = feature_quality_report(frame, feature_order_hash=feature_order_hash(), data_hash="abc123")
    for title in ("# Trader Feature Quality Report", "## Split Coverage", "## Source Coverage", "## Leakage Check",
                  "## Extreme Value Check", "## High Correlation Check", "## Drift Check", "## Distribution"):
        assert title in text
    assert feature_order_hash() in text and "abc123" in text
    assert "liquidation_available_share" in text
    assert "| validation_locked | 0 | no rows | no rows |" in text
    drift = text.split("## Drift Check")[1].split("## Distribution")[0]
    assert "no rows" in drift
    assert all(f"| {name} |" in text for name in FEATURE_ORDER)

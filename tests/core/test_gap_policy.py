"""Gap policy of replay (docs/data.md "Gap policy"): no-trade minutes filled flat and flagged, outages drop the
day or stay visible with their windows masked, and a filled minute never changes a bar that was present."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FTX_CSV, require_real
from tests.sparse import sparse_minutes
from trader_core.config import ReplayConfig
from trader_core.contracts.features import (
    QUALITY_FILLED_BAR,
    QUALITY_GAP_WINDOW,
    QUALITY_WARMUP,
    TRAINABLE_QUALITY,
)
from trader_core.errors import ConfigError
from trader_core.features import build_feature_frame
from trader_core.labels.datasets import trainable_features
from trader_core.market.sources import read_bar_csv
from trader_core.minute_gaps import missing_runs
from trader_core.replay import build_replay

DAY = pd.Timestamp("2026-01-05", tz="UTC")


def _bars(minutes: np.ndarray, symbol: str = "X", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, len(minutes))))
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame({
        "symbol": symbol, "open_time": DAY + pd.to_timedelta(minutes, unit="min"),
        "open": open_, "high": np.maximum(open_, close) * 1.0005, "low": np.minimum(open_, close) * 0.9995,
        "close": close, "volume": rng.uniform(1, 5, len(minutes)), "taker_buy_volume": 1.0,
        "taker_sell_volume": 0.5, "trade_count": 7.0})


def _day_with_holes(holes: list[tuple[int, int]]) -> pd.DataFrame:
    keep = np.ones(1440, dtype=bool)
    for start, length in holes:
        keep[start:start + length] = False
    return _bars(np.flatnonzero(keep))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 500), st.integers(1, 40)), min_size=1, max_size=12),
       st.integers(0, 20))
def test_filling_never_changes_a_present_bar(holes, max_fill):
    present, t = [], 0
    for run, hole in holes:  # ``run`` present minutes, then ``hole`` missing ones
        present.extend(range(t, t + run))
        t += run + hole
    bars = _bars(np.array(present + [t]))
    config = ReplayConfig(complete_days_only=False, fill_no_trade_max_minutes=max_fill)
    replay, report = build_replay({"bars": bars}, config=config)
    present = replay[replay["bar_filled"] == 0].reset_index(drop=True)
    for name in ("open", "high", "low", "close", "volume", "taker_buy_volume", "taker_sell_volume", "trade_count"):
        np.testing.assert_array_equal(present[name].to_numpy(), bars[name].to_numpy(), err_msg=name)
    assert (present["event_time"].to_numpy() == bars["open_time"].to_numpy()).all()
    short = sum(length for _, length in holes if length <= max_fill)
    assert int(replay["bar_filled"].sum()) == short == report.filled_minutes
    assert sorted(replay.loc[replay["gap_minutes_before"] > 0, "gap_minutes_before"]) == sorted(
        length for _, length in holes if length > max_fill)
    filled = replay["bar_filled"].to_numpy() == 1
    previous_close = replay["close"].shift(1).to_numpy()
    assert (replay.loc[filled, ["open", "high", "low"]].to_numpy() == previous_close[filled, None]).all()
    assert (replay.loc[filled, "close"].to_numpy() == previous_close[filled]).all()


def test_filled_bars_are_flat_zero_volume_and_keep_unrecorded_counts_unrecorded():
    bars = _day_with_holes([(100, 3)])
    bars["trade_count"] = np.nan  # a source that does not record trade counts
    replay, _ = build_replay({"bars": bars})
    filled = replay[replay["bar_filled"] == 1]
    assert len(filled) == 3 and len(replay) == 1440
    assert (filled["volume"] == 0).all() and (filled[["taker_buy_volume", "taker_sell_volume"]] == 0).all().all()
    assert filled["trade_count"].isna().all()
    assert (filled["close"] == bars["close"].iloc[99]).all()


def test_day_report_lists_present_filled_longest_gap_and_the_decision():
    bars = pd.concat([
        _day_with_holes([(10, 2), (500, 15)]),                                          # day 1: fillable
        _day_with_holes([(700, 16)]).assign(open_time=lambda b: b["open_time"] + pd.Timedelta(days=1)),
        _day_with_holes([]).assign(open_time=lambda b: b["open_time"] + pd.Timedelta(days=2)),
    ], ignore_index=True)
    replay, report = build_replay({"bars": bars})
    days = {d["day"]: d for d in report.days}
    assert days["2026-01-05"] == {"symbol": "X", "day": "2026-01-05", "minutes_present": 1440 - 17,
                                   "minutes_filled": 17, "longest_gap_minutes": 15, "kept": True,
                                       "reason": "complete after filling no-trade minutes"}
    assert (days["2026-01-06"]["kept"], days["2026-01-06"]["longest_gap_minutes"],
            days["2026-01-06"]["reason"]) == (False, 16, "outage gap longer than 15 minutes")
    assert (days["2026-01-07"]["kept"], days["2026-01-07"]["reason"]) == (True, "complete")
    assert report.days_kept == 2 and report.incomplete_days_dropped == 1 and report.filled_minutes == 17
    assert report.gap_runs_by_length["2"] == 1 and report.gap_runs_by_length["8-15"] == 1
    assert report.gap_runs_by_length["16-60"] == 1
    assert len(replay) == 2 * 1440


def test_missing_runs_see_the_edges_of_the_first_and_last_day():
    bars = _bars(np.arange(30, 1430))
    runs = missing_runs(bars.assign(open_time_ms=(bars["open_time"] - pd.Timestamp(0, tz="UTC"))
                                    // pd.Timedelta("1ms")))
    assert runs[["minutes", "edge"]].to_numpy().tolist() == [[30, True], [10, True]]
    _, report = build_replay({"bars": bars}, config=ReplayConfig(complete_days_only=False))
    assert report.days[0]["kept"] and report.filled_minutes == 0  # edges are never filled


def test_feature_rows_are_flagged_filled_and_gap_windows_masked():
    holes = [(300, 2), (600, 40)]
    replay, _ = build_replay({"bars": _day_with_holes(holes)}, config=ReplayConfig(complete_days_only=False))
    features = build_feature_frame(replay)
    flags = features["data_quality_flag"].to_numpy()
    filled = replay["bar_filled"].to_numpy() == 1
    assert (flags[filled] == QUALITY_FILLED_BAR).all() and filled.sum() == 2
    after = int(np.flatnonzero(replay["gap_minutes_before"].to_numpy() == 40)[0])
    # no optional source: the longest window in use is compression_score_4h_pct (254 rows)
    assert (flags[after:after + 253] == QUALITY_GAP_WINDOW).all()
    assert flags[after + 253] != QUALITY_GAP_WINDOW
    assert (flags[:after] != QUALITY_GAP_WINDOW).all()
    assert features.loc[filled, "ret_1m_bps"].eq(0).all()  # flags never change values
    features["split_id"] = "fit_inner"
    assert trainable_features(features)["sample_id"].isin(features.loc[filled, "sample_id"]).sum() == 0
    allowed = trainable_features(features, allow_filled_bars=True)
    assert allowed["sample_id"].isin(features.loc[filled, "sample_id"]).sum() == 2


def test_sparse_ftx_month_keeps_its_days_and_flags_every_filled_minute():
    bars = read_bar_csv(require_real(FTX_CSV), "BTC-PERP")
    january = bars[(bars["open_time"] >= "2022-01-01") & (bars["open_time"] < "2022-02-01")]
    sparse = sparse_minutes(january, share=0.03, max_run=8, seed=11)
    removed = len(january) - len(sparse)
    assert 0.029 <= removed / len(january) <= 0.031
    replay, report = build_replay({"bars": sparse})
    assert report.days_kept == 31 and report.incomplete_days_dropped == 0
    assert report.filled_minutes == removed == int(replay["bar_filled"].sum())
    flags = build_feature_frame(replay)["data_quality_flag"].to_numpy()
    filled = replay["bar_filled"].to_numpy() == 1
    warmup = flags == QUALITY_WARMUP  # NaN features outrank the filled flag, so allowing filled bars stays safe
    assert not np.isin(flags[filled], TRAINABLE_QUALITY).any()
    assert (flags[filled & ~warmup] == QUALITY_FILLED_BAR).all()
    assert (flags == QUALITY_FILLED_BAR).sum() == removed - (filled & warmup).sum() > 0.99 * removed


def test_fill_threshold_is_validated():
    with pytest.raises(ConfigError, match="fill_no_trade_max_minutes"):
        ReplayConfig(fill_no_trade_max_minutes=1440)

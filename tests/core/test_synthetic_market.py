"""The synthetic market source: contracts, determinism, config errors, the crash, and signal honesty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trader_core.contracts.raw import RAW_TABLES, depth_columns
from trader_core.errors import ConfigError
from trader_core.market.synthetic import (
    BETA,
    Z_PHI,
    SyntheticMarketConfig,
    generate_synthetic_market,
    regime_schedule,
)

SYMBOLS = ("BTC-USDT-PERP", "ETH-USDT-PERP")
HORIZON = 45  # minutes


@pytest.fixture(scope="module")
def small() -> tuple[SyntheticMarketConfig, dict[str, pd.DataFrame]]:
    cfg = SyntheticMarketConfig(symbols=SYMBOLS + ("SOL-USDT-PERP",), days=8, seed=11, depth_levels=5)
    return cfg, generate_synthetic_market(cfg)


@pytest.fixture(scope="module")
def honest_pair() -> dict[float, tuple[SyntheticMarketConfig, dict[str, pd.DataFrame]]]:
    """2 symbols x 20 days at s = 1 and s = 0 with the same seed."""
    out = {}
    for s in (1.0, 0.0):
        cfg = SyntheticMarketConfig(symbols=SYMBOLS, days=20, seed=7, signal=s, depth_levels=5)
        out[s] = (cfg, generate_synthetic_market(cfg))
    return out


def _time_col(name: str) -> str:
    return "open_time" if name == "bars" else "ts"


def _frame_hash(df: pd.DataFrame) -> int:
    return int(pd.util.hash_pandas_object(df, index=True).to_numpy().sum(dtype=np.uint64))


# ---------------------------------------------------------------------------------------------- contracts


def test_every_table_validates_and_is_sorted(small):
    cfg, tables = small
    assert set(tables) == set(RAW_TABLES)
    n = cfg.minutes
    for name, df in tables.items():
        contract = RAW_TABLES[name]
        contract.validate(df, extra_ok=(name == "book_depth"))
        assert isinstance(df.index, pd.RangeIndex) and df.index.start == 0
        assert list(df["symbol"].unique()) == sorted(cfg.symbols), name
        assert pd.api.types.is_string_dtype(df["symbol"].dtype)
        for col in df.columns:
            if col in ("symbol", "side"):
                continue
            if isinstance(df[col].dtype, pd.DatetimeTZDtype):
                assert str(df[col].dt.tz) == "UTC"
            else:
                assert df[col].dtype == np.float64, (name, col)
        tcol = _time_col(name)
        keys = df[["symbol", tcol]]
        assert keys.equals(keys.sort_values(["symbol", tcol], kind="stable")), f"{name} not sorted"
    bars = tables["bars"]
    assert len(bars) == len(cfg.symbols) * n
    assert not bars.duplicated(["symbol", "open_time"]).any()
    first = bars.groupby("symbol")["open_time"].first()
    assert (first == pd.Timestamp("2026-01-01", tz="UTC")).all()
    assert (bars.groupby("symbol")["open_time"].diff().dropna() == pd.Timedelta(minutes=1)).all()
    assert list(tables["book_depth"].columns) == ["symbol", "ts"] + [c.name for c in depth_columns(cfg.depth_levels)]


def test_snapshots_are_stamped_before_the_bar_close(small):
    _, tables = small
    bars = tables["bars"]
    for name in ("book_l1", "book_depth", "mark_index"):
        df = tables[name]
        assert (df["ts"].to_numpy() == (bars["open_time"] + pd.Timedelta(seconds=59)).to_numpy()).all(), name
    oi = tables["open_interest"]
    assert (oi["ts"].dt.second == 0).all() and (oi["ts"].dt.minute % 5 == 0).all()
    assert (oi["open_interest"] > 0).all()
    liq = tables["liquidations"]
    assert set(liq["side"].unique()) <= {"BUY", "SELL"}
    assert liq["ts"].min() >= bars["open_time"].min()
    assert liq["ts"].max() < bars["open_time"].max() + pd.Timedelta(minutes=1)
    assert (liq["quantity"] > 0).all() and (liq["price"] > 0).all()


def test_ohlc_sanity(small):
    cfg, tables = small
    tc = int(regime_schedule(cfg).query("crash").index[0])
    b = tables["bars"]
    assert (b["low"] <= np.minimum(b["open"], b["close"])).all()
    assert (b["high"] >= np.maximum(b["open"], b["close"])).all()
    for _, g in b.groupby("symbol"):
        gapped = np.flatnonzero(g["open"].to_numpy()[1:] != g["close"].to_numpy()[:-1]) + 1
        assert gapped.tolist() == [tc]  # open = previous close, except the crash bar's gap
    assert (b["volume"] > 0).all() and (b["trade_count"] >= 1).all()
    assert (b["trade_count"] == np.round(b["trade_count"])).all()
    assert np.allclose(b["taker_buy_volume"] + b["taker_sell_volume"], b["volume"])
    assert (b["taker_buy_volume"] > 0).all() and (b["taker_sell_volume"] > 0).all()
    levels = b.groupby("symbol")["close"].first()
    assert 40_000 < levels["BTC-USDT-PERP"] < 80_000 and 2_000 < levels["ETH-USDT-PERP"] < 4_000
    assert 50 < levels["SOL-USDT-PERP"] < 200


def test_book_levels_are_consistent(small):
    cfg, tables = small
    l1, depth, bars = tables["book_l1"], tables["book_depth"], tables["bars"]
    assert (l1["bid_price"] < bars["close"]).all() and (l1["ask_price"] > bars["close"]).all()
    for side in ("bid", "ask"):
        assert (depth[f"{side}_0_price"] == l1[f"{side}_price"]).all()
        assert (depth[f"{side}_0_size"] == l1[f"{side}_size"]).all()
    # tick = 10 ** (floor(log10 P0) - 5), P0 = the first open: BTC 0.1, ETH 0.01, a ~100 symbol 0.001 or 0.0001
    ticks = 10.0 ** (np.floor(np.log10(bars.groupby("symbol")["open"].first())) - 5)
    assert ticks["BTC-USDT-PERP"] == 0.1 and ticks["ETH-USDT-PERP"] == 0.01
    tick = depth["symbol"].map(ticks).astype("float64").to_numpy()
    for side in ("bid", "ask"):  # prices sit on the tick grid
        k = depth[f"{side}_0_price"].to_numpy() / tick
        assert np.allclose(k, np.round(k), rtol=0, atol=1e-6)
    assert ((l1["ask_price"] - l1["bid_price"]).to_numpy() >= tick * (1 - 1e-6)).all()
    for i in range(1, cfg.depth_levels):
        assert ((depth[f"bid_{i - 1}_price"] - depth[f"bid_{i}_price"]).to_numpy() >= tick * (1 - 1e-6)).all()
        assert ((depth[f"ask_{i}_price"] - depth[f"ask_{i - 1}_price"]).to_numpy() >= tick * (1 - 1e-6)).all()
    sizes = depth[[c for c in depth.columns if c.endswith("_size")]]
    assert (sizes.to_numpy() > 0).all()
    # sizes grow with depth on average
    assert depth[f"bid_{cfg.depth_levels - 1}_size"].mean() > depth["bid_0_size"].mean()
    spread_bps = (l1["ask_price"] - l1["bid_price"]) / ((l1["ask_price"] + l1["bid_price"]) / 2) * 1e4
    assert 0.3 < spread_bps.median() < 5
    basis_bps = (tables["mark_index"]["mark_price"] / tables["mark_index"]["index_price"] - 1) * 1e4
    assert basis_bps.abs().max() < 50


def test_depth_levels_bounds_and_prefix():
    base = dict(symbols=("BTC-USDT-PERP",), days=1, seed=3)
    one = generate_synthetic_market(SyntheticMarketConfig(**base, depth_levels=1))
    full = generate_synthetic_market(SyntheticMarketConfig(**base, depth_levels=20))
    RAW_TABLES["book_depth"].validate(one["book_depth"], extra_ok=False)
    RAW_TABLES["book_depth"].validate(full["book_depth"])
    assert full["book_depth"].shape[1] == 2 + 4 * 20
    pd.testing.assert_frame_equal(one["book_depth"], full["book_depth"][one["book_depth"].columns])
    pd.testing.assert_frame_equal(one["book_l1"], full["book_l1"])
    pd.testing.assert_frame_equal(one["bars"], full["bars"])


def test_funding_every_8_hours(small):
    cfg, tables = small
    f = tables["funding"]
    assert len(f) == len(cfg.symbols) * cfg.days * 3
    assert set(f["ts"].dt.hour.unique()) == {0, 8, 16}
    assert (f["ts"].dt.minute == 0).all() and (f["ts"].dt.second == 0).all()
    assert (f.groupby("symbol")["ts"].diff().dropna() == pd.Timedelta(hours=8)).all()
    assert (f["next_funding_time"] - f["ts"] == pd.Timedelta(hours=8)).all()
    assert (f.groupby("symbol")["ts"].first() == pd.Timestamp(cfg.start, tz="UTC")).all()
    assert f["funding_rate"].abs().max() < 5e-4 and 0 < f["funding_rate"].median() < 2e-4


# -------------------------------------------------------------------------------------------- determinism


def test_deterministic_for_the_same_config():
    cfg = SyntheticMarketConfig(days=3, seed=5)
    a, b = generate_synthetic_market(cfg), generate_synthetic_market(cfg)
    for name in RAW_TABLES:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)
        assert _frame_hash(a[name]) == _frame_hash(b[name]), name
    pd.testing.assert_frame_equal(regime_schedule(cfg), regime_schedule(cfg))


def test_different_seeds_differ():
    a = generate_synthetic_market(SyntheticMarketConfig(days=2, seed=1))
    b = generate_synthetic_market(SyntheticMarketConfig(days=2, seed=2))
    for name in ("bars", "book_l1", "book_depth", "funding", "mark_index", "open_interest"):
        assert _frame_hash(a[name]) != _frame_hash(b[name]), name
    assert not np.allclose(a["bars"]["close"], b["bars"]["close"])


def test_symbol_data_does_not_depend_on_the_other_symbols():
    alone = generate_synthetic_market(SyntheticMarketConfig(symbols=("ETH-USDT-PERP",), days=2, seed=9))
    both = generate_synthetic_market(SyntheticMarketConfig(symbols=("ETH-USDT-PERP", "BTC-USDT-PERP"), days=2, seed=9))
    for name in RAW_TABLES:
        part = both[name][both[name]["symbol"] == "ETH-USDT-PERP"].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone[name], part, check_exact=True)


# ----------------------------------------------------------------------------------------------- config


@pytest.mark.parametrize(("field", "kwargs"), [
    ("signal", {"signal": -0.1}),
    ("signal", {"signal": float("nan")}),
    ("signal", {"signal": "1"}),
    ("days", {"days": 0}),
    ("days", {"days": 1.5}),
    ("depth_levels", {"depth_levels": 0}),
    ("depth_levels", {"depth_levels": 21}),
    ("symbols", {"symbols": ()}),
    ("symbols", {"symbols": ("BTC-USDT-PERP", "BTC-USDT-PERP")}),
    ("symbols", {"symbols": ("",)}),
    ("symbols", {"symbols": "BTC-USDT-PERP"}),
    ("start", {"start": "not-a-date"}),
    ("start", {"start": "2026-01-01T05:00"}),
    ("seed", {"seed": -1}),
])
def test_config_errors_name_the_field(field, kwargs):
    with pytest.raises(ConfigError, match=field):
        generate_synthetic_market(SyntheticMarketConfig(**kwargs))


def test_config_accepts_lists_and_ints():
    cfg = SyntheticMarketConfig(symbols=["BTC-USDT-PERP"], signal=2, days=1)
    assert cfg.symbols == ("BTC-USDT-PERP",) and cfg.signal == 2.0


# ------------------------------------------------------------------------------------------ regimes, crash


def test_regime_schedule_segments():
    cfg = SyntheticMarketConfig(days=30, seed=4)
    sched = regime_schedule(cfg)
    assert len(sched) == cfg.minutes and set(sched["regime"].unique()) <= {"calm", "trending", "volatile"}
    assert sched["crash"].sum() == 1
    tc = int(sched.index[sched["crash"]][0])
    before = sched["regime"].iloc[:tc]
    run_id = (before != before.shift()).cumsum()
    lengths = before.groupby(run_id).size().to_numpy()
    assert len(lengths) >= 3
    assert (lengths[:-1] >= 1440).all() and (lengths[:-1] <= 4 * 1440).all()  # the last run is cut by the crash
    assert (sched["trend_direction"][sched["regime"] != "trending"] == 0).all()
    assert set(sched["trend_direction"][sched["regime"] == "trending"].unique()) <= {-1, 1}
    calm = sched["sigma_bps"][:tc][sched["regime"][:tc] == "calm"]
    assert np.isclose(calm.median(), 4.0)


def test_flat_volatility_knob_keeps_regimes_and_crash_but_not_their_volatility():
    regimes = regime_schedule(SyntheticMarketConfig(days=30, seed=4))
    flat = regime_schedule(SyntheticMarketConfig(days=30, seed=4, volatility_regimes=False))
    assert (flat["regime"] == regimes["regime"]).all() and (flat["crash"] == regimes["crash"]).all()
    tc = int(flat.index[flat["crash"]][0])
    assert np.allclose(flat["sigma_bps"][:tc], 6.0) and regimes["sigma_bps"][:tc].std() > 1.0
    assert flat["sigma_bps"][tc] > 6.0  # the crash still stresses volatility (in latest_stress only)
    with pytest.raises(ConfigError, match="volatility_regimes"):
        SyntheticMarketConfig(volatility_regimes="no")


@pytest.mark.parametrize("days", [1, 8, 60])
def test_crash_is_in_the_last_eighth(days):
    cfg = SyntheticMarketConfig(symbols=("BTC-USDT-PERP",), days=days, seed=13)
    sched = regime_schedule(cfg)
    tc = int(sched.index[sched["crash"]][0])
    assert cfg.minutes * 7 / 8 <= tc < cfg.minutes


def test_crash_shape(small):
    cfg, tables = small
    sched = regime_schedule(cfg)
    tc = int(sched.index[sched["crash"]][0])
    n = cfg.minutes
    assert sched["regime"].iloc[tc] == "volatile"
    bars, l1, liq, oi = tables["bars"], tables["book_l1"], tables["liquidations"], tables["open_interest"]
    crash_time = bars["open_time"].iloc[tc]
    for sym, g in bars.groupby("symbol"):
        g = g.reset_index(drop=True)
        ret = np.log(g["close"] / g["close"].shift(1))
        assert int(ret.idxmin()) == tc, sym
        assert np.log(0.91) < ret.iloc[tc] < np.log(0.955), sym
        # part of the jump (0.3-0.7 of it, up to noise) happens between bars, the rest inside the crash bar
        gap = np.log(g["open"].iloc[tc] / g["close"].iloc[tc - 1])
        assert 0.2 < gap / ret.iloc[tc] < 0.9 and gap < np.log(0.985), sym
        assert g["close"].iloc[tc] < g["open"].iloc[tc], sym
        assert g["low"].iloc[tc] < g["close"].iloc[tc] * 0.99  # a long lower wick
        s = l1[l1["symbol"] == sym].reset_index(drop=True)
        spread = (s["ask_price"] - s["bid_price"]) / s["ask_price"]
        assert spread.iloc[tc:tc + 30].mean() > 2 * spread.iloc[:tc].median()
        events = liq[liq["symbol"] == sym]
        burst = events[(events["ts"] >= crash_time) & (events["ts"] < crash_time + pd.Timedelta(hours=1))]
        quiet = events[events["ts"] < crash_time]
        assert len(burst) > 20 * len(quiet) / (tc / 60)  # the crash hour is > 20x an average hour before
        assert (burst["side"] == "SELL").mean() > 0.8
        o = oi[oi["symbol"] == sym].set_index("ts")["open_interest"]
        pre = o[o.index <= crash_time].iloc[-1]
        post = o[(o.index > crash_time + pd.Timedelta(hours=1)) & (o.index <= crash_time + pd.Timedelta(hours=2))]
        assert (post < pre * 0.95).all()
    assert n - tc > 60


# ---------------------------------------------------------------------------------------- signal honesty


def _imbalance_vs_forward(cfg: SyntheticMarketConfig, bars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Taker imbalance of the last 5 bars and the forward 45-minute log return, at non-overlapping points.

    Windows whose forward horizon contains the crash minute are dropped (the crash is a jump, not signal).
    """
    sched = regime_schedule(cfg)
    tc = int(sched.index[sched["crash"]][0])
    xs, ys = [], []
    for _, g in bars.groupby("symbol"):
        buy5 = g["taker_buy_volume"].rolling(5).sum().to_numpy()
        sell5 = g["taker_sell_volume"].rolling(5).sum().to_numpy()
        imbalance = (buy5 - sell5) / (buy5 + sell5)
        log_close = np.log(g["close"].to_numpy())
        t = np.arange(HORIZON - 1, len(g) - HORIZON, HORIZON)
        keep = ~((t < tc) & (tc <= t + HORIZON))
        t = t[keep]
        xs.append(imbalance[t])
        ys.append(log_close[t + HORIZON] - log_close[t])
    return np.concatenate(xs), np.concatenate(ys)


def test_taker_imbalance_predicts_only_with_signal(honest_pair):
    cfg1, t1 = honest_pair[1.0]
    cfg0, t0 = honest_pair[0.0]
    x1, y1 = _imbalance_vs_forward(cfg1, t1["bars"])
    x0, y0 = _imbalance_vs_forward(cfg0, t0["bars"])
    n_eff = len(x0)  # non-overlapping forward windows: independent under s = 0
    assert n_eff > 1000
    corr1 = np.corrcoef(x1, y1)[0, 1]
    corr0 = np.corrcoef(x0, y0)[0, 1]
    assert corr1 > 0.1, corr1
    assert abs(corr0) < 3 / np.sqrt(n_eff), corr0
    # the observation of z is the same at every s: only the drift changes
    share1 = t1["bars"]["taker_buy_volume"] / t1["bars"]["volume"]
    share0 = t0["bars"]["taker_buy_volume"] / t0["bars"]["volume"]
    assert np.allclose(share1, share0, rtol=1e-12, atol=0)
    for side in ("bid", "ask"):
        pd.testing.assert_series_equal(t1["book_depth"][f"{side}_0_size"], t0["book_depth"][f"{side}_0_size"])


def test_book_depth_imbalance_predicts_only_with_signal(honest_pair):
    def corr(s: float) -> tuple[float, int]:
        cfg, tables = honest_pair[s]
        d = tables["book_depth"]
        bid = sum(d[f"bid_{i}_price"] * d[f"bid_{i}_size"] for i in range(5))
        ask = sum(d[f"ask_{i}_price"] * d[f"ask_{i}_size"] for i in range(5))
        frame = tables["bars"].assign(taker_buy_volume=bid, taker_sell_volume=ask)  # reuse the sampler
        x, y = _imbalance_vs_forward(cfg, frame)
        return float(np.corrcoef(x, y)[0, 1]), len(x)

    c1, _ = corr(1.0)
    c0, n = corr(0.0)
    assert c1 > 0.1, c1
    assert abs(c0) < 3 / np.sqrt(n), c0


def _standardized_returns(cfg: SyntheticMarketConfig, bars: pd.DataFrame) -> list[np.ndarray]:
    """Per-symbol 1-minute log returns divided by sigma_t, the crash minute set to NaN."""
    sched = regime_schedule(cfg)
    sigma = sched["sigma_bps"].to_numpy() * 1e-4
    tc = int(sched.index[sched["crash"]][0])
    out = []
    for _, g in bars.groupby("symbol"):
        e = np.log(g["close"].to_numpy() / g["open"].to_numpy()) / sigma
        e[tc] = np.nan
        out.append(e)
    return out


def _lag_corr(series: list[np.ndarray], lag: int) -> tuple[float, int]:
    x = np.concatenate([e[:-lag] for e in series])
    y = np.concatenate([e[lag:] for e in series])
    ok = np.isfinite(x) & np.isfinite(y)
    return float(np.corrcoef(x[ok], y[ok])[0, 1]), int(ok.sum())


def test_no_momentum_without_signal(honest_pair):
    cfg0, t0 = honest_pair[0.0]
    eps0 = _standardized_returns(cfg0, t0["bars"])
    # non-overlapping 45-minute returns, each standardized by its known sigma: lag-1 autocorrelation
    sched = regime_schedule(cfg0)
    var = (sched["sigma_bps"].to_numpy() * 1e-4) ** 2
    windows = []
    for e in eps0:
        r = e * np.sqrt(var)
        ends = np.arange(0, len(r) + 1 - HORIZON, HORIZON)
        windows.append(np.add.reduceat(r, ends)[:-1] / np.sqrt(np.add.reduceat(var, ends)[:-1]))
    ac45, n45 = _lag_corr(windows, 1)
    assert n45 > 1000
    assert abs(ac45) < 3 / np.sqrt(n45), ac45
    # 1-minute returns: every lag 1..45 and their sum (a variance-ratio test) are indistinguishable from 0
    acs = np.array([_lag_corr(eps0, k)[0] for k in range(1, HORIZON + 1)])
    n = _lag_corr(eps0, 1)[1]
    assert np.abs(acs).max() < 4 / np.sqrt(n), np.abs(acs).max()
    assert abs(acs.sum()) < 3 * np.sqrt(HORIZON / n), acs.sum()


def test_momentum_test_has_power_with_signal(honest_pair):
    """The same variance-ratio statistic sees the echo of z in returns at s = 1 (documented, not a leak)."""
    cfg1, t1 = honest_pair[1.0]
    eps1 = _standardized_returns(cfg1, t1["bars"])
    acs = np.array([_lag_corr(eps1, k)[0] for k in range(1, HORIZON + 1)])
    n = _lag_corr(eps1, 1)[1]
    assert acs.sum() > 3 * np.sqrt(HORIZON / n)
    expected = BETA ** 2 * (1 - Z_PHI ** HORIZON) / (1 - Z_PHI)
    assert 0.3 * expected < acs.sum() < 3 * expected


# ------------------------------------------------------------------------------------------ signal schedule
def test_signal_schedule_flips_the_relation_from_its_date_on():
    """From the change date the same observable predicts the opposite direction; before it nothing differs."""
    flip_day = "2026-01-11"
    base = SyntheticMarketConfig(symbols=SYMBOLS, days=20, seed=7, signal=1.0, depth_levels=5)
    flipped = SyntheticMarketConfig(symbols=SYMBOLS, days=20, seed=7, signal=1.0, depth_levels=5,
                                    signal_changes=[[flip_day, -1.0]])
    t_base, t_flip = generate_synthetic_market(base)["bars"], generate_synthetic_market(flipped)["bars"]
    before = t_base["open_time"] < pd.Timestamp(flip_day, tz="UTC")
    pd.testing.assert_frame_equal(t_base[before], t_flip[before])
    x, y = _imbalance_vs_forward(flipped, t_flip)  # non-overlapping windows, symbol after symbol, in time order
    position = np.arange(len(x)) % (len(x) // len(SYMBOLS))  # share of its symbol's 20 days (+-1 crash window)
    early, late = position < len(x) // len(SYMBOLS) * 9 // 20, position > len(x) // len(SYMBOLS) * 11 // 20
    assert early.sum() > 500 and late.sum() > 500
    assert np.corrcoef(x[early], y[early])[0, 1] > 0.1
    assert np.corrcoef(x[late], y[late])[0, 1] < -0.1


def test_signal_schedule_off_is_the_plain_knob_and_bad_schedules_are_refused():
    plain = SyntheticMarketConfig(symbols=SYMBOLS[:1], days=2, seed=3, signal=2.0, depth_levels=2)
    same = SyntheticMarketConfig(symbols=SYMBOLS[:1], days=2, seed=3, signal=1.0, depth_levels=2,
                                 signal_changes=(("2026-01-01", 2.0),))
    pd.testing.assert_frame_equal(generate_synthetic_market(plain)["bars"], generate_synthetic_market(same)["bars"])
    for bad, match in ((["2026-01-05", 1.0], "pairs"), ([["2026-01-05", float("nan")]], "finite"),
                       ([["2026-01-05", 1.0], ["2026-01-03", 0.0]], "strictly increasing"),
                       ([["soon", 1.0]], "start")):
        with pytest.raises(ConfigError, match=match):
            SyntheticMarketConfig(signal_changes=bad)

"""Butterfly data: the synthetic daily market (equations, honesty rule, determinism), the daily-bar CSV adapter
(round trip and bad input), a real recording through the adapter, and the as-of property of features/pricing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FTX_CSV, require_real
from trader_core.butterfly_config import ButterflyConfig, SamplingSection, SyntheticSection
from trader_core.contracts.butterfly import BUTTERFLY_FEATURE_ORDER
from trader_core.butterfly.market import generate_market, load_daily_csv, regime_codes, synthetic_state, validate_market
from trader_core.butterfly.pipeline import build_features, daily, sample_and_label
from trader_core.butterfly.positions import POSITION_COLUMNS, price_positions
from trader_core.errors import DataContractError

CONFIG = ButterflyConfig(synthetic=SyntheticSection(trading_days=700, symbols=("AAA", "BBB", "CCC")),
                         sampling=SamplingSection(low_days=15, normal_days=20, high_days=15))
HYPOTHESIS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                               HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def market() -> dict[str, pd.DataFrame]:
    return validate_market(generate_market(CONFIG.synthetic))


@pytest.fixture(scope="module")
def samples(market) -> pd.DataFrame:
    return sample_and_label(market, CONFIG)[0]


# ------------------------------------------------------------------------------------------------ synthetic
def test_synthetic_market_is_deterministic_and_well_formed(market):
    again = validate_market(generate_market(CONFIG.synthetic))
    pd.testing.assert_frame_equal(market["bars"], again["bars"])
    bars = market["bars"]
    assert len(bars) == 3 * 700 and str(bars["date"].dt.tz) == "UTC"
    assert (bars["date"] == bars["date"].dt.normalize()).all() and (bars["date"].dt.day_of_week < 5).all()
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all() and (bars["low"] > 0).all()


def test_a_symbol_depends_only_on_seed_name_window_and_knob():
    alone = generate_market(SyntheticSection(trading_days=300, symbols=("BBB",)))["bars"]
    both = generate_market(SyntheticSection(trading_days=300, symbols=("ZZZ", "BBB")))["bars"]
    pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                  both[both["symbol"] == "BBB"].reset_index(drop=True))


def test_regimes_index_levels_and_thresholds():
    config = SyntheticSection(trading_days=2016)
    codes = regime_codes(config)
    assert set(codes[:660]) == {0, 1, 2}
    vix = generate_market(config)["vix"]["vix"].to_numpy()
    observed = np.where(vix < 15, 0, np.where(vix > 25, 2, 1))
    assert np.mean(observed == codes) > 0.99


def test_honesty_rule_only_prices_depend_on_the_knob():
    on = SyntheticSection(trading_days=1500, signal=1.0)
    off = SyntheticSection(trading_days=1500, signal=0.0)
    m_on, m_off = generate_market(on), generate_market(off)
    pd.testing.assert_frame_equal(m_on["vix"], m_off["vix"])
    np.testing.assert_array_equal(m_on["bars"]["volume"], m_off["bars"]["volume"])
    assert not np.allclose(m_on["bars"]["close"], m_off["bars"]["close"])
    state = synthetic_state(off)
    pd.testing.assert_frame_equal(state, synthetic_state(on))

    def horizon_moves(bars: pd.DataFrame) -> pd.DataFrame:
        """|log move| over the next 25 rows in units of the true daily sd, by latent state."""
        frame = bars.merge(state, on=["date", "symbol"])
        logc = np.log(frame["close"])
        move = (logc.groupby(frame["symbol"]).shift(-25) - logc).abs() / (frame["sigma"] / np.sqrt(252))
        return move.groupby(frame["pinned"]).mean()

    off_moves, on_moves = horizon_moves(m_off["bars"]), horizon_moves(m_on["bars"])
    assert abs(off_moves[1] / off_moves[0] - 1) < 0.1  # s = 0: the state does not move prices
    assert on_moves[1] < 0.4 * on_moves[0]  # s = 1: pinned names stay near their level


def test_volume_dispersion_is_the_observable_of_the_state(market):
    features = build_features(sample_and_label(market, CONFIG)[0], market, CONFIG)
    state = synthetic_state(CONFIG.synthetic)
    ids = state["date"].dt.strftime("%Y-%m-%d") + "|" + state["symbol"].astype(str)
    frame = features.merge(state.assign(sample_id=ids)[["sample_id", "pinned"]], on="sample_id")
    means = frame.groupby("pinned")["vol_concentration"].mean()
    assert means[1] < means[0] - 0.05


# ------------------------------------------------------------------------------------------------ CSV adapter
def _write(market: dict[str, pd.DataFrame], tmp_path, *, vix_rows: bool = False):
    bars = market["bars"].assign(date=market["bars"]["date"].dt.strftime("%Y-%m-%d"))
    if vix_rows:
        vix = market["vix"].assign(date=market["vix"]["date"].dt.strftime("%Y-%m-%d"), symbol="VIX")
        vix = vix.rename(columns={"vix": "close"}).assign(open=lambda f: f["close"], high=lambda f: f["close"],
                                                          low=lambda f: f["close"], volume=0.0)
        pd.concat([bars, vix[bars.columns]]).to_csv(tmp_path / "bars.csv", index=False)
        return tmp_path / "bars.csv", None
    bars.to_csv(tmp_path / "bars.csv", index=False)
    market["vix"].assign(date=market["vix"]["date"].dt.strftime("%Y-%m-%d")).to_csv(tmp_path / "vix.csv", index=False)
    return tmp_path / "bars.csv", tmp_path / "vix.csv"


@pytest.mark.parametrize("vix_rows", [False, True])
def test_csv_round_trip(market, tmp_path, vix_rows):
    loaded = load_daily_csv(*_write(market, tmp_path, vix_rows=vix_rows))
    pd.testing.assert_frame_equal(loaded["bars"], market["bars"], check_dtype=False)
    pd.testing.assert_frame_equal(loaded["vix"], market["vix"], check_dtype=False)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b.drop(columns="volume"), r"missing column\(s\) \['volume'\]"),
    (lambda b: b.assign(date=b["date"].where(b.index != 5, "not-a-date")), "column 'date'"),
    (lambda b: b.assign(date=b["date"].where(b.index != 5, "2021-03-01 12:00")), "UTC midnights"),
    (lambda b: b.assign(close=b["close"].where(b.index != 5, -1.0)), "must be > 0"),
    (lambda b: b.assign(high=b["high"].where(b.index != 5, 0.01)), "high/low must bracket"),
    (lambda b: b.assign(volume=b["volume"].astype(object).where(b.index != 5, "x")), "column 'volume'"),
    (lambda b: pd.concat([b, b.iloc[[3]]]), "duplicate"),
])
def test_csv_adapter_bad_input_names_file_and_column(market, tmp_path, mutate, message):
    bars_path, vix_path = _write(market, tmp_path)
    mutate(pd.read_csv(bars_path)).to_csv(bars_path, index=False)
    with pytest.raises(DataContractError, match=message) as info:
        load_daily_csv(bars_path, vix_path)
    assert "bars.csv" in str(info.value)


def test_csv_adapter_index_problems(market, tmp_path):
    bars_path, vix_path = _write(market, tmp_path)
    with pytest.raises(DataContractError, match="no index rows"):
        load_daily_csv(bars_path)
    with pytest.raises(DataContractError, match="not found"):
        load_daily_csv(bars_path, tmp_path / "missing.csv")
    pd.read_csv(vix_path).iloc[10:].to_csv(vix_path, index=False)
    with pytest.raises(DataContractError, match="the index starts"):
        load_daily_csv(bars_path, vix_path)
    pd.read_csv(vix_path).rename(columns={"vix": "level"}).to_csv(vix_path, index=False)
    with pytest.raises(DataContractError, match=r"vix.csv: missing column\(s\) \['vix'\]"):
        load_daily_csv(bars_path, vix_path)


def test_real_bars_through_the_adapter(tmp_path):
    """A month of real FTX BTC-PERP 1-minute bars, resampled to days: read fine, too short for any sample."""
    minutes = pd.read_csv(require_real(FTX_CSV), parse_dates=["timestamp"])
    days = minutes.set_index("timestamp").resample("1D").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna().reset_index()
    days = days.rename(columns={"timestamp": "date"}).assign(symbol="BTC-PERP")
    days.to_csv(tmp_path / "btc_daily.csv", index=False)
    pd.DataFrame({"date": days["date"], "vix": 20.0}).to_csv(tmp_path / "vix.csv", index=False)
    loaded = load_daily_csv(tmp_path / "btc_daily.csv", tmp_path / "vix.csv")
    assert len(loaded["bars"]) == len(days) >= 30 and loaded["bars"]["close"].iloc[-1] == days["close"].iloc[-1]
    hv = daily(loaded, CONFIG)["hv_20"].dropna()
    assert len(hv) > 5 and hv.between(0.1, 3.0).all()  # annualized daily-bar volatility of BTC
    with pytest.raises(DataContractError, match="no eligible sample date"):
        sample_and_label(loaded, CONFIG)


# ------------------------------------------------------------------------------------------------ look-ahead
@HYPOTHESIS
@given(cut=st.floats(0.0, 1.0), seed=st.integers(0, 10_000), mode=st.sampled_from(["perturb", "truncate"]),
       one_symbol=st.booleans())
def test_features_and_pricing_use_no_data_after_the_sample_date(market, samples, cut, seed, mode, one_symbol):
    """Changing or dropping every bar/index value after date d leaves every sample at or before d unchanged."""
    first, last = samples["date"].min(), market["bars"]["date"].max()
    d = first + cut * (last - first)  # from the first sample date on: every example has samples to compare
    keys = samples.loc[samples["date"] <= d, ["sample_id", "date", "symbol", "dte"]]
    assert not keys.empty
    bars, vix = market["bars"].copy(), market["vix"].copy()
    after = (bars["date"] > d) & ((bars["symbol"] == "AAA") if one_symbol else True)
    vix_after = vix["date"] > d
    if mode == "truncate":
        bars, vix = bars[~after], vix[~vix_after] if not one_symbol else vix
    else:
        rng = np.random.default_rng(seed)
        factor = np.exp(rng.normal(0, 0.2, int(after.sum())))
        for column in ("open", "high", "low", "close"):
            bars.loc[after, column] *= factor
        bars.loc[after, "volume"] *= rng.uniform(0, 3, int(after.sum()))
        if not one_symbol:
            vix.loc[vix_after, "vix"] *= np.exp(rng.normal(0, 0.3, int(vix_after.sum())))
    changed = {"bars": bars, "vix": vix}
    full_daily, changed_daily = daily(market, CONFIG), daily(changed, CONFIG)
    before = price_positions(keys, full_daily, CONFIG.pricing)
    after_change = price_positions(keys, changed_daily, CONFIG.pricing)
    for column in POSITION_COLUMNS:
        assert before[column].to_numpy().tobytes() == after_change[column].to_numpy().tobytes(), column
    f_before = build_features(before, market, CONFIG)
    f_after = build_features(after_change, changed, CONFIG)
    for name in BUTTERFLY_FEATURE_ORDER:
        assert f_before[name].to_numpy().tobytes() == f_after[name].to_numpy().tobytes(), name

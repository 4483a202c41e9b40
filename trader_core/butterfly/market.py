"""Daily market for the butterfly strategy: a seeded synthetic source and a daily-bar CSV adapter.

A market is ``{"bars": bars, "vix": vix}``:

* ``bars``: ``date`` (tz-aware UTC midnight), ``symbol``, ``open``, ``high``, ``low``, ``close``, ``volume``;
  sorted by (symbol, date), unique per (symbol, date).
* ``vix``: ``date``, ``vix`` (a VIX-like volatility index in points, daily), sorted, unique dates.

Synthetic source (``generate_market``)
--------------------------------------
Trading days are weekdays (``pd.bdate_range``, no holidays), ``t = 0 .. N-1``. Exists so the pipeline can be
proven on data whose truth is known: with the signal knob ``s = 0`` nothing observable predicts where a price
ends relative to its start (a model that "learns" more than the pricing/volatility structure below is leaking);
with ``s > 0`` a per-symbol *pinning* state, visible through a noisy observable, does.

*Volatility regimes* (shared): a "shuffle-bag" sequence of segments, each ``U{100..220}`` trading days long;
every bag of three consecutive segments holds low, normal and high once in a random order (a bag never starts
with the regime that ended the previous one), so every regime occurs in the first 660 trading days and in
every later bag.
Regime level ``L_g`` = low 12, normal 18.5, high 32 (index points). The index is
``vix_t = L_{g_t} exp(0.08 a_t)`` with ``a`` a unit-variance AR(1), ``phi = 0.9`` (observation noise: with these
levels the 15/25 thresholds classify a day's latent regime correctly > 99 % of the time).

*Underlyings* ``k``: annual volatility ``sigma_{k,t} = beta_k L_{g_t} / 100`` with ``beta_k ~ U(0.8, 1.6)``
(a step function of the regime: not of prices, not of the index noise), daily ``sd_t = sigma_{k,t}/sqrt(252)``.
Shocks ``eps_{k,t} = sqrt(0.3) m_t + sqrt(0.7) e_{k,t}`` (m, e iid N(0,1): pairwise correlation 0.3) and
``n_{k,t} = sd_t eps_{k,t} - sd_t^2 / 2`` (so ``E[exp(n)] = 1``).

*Latent state* ``P_{k,t} in {0, 1}`` (generated at every ``s``): alternating pinned (1) and free (0) spells,
each ``U{60..160}`` trading days, the first pinned with probability 0.5; every free spell has a drift direction
``D = +-1`` (a random first sign, then alternating from one free spell to the next, so prices stay in a band).
Log close ``x_t = x_{t-1} + d_t``:

* free day: ``d_t = n_t + 0.4 s sd_t D`` (at s = 1 a free name trends ~10 sd over a 25-day holding period, so
  it usually leaves the wings);
* pinned spell starting at ``t0``: ``d_t = y_t - y_{t-1}`` with ``y_{t0-1} = 0`` and
  ``y_t = (1 - kappa) y_{t-1} + n_t``, ``kappa = min(1, 0.5 s)``: the price mean-reverts to its level at the
  spell start (the anchor). At s = 1 the deviation from the anchor has a stationary sd of ``1.15 sd_t``
  against ``5 sd_t`` after 25 free days without drift.

At ``s = 0``: ``kappa = 0`` and no drift, so ``d = n`` in both states.

*Observable of P* (at every ``s``): the dispersion of daily volume. ``log v_t = log V_k + 0.5 log(L_{g_t}/18.5)
+ w_t u_t - w_t^2/2`` with ``w_t = 0.55 - 0.35 P_t`` (pinned names trade steadily: w = 0.20) and
``V_k = 1e6 exp(U(-1, 1))``. The feature ``vol_concentration`` (share of the 20-day volume on the 5 busiest
days) sees it (AUC ~0.94 for P); at s > 0 price features carry an echo (mean reversion shortens the 20-day range:
``price_stability``, ``range_ratio_10``; the drift shows in ``return_20d``/``momentum_7d``).

*Bars*: first open ``P0_k = exp(U(log 20, log 400))``; ``close_t = P0 exp(sum d)``; ``open_t = close_{t-1}
exp(0.3 sd_t g_t)`` (first open = P0); ``high = max(open, close) exp(0.6 sd_t |h_t|)``,
``low = min(open, close) exp(-0.6 sd_t |l_t|)`` (g, h, l iid N(0,1)); prices rounded to cents, volume to
whole shares.

**Honesty rule.** At ``s = 0`` every close is a martingale whose volatility is a deterministic function of the
shared regime schedule; the latent state enters volume only. All random streams are drawn identically at
every ``s`` (the knob only scales ``kappa`` and the drift), so markets with the same seed share every shock,
regime, spell and volume; only prices differ. What remains predictable at s = 0 is structure, not the price
path: volatility regimes last months and the 20-day HV lags a switch, and the IV proxy's moneyness multipliers
and the strike grid misprice some butterflies relative to the true volatility. The honesty tests measure and
bound its effect (docs/butterfly.md).

Seeding: each component has its own ``numpy.random.Generator(PCG64(SeedSequence(seed, spawn_key=key)))``;
market components use ``(2, 0, c)``, a symbol ``(2, 1, len(name), *utf8(name), c)``, so a symbol's series
depends only on the seed, its name, the window and the knob.

CSV adapter (``load_daily_csv``)
--------------------------------
``date, symbol, open, high, low, close, volume`` (one row per symbol and trading day; dates ``YYYY-MM-DD`` or
ISO timestamps at 00:00, naive = UTC) plus the index either as a second CSV (``date`` and ``vix`` or
``close``) or as rows of the bar file whose symbol is ``vix_symbol`` (their close). Every violation raises
DataContractError naming the file and column.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from trader_core.butterfly_config import SyntheticSection
from trader_core.errors import DataContractError

BAR_COLUMNS = ("date", "symbol", "open", "high", "low", "close", "volume")
VIX_COLUMNS = ("date", "vix")
PRICE_COLUMNS = ("open", "high", "low", "close")

REGIME_LEVELS = (12.0, 18.5, 32.0)  # low, normal, high (index points)
SEGMENT_DAYS = (100, 220)
VIX_NOISE, VIX_PHI = 0.08, 0.9
BETA_RANGE = (0.8, 1.6)
FACTOR_SHARE = 0.3
PIN_DAYS, FREE_DAYS, PIN_START_P = (60, 160), (60, 160), 0.5
KAPPA = 0.5
DRIFT = 0.4
VOLUME_W_FREE, VOLUME_W_PIN_DROP, VOLUME_REGIME_GAIN = 0.55, 0.35, 0.5
GAP_SD, WICK_SD = 0.3, 0.6
P0_RANGE = (20.0, 400.0)

# random stream components (never renumber)
_M_REGIME, _M_VIX, _M_FACTOR = 0, 1, 2
_S_SCALE, _S_EPS, _S_PIN, _S_VOLUME, _S_BARS = range(5)


def _stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(2, *key))))


def _symbol_stream(seed: int, symbol: str, component: int) -> np.random.Generator:
    raw = symbol.encode("utf-8")
    return _stream(seed, 1, len(raw), *raw, component)


def trading_dates(config: SyntheticSection) -> pd.DatetimeIndex:
    return pd.bdate_range(start=pd.Timestamp(config.start), periods=config.trading_days, tz="UTC").as_unit("ns")


def regime_codes(config: SyntheticSection) -> np.ndarray:
    """Latent regime per trading day (0 low, 1 normal, 2 high): the shuffle-bag segment schedule."""
    n = config.trading_days
    rng = _stream(config.seed, 0, _M_REGIME)
    bags = n // (3 * SEGMENT_DAYS[0]) + 1
    order = np.array([rng.permutation(3) for _ in range(bags)])  # a loop over bags (a handful)
    for b in range(1, bags):
        if order[b, 0] == order[b - 1, -1]:
            order[b, [0, 1]] = order[b, [1, 0]]
    codes = order.reshape(-1)
    lengths = rng.integers(SEGMENT_DAYS[0], SEGMENT_DAYS[1] + 1, size=codes.size)
    return np.repeat(codes, lengths)[:n]


def _ar1(shocks: np.ndarray, phi: float) -> np.ndarray:
    u = shocks * math.sqrt(1.0 - phi * phi)
    u[0] = shocks[0]
    return lfilter([1.0], [1.0, -phi], u)


def _spells(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pinned (1) / free (0) per day (alternating spells of U{60..160} days) and each free spell's drift
    direction (+-1: a random first sign, then alternating from one free spell to the next)."""
    max_spells = n // min(PIN_DAYS[0], FREE_DAYS[0]) + 2
    first = int(rng.random() < PIN_START_P)
    pin_len = rng.integers(PIN_DAYS[0], PIN_DAYS[1] + 1, size=max_spells)
    free_len = rng.integers(FREE_DAYS[0], FREE_DAYS[1] + 1, size=max_spells)
    sign = rng.choice(np.array([-1.0, 1.0]))
    direction = sign * (-1.0) ** (np.arange(max_spells) // 2)  # consecutive free spells alternate: prices stay bounded
    state = (first + np.arange(max_spells)) % 2
    lengths = np.where(state == 1, pin_len, free_len)
    return np.repeat(state, lengths)[:n], np.repeat(direction, lengths)[:n]


def _log_path(n_shock: np.ndarray, pinned: np.ndarray, kappa: float) -> np.ndarray:
    """Cumulative log return: free days add n; pinned spells follow the AR(1) deviation from their anchor."""
    d = n_shock.copy()
    if kappa > 0:
        starts = np.flatnonzero(np.diff(np.concatenate(([0], pinned))) == 1)
        ends = np.flatnonzero(np.diff(np.concatenate((pinned, [0]))) == -1) + 1
        for a, b in zip(starts, ends):  # a loop over spells (a handful per symbol)
            y = lfilter([1.0], [1.0, -(1.0 - kappa)], n_shock[a:b])
            d[a:b] = np.diff(np.concatenate(([0.0], y)))
    return np.cumsum(d)


def _simulate(config: SyntheticSection) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    dates = trading_dates(config)
    n = len(dates)
    seed = config.seed
    regime = regime_codes(config)
    level = np.asarray(REGIME_LEVELS)[regime]
    vix = level * np.exp(VIX_NOISE * _ar1(_stream(seed, 0, _M_VIX).standard_normal(n), VIX_PHI))
    factor = _stream(seed, 0, _M_FACTOR).standard_normal(n)
    kappa = min(1.0, KAPPA * config.signal)
    bars, states = [], []
    for symbol in config.symbols:  # a loop over symbols
        rng = _symbol_stream(seed, symbol, _S_SCALE)
        beta = rng.uniform(*BETA_RANGE)
        p0 = math.exp(rng.uniform(math.log(P0_RANGE[0]), math.log(P0_RANGE[1])))
        v0 = 1e6 * math.exp(rng.uniform(-1.0, 1.0))
        sd = beta * level / 100.0 / math.sqrt(252.0)
        eps = math.sqrt(FACTOR_SHARE) * factor + math.sqrt(1 - FACTOR_SHARE) * _symbol_stream(
            seed, symbol, _S_EPS).standard_normal(n)
        pinned, direction = _spells(_symbol_stream(seed, symbol, _S_PIN), n)
        shock = sd * eps - sd * sd / 2.0 + DRIFT * config.signal * sd * direction * (1 - pinned)
        close = p0 * np.exp(_log_path(shock, pinned, kappa))
        w = VOLUME_W_FREE - VOLUME_W_PIN_DROP * pinned
        u = _symbol_stream(seed, symbol, _S_VOLUME).standard_normal(n)
        volume = v0 * np.exp(VOLUME_REGIME_GAIN * np.log(level / REGIME_LEVELS[1]) + w * u - w * w / 2.0)
        g, h, lo = _symbol_stream(seed, symbol, _S_BARS).standard_normal((3, n))
        prev = np.concatenate(([p0], close[:-1]))
        open_ = np.concatenate(([p0], prev[1:] * np.exp(GAP_SD * sd[1:] * g[1:])))
        high = np.maximum(open_, close) * np.exp(WICK_SD * sd * np.abs(h))
        low = np.minimum(open_, close) * np.exp(-WICK_SD * sd * np.abs(lo))
        bars.append(pd.DataFrame({"date": dates, "symbol": symbol, "open": open_, "high": high, "low": low,
                                  "close": close, "volume": np.round(volume)}))
        states.append(pd.DataFrame({"date": dates, "symbol": symbol, "pinned": pinned.astype(np.int8),
                                    "sigma": beta * level / 100.0, "regime": regime.astype(np.int8)}))
    frame = pd.concat(bars, ignore_index=True)
    frame[list(PRICE_COLUMNS)] = frame[list(PRICE_COLUMNS)].round(2)
    # cent rounding can put open/close outside [low, high] by a cent: widen the wick, never move a close
    frame["high"] = frame[["high", "open", "close"]].max(axis=1)
    frame["low"] = frame[["low", "open", "close"]].min(axis=1)
    market = {"bars": frame.sort_values(["symbol", "date"], kind="mergesort").reset_index(drop=True),
              "vix": pd.DataFrame({"date": dates, "vix": vix})}
    return market, pd.concat(states, ignore_index=True)


def generate_market(config: SyntheticSection = SyntheticSection()) -> dict[str, pd.DataFrame]:
    """The synthetic daily market ``{"bars", "vix"}`` (see the module docstring)."""
    return _simulate(config)[0]


def synthetic_state(config: SyntheticSection = SyntheticSection()) -> pd.DataFrame:
    """The latent truth per (date, symbol): ``pinned`` (0/1), annual ``sigma``, ``regime`` (0/1/2). For tests/docs."""
    return _simulate(config)[1]


# ------------------------------------------------------------------------------------------------ validation
def _utc_midnight(values: pd.Series, source: str) -> pd.Series:
    try:
        ts = pd.to_datetime(values, utc=True, format="mixed")
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"{source}: column 'date' has unparseable values ({exc})") from exc
    if ts.isna().any():
        raise DataContractError(f"{source}: column 'date' has {int(ts.isna().sum())} missing value(s)")
    if (ts != ts.dt.normalize()).any():
        bad = ts[ts != ts.dt.normalize()].iloc[0]
        raise DataContractError(f"{source}: column 'date' must hold UTC midnights (daily bars), got {bad}")
    return ts.dt.as_unit("ns")


def validate_bars(bars: pd.DataFrame, source: str = "bars") -> pd.DataFrame:
    """The bar table in contract form (UTC dates, float prices, sorted) or DataContractError naming the problem."""
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise DataContractError(f"{source}: missing column(s) {missing}; expected {list(BAR_COLUMNS)}")
    if bars.empty:
        raise DataContractError(f"{source}: no rows")
    out = pd.DataFrame({"date": _utc_midnight(bars["date"], source),
                        "symbol": bars["symbol"].astype("string")})
    if out["symbol"].isna().any() or (out["symbol"].str.strip() == "").any():
        raise DataContractError(f"{source}: column 'symbol' has empty values")
    for column in (*PRICE_COLUMNS, "volume"):
        values = pd.to_numeric(bars[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isfinite(values).all():
            raise DataContractError(f"{source}: column {column!r} has {int((~np.isfinite(values)).sum())} "
                                    f"missing/non-numeric value(s)")
        out[column] = values
    if (out[list(PRICE_COLUMNS)] <= 0).any().any():
        raise DataContractError(f"{source}: prices (open/high/low/close) must be > 0")
    if (out["volume"] < 0).any():
        raise DataContractError(f"{source}: column 'volume' must be >= 0")
    if (out["high"] < out[["open", "close", "low"]].max(axis=1)).any() or \
            (out["low"] > out[["open", "close"]].min(axis=1)).any():
        raise DataContractError(f"{source}: high/low must bracket open and close (high >= max, low <= min)")
    dup = out.duplicated(["symbol", "date"])
    if dup.any():
        row = out[dup].iloc[0]
        raise DataContractError(f"{source}: duplicate (symbol, date) rows, e.g. {row['symbol']} {row['date'].date()}")
    return out.sort_values(["symbol", "date"], kind="mergesort").reset_index(drop=True)


def validate_vix(vix: pd.DataFrame, source: str = "vix") -> pd.DataFrame:
    missing = [c for c in VIX_COLUMNS if c not in vix.columns]
    if missing:
        raise DataContractError(f"{source}: missing column(s) {missing}; expected {list(VIX_COLUMNS)}")
    if vix.empty:
        raise DataContractError(f"{source}: no rows")
    values = pd.to_numeric(vix["vix"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not (np.isfinite(values) & (values > 0)).all():
        raise DataContractError(f"{source}: column 'vix' must be finite and > 0")
    out = pd.DataFrame({"date": _utc_midnight(vix["date"], source), "vix": values})
    if out["date"].duplicated().any():
        raise DataContractError(f"{source}: duplicate dates in column 'date'")
    return out.sort_values("date", kind="mergesort").reset_index(drop=True)


def _check_coverage(bars: pd.DataFrame, vix: pd.DataFrame, source: str) -> dict[str, pd.DataFrame]:
    if vix["date"].iloc[0] > bars["date"].min():
        raise DataContractError(f"{source}: the index starts {vix['date'].iloc[0].date()}, after the first bar date "
                                f"{bars['date'].min().date()}: no index value as of that date")
    return {"bars": bars, "vix": vix}


def validate_market(market: dict[str, pd.DataFrame], source: str = "market") -> dict[str, pd.DataFrame]:
    """Both tables checked; the index must cover the first bar date (features read it as of each date)."""
    for key in ("bars", "vix"):
        if key not in market:
            raise DataContractError(f"{source}: no {key!r} table (expected keys 'bars' and 'vix')")
    return _check_coverage(validate_bars(market["bars"], f"{source}.bars"),
                           validate_vix(market["vix"], f"{source}.vix"), source)


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataContractError(f"{path}: CSV file not found")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataContractError(f"{path}: not a readable CSV ({exc})") from exc


def load_daily_csv(bars_path: Path | str, vix_path: Path | str | None = None, *,
                   vix_symbol: str = "VIX") -> dict[str, pd.DataFrame]:
    """Read a daily-bar CSV (+ the index, from ``vix_path`` or the ``vix_symbol`` rows) into a checked market."""
    bars_path = Path(bars_path)
    raw = _read_csv(bars_path)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    if vix_path is None:
        if "symbol" not in raw.columns:
            raise DataContractError(f"{bars_path}: missing column 'symbol'")
        is_vix = raw["symbol"].astype("string").str.upper() == vix_symbol.upper()
        if not is_vix.any():
            raise DataContractError(f"{bars_path}: no index rows (symbol {vix_symbol!r}) and no vix file given")
        vix = raw.loc[is_vix, ["date", "close"]].rename(columns={"close": "vix"})
        raw, vix_source = raw.loc[~is_vix], f"{bars_path} ({vix_symbol} rows)"
    else:
        vix_path = Path(vix_path)
        vix = _read_csv(vix_path)
        vix.columns = [str(c).strip().lower() for c in vix.columns]
        if "vix" not in vix.columns and "close" in vix.columns:
            vix = vix.rename(columns={"close": "vix"})
        vix_source = str(vix_path)
    return _check_coverage(validate_bars(raw, str(bars_path)), validate_vix(vix, vix_source), str(bars_path))

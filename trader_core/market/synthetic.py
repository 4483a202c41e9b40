"""Synthetic market source: every raw table of ``trader_core.contracts.raw`` from a documented, seeded model.

The generator exists so that the pipeline can be proven on data whose truth is known: with the signal knob
``s = 0`` nothing observable predicts future returns (a model that "learns" something is leaking), and with
``s > 0`` a known latent state predicts them through a known, documented set of observables (a model that
learns nothing is broken). Later stages rely on the equations below; change them only together with this
docstring and ``tests/core/test_synthetic_market.py``.

Time grid
---------
1-minute bars, ``n = days * 1440`` minutes per symbol, minute ``t = 0 .. n-1`` opens at
``start + t min`` (UTC). Log returns are in natural units; 1 bp = 1e-4.

Regimes (shared by all symbols; ``regime_schedule(config)`` returns them)
----------------------------------------------------------------------
A seeded Markov sequence of segments, each a whole number of hours between 24 and 96 (1-4 days), with no
self-transitions::

    P(next | calm)     = trending 0.6, volatile 0.4
    P(next | trending) = calm 0.6,     volatile 0.4
    P(next | volatile) = calm 0.7,     trending 0.3        (first segment: calm 0.5, trending 0.3, volatile 0.2)

Regime volatility ``REGIME_SIGMA_BPS`` = calm 4, trending 6, volatile 12 bps/min (all 6 with
``volatility_regimes=False``: then the size of future moves is as unpredictable as their direction until the
crash, which is how the tests check that *every* head, not only the directional ones, finds nothing at s = 0). The per-minute volatility
``sigma_t`` is that level smoothed by a *causal* EMA (time constant 30 min, so volatility never rises before
a regime change or the crash), times the post-crash stress factor. ``sigma_t`` is a function of time only
(regime schedule + crash time), never of prices.

Crash
-----
One crash minute ``t_c``, uniform in ``[n - L + L//10, n - L//2]`` with ``L = n // 8``: always inside the
last 12.5% of the window (the ``latest_stress`` period) and never announced by anything before it.
At ``t_c`` every symbol gets a jump ``J_k = log(1 - d_k)``, ``d_k ~ U(0.05, 0.08)`` per symbol. A share
``g_k ~ U(0.3, 0.7)`` of it happens *between* bars, as in real crashes: the crash bar opens at
``close_{t_c-1} exp(g_k J_k)``, already beyond any stop near the previous close; the rest happens inside the
bar, which also gets a long lower wick (low a further ``U(0.2, 0.6) * |J_k|`` below the close). From ``t_c`` on:
the regime is forced to ``volatile`` for 1440 minutes, ``sigma_t *= 1 + 1.5 exp(-(t - t_c)/240)``,
spreads are multiplied by ``1 + 4 exp(-(t - t_c)/30)``, volume by ``1 + 9 exp(-(t - t_c)/30)``, a
liquidation burst of rate ``150 exp(-(t - t_c)/20)`` events/min (95% SELL) starts, open interest drops by
``D_k ~ U(0.08, 0.18)`` (log) with a 15-minute time constant and the mark/index basis gets a
``-20 bps * exp(-(t - t_c)/60)`` kick. None of these effects starts before ``t_c``.

Latent signal state (per symbol, generated at every ``s``)
--------------------------------------------------------
``z_t = phi z_{t-1} + sqrt(1 - phi^2) eta_t``, ``phi = exp(-1/30)`` (30-minute persistence), stationary
start, unit variance. ``z_t`` is the state during bar ``t``; it drives the *next* bar's drift.

Returns (per symbol ``k``)
-------------------------
::

    eps_{k,t} = sqrt(0.6) m_t + sqrt(0.4) e_{k,t}                 m, e iid N(0,1): corr(eps_j, eps_k) = 0.6
    r_{k,t}   = sigma_t eps_{k,t}                                   (noise, the only term at s = 0)
              + s * BETA * sigma_t * z_{k,t-1}                      (the signal: drift from the previous state)
              + s * TREND_DRIFT * sigma_t * dir_seg * 1[trending]   (trend drift, only at s > 0)
              + J_k * 1[t = t_c]                                    (the crash jump, unpredictable)

``BETA = 0.1`` and ``TREND_DRIFT = 0.015``. With ``phi = exp(-1/30)``,
``E[sum_{h=1..45} r_{t+h} | z_t] = s BETA sigma z_t (1 - phi^45)/(1 - phi) = 23.70 s BETA sigma z_t``, i.e. at
``s = 1, |z_t| = 1`` the expected 45-minute return is +-9.5 bps in calm (sigma = 4 bps), +-14.2 bps trending,
+-28.4 bps volatile, against a 45-minute noise of 27 / 40 / 80 bps. The trend direction ``dir_seg = +-1`` is
drawn per trending segment (shared by all symbols); at ``s = 1`` it adds ``0.09 bps/min`` (about 130 bps
per day) in a 6 bps regime.

**Honesty rule.** At ``s = 0``, ``r_t = sigma_t eps_t (+ J at t_c)`` with ``eps`` iid and ``sigma_t`` a
deterministic function of time: every price is a martingale (up to the one crash jump) given everything
observable. There is no trend drift, momentum or mean reversion. All random streams are drawn identically
at every ``s`` (the knob only scales drift terms), so ``s = 0`` and ``s = 1`` with the same seed share
``eps``, ``z`` and every observation of ``z``; only prices (and what is derived from prices: volume in base
units, book prices, liquidations, mark/index) differ.

Observables of ``z`` (the exact set through which the signal is visible)
----------------------------------------------------------------------
* bars taker flow: ``share_t = clip(0.5 + 0.2 tanh(z_t) + 0.05 clip(eps_t, -3, 3) + 0.08 u_t
  [- 0.3 at t_c], 0.02, 0.98)``, ``taker_buy_volume = share * volume``,
  ``taker_sell_volume = volume - taker_buy_volume``. The ``eps_t`` term is a contemporaneous co-movement
  with the same bar's return (not predictive).
* book sizes: every bid size is multiplied by ``1 + 0.3 tanh(z_t)``, every ask size by
  ``1 - 0.3 tanh(z_t)`` (times independent lognormal noise), in both ``book_l1`` and ``book_depth``.

So the features that can carry the signal are ``taker_imbalance_*`` and the book depth imbalance / book
pressure features (``book_depth_imbalance_5``, ``book_pressure_taker_*``; also, through the L1 sizes,
``book_microprice_basis_bps`` and ``level1_ofi_1m``). At ``s > 0`` past returns contain an echo of ``z``
(the drift ``s BETA sigma z_{t-1}`` is part of every return) and of the trend drift, so momentum features carry
some signal too: at ``s = 1`` the sum of the lag-1..45 autocorrelations of 1-minute returns is about
``BETA^2 (1 - phi^45)/(1 - phi) = 0.24`` and past/next 45-minute returns correlate about 0.1 (the taker imbalance
over 5 minutes vs the next 45-minute return: about 0.22-0.27). At ``s = 0`` none of these is distinguishable
from 0.
``z`` does not enter volume, trade count, spreads, mark/index, funding, open interest or liquidations.

Tables (all times UTC; every snapshot is stamped at or before the close of the bar it describes)
-----------------------------------------------------------------------------------------------
* ``bars``: ``open_t = close_{t-1}`` (first open = the symbol's initial price ``P0``) except the crash bar's
  gapped open ``close_{t_c-1} exp(g_k J_k)``, ``close_t = close_{t-1} exp(r_t)``;
  ``high/low = max/min(open, close) * exp(+-0.7 sigma_t |noise|)``.
  Volume notional per minute ``= V_k (sigma_t / 4bps) exp(0.35 u - 0.35^2/2) (0.75 + 0.25 |eps_t|)``
  (base units = notional / close); ``trade_count = max(1, round(notional / A_k * exp(0.2 u)))``.
* ``book_l1``: one snapshot per minute at ``open_time + 59 s``, mid = close,
  ``spread_bps = max(0.5 + 0.3 sigma_t/4bps + 0.1 u, 0.2) * crash_factor``,
  bid = floor(mid (1 - spread/2e4) / tick) ticks, ask = ceil(mid (1 + spread/2e4) / tick) ticks, so the
  spread is at least one tick. The tick is ``10 ** (floor(log10 P0) - 5)`` (BTC 0.1, ETH 0.01, ~100: 0.001).
  Sizes are the level-0 sizes of the depth snapshot.
* ``book_depth``: same timestamps, ``depth_levels`` levels per side (``bid_{i}_price/size``,
  ``ask_{i}_price/size``, level 0 = ``book_l1``); each deeper level is ``1 + Poisson(G_k)`` ticks further out;
  size_i = ``S_k / P0 (1 + 0.6 i) sqrt(4bps / sigma_t) exp(0.25 u - 0.25^2/2) (1 +- 0.3 tanh z_t)`` (base
  units). Noise is drawn level by level, so fewer ``depth_levels`` give a prefix of more levels.
* ``mark_index``: per minute at ``open_time + 59 s``: ``index = close exp(0.5 bps u)``,
  ``mark = index (1 + b_t)``, ``b_t = 0.5 bps + AR(1)`` (time constant 240 min, stationary sd 2 bps) plus the
  crash kick; ``b`` is independent of returns and of ``z``.
* ``funding``: at every 00:00/08:00/16:00 inside the window (the first at ``start``),
  ``funding_rate = 1e-4 + 0.25 mean(b over the 480 minutes before ts) + 1e-5 u`` (the basis process is
  simulated for 480 minutes before ``start`` so the first row has a history), ``next_funding_time = ts + 8 h``.
* ``open_interest``: every 5 minutes (Binance metrics style) at ``ts = start + 5j min``, ``j >= 1``, holding
  the value at the close of minute ``5j - 1``: ``log OI = log O_k + AR(1)`` (time constant 2 days, stationary sd
  5%) minus the crash drop.
* ``liquidations``: ``N_t ~ Poisson(lambda_t)`` events in minute ``t`` at uniform ms offsets inside the minute,
  ``lambda_t = 0.03 sigma_t/4bps + 0.8 h_t + crash burst`` with
  ``h = EMA_10min(min(max(|r_t|/sigma_t - 2.5, 0), 10)^2)`` (driven by the current and past absolute returns in
  sigma units); side SELL (long liquidated) with probability ``1 / (1 + exp(2 EMA_5min(clip(r/sigma, -10, 10))))``
  (sell-offs liquidate longs, rallies shorts); price uniform in the bar's [low, high]; notional lognormal with
  median ``Q_k`` (x3 in the crash burst). Quiet minutes have no rows.

Per-symbol scales: ``P0`` = 60000 for BTC*, 3000 for ETH*, else ``100 * exp(0.5 (u - 0.5))`` with ``u``
from the CRC32 of the symbol; ``(V, A, S, OI notional, Q)`` = BTC (3e6, 2000, 4e5, 6e9, 5000) USD,
ETH (1.5e6, 1500, 2e5, 3e9, 3000), others (1.5e5, 500, 2e4, 1e8, 1000); ``G`` = ``0.15 bps * P0 / tick - 1``.

Seeding
-------
Each random component has its own ``numpy.random.Generator(PCG64(SeedSequence(seed, spawn_key=key)))``: the
market (regimes, crash time, common factor) uses keys ``(0, component)``, a symbol uses
``(1, len(name), *utf8(name), component)``. A symbol's data therefore depends only on the seed, its name, the
window and the knob, not on which other symbols are generated nor on their order.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from trader_core.contracts.raw import MAX_BOOK_LEVELS, RAW_TABLES
from trader_core.errors import ConfigError

__all__ = [
    "SyntheticMarketConfig",
    "generate_synthetic_market",
    "regime_schedule",
    "REGIMES",
    "REGIME_SIGMA_BPS",
    "BETA",
    "Z_PHI",
]

MINUTES_PER_DAY = 1440
BPS = 1e-4

REGIMES: tuple[str, ...] = ("calm", "trending", "volatile")
REGIME_SIGMA_BPS: dict[str, float] = {"calm": 4.0, "trending": 6.0, "volatile": 12.0}
SIGMA_CALM = REGIME_SIGMA_BPS["calm"] * BPS
FLAT_SIGMA_BPS = REGIME_SIGMA_BPS["trending"]  # every regime's level when volatility_regimes is False
_CALM, _TRENDING, _VOLATILE = 0, 1, 2
_FIRST_REGIME_P = np.array([0.5, 0.3, 0.2])
_TRANSITION_P = np.array([[0.0, 0.6, 0.4],
                          [0.6, 0.0, 0.4],
                          [0.7, 0.3, 0.0]])
SEGMENT_HOURS = (24, 96)
SIGMA_SMOOTH_MINUTES = 30.0

Z_PERSISTENCE_MINUTES = 30.0
Z_PHI = math.exp(-1.0 / Z_PERSISTENCE_MINUTES)
BETA = 0.1
TREND_DRIFT = 0.015
MARKET_FACTOR_SHARE = 0.6  # correlation between symbols' return shocks

TAKER_Z_GAIN = 0.2
TAKER_RET_GAIN = 0.05
TAKER_NOISE = 0.08
BOOK_Z_GAIN = 0.3
BOOK_SIZE_NOISE = 0.25

CRASH_WINDOW_FRACTION = 0.125
CRASH_DROP = (0.05, 0.08)
CRASH_WICK = (0.2, 0.6)
CRASH_GAP = (0.3, 0.7)  # share of the crash jump that happens between bars (the crash bar's open)
CRASH_VOLATILE_MINUTES = 1440
STRESS_SIGMA_BOOST, STRESS_SIGMA_TAU = 1.5, 240.0
STRESS_SPREAD_BOOST, STRESS_SPREAD_TAU = 4.0, 30.0
STRESS_VOLUME_BOOST, STRESS_VOLUME_TAU = 9.0, 30.0
CRASH_LIQ_RATE, CRASH_LIQ_TAU, CRASH_LIQ_SELL_P = 150.0, 20.0, 0.95
CRASH_OI_DROP, CRASH_OI_TAU = (0.08, 0.18), 15.0
CRASH_BASIS_KICK, CRASH_BASIS_TAU = -20 * BPS, 60.0

BASIS_MEAN, BASIS_SD, BASIS_TAU = 0.5 * BPS, 2.0 * BPS, 240.0
FUNDING_HOURS = 8
FUNDING_BASE, FUNDING_BASIS_GAIN, FUNDING_NOISE = 1e-4, 0.25, 1e-5
OI_SD, OI_TAU = 0.05, 2.0 * MINUTES_PER_DAY
OI_EVERY_MINUTES = 5
SNAPSHOT_OFFSET = pd.Timedelta(seconds=59)

# Component ids of the random streams (never renumber: it would change every generated market).
_M_REGIME, _M_FACTOR = 0, 1
(_S_EPS, _S_Z, _S_TAKER, _S_BARS, _S_BOOK, _S_MARK, _S_OI, _S_LIQ, _S_CRASH, _S_GAPS) = range(10)


@dataclass(frozen=True)
class SyntheticMarketConfig:
    """Configuration of :func:`generate_synthetic_market` (validated on construction)."""

    symbols: tuple[str, ...] = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    start: str = "2026-01-01"  # UTC date, inclusive
    days: int = 60
    seed: int = 7
    signal: float = 1.0  # the signal knob s >= 0
    depth_levels: int = 10  # 1..20
    #: False: every regime has the same volatility (6 bps/min), so before the crash nothing about the size
    #: of future moves is predictable either (the "structure-free" market of the honesty tests).
    volatility_regimes: bool = True

    def __post_init__(self) -> None:
        symbols = self.symbols
        if isinstance(symbols, str) or not isinstance(symbols, (tuple, list)):
            raise ConfigError(f"symbols: expected a tuple of symbol names, got {type(symbols).__name__}")
        symbols = tuple(symbols)
        if not symbols:
            raise ConfigError("symbols: at least one symbol is required")
        bad = [s for s in symbols if not isinstance(s, str) or not s.strip()]
        if bad:
            raise ConfigError(f"symbols: every symbol must be a non-empty string, got {bad!r}")
        dup = sorted({s for s in symbols if symbols.count(s) > 1})
        if dup:
            raise ConfigError(f"symbols: duplicate symbol(s) {dup}")
        object.__setattr__(self, "symbols", symbols)
        _start_timestamp(self.start)
        _check_int("days", self.days, 1)
        _check_int("seed", self.seed, 0)
        _check_int("depth_levels", self.depth_levels, 1, MAX_BOOK_LEVELS)
        sig = self.signal
        if isinstance(sig, bool) or not isinstance(sig, (int, float, np.integer, np.floating)):
            raise ConfigError(f"signal: expected a number >= 0, got {sig!r}")
        if not math.isfinite(float(sig)) or float(sig) < 0:
            raise ConfigError(f"signal: must be a finite number >= 0, got {sig!r}")
        object.__setattr__(self, "signal", float(sig))
        if not isinstance(self.volatility_regimes, (bool, np.bool_)):
            raise ConfigError(f"volatility_regimes: expected true or false, got {self.volatility_regimes!r}")

    @property
    def minutes(self) -> int:
        return self.days * MINUTES_PER_DAY

    @property
    def start_ts(self) -> pd.Timestamp:
        return _start_timestamp(self.start)

    def as_dict(self) -> dict:
        return {f.name: (list(getattr(self, f.name)) if f.name == "symbols" else getattr(self, f.name))
                for f in fields(self)}


def _check_int(name: str, value: object, lo: int, hi: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise ConfigError(f"{name}: must be {rng}, got {value}")


def _start_timestamp(start: object) -> pd.Timestamp:
    if not isinstance(start, (str, pd.Timestamp)):
        raise ConfigError(f"start: expected a UTC date string like '2026-01-01', got {start!r}")
    try:
        ts = pd.Timestamp(start)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"start: not a parseable date: {start!r} ({exc})") from None
    if ts is pd.NaT or pd.isna(ts):
        raise ConfigError(f"start: not a parseable date: {start!r}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if ts != ts.normalize():
        raise ConfigError(f"start: must be a UTC date (00:00), got {start!r}")
    return ts


# --------------------------------------------------------------------------------------------------------
# random streams and small kernels


def _stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=tuple(key))))


def _symbol_stream(seed: int, symbol: str, component: int) -> np.random.Generator:
    raw = symbol.encode("utf-8")
    return _stream(seed, 1, len(raw), *raw, component)


def _ema(x: np.ndarray, tau: float, initial: float | None = None) -> np.ndarray:
    """Causal exponential moving average ``y_t = a x_t + (1 - a) y_{t-1}``, ``a = 1 - exp(-1/tau)``."""
    a = 1.0 - math.exp(-1.0 / tau)
    y0 = x[0] if initial is None else initial
    y, _ = lfilter([a], [1.0, -(1.0 - a)], x, zi=[(1.0 - a) * y0])
    return y


def _ar1(shocks: np.ndarray, phi: float) -> np.ndarray:
    """Unit-variance stationary AR(1) from iid N(0,1) shocks (the first shock is the stationary start)."""
    u = shocks * math.sqrt(1.0 - phi * phi)
    u[0] = shocks[0]
    return lfilter([1.0], [1.0, -phi], u)


def _decay_after(n: int, t0: int, tau: float) -> np.ndarray:
    """``exp(-(t - t0)/tau)`` for ``t >= t0``, 0 before."""
    t = np.arange(n, dtype=np.float64) - t0
    out = np.zeros(n)
    on = t >= 0
    out[on] = np.exp(-t[on] / tau)
    return out


# --------------------------------------------------------------------------------------------------------
# the shared market path


@dataclass(frozen=True)
class _MarketPath:
    regime: np.ndarray  # int codes per minute
    trend_dir: np.ndarray  # +-1 on trending minutes, 0 elsewhere
    sigma: np.ndarray  # per-minute return volatility (fraction)
    crash_minute: int
    factor: np.ndarray | None  # common market shock m_t


def _market_path(config: SyntheticMarketConfig, with_factor: bool = True) -> _MarketPath:
    n = config.minutes
    rng = _stream(config.seed, 0, _M_REGIME)
    max_segments = config.days + 2  # each segment lasts >= 1 day
    hours = rng.integers(SEGMENT_HOURS[0], SEGMENT_HOURS[1] + 1, size=max_segments)
    u = rng.random(max_segments)
    dirs = rng.choice(np.array([-1, 1]), size=max_segments)
    codes = np.empty(max_segments, dtype=np.int64)
    codes[0] = int(np.searchsorted(np.cumsum(_FIRST_REGIME_P), u[0], side="right"))
    for i in range(1, max_segments):  # a loop over segments (<= days + 2), not rows
        codes[i] = int(np.searchsorted(np.cumsum(_TRANSITION_P[codes[i - 1]]), u[i], side="right"))
    lengths = hours * 60
    regime = np.repeat(codes, lengths)[:n]
    trend_dir = np.repeat(np.where(codes == _TRENDING, dirs, 0), lengths)[:n]

    span = int(n * CRASH_WINDOW_FRACTION)  # n is a multiple of 1440, so this is exactly n / 8
    crash = int(rng.integers(n - span + span // 10, n - span // 2 + 1))
    regime = regime.copy()
    trend_dir = trend_dir.copy()
    after = slice(crash, min(n, crash + CRASH_VOLATILE_MINUTES))
    regime[after] = _VOLATILE
    trend_dir[after] = 0

    levels = np.array([REGIME_SIGMA_BPS[r] if config.volatility_regimes else FLAT_SIGMA_BPS for r in REGIMES]) * BPS
    sigma = _ema(levels[regime], SIGMA_SMOOTH_MINUTES)
    sigma = sigma * (1.0 + STRESS_SIGMA_BOOST * _decay_after(n, crash, STRESS_SIGMA_TAU))
    factor = _stream(config.seed, 0, _M_FACTOR).standard_normal(n) if with_factor else None
    return _MarketPath(regime=regime, trend_dir=trend_dir, sigma=sigma, crash_minute=crash, factor=factor)


def regime_schedule(config: SyntheticMarketConfig) -> pd.DataFrame:
    """The shared regime path: one row per minute.

    Columns: ``minute`` (0..n-1), ``open_time`` (UTC), ``regime`` (calm/trending/volatile),
    ``sigma_bps`` (per-minute return volatility, after smoothing and crash stress), ``trend_direction``
    (+1/-1 on trending minutes: the drift direction at s > 0, else 0) and ``crash`` (True on the crash
    minute only). Not a raw table: for documentation and tests.
    """
    path = _market_path(config, with_factor=False)
    n = config.minutes
    crash = np.zeros(n, dtype=bool)
    crash[path.crash_minute] = True
    return pd.DataFrame({
        "minute": np.arange(n, dtype=np.int64),
        "open_time": pd.date_range(config.start_ts, periods=n, freq="min"),
        "regime": np.array(REGIMES, dtype=object)[path.regime],
        "sigma_bps": path.sigma / BPS,
        "trend_direction": path.trend_dir.astype(np.int64),
        "crash": crash,
    })


# --------------------------------------------------------------------------------------------------------
# per-symbol scales


@dataclass(frozen=True)
class _SymbolScales:
    p0: float
    tick_exp: int  # tick = 10 ** tick_exp
    volume_notional: float
    trade_notional: float
    book_notional: float
    oi_notional: float
    liq_notional: float

    def to_ticks(self, price: np.ndarray) -> np.ndarray:
        return price * 10.0 ** (-self.tick_exp) if self.tick_exp < 0 else price / 10.0 ** self.tick_exp

    def from_ticks(self, k: np.ndarray) -> np.ndarray:
        # Dividing an integer by a power of ten gives the correctly rounded decimal price.
        return k / 10.0 ** (-self.tick_exp) if self.tick_exp < 0 else k * 10.0 ** self.tick_exp

    @property
    def tick(self) -> float:
        return 10.0 ** self.tick_exp


def _scales(symbol: str) -> _SymbolScales:
    base = symbol.upper().replace("/", "-").split("-")[0]
    if base in ("BTC", "XBT") or base.startswith("BTC"):
        p0, tier = 60000.0, (3e6, 2000.0, 4e5, 6e9, 5000.0)
    elif base.startswith("ETH"):
        p0, tier = 3000.0, (1.5e6, 1500.0, 2e5, 3e9, 3000.0)
    else:
        u = zlib.crc32(symbol.encode("utf-8")) / 2.0 ** 32
        p0, tier = round(100.0 * math.exp(0.5 * (u - 0.5)), 2), (1.5e5, 500.0, 2e4, 1e8, 1000.0)
    tick_exp = math.floor(math.log10(p0)) - 5
    return _SymbolScales(p0, tick_exp, *tier)


# --------------------------------------------------------------------------------------------------------
# generation


def _symbol_tables(config: SyntheticMarketConfig, symbol: str, path: _MarketPath,
                   times: pd.DatetimeIndex) -> dict[str, pd.DataFrame]:
    n = config.minutes
    s = config.signal
    seed = config.seed
    sc = _scales(symbol)
    sigma = path.sigma
    tc = path.crash_minute
    vol_ratio = sigma / SIGMA_CALM
    snap = times + SNAPSHOT_OFFSET

    # latent state and returns --------------------------------------------------------------------------
    rng = _symbol_stream(seed, symbol, _S_Z)
    zz = _ar1(rng.standard_normal(n + 1), Z_PHI)  # zz[0] is the state before the window
    z_prev, z = zz[:-1], zz[1:]
    rng = _symbol_stream(seed, symbol, _S_EPS)
    eps = math.sqrt(MARKET_FACTOR_SHARE) * path.factor + math.sqrt(1 - MARKET_FACTOR_SHARE) * rng.standard_normal(n)
    rng = _symbol_stream(seed, symbol, _S_CRASH)
    drop = rng.uniform(*CRASH_DROP)
    wick = rng.uniform(*CRASH_WICK)
    oi_drop = rng.uniform(*CRASH_OI_DROP)
    gap = rng.uniform(*CRASH_GAP)  # drawn last: the earlier draws of the stream stay as they were
    jump = math.log(1.0 - drop)

    r = sigma * eps + s * BETA * sigma * z_prev + s * TREND_DRIFT * sigma * path.trend_dir
    r[tc] += jump
    log_close = math.log(sc.p0) + np.cumsum(r)
    log_open = np.concatenate(([math.log(sc.p0)], log_close[:-1]))
    log_open[tc] += gap * jump
    close = np.exp(log_close)
    open_ = np.exp(log_open)

    # bars ----------------------------------------------------------------------------------------------
    rng = _symbol_stream(seed, symbol, _S_BARS)
    up = np.abs(rng.standard_normal(n))
    down = np.abs(rng.standard_normal(n))
    vol_noise = rng.standard_normal(n)
    count_noise = rng.standard_normal(n)
    log_low = np.minimum(log_open, log_close) - 0.7 * sigma * down
    log_low[tc] -= wick * abs(jump)
    high = np.exp(np.maximum(log_open, log_close) + 0.7 * sigma * up)
    low = np.exp(log_low)
    notional = (sc.volume_notional * vol_ratio * np.exp(0.35 * vol_noise - 0.35 ** 2 / 2)
                * (0.75 + 0.25 * np.abs(eps))
                * (1.0 + STRESS_VOLUME_BOOST * _decay_after(n, tc, STRESS_VOLUME_TAU)))
    volume = notional / close
    trade_count = np.maximum(1.0, np.round(notional / sc.trade_notional * np.exp(0.2 * count_noise)))
    rng = _symbol_stream(seed, symbol, _S_TAKER)
    share = 0.5 + TAKER_Z_GAIN * np.tanh(z) + TAKER_RET_GAIN * np.clip(eps, -3, 3) + TAKER_NOISE * rng.standard_normal(n)
    share[tc] -= 0.3
    share = np.clip(share, 0.02, 0.98)
    buy = share * volume
    bars = pd.DataFrame({
        "symbol": symbol, "open_time": times, "open": open_, "high": high, "low": low, "close": close,
        "volume": volume, "taker_buy_volume": buy, "taker_sell_volume": volume - buy, "trade_count": trade_count,
    })

    # books ---------------------------------------------------------------------------------------------
    # Level i's noise is drawn after level i-1's from its stream, so fewer levels are a prefix of more levels.
    levels = config.depth_levels
    rng = _symbol_stream(seed, symbol, _S_BOOK)
    spread_noise = rng.standard_normal(n)
    size_noise = np.empty((levels, 2, n))
    for i in range(levels):  # a loop over book levels, not rows
        size_noise[i] = rng.standard_normal((2, n))
    gap_rng = _symbol_stream(seed, symbol, _S_GAPS)
    gap_lambda = max(0.15 * BPS * sc.p0 / sc.tick - 1.0, 0.0)
    offsets = np.zeros((levels, 2, n))
    for i in range(1, levels):
        offsets[i] = offsets[i - 1] + 1.0 + gap_rng.poisson(gap_lambda, size=(2, n))
    spread_bps = (np.maximum(0.5 + 0.3 * vol_ratio + 0.1 * spread_noise, 0.2)
                  * (1.0 + STRESS_SPREAD_BOOST * _decay_after(n, tc, STRESS_SPREAD_TAU)))
    half = spread_bps / 2e4
    k_bid = np.floor(sc.to_ticks(close * (1.0 - half)))
    k_ask = np.maximum(np.ceil(sc.to_ticks(close * (1.0 + half))), k_bid + 1)
    base_size = sc.book_notional / sc.p0
    tilt = BOOK_Z_GAIN * np.tanh(z)
    thin = np.sqrt(1.0 / vol_ratio)  # books thin out when volatility is high
    depth_cols: dict[str, object] = {"symbol": symbol, "ts": snap}
    for side, sign, k0 in (("bid", -1.0, k_bid), ("ask", 1.0, k_ask)):
        j = 0 if side == "bid" else 1
        for i in range(levels):
            depth_cols[f"{side}_{i}_price"] = sc.from_ticks(k0 + sign * offsets[i, j])
            noise = np.exp(BOOK_SIZE_NOISE * size_noise[i, j] - BOOK_SIZE_NOISE ** 2 / 2)
            depth_cols[f"{side}_{i}_size"] = base_size * (1.0 + 0.6 * i) * thin * noise * (1.0 - sign * tilt)
    book_depth = pd.DataFrame(depth_cols)
    book_l1 = pd.DataFrame({
        "symbol": symbol, "ts": snap, "bid_price": depth_cols["bid_0_price"], "bid_size": depth_cols["bid_0_size"],
        "ask_price": depth_cols["ask_0_price"], "ask_size": depth_cols["ask_0_size"],
    })

    # mark / index / funding ------------------------------------------------------------------------------
    rng = _symbol_stream(seed, symbol, _S_MARK)
    burn = FUNDING_HOURS * 60
    basis_phi = math.exp(-1.0 / BASIS_TAU)
    basis = BASIS_MEAN + BASIS_SD * _ar1(rng.standard_normal(n + burn), basis_phi)
    basis[burn:] += CRASH_BASIS_KICK * _decay_after(n, tc, CRASH_BASIS_TAU)
    index_noise = rng.standard_normal(n)
    index = close * np.exp(0.5 * BPS * index_noise)
    mark_index = pd.DataFrame({"symbol": symbol, "ts": snap, "mark_price": index * (1.0 + basis[burn:]),
                               "index_price": index})
    every = FUNDING_HOURS * 60
    f_minutes = np.arange(0, n, every)  # funding times relative to start (start is 00:00 UTC)
    csum = np.concatenate(([0.0], np.cumsum(basis)))
    # minutes [m - 480, m - 1] of the window are indices [m, m + 480) of the burn-in-extended basis.
    mean_basis = (csum[f_minutes + burn] - csum[f_minutes]) / burn
    rate = FUNDING_BASE + FUNDING_BASIS_GAIN * mean_basis + FUNDING_NOISE * rng.standard_normal(len(f_minutes))
    f_ts = times[f_minutes]
    funding = pd.DataFrame({"symbol": symbol, "ts": f_ts, "funding_rate": rate,
                            "next_funding_time": f_ts + pd.Timedelta(hours=FUNDING_HOURS)})

    # open interest ---------------------------------------------------------------------------------------
    rng = _symbol_stream(seed, symbol, _S_OI)
    # the drop is oi_drop * (1 - exp(-(t - t_c + 1)/tau)) from the crash minute on, 0 before
    crash_drop = oi_drop * (1.0 - _decay_after(n, tc - 1, CRASH_OI_TAU)) * (np.arange(n) >= tc)
    log_oi = (math.log(sc.oi_notional / sc.p0) + OI_SD * _ar1(rng.standard_normal(n), math.exp(-1.0 / OI_TAU))
              - crash_drop)
    ends = np.arange(OI_EVERY_MINUTES, n + 1, OI_EVERY_MINUTES)  # snapshot at start + end min holds minute end-1
    open_interest = pd.DataFrame({"symbol": symbol,
                                  "ts": times[0] + pd.to_timedelta(ends, unit="min"),
                                  "open_interest": np.exp(log_oi[ends - 1])})

    # liquidations ----------------------------------------------------------------------------------------
    rng = _symbol_stream(seed, symbol, _S_LIQ)
    x = r / sigma
    excite = _ema(np.minimum(np.maximum(np.abs(x) - 2.5, 0.0), 10.0) ** 2, 10.0, initial=0.0)
    direction = _ema(np.clip(x, -10.0, 10.0), 5.0, initial=0.0)
    lam_normal = 0.03 * vol_ratio + 0.8 * excite
    lam_crash = CRASH_LIQ_RATE * _decay_after(n, tc, CRASH_LIQ_TAU)
    lam = lam_normal + lam_crash
    p_sell = (lam_normal / (1.0 + np.exp(2.0 * direction)) + lam_crash * CRASH_LIQ_SELL_P) / lam
    counts = rng.poisson(lam)
    minute = np.repeat(np.arange(n), counts)
    m = len(minute)
    offset_ms = rng.integers(0, 60_000, size=m)
    order = np.lexsort((offset_ms, minute))
    minute, offset_ms = minute[order], offset_ms[order]
    is_sell = rng.random(m) < p_sell[minute]
    where = rng.random(m)
    price = low[minute] + where * (high[minute] - low[minute])
    crash_share = lam_crash[minute] / lam[minute]
    liq_notional = sc.liq_notional * np.exp(1.3 * rng.standard_normal(m)) * (1.0 + 2.0 * crash_share)
    liquidations = pd.DataFrame({
        "symbol": pd.Series([symbol] * m, dtype="str"),
        "ts": times[minute] + pd.to_timedelta(offset_ms, unit="ms"),
        "side": pd.Series(np.where(is_sell, "SELL", "BUY").astype(object), dtype="str"),
        "price": price,
        "quantity": liq_notional / price,
    })

    return {"bars": bars, "book_l1": book_l1, "book_depth": book_depth, "funding": funding,
            "mark_index": mark_index, "open_interest": open_interest, "liquidations": liquidations}


def generate_synthetic_market(config: SyntheticMarketConfig) -> dict[str, pd.DataFrame]:
    """Generate every raw table (keyed by contract name) for ``config``; see the module docstring.

    Every frame is sorted by (symbol, time), has a fresh RangeIndex and validates against
    ``RAW_TABLES[name]``. The same config gives byte-identical frames.
    """
    if not isinstance(config, SyntheticMarketConfig):
        raise ConfigError(f"config: expected SyntheticMarketConfig, got {type(config).__name__}")
    path = _market_path(config)
    times = pd.date_range(config.start_ts, periods=config.minutes, freq="min")
    per_symbol = [_symbol_tables(config, sym, path, times) for sym in sorted(config.symbols)]
    out: dict[str, pd.DataFrame] = {}
    for name in RAW_TABLES:
        frame = pd.concat([tables[name] for tables in per_symbol], ignore_index=True)
        frame["symbol"] = frame["symbol"].astype("str")
        out[name] = frame
    return out

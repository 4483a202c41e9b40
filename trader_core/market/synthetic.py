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
              + s_t * BETA * sigma_t * z_{k,t-1}                    (the signal: drift from the previous state)
              + |s_t| * TREND_DRIFT * sigma_t * dir_seg * 1[trending]  (trend drift, only at s_t != 0)
              + J_k * 1[t = t_c]                                    (the crash jump, unpredictable)

``s_t = s`` (the knob) unless the config's ``signal_changes`` schedule sets another value (possibly
negative: the same observables then predict the opposite direction) from a date on. ``BETA = 0.1`` and ``TREND_DRIFT = 0.015``. With ``phi = exp(-1/30)``,
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

Code
----
``synthetic_config`` (the config), ``synthetic_schedule`` (regimes, crash minute, volatility),
``synthetic_prices`` (scales, latent state, returns, bars), ``synthetic_book`` (``book_l1``, ``book_depth``),
``synthetic_derivatives`` (mark/index, funding, open interest, liquidations) and ``synthetic_streams``
(seeding, filters); this module puts them together.
"""

from __future__ import annotations

import pandas as pd

from trader_core.contracts.raw import RAW_TABLES
from trader_core.errors import ConfigError
from trader_core.market.synthetic_book import book_tables
from trader_core.market.synthetic_config import SyntheticMarketConfig
from trader_core.market.synthetic_derivatives import liquidation_table, mark_index_and_funding, open_interest_table
from trader_core.market.synthetic_prices import BETA, Z_PHI, symbol_bars, symbol_scales
from trader_core.market.synthetic_schedule import REGIME_SIGMA_BPS, REGIMES, MarketPath, market_path, regime_schedule

__all__ = [
    "SyntheticMarketConfig",
    "generate_synthetic_market",
    "regime_schedule",
    "REGIMES",
    "REGIME_SIGMA_BPS",
    "BETA",
    "Z_PHI",
]

SNAPSHOT_OFFSET = pd.Timedelta(seconds=59)


def _symbol_tables(config: SyntheticMarketConfig, symbol: str, path: MarketPath,
                   times: pd.DatetimeIndex) -> dict[str, pd.DataFrame]:
    scales = symbol_scales(symbol)
    snap = times + SNAPSHOT_OFFSET
    bars, prices = symbol_bars(config, symbol, path=path, scales=scales, times=times)
    book_l1, book_depth = book_tables(config, symbol, path=path, scales=scales, prices=prices, snap=snap)
    mark_index, funding = mark_index_and_funding(config, symbol, path=path, prices=prices, times=times, snap=snap)
    open_interest = open_interest_table(config, symbol, path=path, scales=scales, prices=prices, times=times)
    liquidations = liquidation_table(config, symbol, path=path, scales=scales, prices=prices, times=times)
    return {"bars": bars, "book_l1": book_l1, "book_depth": book_depth, "funding": funding,
            "mark_index": mark_index, "open_interest": open_interest, "liquidations": liquidations}


def generate_synthetic_market(config: SyntheticMarketConfig) -> dict[str, pd.DataFrame]:
    """Generate every raw table (keyed by contract name) for ``config``; see the module docstring.

    Every frame is sorted by (symbol, time), has a fresh RangeIndex and validates against
    ``RAW_TABLES[name]``. The same config gives byte-identical frames.
    """
    if not isinstance(config, SyntheticMarketConfig):
        raise ConfigError(f"config: expected SyntheticMarketConfig, got {type(config).__name__}")
    path = market_path(config)
    times = pd.date_range(config.start_ts, periods=config.minutes, freq="min")
    per_symbol = [_symbol_tables(config, sym, path, times) for sym in sorted(config.symbols)]
    out: dict[str, pd.DataFrame] = {}
    for name in RAW_TABLES:
        frame = pd.concat([tables[name] for tables in per_symbol], ignore_index=True)
        frame["symbol"] = frame["symbol"].astype("str")
        out[name] = frame
    return out

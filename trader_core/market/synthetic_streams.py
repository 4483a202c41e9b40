"""The synthetic market's random streams (one seeded generator per component) and the small filters its
processes share (causal EMA, stationary AR(1), decay after an event)."""

from __future__ import annotations

import math

import numpy as np

# Component ids of the random streams (never renumber: it would change every generated market).
M_REGIME, M_FACTOR = 0, 1
(S_EPS, S_Z, S_TAKER, S_BARS, S_BOOK, S_MARK, S_OI, S_LIQ, S_CRASH, S_GAPS) = range(10)


# --------------------------------------------------------------------------------------------------------
# random streams and small kernels


def stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=tuple(key))))


def symbol_stream(seed: int, symbol: str, component: int) -> np.random.Generator:
    raw = symbol.encode("utf-8")
    return stream(seed, 1, len(raw), *raw, component)


def ema(x: np.ndarray, tau: float, initial: float | None = None) -> np.ndarray:
    """Causal exponential moving average ``y_t = a x_t + (1 - a) y_{t-1}``, ``a = 1 - exp(-1/tau)``."""
    from scipy.signal import lfilter  # lazy import (docs/layers.md)

    a = 1.0 - math.exp(-1.0 / tau)
    y0 = x[0] if initial is None else initial
    y, _ = lfilter([a], [1.0, -(1.0 - a)], x, zi=[(1.0 - a) * y0])
    return y


def ar1(shocks: np.ndarray, phi: float) -> np.ndarray:
    """Unit-variance stationary AR(1) from iid N(0,1) shocks (the first shock is the stationary start)."""
    from scipy.signal import lfilter  # lazy import (docs/layers.md)

    u = shocks * math.sqrt(1.0 - phi * phi)
    u[0] = shocks[0]
    return lfilter([1.0], [1.0, -phi], u)


def decay_after(n: int, t0: int, tau: float) -> np.ndarray:
    """``exp(-(t - t0)/tau)`` for ``t >= t0``, 0 before."""
    t = np.arange(n, dtype=np.float64) - t0
    out = np.zeros(n)
    on = t >= 0
    out[on] = np.exp(-t[on] / tau)
    return out


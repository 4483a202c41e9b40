"""Is a split's mean net edge per trade significantly positive? (docs/trading.md, "Significance and looks")

Trades of one split overlap in time and share market regimes, so their returns are serially dependent: the
standard error of the mean comes from a stationary block bootstrap (Politis and Romano) of the per-trade
weighted edges, with the block length of Politis and White, both from ``arch.bootstrap``. The statistic is
``t = mean / se``; its one-sided p-value ``1 - Phi(t)`` tests "mean <= 0".

Every earlier look at the same sealed window spends its credibility: with ``k`` distinct configurations
evaluated on it (``trader_core.sealed_ledger``), the p-value is deflated by the Sidak correction
``p_k = 1 - (1 - p)^k`` and the deflated statistic is ``z_k = Phi^-1(1 - p_k)``. The gate passes a split when
``z_k >= min_statistic`` (default 2 standard errors), so look 2 needs t >= 2.28 and look 10 t >= 2.83.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import norm

#: Default level of the gate: the mean must be this many standard errors above zero (one-sided).
MIN_STATISTIC = 2.0
BOOTSTRAP_REPS = 2000
BOOTSTRAP_SEED = 20140101
INTERVAL_LEVEL = 0.95
#: Fewer trades than this give the block-length estimator too few autocorrelations to read.
MIN_BLOCK_ESTIMATE_TRADES = 8


@dataclass(frozen=True)
class EdgeSignificance:
    trades: int
    mean_bps: float
    standard_error_bps: float
    statistic: float
    p_value: float
    looks: int
    deflated_p_value: float
    deflated_statistic: float
    interval_bps: tuple[float, float]
    block_length: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"interval_bps": list(self.interval_bps)}


def deflate(p_value: float, looks: int) -> tuple[float, float]:
    """(p_k, z_k): the Sidak-deflated one-sided p-value for ``looks`` configurations and its normal quantile."""
    if looks < 1:
        raise ValueError(f"looks must be >= 1, got {looks}")
    p_k = -math.expm1(looks * math.log1p(-p_value)) if p_value < 1.0 else 1.0
    return p_k, float(norm.isf(p_k))


def required_statistic(looks: int, min_statistic: float = MIN_STATISTIC) -> float:
    """The undeflated statistic a split needs at look ``looks`` to pass at ``min_statistic``."""
    alpha = float(norm.sf(min_statistic))
    return float(norm.isf(-math.expm1(math.log1p(-alpha) / looks)))


def _block_length(x: np.ndarray) -> float:
    """Politis-White length for the stationary bootstrap, in [1, n/2]; 1 (independent draws) below
    ``MIN_BLOCK_ESTIMATE_TRADES`` trades or a constant stretch, where the estimator has nothing to work with."""
    from arch.bootstrap import optimal_block_length  # lazy import (docs/layers.md)

    if len(x) < MIN_BLOCK_ESTIMATE_TRADES:
        return 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        block = float(optimal_block_length(x)["stationary"].iloc[0])
    return float(np.clip(block, 1.0, len(x) / 2)) if np.isfinite(block) else 1.0


def edge_significance(edges: np.ndarray, *, looks: int = 1, reps: int = BOOTSTRAP_REPS,
                      seed: int = BOOTSTRAP_SEED) -> EdgeSignificance:
    """Significance of the mean of ``edges`` (per-trade net edge, bps, in time order), deflated for ``looks``."""
    from arch.bootstrap import StationaryBootstrap  # lazy import (docs/layers.md)

    x = np.asarray(edges, dtype=np.float64)
    n = len(x)
    mean = float(x.mean()) if n else float("nan")
    if n < 2 or not np.isfinite(x).all():
        return EdgeSignificance(n, mean, float("nan"), float("nan"), 1.0, looks, 1.0, float("-inf"),
                                (float("nan"), float("nan")), float("nan"))
    if float(x.std()) == 0.0:  # identical returns: no sampling noise at all
        p = 0.0 if mean > 0 else 1.0
        p_k, z_k = deflate(p, looks)
        return EdgeSignificance(n, mean, 0.0, math.copysign(math.inf, mean) if mean else float("nan"), p, looks,
                                p_k, z_k, (mean, mean), 1.0)
    block = _block_length(x)
    # arch calls np.mean once per replication (2,000), not per trade; once per split of a backtest or arm of a
    # weekly report: 30-80 ms for 300-3,000 trades.
    means = StationaryBootstrap(block, x, seed=seed).apply(np.mean, reps)[:, 0]
    se = float(means.std(ddof=1))
    statistic = mean / se
    p = float(norm.sf(statistic))
    p_k, z_k = deflate(p, looks)
    tail = (1 - INTERVAL_LEVEL) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return EdgeSignificance(n, mean, se, float(statistic), p, looks, p_k, z_k, (float(low), float(high)), block)

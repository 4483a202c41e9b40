"""Volatility-regime stratified sample dates (docs/butterfly.md, "Sampling").

A (date, symbol) pair is eligible when the symbol has a bar on the date with at least ``MIN_HISTORY_ROWS``
(61) rows up to and including it (every feature's window) and its last bar is at or after
``date + longest horizon`` (the evaluation date of the longest DTE), so every label is inside the data.
A date is eligible when at least one pair on it is. Each eligible date gets the regime of the index value as
of that date: low (< ``low_threshold`` = 15), normal (15..25 inclusive), high (> 25). Per regime,
``min(requested, available)`` dates are drawn uniformly without replacement (defaults: the seed's 40 / 60 / 40
days); every eligible symbol of a chosen date becomes a sample, so the sample count is days x universe size
(default 140 x 20 = 2800; the seed had 140 x 50). A regime with fewer eligible dates than requested gives all of
them; the shortfall is in the report. DTE per sample: uniform integer in ``[dte_min, dte_max]``.
Randomness: ``Generator(PCG64(SeedSequence(seed, spawn_key=(3, r))))`` for regime r's dates and
``(3, 3)`` for the DTEs (drawn in (date, symbol) order), so the samples are deterministic given the seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trader_core.butterfly_config import PricingSection, SamplingSection
from trader_core.contracts.butterfly import MIN_HISTORY_ROWS, VIX_REGIMES
from trader_core.butterfly.daily import vix_regime
from trader_core.errors import DataContractError

SAMPLE_COLUMNS = ("sample_id", "date", "symbol", "dte", "vix", "regime")


def _rng(seed: int, component: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(3, component))))


def has_history(daily: pd.DataFrame) -> np.ndarray:
    """Mask of daily rows with at least ``MIN_HISTORY_ROWS`` rows of their symbol up to and including them."""
    return (daily["row"] >= MIN_HISTORY_ROWS - 1).to_numpy()


def eligible_rows(daily: pd.DataFrame, pricing: PricingSection) -> np.ndarray:
    """Mask of daily rows with enough history and enough future for the longest label horizon."""
    last = daily.groupby("symbol")["date"].transform("max")
    horizon = pd.Timedelta(days=pricing.longest_horizon_days)
    return has_history(daily) & (daily["date"] + horizon <= last).to_numpy()


def as_samples(rows: pd.DataFrame, dtes: np.ndarray, sampling: SamplingSection) -> pd.DataFrame:
    """Daily rows (``date, symbol, vix_level``) as samples ``SAMPLE_COLUMNS`` with their DTEs, in the rows' order."""
    samples = rows.reset_index(drop=True).rename(columns={"vix_level": "vix"})
    samples["regime"] = np.asarray(VIX_REGIMES, dtype=object)[
        vix_regime(samples["vix"].to_numpy(), sampling.low_threshold, sampling.high_threshold)]
    samples["dte"] = dtes
    samples.insert(0, "sample_id", samples["date"].dt.strftime("%Y-%m-%d") + "|" + samples["symbol"].astype(str))
    return samples[list(SAMPLE_COLUMNS)]


def decision_candidates(daily: pd.DataFrame, date: pd.Timestamp, pricing: PricingSection,
                        sampling: SamplingSection) -> pd.DataFrame:
    """The candidates of a decision on ``date`` (docs/decide.md): every symbol with a bar on the date and the
    samples' history (no future is needed to decide), as samples sorted by symbol. Their DTEs are uniform in
    ``[dte_min, dte_max]`` as a sample's, from a generator keyed by the sampling seed and the date
    (``spawn_key=(3, 4, days since 1970-01-01)``), so the same date always gives the same candidates."""
    at_date = has_history(daily) & (daily["date"] == date).to_numpy()
    rows = daily.loc[at_date, ["date", "symbol", "vix_level"]].sort_values("symbol", kind="mergesort")
    day = int((date - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(days=1))
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(sampling.seed, spawn_key=(3, 4, day))))
    return as_samples(rows, rng.integers(pricing.dte_min, pricing.dte_max + 1, size=len(rows)), sampling)


def sample_positions(daily: pd.DataFrame, pricing: PricingSection,
                     sampling: SamplingSection) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Samples ``SAMPLE_COLUMNS`` sorted by (date, symbol) and the per-regime sampling report."""
    rows = daily.loc[eligible_rows(daily, pricing), ["date", "symbol", "vix_level"]]
    if rows.empty:
        raise DataContractError(f"butterfly sampling: no eligible sample date: a date needs >= {MIN_HISTORY_ROWS} "
                                f"bars of history and {pricing.longest_horizon_days} days of data after it")
    dates = rows.drop_duplicates("date").sort_values("date", kind="mergesort")
    regime = vix_regime(dates["vix_level"].to_numpy(), sampling.low_threshold, sampling.high_threshold)
    chosen, report = [], {"requested_days": {}, "available_days": {}, "chosen_days": {}, "samples": {}}
    for code, (name, count) in enumerate(zip(VIX_REGIMES, sampling.counts)):  # a loop over 3 regimes
        pool = dates["date"].to_numpy()[regime == code]
        take = min(count, len(pool))
        picked = np.sort(_rng(sampling.seed, code).choice(len(pool), size=take, replace=False)) if take else []
        chosen.append(pd.Series(pool[picked], dtype=dates["date"].dtype))
        report["requested_days"][name], report["available_days"][name] = int(count), len(pool)
        report["chosen_days"][name] = int(take)
    picked_dates = pd.concat(chosen, ignore_index=True)
    samples = rows[rows["date"].isin(picked_dates)].sort_values(["date", "symbol"], kind="mergesort")
    samples = as_samples(samples, _rng(sampling.seed, 3).integers(pricing.dte_min, pricing.dte_max + 1,
                                                                   size=len(samples)), sampling)
    for name in VIX_REGIMES:
        report["samples"][name] = int((samples["regime"] == name).sum())
    report["total_samples"] = len(samples)
    return samples, report

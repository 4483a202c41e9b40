"""Canary allocation: which decisions of a line its canary makes (docs/decide.md, Canary).

A decision goes to the canary when the uniform draw of its allocation key is below the canary's share. The key
is (line, symbol, data_time) and never the release, so the same decision minute goes to the same arm whichever
releases are champion and canary, and asking again for the same minute sends it to the same arm. The draw reads
the first 16 hex digits of the key's sha256 as a 64-bit integer and keeps its top 53 bits as the fraction
``k / 2**53``: exact in a double, so it is uniform in [0, 1) and never 1 (a share of 1 takes every decision).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trader_core.contracts.features import sha256_json
from trader_core.decide.base import Champion, DecisionRefused

CHAMPION, CANARY = "champion", "canary"
_BITS = 53


def allocation_draws(*, line: str, symbols: pd.Series, data_times: pd.Series) -> np.ndarray:
    """The uniform draw in [0, 1) of each decision's allocation key (line, symbol, data_time)."""
    data_ms = (pd.to_datetime(data_times, utc=True) - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    keys = (int(sha256_json({"line": line, "symbol": symbol, "data_time_ms": int(ms)})[:16], 16)
            for symbol, ms in zip(symbols, data_ms))
    return np.array([(key >> (64 - _BITS)) / 2**_BITS for key in keys], dtype="float64")


def to_canary(*, line: str, symbols: pd.Series, data_times: pd.Series, share: float) -> np.ndarray:
    """True for the decisions the canary makes: a draw below ``share`` (none at 0, all at 1)."""
    return allocation_draws(line=line, symbols=symbols, data_times=data_times) < share


def arms(canary: np.ndarray) -> np.ndarray:
    """The ``arm`` column of a canary mask."""
    return np.where(canary, CANARY, CHAMPION).astype(object)


def allocate(champion_rows: pd.DataFrame, canary_rows: pd.DataFrame, *, canary: Champion,
             share: float) -> tuple[pd.DataFrame, np.ndarray]:
    """The champion's rows with those the allocation sends to the canary replaced by the canary's row of the same
    decision (``sample_id``), and the arm of each; refused when the canary has no row for one of them."""
    sent = to_canary(line=canary.line, symbols=champion_rows["symbol"], data_times=champion_rows["data_time"],
                     share=share)
    wanted = champion_rows.loc[sent, "sample_id"]
    by_sample = canary_rows.set_index("sample_id", drop=False)
    missing = wanted[~wanted.isin(by_sample.index)]
    if len(missing):
        raise DecisionRefused(f"canary {canary.version} has no decision for {missing.iloc[0]}, which the allocation "
                              f"sends to it (its data differs from the champion's; `trader rollback --canary` drops "
                              f"it)")
    chosen = by_sample.loc[wanted.to_numpy()].set_axis(wanted.index)
    rows = pd.concat([champion_rows.loc[~sent], chosen]).sort_index() if sent.any() else champion_rows
    return rows, arms(sent)

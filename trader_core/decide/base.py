"""What every strategy's decisions share: the champion that decides, the request, the refusal, the key.

A strategy's decisions are made by its ``Decider`` (``trader_core.decide.DECIDERS``, named by the plug-in's
``decider``): it scores the newest data of its champion's source and returns the log rows after
DECISION_KEY_COLUMNS, in its log contract, and renders them for the CLI (docs/decide.md).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core.config import parse_utc
from trader_core.contracts.features import sha256_json
from trader_core.contracts.table import TableContract
from trader_core.errors import ConfigError, TraderError

#: Default of ``--max-age`` for minute bars (perp): data whose newest bar closed longer ago than this before the
#: decision time is stale. A decider of daily bars declares its own (``Decider.default_max_age``).
DEFAULT_MAX_AGE = pd.Timedelta(minutes=5)


class DecisionRefused(TraderError):
    """A decision cannot be made honestly: stale data, too little history, or no decider for the strategy."""


@dataclass(frozen=True)
class Champion:
    """The release that decides for a line: its version, folder and (hash-verified) manifest."""

    line: str
    version: str
    path: Path
    manifest: dict[str, Any]


@dataclass(frozen=True)
class DecisionRequest:
    """``at``: the decision time (None: the newest data; ``now`` is then the clock for sources that have one);
    ``max_age``: refuse data whose newest bar closed longer ago than this before the decision time (None: the
    decider's default)."""

    at: pd.Timestamp | None = None
    max_age: pd.Timedelta | None = None
    now: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        if self.max_age is not None and (pd.isna(self.max_age) or self.max_age <= pd.Timedelta(0)):
            raise ConfigError(f"--max-age: must be a positive duration, got {self.max_age}")

    def age_limit(self, default: pd.Timedelta) -> pd.Timedelta:
        """``max_age``, or the decider's ``default`` when none was asked for."""
        return default if self.max_age is None else self.max_age


def parse_request(*, at: str | None = None, max_age: str | None = None) -> DecisionRequest:
    """The request of ``--at`` (ISO time; naive means UTC) and ``--max-age`` (a pandas duration: 90s, 5min, 2h,
    3d); ConfigError naming the flag for text that does not parse."""
    try:  # "3d": pandas deprecates the lower-case day unit
        age = None if max_age is None else pd.Timedelta(re.sub(r"(?<=\d)\s*d$", "D", max_age.strip()))
    except ValueError as exc:
        raise ConfigError(f"--max-age: cannot parse {max_age!r} as a duration like 90s, 5min, 2h or 3d "
                          f"({exc})") from exc
    return DecisionRequest(at=None if at is None else parse_utc(at, "--at"), max_age=age)


class Decider(ABC):
    """A strategy's decisions from its champion release."""

    #: The strategy's decision log table (DECISION_KEY_COLUMNS first).
    contract: TableContract
    #: The unit of its outcomes' ``predicted`` and ``realized`` (reports name it).
    outcome_unit: str
    #: ``--max-age`` when none is given: how old the newest bar of the strategy's data may be.
    default_max_age: pd.Timedelta = DEFAULT_MAX_AGE

    @abstractmethod
    def decide(self, champion: Champion, request: DecisionRequest) -> pd.DataFrame:
        """The decisions as log rows: the contract's columns except ``decision_key``, which the caller adds."""

    @abstractmethod
    def render(self, rows: pd.DataFrame) -> list[str]:
        """Lines for the CLI, one block per decision."""

    @abstractmethod
    def outcomes(self, champion: Champion, rows: pd.DataFrame, *, home: Path) -> pd.DataFrame:
        """Realized outcomes of logged ``rows`` of this decider's log (``DECISION_OUTCOMES``, one row each), read
        from the newest data of the champion's source; a decision whose horizon has not ended is unresolved."""


def decision_keys(rows: pd.DataFrame) -> np.ndarray:
    """``decision_key`` per row: the same line, release, symbol and data minute give the same key."""
    data_ms = (rows["data_time"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    return np.array([sha256_json({"line": line, "release": release, "symbol": symbol, "data_time_ms": int(ms)})[:32]
                     for line, release, symbol, ms in zip(rows["line"], rows["release"], rows["symbol"], data_ms)],
                    dtype=object)

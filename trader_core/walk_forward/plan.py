"""What a walk-forward home was made with, so a re-run continues it and never mixes two markets.

A walk-forward home is a ``TRADER_HOME`` of its own (landing folder, runs, releases, Dagster instance); its
plan is stored in ``<home>/walk-forward/walk_forward.json`` and its retrain window beside the landed months
(``RETRAIN_WINDOW_FILE``), where the landing sensor of any process on the home reads it. A re-run with the same plan continues it (and may
extend ``to``); any other difference is refused, because the months already retrained saw the stored plan's
market (docs/retraining.md, "Walk-forward").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trader_core import io
from trader_core.contracts.features import sha256_json
from trader_core.errors import ConfigError
from trader_core.market.landing import landing_root, parse_month
from trader_core.market.synthetic_config import SyntheticMarketConfig
from trader_core.strategies.perp import RETRAIN_WINDOW_FILE

WALK_FORWARD_DIR = "walk-forward"
PLAN_FILE = "walk_forward.json"
SOURCES = ("synthetic", "binance-vision", "landed")
#: Book levels of the walk-forward's synthetic market: the features read 5 (book_depth_imbalance_5); more only
#: costs memory over the two-year series.
SYNTHETIC_DEPTH_LEVELS = 5


@dataclass(frozen=True)
class WalkForwardPlan:
    """The months to walk and the market they come from."""

    start: str  # first month, YYYY-MM
    end: str  # last month, YYYY-MM (inclusive)
    source: str = "synthetic"
    path: str | None = None  # binance-vision: the zips folder; landed: a landing source folder
    symbols: tuple[str, ...] = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    seed: int = 7
    signal: float = 2.0
    signal_changes: tuple[tuple[str, float], ...] = ()
    retrain_months: int = 6

    def __post_init__(self) -> None:
        if parse_month(self.end) < parse_month(self.start):
            raise ConfigError(f"walk-forward: --to {self.end} is before --from {self.start}")
        if self.source not in SOURCES:
            raise ConfigError(f"walk-forward: source must be one of {list(SOURCES)}, got {self.source!r}")
        if self.source != "synthetic" and not self.path:
            raise ConfigError(f"walk-forward: --path is required for source {self.source!r}")
        if self.retrain_months < 1:
            raise ConfigError(f"walk-forward: the retrain window must be >= 1 month, got {self.retrain_months}")
        object.__setattr__(self, "symbols", tuple(self.symbols))
        if self.source == "synthetic":
            object.__setattr__(self, "signal_changes", self.synthetic_config().signal_changes)

    @property
    def months(self) -> list[str]:
        return [p.strftime("%Y-%m") for p in pd.period_range(self.start, self.end, freq="M")]

    def synthetic_config(self) -> SyntheticMarketConfig:
        return SyntheticMarketConfig(symbols=self.symbols, seed=self.seed, signal=self.signal,
                                     depth_levels=SYNTHETIC_DEPTH_LEVELS, signal_changes=self.signal_changes)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> WalkForwardPlan:
        return cls(**{**doc, "symbols": tuple(doc["symbols"]),
                      "signal_changes": tuple(tuple(c) for c in doc["signal_changes"])})


def default_home(root: Path, plan: WalkForwardPlan) -> Path:
    """``<root>/walk-forward/<source>-<from>-<hash>``: the same plan (whatever its ``end``) finds the same home."""
    identity = {k: v for k, v in plan.to_json().items() if k != "end"}
    return root / WALK_FORWARD_DIR / f"{plan.source}-{plan.start}-{sha256_json(identity)[:8]}"


def plan_path(home: Path) -> Path:
    return home / WALK_FORWARD_DIR / PLAN_FILE


def stored_plan(home: Path) -> WalkForwardPlan | None:
    path = plan_path(home)
    return WalkForwardPlan.from_json(io.read_json(path)) if path.exists() else None


def ensure_plan(home: Path, plan: WalkForwardPlan) -> WalkForwardPlan:
    """Store ``plan`` in a new home, or continue the stored one (``end`` may move later); refuse any other change."""
    stored = stored_plan(home)
    if stored is None:
        io.write_json(landing_root(home) / RETRAIN_WINDOW_FILE, {"months": plan.retrain_months})
        io.write_json(plan_path(home), plan.to_json())
        return plan
    differs = [f.name for f in dataclasses.fields(plan)
               if f.name not in ("start", "end") and getattr(plan, f.name) != getattr(stored, f.name)]
    if plan.start != stored.start:
        differs.insert(0, "start")
    if differs:
        raise ConfigError(f"walk-forward home {home} was made with another plan (differs in: {', '.join(differs)}); "
                          "use another --home")
    merged = dataclasses.replace(stored, end=max(stored.end, plan.end))
    if merged != stored:
        io.write_json(plan_path(home), merged.to_json())
    return merged

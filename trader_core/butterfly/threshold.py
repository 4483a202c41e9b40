"""Adapting a butterfly line's ``min_expected_roi`` from the realized outcomes of its decisions (docs/decide.md,
"Threshold adaptation").

The rule, over the resolved decisions of the window (``window_days`` of decision dates up to the newest resolved
decision) and the traded ones among them (the AI track):

* refuse with fewer than ``MIN_RESOLVED_TRADES`` resolved traded decisions;
* **raise** by ``STEP`` when the traded decisions' mean realized ROI is negative or falls short of their mean
  expected ROI by more than ``MARGIN`` (the model is too optimistic: ask for more);
* **lower** by ``STEP`` when the mean realized ROI is at least the mean expected ROI and fewer than
  ``max_trades_per_day`` trades were opened per decision day (the model delivers and the threshold leaves
  slots empty);
* otherwise keep the value.

The value never leaves ``BOUNDS`` and moves at most one ``STEP`` per adaptation; a value outside the bounds (a
release's own) is refused, not clipped. A change is appended as version n + 1 to the line's threshold document
``<TRADER_HOME>/decisions/<line>.thresholds.json`` with the old and new value, the window's figures and the
time; the document is never rewritten in place otherwise, and a window that ends no later than the newest
version's is refused (the same outcomes never move the value twice). The butterfly decider reads the newest
version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core import io
from trader_core.decision_log import DECISIONS_DIR
from trader_core.errors import TraderError

STEP = 0.01
BOUNDS = (0.10, 0.30)
MARGIN = 0.05
MIN_RESOLVED_TRADES = 10
DEFAULT_WINDOW_DAYS = 30
RAISE, LOWER, KEEP = "raise", "lower", "keep"


class ThresholdRefused(TraderError):
    """The threshold cannot be adapted honestly: too few resolved trades, no new outcomes, a value off bounds."""


@dataclass(frozen=True)
class WindowFigures:
    """What the rule sees: the window's resolved decisions and the traded ones among them."""

    window_start: str
    window_end: str
    resolved: int
    traded: int
    decision_days: int
    trades_per_day: float
    realized_mean: float
    predicted_mean: float


@dataclass(frozen=True)
class Adapted:
    """The outcome of one adaptation: the move, the value before and after, the version that holds it (the
    newest, unchanged on ``keep``) and the figures it was decided on."""

    move: str
    old: float
    new: float
    version: int
    figures: WindowFigures
    path: Path


def thresholds_path(line: str, home: Path) -> Path:
    return home / DECISIONS_DIR / f"{line}.thresholds.json"


def newest_version(line: str, home: Path) -> dict[str, Any] | None:
    """The newest version of the line's threshold document, or None before the first adaptation."""
    path = thresholds_path(line, home)
    return io.read_json(path)["versions"][-1] if path.exists() else None


def window_figures(outcomes: pd.DataFrame, window_days: int) -> WindowFigures:
    """The figures of the resolved outcomes (``DECISION_OUTCOMES``) decided in the ``window_days`` up to the newest
    resolved decision; ThresholdRefused when nothing is resolved."""
    resolved = outcomes[outcomes["resolved"].to_numpy(dtype=bool)]
    if resolved.empty:
        raise ThresholdRefused(f"no resolved decision yet ({len(outcomes)} logged): nothing to adapt from")
    end = resolved["data_time"].max()
    start = end - pd.Timedelta(days=window_days)
    window = resolved[(resolved["data_time"] > start).to_numpy()]
    traded = window[window["traded"].to_numpy(dtype=bool)]
    days = int(window["data_time"].dt.normalize().nunique())
    return WindowFigures(window_start=start.isoformat(), window_end=end.isoformat(), resolved=len(window),
                         traded=len(traded), decision_days=days, trades_per_day=len(traded) / days,
                         realized_mean=float(traded["realized"].mean()) if len(traded) else float("nan"),
                         predicted_mean=float(traded["predicted"].mean()) if len(traded) else float("nan"))


def next_value(old: float, figures: WindowFigures, max_trades_per_day: int) -> tuple[str, float]:
    """The rule of the module docstring: the move and the new value (rounded to 1e-6 against float drift)."""
    if not BOUNDS[0] <= old <= BOUNDS[1]:
        raise ThresholdRefused(f"min_expected_roi {old} is outside the adaptation bounds {list(BOUNDS)}; only "
                               f"values within them are adapted")
    if figures.traded < MIN_RESOLVED_TRADES:
        raise ThresholdRefused(f"{figures.traded} resolved traded decision(s) in the window {figures.window_start} "
                               f"to {figures.window_end}; adapting needs at least {MIN_RESOLVED_TRADES}")
    realized, predicted = figures.realized_mean, figures.predicted_mean
    if realized < 0 or realized < predicted - MARGIN:
        move = RAISE
    elif realized >= predicted and figures.trades_per_day < max_trades_per_day:
        move = LOWER
    else:
        move = KEEP
    if move == KEEP:
        return KEEP, old
    new = round(float(np.clip(old + (STEP if move == RAISE else -STEP), *BOUNDS)), 6)
    return (move, new) if new != old else (KEEP, old)  # at a bound


def adapt(*, line: str, outcomes: pd.DataFrame, release_value: float, max_trades_per_day: int, home: Path,
          window_days: int = DEFAULT_WINDOW_DAYS, now: pd.Timestamp | None = None) -> Adapted:
    """Apply the rule to the line's outcomes; a change is appended to the threshold document as a new version."""
    if window_days < 1:
        raise ThresholdRefused(f"--window-days: must be >= 1, got {window_days}")
    path = thresholds_path(line, home)
    document = io.read_json(path) if path.exists() else {"line": line, "versions": []}
    newest = document["versions"][-1] if document["versions"] else None
    figures = window_figures(outcomes, window_days)
    if newest is not None and pd.Timestamp(figures.window_end) <= pd.Timestamp(newest["window"]["window_end"]):
        raise ThresholdRefused(f"no decision resolved after version {newest['version']}'s window (to "
                               f"{newest['window']['window_end']}); the same outcomes never move the threshold twice")
    old = float(newest["min_expected_roi"]) if newest is not None else float(release_value)
    move, new = next_value(old, figures, max_trades_per_day)
    version = newest["version"] if newest is not None else 0
    if move != KEEP:
        version += 1
        when = (now if now is not None else pd.Timestamp.now(tz="UTC")).isoformat()
        document["versions"].append({"version": version, "min_expected_roi": new, "previous": old, "move": move,
                                     "rule": {"step": STEP, "bounds": list(BOUNDS), "margin": MARGIN,
                                              "min_resolved_trades": MIN_RESOLVED_TRADES,
                                              "window_days": window_days, "max_trades_per_day": max_trades_per_day},
                                     "window": asdict(figures), "time": when})
        io.write_json(path, document)
    return Adapted(move=move, old=old, new=new, version=version, figures=figures, path=path)

"""Continue, exit and risk labels (docs/labels.md, "Families"): what happens to a position opened at a sample.

The shared path statistics (the price plan's target, stop and method, both sides) are read at each family's
horizon (45 minutes by default). ``long_edge = long_gross_edge_bps - long_cost_bps``, the cost model's round
trip of that horizon's path (docs/trading.md, "Cost model"), attached to the path statistics by the label stage.

* **Continue**: ``long_continue_target = long_edge >= min_expected_continue_edge_bps AND (long_stop_hit == 0
  OR plan is DYNAMIC_TRAILING_V1)``; ``long_expected_continue_edge_bps = long_edge`` (short mirrored).
* **Exit** (our rule, docs/labels.md "Exit rule"): for a position already held,
  ``long_adverse_move = long_mae_bps >= adverse_move_bps``; ``stagnation = |future_return_bps| <=
  stagnation_abs_return_bps`` (the horizon goes nowhere: capital is better used elsewhere);
  ``long_reversal = ret_15m_bps >= stagnation AND long_future_return_bps <= -stagnation`` (the last
  15 minutes moved with the long and the next horizon gives it back; 0 when ret_15m_bps is absent);
  ``long_exit_target = adverse_move OR stagnation OR reversal`` (short mirrored).
* **Risk** as docs/labels.md "Risk rule", with the threshold aliases ``market_path_risk_threshold_bps`` |
  ``market_drawdown_bps``, ``position_path_risk_threshold_bps`` | ``position_path_risk_bps``,
  ``spike_1m_threshold_bps`` | ``spike_bps`` accepted in a risk section mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_core.config import LabelConfig, RiskLabelConfig
from trader_core.contracts.labels import (
    CONTINUE_LABEL_COLUMNS,
    DYNAMIC_TRAILING,
    EXIT_LABEL_COLUMNS,
    RISK_LABEL_COLUMNS,
    RISK_PROB_LABELS,
    RISK_TARGETS,
)
from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import LABEL_VERSION
from trader_core.costs import require_trade_costs
from trader_core.contracts.invariants import rates_by_split
from trader_core.labels.base import aligned_sides, constant, label_base
from trader_core.report import markdown_table

LIQUIDITY_RANK_THRESHOLD = 0.90
_RISK_ALIASES = {
    "market": ("market_path_risk_threshold_bps", "market_drawdown_bps"),
    "position": ("position_path_risk_threshold_bps", "position_path_risk_bps"),
    "spike": ("spike_1m_threshold_bps", "spike_bps"),
    "vol_expansion_ratio": ("vol_expansion_ratio",),
}


@dataclass(frozen=True)
class RiskThresholds:
    market_risk_threshold_bps: float
    position_risk_threshold_bps: float
    spike_threshold_bps: float
    vol_expansion_ratio: float


def risk_thresholds(risk: RiskLabelConfig | Mapping[str, Any]) -> RiskThresholds:
    """Thresholds from the typed risk config or a mapping that may use the alias keys."""
    values = risk if isinstance(risk, Mapping) else {k: getattr(risk, k) for k in RiskLabelConfig.__dataclass_fields__}
    defaults = RiskLabelConfig()

    def number(name: str) -> float:
        for key in _RISK_ALIASES[name]:
            if key in values:
                return float(values[key])
        return float(getattr(defaults, _RISK_ALIASES[name][-1]))

    return RiskThresholds(number("market"), number("position"), number("spike"), number("vol_expansion_ratio"))


_SIDE_VALUES = ("gross_edge_bps", "cost_bps", "stop_hit", "mae_bps", "mfe_bps", "future_return_bps")
#: The stat columns the families read, per side (the realized vol is side-independent: LONG's serves).
_STAT_VALUES = {"LONG": _SIDE_VALUES + ("future_realized_vol_bps",), "SHORT": _SIDE_VALUES}


def build_position_labels(features: pd.DataFrame, path_stats: pd.DataFrame, labels: LabelConfig,
                          plan: PricePlan) -> dict[str, pd.DataFrame]:
    """{"continue": ..., "exit": ..., "risk": ...} label frames (one row per sample with a valid window)."""
    require_trade_costs(path_stats)
    base = label_base(features, extra=tuple(c for c in ("ret_15m_bps", "realized_vol_15m_bps", "spread_rank_24h_pct")
                                            if c in features.columns))
    cache: dict[int, pd.DataFrame] = {}

    def frame_for(horizon: int) -> pd.DataFrame:
        if horizon not in cache:
            # the stats are only read (an output that repeats one copies it), so one run of rows is a view
            frame, sides = aligned_sides(base, path_stats, horizon, _STAT_VALUES, read_only=True)
            stats = {f"{side.lower()}_{name}": column
                     for side, values in sides.items() for name, column in values.items()}
            cache[horizon] = pd.DataFrame({**{name: frame[name] for name in frame.columns}, **stats}, copy=False)
        return cache[horizon]

    dynamic = plan.entry_plan_method == DYNAMIC_TRAILING
    return {
        "continue": continue_labels(frame_for(labels.continue_.horizon_minutes),
                                    labels.continue_.min_expected_continue_edge_bps, dynamic),
        "exit": exit_labels(frame_for(labels.exit.horizon_minutes), labels.exit.adverse_move_bps,
                            labels.exit.stagnation_abs_return_bps),
        "risk": risk_labels(frame_for(labels.risk.horizon_minutes), risk_thresholds(labels.risk)),
    }


def _family(frame: pd.DataFrame, computed: dict[str, Any], names: tuple[str, ...]) -> pd.DataFrame:
    """A family's columns in contract order: the computed ones, the rest taken from ``frame`` (shared
    copy-on-write, not copied)."""
    computed["label_version"] = constant(LABEL_VERSION, len(frame))
    return pd.DataFrame({name: computed[name] if name in computed else frame[name] for name in names}, copy=False)


def continue_labels(frame: pd.DataFrame, min_edge_bps: float, dynamic: bool) -> pd.DataFrame:
    out: dict[str, Any] = {}
    for side in ("long", "short"):
        edge = frame[f"{side}_gross_edge_bps"].to_numpy() - frame[f"{side}_cost_bps"].to_numpy()
        ok_path = np.ones(len(frame), dtype=bool) if dynamic else frame[f"{side}_stop_hit"].to_numpy() == 0
        out[f"{side}_continue_target"] = ((edge >= min_edge_bps) & ok_path).astype(np.int8)
        out[f"{side}_expected_continue_edge_bps"] = edge
    return _family(frame, out, CONTINUE_LABEL_COLUMNS)


def exit_labels(frame: pd.DataFrame, adverse_move_bps: float, stagnation_bps: float) -> pd.DataFrame:
    ret15 = _column(frame, "ret_15m_bps")
    long_ret = frame["long_future_return_bps"].to_numpy()
    short_ret = frame["short_future_return_bps"].to_numpy()
    out: dict[str, Any] = {
        "stagnation": (np.abs(long_ret) <= stagnation_bps).astype(np.int8),
        "long_adverse_move": (frame["long_mae_bps"].to_numpy() >= adverse_move_bps).astype(np.int8),
        "short_adverse_move": (frame["short_mae_bps"].to_numpy() >= adverse_move_bps).astype(np.int8),
        "long_reversal": ((ret15 >= stagnation_bps) & (long_ret <= -stagnation_bps)).astype(np.int8),
        "short_reversal": ((ret15 <= -stagnation_bps) & (short_ret <= -stagnation_bps)).astype(np.int8),
    }
    for side in ("long", "short"):
        out[f"{side}_exit_target"] = (out[f"{side}_adverse_move"] | out["stagnation"] | out[f"{side}_reversal"]
                                      ).astype(np.int8)
    return _family(frame, out, EXIT_LABEL_COLUMNS)


def risk_labels(frame: pd.DataFrame, t: RiskThresholds) -> pd.DataFrame:
    long_mae, short_mae = frame["long_mae_bps"].to_numpy(), frame["short_mae_bps"].to_numpy()
    path_risk = np.maximum(long_mae, short_mae)
    max_move = np.maximum(frame["long_mfe_bps"].to_numpy(), frame["short_mfe_bps"].to_numpy())
    np.maximum(max_move, path_risk, out=max_move)
    spike = max_move >= t.spike_threshold_bps
    del max_move  # temporaries go as soon as they are used: they would raise the run's peak memory
    current_vol = _column(frame, "realized_vol_15m_bps")
    np.maximum(current_vol, 1.0, out=current_vol)
    current_vol *= t.vol_expansion_ratio
    vol_expansion = np.nan_to_num(frame["long_future_realized_vol_bps"].to_numpy(dtype=float), nan=0.0) >= current_vol
    del current_vol
    drawdown = path_risk >= t.market_risk_threshold_bps
    out: dict[str, Any] = {
        "market_risk_target": (drawdown | spike | vol_expansion).astype(np.int8),
        "market_path_risk_bps": path_risk,
        "long_position_path_risk_bps": long_mae.copy(),
        "short_position_path_risk_bps": short_mae.copy(),
    }
    for side, mae in (("long", long_mae), ("short", short_mae)):
        out[f"{side}_position_risk_target"] = ((mae >= t.position_risk_threshold_bps)
                                               | (frame[f"{side}_stop_hit"].to_numpy() == 1)).astype(np.int8)
    out["market_drawdown_prob_label"] = drawdown.astype(np.int8)
    out["volatility_expansion_prob_label"] = vol_expansion.astype(np.int8)
    out["spike_prob_label"] = spike.astype(np.int8)
    rank = _column(frame, "spread_rank_24h_pct")
    out["liquidity_deterioration_prob_label"] = (rank >= LIQUIDITY_RANK_THRESHOLD).astype(np.int8)
    out["position_drawdown_prob_label"] = (path_risk >= t.position_risk_threshold_bps).astype(np.int8)
    return _family(frame, out, RISK_LABEL_COLUMNS)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A feature column as float64 with NaN as 0 (``np.nan_to_num``), zeros when the frame lacks it; computed in
    a fresh copy, so the frame's own values stay untouched."""
    if name not in frame.columns:
        return np.zeros(len(frame))
    return np.nan_to_num(frame[name].to_numpy(dtype=float, copy=True), copy=False, nan=0.0)


def position_label_report(labels: Mapping[str, pd.DataFrame], thresholds: RiskThresholds) -> str:
    """'Continue Exit Risk Label Report': thresholds and label rates per split."""
    parts = ["# Continue Exit Risk Label Report", "", "## Risk Thresholds", "",
             markdown_table([thresholds.__dict__]), ""]
    targets = {"continue": ("long_continue_target", "short_continue_target"),
               "exit": ("long_exit_target", "short_exit_target", "stagnation"),
               "risk": RISK_TARGETS + RISK_PROB_LABELS}
    for name, cols in targets.items():
        rates = rates_by_split(labels[name], cols)
        parts += [f"## {name.capitalize()} label rates by split", "",
                  markdown_table([{"split_id": s} | r for s, r in rates.items()]), ""]
    return "\n".join(parts)

"""The bounds of the weekly decision monitoring: when an arm's realized results warn (docs/decide.md, "Weekly
monitoring", for the values and why). Light on purpose: the Dagster definitions name one asset check per
condition from here without loading the decision code."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: Decisions made in the last this many days before the report time are joined.
DEFAULT_WINDOW_DAYS = 30
REALIZED_EDGE_NEGATIVE = "realized_edge_negative"
HIT_RATE_BELOW_PREDICTED = "hit_rate_below_predicted"
CONDITIONS = (REALIZED_EDGE_NEGATIVE, HIT_RATE_BELOW_PREDICTED)


@dataclass(frozen=True)
class WeeklyBounds:
    """``min_resolved_trades``: below this many resolved traded decisions of an arm nothing warns (the minimum of
    20 trades of the release gate and of the champion-vs-challenger rule); ``hit_rate_margin``: how far the hit
    rate may fall below the mean predicted probability (about one standard error of a hit rate near 0.5 over 20
    trades, sqrt(0.25 / 20) = 0.11)."""

    min_resolved_trades: int = 20
    hit_rate_margin: float = 0.10

    def conditions(self) -> dict[str, str]:
        return {REALIZED_EDGE_NEGATIVE: f"mean realized edge of the resolved traded decisions < 0 (from "
                                        f"{self.min_resolved_trades} of them on)",
                HIT_RATE_BELOW_PREDICTED: f"hit rate (realized > 0) of the resolved traded decisions < their mean "
                                          f"predicted probability - {self.hit_rate_margin:g} (from "
                                          f"{self.min_resolved_trades} of them on)"}

    def warned(self, *, resolved_traded: int, hit_rate: float | None, mean_realized: float | None,
               mean_predicted_prob: float | None) -> list[str]:
        """The conditions an arm's figures meet."""
        if resolved_traded < self.min_resolved_trades:
            return []
        fired = {REALIZED_EDGE_NEGATIVE: mean_realized < 0,
                 HIT_RATE_BELOW_PREDICTED: hit_rate < mean_predicted_prob - self.hit_rate_margin}
        return [name for name in CONDITIONS if fired[name]]

    def figures(self) -> dict[str, Any]:
        return {**asdict(self), "conditions": self.conditions()}

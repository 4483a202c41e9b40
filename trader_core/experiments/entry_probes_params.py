"""The entry probes' arguments (docs/experiments.md, "Entry MAE diagnostic" and "Conditional entry probe").

Kept apart from the experiment (and its model libraries) so that the Dagster layer builds the launchpad config
without loading them (docs/layers.md, "Lazy imports")."""

from __future__ import annotations

from dataclasses import dataclass

from trader_core.experiments.param_checks import check_count, check_families, check_fractions, check_values


@dataclass(frozen=True)
class EntryMaeParams:
    """Defaults (docs/experiments.md, "Entry MAE diagnostic")."""

    max_mae_bps: tuple[float, ...] = (4.0, 6.0, 8.0, 12.0)
    min_opportunity_bps: tuple[float, ...] = (6.0, 12.0, 20.0)
    families: tuple[str, ...] = ("linear",)
    top_fractions: tuple[float, ...] = (0.10,)
    max_train_rows: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_mae_bps", check_values("max_mae_bps", self.max_mae_bps, low=0.0))
        object.__setattr__(self, "min_opportunity_bps", check_values("min_opportunity_bps", self.min_opportunity_bps))
        object.__setattr__(self, "families", check_families("families", self.families))
        object.__setattr__(self, "top_fractions", check_fractions("top_fractions", self.top_fractions))
        check_count("max_train_rows", self.max_train_rows)


@dataclass(frozen=True)
class ConditionalEntryParams:
    """Defaults (docs/experiments.md, "Conditional entry probe")."""

    condition_opportunity_bps: tuple[float, ...] = (6.0, 12.0, 20.0, 40.0, 60.0)
    target_edge_bps: tuple[float, ...] = (0.0, 3.0)
    families: tuple[str, ...] = ("linear", "tree")
    top_fractions: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)
    max_train_rows: int = 0
    min_train_rows: int = 1000
    min_eval_rows: int = 500

    def __post_init__(self) -> None:
        object.__setattr__(self, "condition_opportunity_bps",
                           check_values("condition_opportunity_bps", self.condition_opportunity_bps))
        object.__setattr__(self, "target_edge_bps", check_values("target_edge_bps", self.target_edge_bps))
        object.__setattr__(self, "families", check_families("families", self.families))
        object.__setattr__(self, "top_fractions", check_fractions("top_fractions", self.top_fractions))
        check_count("max_train_rows", self.max_train_rows)
        check_count("min_train_rows", self.min_train_rows, 1)
        check_count("min_eval_rows", self.min_eval_rows, 1)

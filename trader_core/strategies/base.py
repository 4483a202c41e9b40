"""What a strategy plug-in declares (docs/layers.md): the shared shape of ``perp`` and ``butterfly``.

A plug-in owns everything that differs between strategies, so callers ask the plug-in instead of comparing
the strategy name: the run spec sections it reads (``spec``, declared with the run spec in
``trader_core.config.STRATEGY_SPECS``), the Dagster jobs that materialize a run (names only: this library
never imports dagster), its artifact folders, the landed months it retrains on, its release bundle and its
model line, and the name of its decision maker.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Mapping

from trader_core.config import STRATEGY_SPECS, RunSpec, SourceSpec, StrategySpec
from trader_core.errors import ConfigError


class Strategy(ABC):
    #: The run spec's ``strategy`` value.
    name: str
    #: The Dagster job that materializes a run up to its release, and the one that adds the experiments.
    job: str
    job_with_experiments: str
    #: Folders of the run root (``layout.ARTIFACT_PATHS``) that hold the strategy's artifacts.
    folders: tuple[str, ...]
    #: The ``strategy`` key of its landed months' markers (None: the marker has no such key).
    landing_tag: str | None
    #: Run ids of its monthly retrains: ``<retrain_prefix>YYYY-MM``.
    retrain_prefix: str
    #: The keys of the run spec section that holds the synthetic market's ``seed`` and ``signal``.
    synthetic_section: tuple[str, ...]
    #: Its decisions' maker in ``trader_core.decide.DECIDERS`` (a name, like ``job``: the decision code reads the
    #: release store above the plug-ins); None: no decisions yet (docs/decide.md).
    decider: str | None

    @property
    def spec(self) -> StrategySpec:
        """Its run spec rules: sections, source kinds and the checks across sections."""
        return STRATEGY_SPECS[self.name]

    @property
    def sections(self) -> tuple[str, ...]:
        return self.spec.sections

    @property
    def source_kinds(self) -> tuple[str, ...]:
        return self.spec.source_kinds

    def retrain_run_id(self, month: str) -> str:
        return f"{self.retrain_prefix}{month}"

    def require(self, spec: RunSpec) -> RunSpec:
        """``spec`` when it is a run of this strategy; ConfigError (one line) for a run of another."""
        if spec.strategy != self.name:
            raise ConfigError(f"run {spec.run_id!r} is a {spec.strategy!r} run; the {self.name} assets need "
                              f"strategy: {self.name}")
        return spec

    @abstractmethod
    def retrain_spec(self, marker: Mapping[str, Any], *, home: Path | None = None, months: int | None = None,
                     config_path: Path | None = None) -> RunSpec:
        """The run spec of the retrain for a newly landed month (its marker)."""

    @abstractmethod
    def release_files(self, run_dir: Path) -> dict[str, Path]:
        """Release-relative path -> file of the run, for every file of its release bundle."""

    @abstractmethod
    def line_universe(self, spec: RunSpec) -> tuple[str, ...]:
        """The symbols a run trades, as its model line counts them."""

    @abstractmethod
    def line_market(self, spec: RunSpec) -> dict[str, Any]:
        """The run's data source without its window, as its model line counts it."""

    @abstractmethod
    def describe(self, spec: RunSpec) -> str:
        """One line on what a run reads, for the CLI."""


def source_identity(source: SourceSpec) -> dict[str, Any]:
    """A data source without its window: a synthetic market's seed and knobs, a file's path, a landed source's name."""
    if source.kind == "synthetic":
        return {"kind": "synthetic", "seed": source.seed, "signal": source.signal, "depth_levels": source.depth_levels,
                "volatility_regimes": source.volatility_regimes}
    if source.kind == "landed":
        return {"kind": "landed", "source": Path(source.path or "").name}
    return {"kind": source.kind, "path": source.path}

"""The one shape every stage function returns, so the Dagster layer turns any stage into output and metadata
the same way (``trader_assets.metadata.stage_output``) without reading reports back from disk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StageResult:
    """A stage's value and what to show about it.

    ``value`` is what the IO manager stores (a table, a dict, or a dict of tables); ``figures`` are JSON-able
    summary numbers and labels; ``reports`` are markdown texts (reports, tables, previews); ``images`` are PNG
    files to embed; ``paths`` are files worth linking; ``notes`` and ``warnings`` are lines for the step's log.
    ``outputs`` holds one result per output of a stage that
    feeds several assets (its ``value`` is then unused).
    """

    value: Any = None
    figures: Mapping[str, Any] = field(default_factory=dict)
    reports: Mapping[str, str] = field(default_factory=dict)
    images: Mapping[str, Path] = field(default_factory=dict)
    paths: Mapping[str, Path] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    outputs: Mapping[str, StageResult] = field(default_factory=dict)

"""One way to turn a rule's (passed, details) into an asset check result with metadata on every result."""

from __future__ import annotations

from typing import Any

import dagster as dg
import numpy as np


def result(passed: bool, *, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR, check_name: str | None = None,
           asset_key: str | None = None, **metadata: Any) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=bool(passed), severity=severity, check_name=check_name,
                               asset_key=asset_key, metadata={k: meta(v) for k, v in metadata.items()})


def meta(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return dg.MetadataValue.json(value)
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value

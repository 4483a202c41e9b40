"""Monthly retraining: the run spec of ``retrain-YYYY-MM`` for a newly complete landed month.

The window is the trailing ``months`` complete months ending with the new one (default 6, or
``$TRADER_RETRAIN_MONTHS``); months not landed yet simply contribute no data. The label/cost/PM sections
come from ``configs/retrain.json`` in the checkout when it exists (the same plan as the demo), else the
defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from trader_core import layout
from trader_core.config import RunSpec, from_mapping, merge_sections, read_json_object, to_mapping
from trader_core.market.landing import landing_root, parse_month

DEFAULT_TRAILING_MONTHS = 6
BUTTERFLY_RUN_PREFIX = "retrain-butterfly-"
RETRAIN_CONFIG = layout.PROJECT_ROOT / "configs" / "retrain.json"


def trailing_months() -> int:
    value = os.environ.get("TRADER_RETRAIN_MONTHS", str(DEFAULT_TRAILING_MONTHS))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"TRADER_RETRAIN_MONTHS must be a positive integer, got {value!r}")
    return int(value)


def retrain_run_id(month: str) -> str:
    return f"retrain-{month}"


def retrain_spec(marker: Mapping[str, Any], *, home: Path | None = None, months: int | None = None,
                 config_path: Path | None = RETRAIN_CONFIG) -> RunSpec:
    """The spec of the retrain run for a landed month's marker (``strategy: butterfly`` markers: see below)."""
    if marker.get("strategy") == "butterfly":
        return butterfly_retrain_spec(marker, home=home)
    month = marker["month"]
    end = parse_month(month) + pd.offsets.MonthBegin(1)
    start = parse_month(month) - pd.offsets.MonthBegin((months or trailing_months()) - 1)
    data = to_mapping(RunSpec(run_id=retrain_run_id(month)))
    if config_path is not None and Path(config_path).exists():
        data = merge_sections(data, read_json_object(config_path, "retrain config"))
    data.update({
        "source": {**data["source"], "kind": "landed", "path": str(landing_root(home) / marker["source"])},
        "symbols": list(marker["symbols"]), "start": start.strftime("%Y-%m-%d"), "end": end.strftime("%Y-%m-%d"),
    })
    return from_mapping(RunSpec, data)


def butterfly_retrain_spec(marker: Mapping[str, Any], *, home: Path | None = None) -> RunSpec:
    """A butterfly retrain reads every landed month of its source up to and including the new one (daily
    samples need years of history and 30-45 days of future per label; a trailing window of months would
    leave too few); its butterfly section is the default (configs/ may override it in a later version)."""
    month = marker["month"]
    end = parse_month(month) + pd.offsets.MonthBegin(1)
    data = to_mapping(RunSpec(run_id=f"{BUTTERFLY_RUN_PREFIX}{month}", strategy="butterfly"))
    data.update({"source": {**data["source"], "kind": "landed", "path": str(landing_root(home) / marker["source"])},
                 "symbols": list(marker["symbols"]), "start": None, "end": end.strftime("%Y-%m-%d")})
    return from_mapping(RunSpec, data)

"""Monthly retraining: the run spec of the retrain for a newly complete landed month.

The month's marker names its strategy (``strategy`` key; none for the perp chain), and that strategy's
plug-in builds the spec (``Strategy.retrain_spec``: the window, the sections, the run id
``<retrain_prefix>YYYY-MM``); see docs/retraining.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from trader_core.config import RunSpec
from trader_core.strategies import strategy_of_marker
from trader_core.strategies.perp import RETRAIN_CONFIG



def retrain_spec(marker: Mapping[str, Any], *, home: Path | None = None, months: int | None = None,
                 config_path: Path | None = RETRAIN_CONFIG) -> RunSpec:
    """The spec of the retrain run for a landed month's marker, built by the marker's strategy."""
    return strategy_of_marker(marker).retrain_spec(marker, home=home, months=months, config_path=config_path)

"""Landing the walk-forward's months one at a time into its home, each exactly once.

* synthetic: months of the fixed landable series of the plan's config (generated once per invocation, only when
  a month still has to be landed);
* binance-vision: a month of the data.vision zips under the plan's path (``land_vision_month``);
* landed: a complete month of another landing source folder, copied file by file with its hashes checked and
  its marker written last.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trader_core import io
from trader_core.errors import ArtifactError, DataContractError
from trader_core.market.binance_vision import land_vision_month
from trader_core.market.landing import MARKER, SyntheticSeries, landing_root
from trader_core.walk_forward.plan import WalkForwardPlan


class MonthLander:
    """Lands the plan's months into ``home``; a month already landed is left as it is."""

    def __init__(self, plan: WalkForwardPlan, home: Path):
        self.plan, self.home = plan, home
        self._series: SyntheticSeries | None = None

    def source_name(self) -> str:
        if self.plan.source == "landed":
            return Path(self.plan.path or "").name
        return self.plan.source

    def landed(self, month: str) -> bool:
        return (landing_root(self.home) / self.source_name() / month / MARKER).exists()

    def land(self, month: str) -> dict[str, Any]:
        """Land ``month`` and return its marker (the stored one when it was landed before)."""
        folder = landing_root(self.home) / self.source_name() / month
        if (folder / MARKER).exists():
            return io.read_json(folder / MARKER)
        if self.plan.source == "synthetic":
            if self._series is None:
                self._series = SyntheticSeries(self.plan.synthetic_config())
            return self._series.land(month, self.home)
        if self.plan.source == "binance-vision":
            return land_vision_month(Path(self.plan.path or ""), month, self.plan.symbols, self.home)
        return _copy_landed_month(Path(self.plan.path or "") / month, folder)


def _copy_landed_month(source: Path, target: Path) -> dict[str, Any]:
    if not (source / MARKER).exists():
        raise DataContractError(f"{source}: no complete landed month there (no {MARKER})")
    marker = io.read_json(source / MARKER)
    for name, entry in marker["tables"].items():
        data = (source / f"{name}.parquet").read_bytes() if (source / f"{name}.parquet").is_file() else b""
        if io.sha256_bytes(data) != entry["sha256"]:
            raise ArtifactError(f"{source / name}.parquet: missing or not matching {MARKER}")
        io.atomic_write_bytes(target / f"{name}.parquet", data)
    io.write_json(target / MARKER, marker)
    return marker

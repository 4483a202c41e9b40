"""The butterfly strategy: daily options butterflies (``trader_core.butterfly``, docs/butterfly.md), whose market,
sampling, model and decision come from the run spec's ``butterfly`` section; artifacts under ``<run>/butterfly/``.

A butterfly retrain reads every landed month of its source up to and including the new one (daily samples
need years of history and 30-45 days of future per label; a trailing window of months would leave too few);
its ``butterfly`` section is the default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping, to_mapping
from trader_core.contracts.butterfly import STRATEGY
from trader_core.market.landing import landing_root, parse_month
from trader_core.strategies.base import Strategy, source_identity

FOLDER = "butterfly"
ONNX_FILE = f"{FOLDER}/model/butterfly.onnx"


class Butterfly(Strategy):
    name = STRATEGY
    job = "butterfly_job"
    job_with_experiments = "butterfly_job"
    folders = (FOLDER,)
    landing_tag = STRATEGY
    retrain_prefix = "retrain-butterfly-"
    synthetic_section = ("butterfly", "synthetic")
    decider = "butterfly"  # trader_core.decide.butterfly (docs/decide.md)

    def retrain_spec(self, marker: Mapping[str, Any], *, home: Path | None = None, months: int | None = None,
                     config_path: Path | None = None) -> RunSpec:
        """``months`` and ``config_path`` do not apply: the window is every landed month, the section the default."""
        month = marker["month"]
        end = parse_month(month) + pd.offsets.MonthBegin(1)
        data = to_mapping(RunSpec(run_id=self.retrain_run_id(month), strategy=self.name))
        data.update({"source": {**data["source"], "kind": "landed", "path": str(landing_root(home) / marker["source"])},
                     "symbols": list(marker["symbols"]), "start": None, "end": end.strftime("%Y-%m-%d")})
        return from_mapping(RunSpec, data)

    def release_files(self, run_dir: Path) -> dict[str, Path]:
        return {ONNX_FILE: run_dir / ONNX_FILE, "run_spec.json": run_dir / "run_spec.json",
                f"{FOLDER}/backtest_result.json": run_dir / FOLDER / "backtest.json"}

    def line_universe(self, spec: RunSpec) -> tuple[str, ...]:
        """The synthetic market's underlyings, or the symbols of the daily bars read."""
        synthetic = spec.source.kind == "synthetic"
        return spec.butterfly.synthetic.symbols if synthetic else spec.symbols

    def line_market(self, spec: RunSpec) -> dict[str, Any]:
        """The synthetic daily market is drawn from the ``butterfly`` section's seed and signal."""
        if spec.source.kind == "synthetic":
            return {"kind": "synthetic", "seed": spec.butterfly.synthetic.seed,
                    "signal": spec.butterfly.synthetic.signal}
        return source_identity(spec.source)

    def describe(self, spec: RunSpec) -> str:
        synthetic = spec.butterfly.synthetic
        if spec.source.kind == "synthetic":
            return f"synthetic: {len(synthetic.symbols)} underlyings x {synthetic.trading_days} trading days"
        return str(spec.source.path)


BUTTERFLY = Butterfly()

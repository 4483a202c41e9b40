"""Fixtures for materializing the graph with an ephemeral Dagster instance and a temporary data root."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import dagster as dg

from trader_assets.definitions import defs
from trader_core import io, layout
from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping


def write_spec(home: Path, data: dict) -> RunSpec:
    spec = from_mapping(RunSpec, data)
    io.write_json(layout.run_root(spec.run_id, home) / layout.RUN_SPEC_FILE, spec.to_dict())
    return spec


#: Everything up to the models: an 8-day run is too short for a meaningful backtest (see tests/e2e).
UP_TO_MODELS = dg.AssetSelection.all() - dg.AssetSelection.groups("trading", "release", "monitoring", "experiments",
                                                               "butterfly", "walk_forward",
                                                               "decision_monitoring")

def materialize_run(home: Path, instance: dg.DagsterInstance, run_id: str, selection=UP_TO_MODELS):
    """Materialize ``selection`` of ``retrain_job`` for ``run_id`` with ``home`` as TRADER_HOME."""
    if not instance.has_dynamic_partition("runs", run_id):
        instance.add_dynamic_partitions("runs", [run_id])
    job = defs.resolve_job_def("retrain_job")
    if selection is not None and not isinstance(selection, list):
        selection = list(selection.resolve(defs.resolve_asset_graph()))
    with mock.patch.dict(os.environ, {"TRADER_HOME": str(home)}):
        return job.execute_in_process(instance=instance, partition_key=run_id, raise_on_error=False,
                                      asset_selection=selection)




SMALL_RUN = {"run_id": "small", "symbols": ["BTC-USDT-PERP", "ETH-USDT-PERP"], "start": "2026-01-01",
             "end": "2026-01-09", "source": {"seed": 5, "depth_levels": 5}}

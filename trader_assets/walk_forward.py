"""``trader walk-forward``: months land one at a time in a dedicated home and the graph retrains each in order.

The real path, not a parallel loop: for each month the driver lands it in the home's landing folder, evaluates
the ``landed_month_sensor`` (the daemon's own code) against the home's Dagster instance, adds the partitions it
requests and executes each requested ``retrain_job`` run in process, in month order, with the request's run key.
A run key that already has a run is never launched again (the daemon's rule), and the sensor's cursor is kept in
the home, so a re-run changes nothing and launches nothing. Then the ``walk_forward_report`` asset stitches the
record (docs/retraining.md, "Walk-forward").
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from trader_assets.run_recording import execute_recorded
from trader_core import io
from trader_core.strategies.perp import PERP
from trader_core.walk_forward.landing import MonthLander
from trader_core.walk_forward.plan import WALK_FORWARD_DIR, WalkForwardPlan, ensure_plan
from trader_core.walk_forward.record import month_row

CURSOR_FILE = "sensor_cursor.json"
RUN_KEY_TAG = "dagster/run_key"


@dataclass(frozen=True)
class WalkForwardOutcome:
    plan: WalkForwardPlan
    launched: tuple[str, ...]  # run ids executed by this invocation
    report: Path | None  # the report file, None when nothing ran and the report was already there


@contextmanager
def home_environment(home: Path) -> Iterator[None]:
    """TRADER_HOME and DAGSTER_HOME of the walk-forward home (``<home>/dagster``), restored afterwards."""
    saved = {name: os.environ.get(name) for name in ("TRADER_HOME", "DAGSTER_HOME")}
    os.environ["TRADER_HOME"] = str(home)
    os.environ.pop("DAGSTER_HOME", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def walk_forward(plan: WalkForwardPlan, home: Path, *, echo: Callable[[str], None] = print) -> WalkForwardOutcome:
    """Walk the plan's months through the graph in ``home`` (see the module docstring)."""
    from trader_assets.cli import dagster_home
    from trader_assets.definitions import defs

    home = Path(home).resolve()
    stored = ensure_plan(home, plan)
    launched: list[str] = []
    with home_environment(home):
        dagster_home()
        with dg.DagsterInstance.get() as instance:
            lander = MonthLander(stored, home)
            for month in plan.months:
                was_landed = lander.landed(month)
                marker = lander.land(month)
                if not was_landed:
                    echo(f"{month}: landed {marker['source']} for {', '.join(marker['symbols'])}")
                for request in _sensor_requests(instance, defs, home):
                    launched.append(_execute(instance, defs, request, home, echo))
            report = _report(instance, defs, home) if launched or not (home / WALK_FORWARD_DIR / "summary.json").exists() \
                else None
    return WalkForwardOutcome(plan=stored, launched=tuple(launched), report=report)


def _sensor_requests(instance: dg.DagsterInstance, defs: dg.Definitions, home: Path) -> list[dg.RunRequest]:
    """Evaluate the landing sensor once (cursor kept in the home); apply its partition requests; the run requests
    whose run key has no run yet, in month order."""
    from trader_assets.sensors import landed_month_sensor

    cursor_file = home / WALK_FORWARD_DIR / CURSOR_FILE
    cursor = io.read_json(cursor_file)["cursor"] if cursor_file.exists() else None
    result = landed_month_sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
    if isinstance(result, dg.SkipReason):
        return []
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    io.write_json(cursor_file, {"cursor": result.cursor})
    fresh = [r for r in result.run_requests
             if not instance.get_runs(filters=dg.RunsFilter(tags={RUN_KEY_TAG: r.run_key}), limit=1)]
    return sorted(fresh, key=lambda r: r.partition_key)


def _execute(instance: dg.DagsterInstance, defs: dg.Definitions, request: dg.RunRequest, home: Path,
             echo: Callable[[str], None]) -> str:
    key = request.partition_key
    echo(f"{key}: running {request.job_name} ...")
    began = time.monotonic()
    result = execute_recorded(
        defs.resolve_job_def(request.job_name), instance=instance, partition_key=key, home=home,
        raise_on_error=False, run_config={"loggers": {"progress": {}}},
        tags={**request.tags, RUN_KEY_TAG: request.run_key, "trader/trigger": "walk-forward"})
    row, _ = month_row(home, key[len(PERP.retrain_prefix):], first=None)
    echo(f"{key}: {'succeeded' if result.success else 'stopped by its gates'} in {time.monotonic() - began:.0f} s; "
         f"champion at start {row['champion_at_start'] or 'none'} traded {row['loop_trades']} trades, "
         f"{row['loop_edge_bps']:+.1f} bps; gate {row['gate']}; challenger vs champion {row['decision']}; "
         + (f"promoted {row['promoted']}" if row["promoted"] else "not promoted"))
    return key


def _report(instance: dg.DagsterInstance, defs: dg.Definitions, home: Path) -> Path:
    from trader_core.stages.walk_forward import REPORT_FILE

    defs.resolve_job_def("walk_forward_job").execute_in_process(instance=instance,
                                                               run_config={"loggers": {"progress": {}}})
    return home / WALK_FORWARD_DIR / REPORT_FILE

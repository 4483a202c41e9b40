"""The executor of the code location, chosen by configuration (environment), not by code.

``TRADER_EXECUTOR`` selects how the steps of a run launched through the instance (UI, daemon, sensor,
``dagster job launch``, ``dg.execute_job``) are executed:

- ``in_process`` (default): every step in the run's own process; the laptop/demo setup, least memory.
- ``multiprocess``: one subprocess per step, at most ``MULTIPROCESS_MAX_CONCURRENT`` = 2 at a time (this
  machine has 2 cores; more would only add memory and SQLite contention).
- ``dask``: ``dagster_dask.dask_executor`` against the existing scheduler at ``TRADER_DASK_ADDRESS``
  (``tcp://host:8786``); each step becomes one Dask task on a worker.

Decisions:

- The choice is read once, when the code location is imported (by the run worker that orchestrates the
  run). The Dask address is baked into the executor's config (``configured``) rather than left to run
  config, so a run needs no ``execution:`` section and Dask workers, which only execute steps, need
  neither variable (if they set ``TRADER_EXECUTOR=dask`` they need the address as well).
- An unknown value, or ``dask`` without an address, raises ``ConfigError`` at import: the code location
  fails to load with that message instead of silently running in process.
- ``trader run`` (the CLI) uses ``execute_in_process``, which always runs in process whatever this says.
- Dask workers must import this project and see the same ``TRADER_HOME`` (a shared file system on a
  real cluster): the IO manager writes artifacts from the worker that runs the step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from trader_core.errors import ConfigError

EXECUTOR_ENV = "TRADER_EXECUTOR"
DASK_ADDRESS_ENV = "TRADER_DASK_ADDRESS"
MULTIPROCESS_MAX_CONCURRENT = 2
EXECUTOR_KINDS = ("in_process", "multiprocess", "dask")


def executor_from_env(environ: Mapping[str, str] | None = None) -> dg.ExecutorDefinition:
    """The executor that ``TRADER_EXECUTOR`` (and ``TRADER_DASK_ADDRESS`` for Dask) select in ``environ``."""
    env = os.environ if environ is None else environ
    kind = env.get(EXECUTOR_ENV, "").strip() or "in_process"
    if kind == "in_process":
        return dg.in_process_executor
    if kind == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": MULTIPROCESS_MAX_CONCURRENT})
    if kind == "dask":
        address = env.get(DASK_ADDRESS_ENV, "").strip()
        if not address:
            raise ConfigError(f"{DASK_ADDRESS_ENV}: required when {EXECUTOR_ENV}=dask "
                              "(the Dask scheduler address, e.g. tcp://127.0.0.1:8786)")
        from dagster_dask import dask_executor

        return dask_executor.configured({"cluster": {"existing": {"address": address}}})
    raise ConfigError(f"{EXECUTOR_ENV}: unknown executor {kind!r}; expected one of {list(EXECUTOR_KINDS)}")

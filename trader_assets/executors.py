"""The executor of the code location, chosen by configuration (environment), not by code.

``TRADER_EXECUTOR`` selects how the steps of a run launched through the instance (UI, daemon, sensor,
``dagster job launch``, ``dg.execute_job``) are executed:

- ``in_process`` (default): every step in the run's own process; the laptop/demo setup, least memory.
- ``multiprocess``: one subprocess per step, at most ``MULTIPROCESS_MAX_CONCURRENT`` = 2 at a time (this
  machine has 2 cores; more would only add memory and SQLite contention).
- ``dask``: each step becomes one Dask task on the existing scheduler at ``TRADER_DASK_ADDRESS``
  (``tcp://host:8786``); Dask places it on a worker, which runs it and writes its events to the instance.

Decisions:

- The choice is read once, when the code location is imported (by the run worker that orchestrates the
  run). The Dask address is baked into the executor's config (``configured``) rather than left to run
  config, so a run needs no ``execution:`` section and Dask workers, which only execute steps, need
  neither variable (if they set ``TRADER_EXECUTOR=dask`` they need the address as well).
- An unknown value, or ``dask`` without an address, raises ``ConfigError`` at import: the code location
  fails to load with that message instead of silently running in process.
- ``trader run`` (the CLI) uses ``execute_in_process``, which always runs in process whatever this says.
- Dask workers must import this project, see the same ``TRADER_HOME`` (a shared file system on a real
  cluster: the IO manager writes artifacts from the worker that runs the step) and reach the instance's
  storage (PostgreSQL on a real cluster; SQLite only on one machine).
- The Dask executor is Dagster's ``StepDelegatingExecutor`` (the engine of the Kubernetes and Docker
  executors) with a Dask step handler, not ``dagster_dask.dask_executor`` (0.29.27), which fails here:
  (1) it plans every step up front, so the per-symbol fan-out (dynamic outputs) never runs; (2) it passes
  the ``DagsterRun`` to ``Client.submit``, whose argument parser (Dask 2026) iterates tuples and trips on
  the run's ``partitions_subset`` record, so every run of this partitioned graph fails before its first
  step; (3) its task keys ``<job>.<step>`` collide between concurrent runs of one job (dagster issue 21418).
  The step handler keeps dagster-dask's step tag ``dagster-dask/resource_requirements`` (Dask worker
  resources, e.g. ``{"MEMORY": 8e9}``) and names tasks ``<run id>.<step>.<attempt>``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster._core.execution.retries import RetryMode
from dagster._core.executor.step_delegating import (CheckStepHealthResult, StepDelegatingExecutor, StepHandler,
                                                    StepHandlerContext)
from dagster._grpc.types import ExecuteStepArgs

from trader_core.errors import ConfigError

EXECUTOR_ENV = "TRADER_EXECUTOR"
DASK_ADDRESS_ENV = "TRADER_DASK_ADDRESS"
MULTIPROCESS_MAX_CONCURRENT = 2
EXECUTOR_KINDS = ("in_process", "multiprocess", "dask")
DASK_POLL_SECONDS = 0.25


def _run_step_on_worker(step_args: str) -> None:
    """Dask task: execute one step (as ``dagster api execute_step`` would); it writes its own events."""
    from dagster._cli.api import _execute_step_command_body

    args = dg.deserialize_value(step_args, ExecuteStepArgs)
    with dg.DagsterInstance.from_ref(args.instance_ref) as instance:
        run = instance.get_run_by_id(args.run_id)
        if run is None:
            raise dg.DagsterInvariantViolationError(f"run {args.run_id} not found in the instance of the Dask worker")
        for _ in _execute_step_command_body(args, instance, run):
            pass


class DaskStepHandler(StepHandler):
    """Launches each step as a Dask task on the scheduler at ``address`` and reports the task's health."""

    def __init__(self, address: str):
        self.address = address
        self._client: Any = None
        self._futures: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return "DaskStepHandler"

    @contextmanager
    def connected(self) -> Iterator[None]:
        from distributed import Client

        with Client(self.address) as client:
            self._client = client
            try:
                yield
            finally:
                self._client = None
                self._futures.clear()

    @staticmethod
    def _task_key(context: StepHandlerContext) -> tuple[str, str]:
        args = context.execute_step_args
        step_key = args.step_keys_to_execute[0]
        attempt = args.known_state.get_retry_state().get_attempt_count(step_key) if args.known_state else 0
        return step_key, f"{args.run_id}.{step_key}.{attempt}"

    def launch_step(self, step_handler_context: StepHandlerContext) -> Iterator[dg.DagsterEvent]:
        from dagster_dask.executor import get_dask_resource_requirements

        step_key, task_key = self._task_key(step_handler_context)
        self._futures[task_key] = self._client.submit(
            _run_step_on_worker, dg.serialize_value(step_handler_context.execute_step_args), key=task_key, pure=False,
            resources=get_dask_resource_requirements(step_handler_context.step_tags[step_key]))
        yield dg.DagsterEvent.step_worker_starting(step_handler_context.get_step_context(step_key),
                                                   f"Submitted Dask task {task_key} to {self.address}.",
                                                   metadata={"dask_task": task_key})

    def check_step_health(self, step_handler_context: StepHandlerContext) -> CheckStepHealthResult:
        _, task_key = self._task_key(step_handler_context)
        future = self._futures.get(task_key)
        if future is None:
            return CheckStepHealthResult.unhealthy(f"Dask task {task_key} was not submitted by this executor")
        if future.status == "error":
            return CheckStepHealthResult.unhealthy(f"Dask task {task_key} failed: {future.exception()!r}")
        if future.status in ("cancelled", "lost"):
            return CheckStepHealthResult.unhealthy(f"Dask task {task_key} is {future.status}")
        return CheckStepHealthResult.healthy()

    def terminate_step(self, step_handler_context: StepHandlerContext) -> Iterator[dg.DagsterEvent]:
        _, task_key = self._task_key(step_handler_context)
        if task_key in self._futures:
            self._futures[task_key].cancel()
        yield from ()


class DaskStepDelegatingExecutor(StepDelegatingExecutor):
    """The step-delegating executor, connected to the Dask scheduler for the duration of one run."""

    def __init__(self, address: str):
        self._dask = DaskStepHandler(address)
        super().__init__(self._dask, retries=RetryMode.DISABLED, sleep_seconds=DASK_POLL_SECONDS,
                         check_step_health_interval_seconds=5)

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[dg.DagsterEvent]:
        with self._dask.connected():
            yield from super().execute(plan_context, execution_plan)


@dg.executor(name="dask", config_schema={"address": dg.StringSource},
             requirements=dg.multiple_process_executor_requirements())
def dask_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """Each step as a Dask task on the existing scheduler at ``address`` (see the module docstring)."""
    return DaskStepDelegatingExecutor(init_context.executor_config["address"])


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
        return dask_executor.configured({"address": address})
    raise ConfigError(f"{EXECUTOR_ENV}: unknown executor {kind!r}; expected one of {list(EXECUTOR_KINDS)}")

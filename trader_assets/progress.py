"""A Dagster logger that prints concise progress lines (step start/end, checks, warnings) for the CLI."""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg

_STARTS: dict[str, float] = {}


class _ProgressHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        line = self._line(record, event)
        if line:
            print(line, file=sys.stderr if record.levelno >= logging.WARNING else sys.stdout, flush=True)

    @staticmethod
    def _line(record: logging.LogRecord, event) -> str | None:
        if event is None:
            meta = getattr(record, "dagster_meta", {}) or {}
            message = meta.get("orig_message", record.getMessage())
            if record.levelno >= logging.WARNING:
                return f"  ! {meta.get('step_key') or ''}: {message}"
            return f"    {message}" if record.levelno >= logging.INFO and meta.get("step_key") else None
        kind, step = event.event_type_value, event.step_key
        if step and _is_check_step(step) and kind in ("STEP_START", "STEP_SUCCESS"):
            return None  # a check step is reported by its evaluation line
        if kind == "STEP_START":
            _STARTS[step] = time.perf_counter()
            return f"-> {step} ..."
        if kind == "STEP_SUCCESS":
            return f"   {step} done in {time.perf_counter() - _STARTS.get(step, time.perf_counter()):.1f} s"
        if kind == "STEP_FAILURE":
            err = event.step_failure_data.error if event.step_failure_data else None
            return f"   {step} FAILED: {_root_message(err)}"
        if kind == "ASSET_CHECK_EVALUATION":
            data = event.asset_check_evaluation_data
            severity = getattr(data.severity, "value", "ERROR")
            verdict = "passed" if data.passed else (
                "WARN" if severity == "WARN" else "FAILED (blocking)" if data.blocking else "FAILED")
            return f"   check {data.check_name}: {verdict}"
        if kind == "STEP_SKIPPED":
            return f"   {step} skipped (an upstream step failed or a blocking check did not pass)"
        return None


def _is_check_step(step_key: str) -> bool:
    from trader_assets.checks import CHECKS

    names = {key.name for check in CHECKS for key in check.check_keys}
    steps = {check.node_def.name for check in CHECKS}  # a table's generated checks run as one step
    return step_key in steps or any(step_key.endswith(f"_{name}") for name in names)


def _root_message(err) -> str:
    while err is not None and err.cause is not None:
        err = err.cause
    return (err.message.strip().splitlines() or ["unknown error"])[-1] if err is not None else "unknown error"


@dg.logger(description="Concise progress lines for the trader CLI.")
def progress_logger(_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("trader.progress", level=logging.DEBUG)  # step events are DEBUG records
    logger.addHandler(_ProgressHandler())
    return logger

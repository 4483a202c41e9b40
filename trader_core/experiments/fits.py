"""An experiment's independent model fits, run side by side in worker processes (docs/experiments.md, "Speed").

A ``FitJob`` is one fit of ``toolkit.fit_classifier`` or ``toolkit.fit_regressor`` (the fixed settings of
docs/experiments.md, "Shared toolkit") and the matrices to predict with it; ``run_fits`` returns a
``FitResult`` per job, in the jobs' order. Experiments first collect their jobs, then run them all at once,
then compute their metrics from the predictions.

Decisions:

* One BLAS/OpenMP thread per fit. On this shared 2-core machine the gradient-boosted fits' two OpenMP
  threads spin against each other and against other processes: at a load average of ~6 one tree took 68 s
  with two threads against 8 s with one. The cores are used by running fits in parallel instead.
* Workers: a joblib (loky) process pool of ``workers`` processes (default: the usable cores; environment
  ``TRADER_EXPERIMENT_WORKERS``), reused by every experiment of a run, so the workers import the libraries
  once. Longest jobs are dispatched first (trees, then more rows). Below ``POOL_MIN_ROWS`` training rows in
  all, or with one worker, the fits run in this process: starting workers would cost more than it saves.
* A fit's result does not depend on where it ran: each job is a pure function of its arrays with a fixed
  ``random_state``, computed single-threaded; the tests compare the pool with the in-process path bit for bit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from joblib import Parallel, cpu_count, delayed
from threadpoolctl import threadpool_limits

from trader_core.errors import ConfigError
from trader_core.experiments.toolkit import fit_classifier, fit_regressor

WORKERS_ENV = "TRADER_EXPERIMENT_WORKERS"
POOL_MIN_ROWS = 100_000
KINDS = ("classifier", "regressor")


@dataclass(frozen=True)
class FitJob:
    """Fit ``kind`` (classifier: ``fit_classifier(family, x, y, **options)``; regressor: ``fit_regressor``) and
    predict each matrix of ``predict`` (class probabilities for a classifier, values for a regressor)."""

    kind: str
    family: str
    x: np.ndarray
    y: np.ndarray
    predict: tuple[np.ndarray, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fit job kind must be one of {KINDS}, got {self.kind!r}")


@dataclass(frozen=True)
class FitResult:
    """Predictions per matrix of the job; ``classes`` of a classifier, ``n_iter`` of a regressor that has one."""

    predictions: tuple[np.ndarray, ...]
    classes: tuple[Any, ...] | None = None
    n_iter: int | None = None

    def positive(self, index: int) -> np.ndarray:
        """Probability of class 1 on matrix ``index`` (zeros when the fit never saw class 1), as
        ``toolkit.positive_proba``."""
        proba = self.predictions[index]
        if self.classes is None or 1 not in self.classes:
            return np.zeros(len(proba))
        return proba[:, list(self.classes).index(1)]


def fit_one(job: FitJob) -> FitResult:
    """Fit and predict one job in this process (the workers run exactly this)."""
    if job.kind == "classifier":
        model = fit_classifier(job.family, job.x, job.y, **job.options)
        return FitResult(tuple(model.predict_proba(x) for x in job.predict), classes=tuple(model.classes_))
    model = fit_regressor(job.family, job.x, job.y, **job.options)
    n_iter = getattr(model[-1] if hasattr(model, "steps") else model, "n_iter_", None)
    return FitResult(tuple(model.predict(x) for x in job.predict), n_iter=None if n_iter is None else int(n_iter))


def worker_count(environ: Mapping[str, str] | None = None) -> int:
    """``TRADER_EXPERIMENT_WORKERS`` when set (an integer >= 1), else the usable cores."""
    value = (os.environ if environ is None else environ).get(WORKERS_ENV, "").strip()
    if not value:
        return max(1, cpu_count())
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{WORKERS_ENV}: expected an integer >= 1, got {value!r}")
    return int(value)


def run_fits(jobs: Sequence[FitJob], *, workers: int | None = None,
             min_pool_rows: int = POOL_MIN_ROWS) -> list[FitResult]:
    """``fit_one`` of every job, in the jobs' order: in a process pool of ``workers`` (default ``worker_count()``)
    when there are enough training rows, else here; one BLAS/OpenMP thread per fit either way."""
    workers = min(worker_count() if workers is None else workers, len(jobs))
    if workers <= 1 or sum(len(job.x) for job in jobs) < min_pool_rows:
        with threadpool_limits(limits=1):
            return [fit_one(job) for job in jobs]
    order = sorted(range(len(jobs)), key=lambda i: (jobs[i].family != "tree", -jobs[i].x.size))
    done = Parallel(n_jobs=workers, backend="loky", inner_max_num_threads=1, batch_size=1)(
        delayed(fit_one)(jobs[i]) for i in order)
    by_index = dict(zip(order, done))
    return [by_index[i] for i in range(len(jobs))]

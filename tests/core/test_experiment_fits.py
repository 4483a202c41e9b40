"""The experiments' fits run side by side (trader_core/experiments/fits.py): the process pool returns, in the jobs'
order, exactly what fitting each job here returns."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from trader_core.errors import ConfigError
from trader_core.experiments.fits import WORKERS_ENV, FitJob, FitResult, fit_one, run_fits, worker_count
from trader_core.experiments.toolkit import fit_classifier, positive_proba


def _jobs() -> list[FitJob]:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1500, 6))
    x_eval = rng.normal(size=(400, 6))
    label = (x[:, 0] + 0.5 * rng.normal(size=1500) > 0).astype(np.int64)
    three = np.digitize(x[:, 1], [-0.5, 0.5])
    edge = 3.0 * x[:, 2] + rng.standard_t(3, size=1500)
    return [
        FitJob("classifier", "linear", x[:600], label[:600], (x_eval,), {"balanced": False}),
        FitJob("classifier", "tree", x, label, (x_eval, x[:50]), {"random_state": 31, "max_iter": 30}),
        FitJob("regressor", "huber", x, edge, (x_eval,), {"max_iter": 200}),
        FitJob("classifier", "tree", x, three, (x_eval,), {"random_state": 41, "max_iter": 20}),
        FitJob("regressor", "tree", x[:900], edge[:900], (x_eval,), {"random_state": 53, "max_iter": 25}),
    ]


def _same(a: FitResult, b: FitResult) -> bool:
    return (a.classes == b.classes and a.n_iter == b.n_iter and len(a.predictions) == len(b.predictions)
            and all(np.array_equal(p, q) for p, q in zip(a.predictions, b.predictions)))


def test_the_pool_returns_in_job_order_what_each_fit_gives_here():
    jobs = _jobs()
    with threadpool_limits(limits=1):
        here = [fit_one(job) for job in jobs]
    pooled = run_fits(jobs, workers=2, min_pool_rows=0)
    assert len(pooled) == len(jobs)
    assert [_same(p, h) for p, h in zip(pooled, here)] == [True] * len(jobs)
    assert [_same(r, h) for r, h in zip(run_fits(jobs, workers=1), here)] == [True] * len(jobs)
    # the jobs' outputs differ from each other, so a result delivered to the wrong job would fail above
    assert here[0].classes == (0, 1) and here[3].classes == (0, 1, 2)
    assert here[2].n_iter is not None and 0 < here[2].n_iter < 200
    assert here[1].predictions[1].shape == (50, 2)


def test_positive_is_the_toolkit_positive_probability():
    job = _jobs()[1]
    model = fit_classifier("tree", job.x, job.y, random_state=31, max_iter=30)
    assert np.array_equal(fit_one(job).positive(0), positive_proba(model, job.predict[0]))
    no_positive = FitResult((np.ones((3, 1)),), classes=(0,))
    assert np.array_equal(no_positive.positive(0), np.zeros(3))


def test_worker_count_reads_the_environment():
    assert worker_count({WORKERS_ENV: "3"}) == 3
    assert worker_count({WORKERS_ENV: " "}) >= 1
    for bad in ("0", "two", "-1"):
        with pytest.raises(ConfigError, match=WORKERS_ENV):
            worker_count({WORKERS_ENV: bad})
    with pytest.raises(ValueError, match="kind"):
        FitJob("ranker", "tree", np.zeros((2, 1)), np.zeros(2), ())

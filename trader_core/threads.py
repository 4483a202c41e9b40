"""Independent numba kernels on worker threads (the kernels release the GIL).

Each task writes its own part of the outputs, so the results do not depend on the order in which the tasks
run or on how many threads run them: the same bits on one CPU as on many.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np


def cpu_count() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0))


@contextmanager
def in_background(tasks: list[Callable[[], None]]) -> Iterator[None]:
    """Run the tasks on up to one worker thread per available CPU while the body runs; on exit, wait for them
    and raise the first error. With one CPU the tasks run first, on this thread."""
    workers = min(len(tasks), cpu_count())
    if workers <= 1:
        for task in tasks:
            task()
        yield
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:  # a pool per call: nothing survives a fork
        futures = [pool.submit(task) for task in tasks]
        yield
        for future in futures:
            future.result()


def run_all(tasks: list[Callable[[], None]]) -> None:
    """Run the tasks (``in_background``) and wait for them."""
    with in_background(tasks):
        pass


def row_parts(n: int, parts: int | None = None) -> list[slice]:
    """``n`` rows cut into one contiguous part per available CPU (``parts`` to choose), none of them empty."""
    edges = np.linspace(0, n, min(parts or cpu_count(), n) + 1).astype(np.int64) if n else np.zeros(1, np.int64)
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]

"""Worker threads for independent kernels: every row in exactly one part, errors raised, one CPU runs inline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader_core import threads


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 1000), parts=st.integers(1, 16))
def test_row_parts_cover_every_row_once_in_order(n: int, parts: int) -> None:
    cut = threads.row_parts(n, parts)
    rows = np.concatenate([np.arange(n)[part] for part in cut]) if cut else np.zeros(0, dtype=np.int64)
    np.testing.assert_array_equal(rows, np.arange(n))
    assert len(cut) == min(parts, n)
    assert min((part.stop - part.start for part in cut), default=1) >= 1


def test_a_failing_task_raises() -> None:
    def fail() -> None:
        raise ValueError("kernel failed")

    with pytest.raises(ValueError, match="kernel failed"):
        threads.run_all([fail, fail])


@pytest.mark.parametrize("cpus", [{0}, {0, 1, 2, 3}])
def test_every_task_runs_before_the_results_are_read(monkeypatch: pytest.MonkeyPatch, cpus: set[int]) -> None:
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: cpus)
    out = np.zeros(8)

    def fill(i: int) -> None:
        out[i] = i + 1

    with threads.in_background([lambda i=i: fill(i) for i in range(8)]):
        pass
    np.testing.assert_array_equal(out, np.arange(1, 9))

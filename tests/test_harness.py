"""The suite's own set-up (docs/testing.md): a suite started as a background job runs like one started in a
terminal."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_sigint_and_sigterm_are_not_ignored_after_a_dagster_run():
    """What the compute-log tails of a multiprocess or Dask step inherit: Dagster gives SIGTERM the handler of
    SIGINT after each run, and a tail that ignores SIGTERM costs every step 60 s."""
    from dagster._utils.interrupts import capture_interrupts

    with capture_interrupts():
        pass
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN


def test_a_suite_started_with_sigint_ignored_gets_the_default_handler_back():
    """The shell starts a background job with SIGINT ignored; run the test above in such a child pytest."""
    target = f"{Path(__file__).relative_to(ROOT)}::test_sigint_and_sigterm_are_not_ignored_after_a_dagster_run"
    child = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", target],
                           cwd=ROOT, capture_output=True, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert child.returncode == 0, child.stdout[-2000:]

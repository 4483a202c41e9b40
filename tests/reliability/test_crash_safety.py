"""Crash safety: SIGKILL a materialization while it writes a large artifact.

The child process re-materializes ``feature_frame`` (stored as per-symbol parts, docs/scaling.md) with
``os.fsync`` patched to block while the temporary file of its manifest ``feature_frame.manifest.json`` is being
made durable, i.e. after every new part is in place and before the manifest's atomic rename. The parent kills
the whole process group there. The previous artifact must still be intact (every part matches the manifest) and
loadable, the partial temporary manifest must never be read as the artifact, and the next run must succeed.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from trader_assets import cli
from trader_core import io, layout, parts

CHILD = r"""
import os, sys, time
real_fsync = os.fsync
def slow_fsync(fd):
    if "feature_frame.manifest.json" in os.readlink(f"/proc/self/fd/{fd}"):
        print("BLOCKED", flush=True)
        time.sleep(600)
    real_fsync(fd)
os.fsync = slow_fsync
from trader_assets import cli
sys.exit(cli.main(["run", "crash", "--select", "feature_frame"]))
"""


@pytest.mark.slow
def test_sigkill_during_a_write_keeps_the_previous_artifact(tmp_path, monkeypatch):
    env = {**os.environ, "TRADER_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    monkeypatch.setenv("TRADER_HOME", env["TRADER_HOME"])
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    assert cli.main(["run", "crash", "--days", "6", "--symbols", "BTC-USDT-PERP",
                     "--select", "raw_market,replay_1m,split_manifest,feature_frame"]) == 0
    artifact = layout.run_root("crash", tmp_path / "home") / layout.ARTIFACT_PATHS["feature_frame"]
    manifest = io.manifest_path(artifact)
    before, frame = files(artifact), parts.read_frame(artifact)

    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        line = ""
        while time.monotonic() < deadline and "BLOCKED" not in line:
            line = child.stdout.readline()
            if not line and child.poll() is not None:
                break
        assert "BLOCKED" in line, "the child never reached the write of feature_frame.manifest.json"
        partial = list(manifest.parent.glob(".feature_frame.manifest.json.*.tmp"))
        assert partial and partial[0].stat().st_size > 0  # the new manifest exists only under a temporary name
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    assert files(artifact) == before  # the previous manifest and parts are untouched ...
    pd.testing.assert_frame_equal(parts.read_frame(artifact), frame)  # ... match and load
    assert cli.main(["run", "crash", "--select", "feature_frame"]) == 0  # the next run succeeds
    assert files(artifact) == before  # deterministic re-run


def files(artifact: Path) -> dict[str, bytes]:
    """The bytes of a parts artifact: its manifest and every part."""
    paths = [io.manifest_path(artifact), *sorted(artifact.glob("*.parquet"))]
    return {p.name: p.read_bytes() for p in paths}

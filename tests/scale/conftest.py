"""Harness for the scale tests: two runs submitted concurrently through the daemon's run queue, process-group
cleanup, artifact hashes.

``run_two_runs_through_daemon`` writes two run specs (different symbols, so a run writing into the other's
folder shows in the data), registers their partitions and submits both runs of ``DAEMON_SELECTION`` with one
``dagster-graphql`` command (two ``launchRun`` mutations, as the UI sends them; the QueuedRunCoordinator only
enqueues them). Then it starts ``dagster-daemon run``: its first queue pass finds both runs and, with
``max_concurrent_runs: 2``, launches both at once. The daemon's whole process group (code server, run workers)
is stopped before the function returns, even on failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from tests.assets.conftest import write_spec
from trader_assets.definitions import defs
from trader_core import io, layout

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: What both daemon runs materialize: market, features and labels (+ their checks) of a small synthetic run,
#: long enough (~20 s) that the two runs execute at the same time.
DAEMON_SELECTION = dg.AssetSelection.groups("market", "features", "labels")
CODE_LOCATION = "trader_assets.definitions"  # workspace.yaml
CONCURRENT_SPECS = {
    "alpha": {"run_id": "alpha", "symbols": ["BTC-USDT-PERP", "ETH-USDT-PERP"], "start": "2026-01-01",
              "end": "2026-01-09", "source": {"seed": 5, "depth_levels": 5}},
    "beta": {"run_id": "beta", "symbols": ["SOL-USDT-PERP", "XRP-USDT-PERP"], "start": "2026-01-01",
             "end": "2026-01-09", "source": {"seed": 6, "depth_levels": 5}},
}
RUN_TIMEOUT_S = 300
LOCKED = "database is locked"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def artifact_hashes(root: Path) -> dict[str, str]:
    """sha256 of every parquet, JSON and ONNX file under ``root`` by relative path."""
    return {str(p.relative_to(root)): io.sha256_file(p) for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in (".parquet", ".json", ".onnx")}


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_process_group(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM the group led by ``proc`` (started with ``start_new_session=True``), SIGKILL what is left."""
    pgid = proc.pid
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (proc.poll() is None or group_alive(pgid)):
        time.sleep(0.2)
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not group_alive(pgid), f"processes of group {pgid} survived SIGKILL"


@dataclass
class DaemonSetup:
    """Homes and environment shared by the test process, the launch commands and the daemon."""

    dagster_home: Path
    trader_home: Path
    logs: Path
    env: dict[str, str]

    @classmethod
    def create(cls, tmp_path: Path, instance_yaml: Path, extra_env: dict[str, str] | None = None) -> DaemonSetup:
        dagster_home, trader_home, logs = tmp_path / "dagster", tmp_path / "home", tmp_path / "logs"
        for folder in (dagster_home, trader_home, logs):
            folder.mkdir(parents=True)
        shutil.copyfile(instance_yaml, dagster_home / "dagster.yaml")
        env = {**os.environ, **(extra_env or {}), "DAGSTER_HOME": str(dagster_home), "TRADER_HOME": str(trader_home)}
        env.pop("TRADER_EXECUTOR", None)  # the default (in-process) executor inside each run
        return cls(dagster_home, trader_home, logs, env)

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.dagster_home))

    def popen(self, args: list[str], log_name: str) -> subprocess.Popen:
        with open(self.logs / log_name, "wb") as log:  # the child keeps its own descriptor
            return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.iterdir()))


LAUNCH_FIELDS = ("__typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } "
                 "... on Error { message }")


def _submit(setup: DaemonSetup, partitions: list[str]) -> dict[str, str]:
    """One ``launchRun`` per partition in one GraphQL document; returns the run ids by partition."""
    keys = [{"path": key.path} for key in sorted(DAEMON_SELECTION.resolve(defs.resolve_asset_graph()))]
    variables = {f"p{i}": {"selector": {"repositoryLocationName": CODE_LOCATION, "repositoryName": "__repository__",
                                        "jobName": "retrain_job", "assetSelection": keys},
                           "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]}}
                 for i, partition in enumerate(partitions)}
    document = ("mutation(" + ", ".join(f"$p{i}: ExecutionParams!" for i in range(len(partitions))) + ") { "
                + " ".join(f"r{i}: launchRun(executionParams: $p{i}) {{ {LAUNCH_FIELDS} }}"
                           for i in range(len(partitions))) + " }")
    out = setup.logs / "launch.json"
    proc = setup.popen([str(BIN / "dagster-graphql"), "-w", "workspace.yaml", "-t", document,
                        "-v", json.dumps(variables), "-o", str(out)], "launch.log")
    try:
        assert proc.wait(timeout=180) == 0, f"dagster-graphql failed:\n{setup.log_text()}"
    finally:
        if proc.poll() is None:
            stop_process_group(proc)
    data = json.loads(out.read_text())["data"]
    results = [data[f"r{i}"] for i in range(len(partitions))]
    assert all(r["__typename"] == "LaunchRunSuccess" for r in results), results
    return {partition: r["run"]["runId"] for partition, r in zip(partitions, results)}


def _wait_for_runs(instance: dg.DagsterInstance, run_ids: list[str], daemon: subprocess.Popen) -> list[dg.RunRecord]:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        records = instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids))
        if len(records) == len(run_ids) and all(r.dagster_run.is_finished for r in records):
            return records
        assert daemon.poll() is None, "dagster-daemon exited before the runs finished"
        time.sleep(1.0)
    raise AssertionError(f"runs not finished after {RUN_TIMEOUT_S} s: "
                         f"{[(r.dagster_run.run_id, r.dagster_run.status) for r in records]}")


def run_two_runs_through_daemon(setup: DaemonSetup, instance: dg.DagsterInstance) -> dict[str, dg.RunRecord]:
    """Submit the two CONCURRENT_SPECS runs, let the daemon run them, return their records by partition."""
    assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
    for spec in CONCURRENT_SPECS.values():
        write_spec(setup.trader_home, spec)
    instance.add_dynamic_partitions("runs", list(CONCURRENT_SPECS))
    run_ids = _submit(setup, list(CONCURRENT_SPECS))
    queued = instance.get_runs(filters=dg.RunsFilter(run_ids=list(run_ids.values())))
    assert [r.status for r in queued] == [dg.DagsterRunStatus.QUEUED] * 2

    daemon = setup.popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], "daemon.log")
    try:
        records = _wait_for_runs(instance, list(run_ids.values()), daemon)
    finally:
        stop_process_group(daemon)
    by_id = {r.dagster_run.run_id: r for r in records}
    return {partition: by_id[run_id] for partition, run_id in run_ids.items()}


def assert_succeeded_concurrently(records: dict[str, dg.RunRecord]) -> None:
    for partition, record in records.items():
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS, partition
        assert record.dagster_run.tags["dagster/partition"] == partition
    starts = [r.start_time for r in records.values()]
    ends = [r.end_time for r in records.values()]
    assert None not in starts + ends
    assert max(starts) < min(ends), f"the runs did not overlap: starts {starts}, ends {ends}"


def assert_runs_isolated(setup: DaemonSetup, instance: dg.DagsterInstance, records: dict[str, dg.RunRecord]) -> None:
    """Each run materialized only its own partition, into its own folder, from its own spec."""
    assert sorted(p.name for p in layout.runs_root(setup.trader_home).iterdir()) == sorted(records)
    for partition, record in records.items():
        root = layout.run_root(partition, setup.trader_home)
        events = instance.all_logs(record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        assert {e.asset_materialization.asset_key for e in events} == set(record.dagster_run.asset_selection)
        for event in events:
            materialization = event.asset_materialization
            assert materialization.partition == partition
            assert Path(materialization.metadata["path"].path).is_relative_to(root)
        symbols = io.read_parquet(root / "replay/replay_1m.parquet")["symbol"].unique()
        assert sorted(symbols) == sorted(CONCURRENT_SPECS[partition]["symbols"])
        assert not [p for p in root.rglob("*") if p.name.endswith(".tmp") or ".staging-" in p.name]


def lock_errors(setup: DaemonSetup, instance: dg.DagsterInstance, records: dict[str, dg.RunRecord]) -> list[str]:
    """Lines mentioning a locked database in the event logs, daemon/launch output and compute logs."""
    texts = [setup.log_text()]
    texts += [str(entry) for r in records.values() for entry in instance.all_logs(r.dagster_run.run_id)]
    texts += [p.read_text(errors="replace") for p in (setup.dagster_home / "storage").rglob("*")
              if p.is_file() and p.suffix in (".err", ".out", ".log")]
    return [line for text in texts for line in text.splitlines() if LOCKED in line.lower()]

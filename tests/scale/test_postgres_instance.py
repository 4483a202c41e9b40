"""Instance storage on PostgreSQL (issue 12 point 3): a throwaway PostgreSQL server on loopback, the repo's
dagster_postgres.yaml pointed at it, two runs launched concurrently through the daemon; both succeed, their
run records and events are rows in Postgres, and neither wrote into the other's run folder.

The server comes from the Debian ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``; ``.ci/run``
installs it when root). initdb refuses to run as root, so as root the server runs as the ``postgres`` user
from a data directory it owns. Without the binaries the test skips with the reason.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scale.conftest import (ROOT, DaemonSetup, assert_runs_isolated, assert_succeeded_concurrently, free_port,
                                  run_two_runs_through_daemon)

DB_NAME = "dagster"
DB_USER = "dagster"


def postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb and shutil.which("pg_ctl") else None


def server_user_prefix() -> list[str]:
    """Command prefix that runs initdb/pg_ctl as a non-root user (empty when we are not root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' user to run the PostgreSQL server as")
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root and runuser is missing: cannot start PostgreSQL as the 'postgres' user")
    return [runuser, "-u", "postgres", "--"]


@pytest.fixture()
def postgres_env() -> Iterator[dict[str, str]]:
    """Start a throwaway server on 127.0.0.1 with a database for Dagster; yield the DAGSTER_PG_* variables."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian 'postgresql' package")
    as_server = server_user_prefix()
    base = Path(tempfile.mkdtemp(prefix="trader-pg-"))  # under /tmp: the server user can reach it
    data, password = base / "data", secrets.token_hex(12)
    (base / "pwfile").write_text(password)
    if as_server:
        shutil.chown(base, "postgres")
        shutil.chown(base / "pwfile", "postgres")
    port = free_port()
    pg_ctl = [*as_server, str(bindir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        subprocess.run([*as_server, str(bindir / "initdb"), "-D", str(data), "-U", DB_USER, "--pwfile",
                        str(base / "pwfile"), "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                        "--no-sync"], check=True, capture_output=True)
        subprocess.run([*pg_ctl, "-l", str(base / "server.log"), "-w", "-t", "60",
                        "-o", f"-h 127.0.0.1 -p {port} -k {base}", "start"], check=True, capture_output=True)
        started = True
        env = {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port), "DAGSTER_PG_USER": DB_USER,
               "DAGSTER_PG_PASSWORD": password, "DAGSTER_PG_DB": DB_NAME}
        query({**env, "DAGSTER_PG_DB": "postgres"}, f"CREATE DATABASE {DB_NAME}")
        yield env
    finally:
        if started:
            subprocess.run([*pg_ctl, "-m", "fast", "-w", "-t", "60", "stop"], check=True, capture_output=True)
            assert not (data / "postmaster.pid").exists()
        shutil.rmtree(base, ignore_errors=True)


def query(env: dict[str, str], sql: str, *params: object) -> list[tuple]:
    """One autocommitted statement on the DAGSTER_PG_* database; the rows it returns (none for DDL)."""
    import psycopg2

    conn = psycopg2.connect(host=env["DAGSTER_PG_HOST"], port=int(env["DAGSTER_PG_PORT"]), user=env["DAGSTER_PG_USER"],
                            password=env["DAGSTER_PG_PASSWORD"], dbname=env["DAGSTER_PG_DB"])
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.mark.slow
def test_two_concurrent_daemon_runs_on_postgres(tmp_path, monkeypatch, postgres_env):
    for name, value in postgres_env.items():
        monkeypatch.setenv(name, value)
    setup = DaemonSetup.create(tmp_path, ROOT / "dagster_postgres.yaml", postgres_env)
    with setup.instance() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        records = run_two_runs_through_daemon(setup, instance)
        assert_succeeded_concurrently(records)
        assert_runs_isolated(setup, instance, records)

    run_ids = [r.dagster_run.run_id for r in records.values()]
    rows = dict(query(postgres_env, "SELECT run_id, status FROM runs WHERE run_id = ANY(%s)", run_ids))
    assert rows == {run_id: "SUCCESS" for run_id in run_ids}
    events = dict(query(postgres_env, "SELECT run_id, count(*) FROM event_logs WHERE run_id = ANY(%s) "
                                      "AND dagster_event_type = 'ASSET_MATERIALIZATION' GROUP BY run_id", run_ids))
    for record in records.values():
        assert events[record.dagster_run.run_id] == len(record.dagster_run.asset_selection)
    partitions = {key for (key,) in query(postgres_env, "SELECT partition FROM dynamic_partitions")}
    assert partitions == set(records)
    assert not list(setup.dagster_home.rglob("*.db"))  # nothing fell back to SQLite

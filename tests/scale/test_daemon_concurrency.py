"""Issue 9 point 5: two runs through the daemon at the same time on the default SQLite instance (the repo's
dagster.yaml: QueuedRunCoordinator, max_concurrent_runs 2) finish without "database is locked" and without
writing into each other's run folders."""

import pytest

from tests.scale.conftest import (ROOT, DaemonSetup, assert_runs_isolated, assert_succeeded_concurrently,
                                  lock_errors, run_two_runs_through_daemon)


@pytest.mark.slow
def test_two_concurrent_daemon_runs_on_sqlite(tmp_path):
    setup = DaemonSetup.create(tmp_path, ROOT / "dagster.yaml")
    with setup.instance() as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        records = run_two_runs_through_daemon(setup, instance)
        assert_succeeded_concurrently(records)
        assert_runs_isolated(setup, instance, records)
        assert lock_errors(setup, instance, records) == []

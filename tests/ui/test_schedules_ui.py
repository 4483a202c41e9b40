"""Browser test: the Automation page of the Dagster UI lists the weekly decision-monitoring schedule beside the
monthly retrain schedule (docs/decide.md, "Weekly monitoring"; docs/retraining.md), both running by default.

Starts `trader ui` on an empty home, reads the schedules through the UI's GraphQL endpoint and opens the
Automation page in headless Chromium. `.ci/run` installs Chromium.
"""

import os
import signal
import subprocess
import sys

import pytest

from tests.ui.cdp import Browser
from tests.ui.test_browser import CHROME_FLAGS, CHROMIUM, free_port, graphql, wait_for_ui

SCHEDULES = {"monthly_retrain_schedule", "weekly_monitoring_schedule"}


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs the Debian package)")
def test_the_weekly_schedule_is_listed_beside_the_monthly_one(tmp_path):
    port = free_port()
    env = {**os.environ, "TRADER_HOME": str(tmp_path / "home")}
    env.pop("DAGSTER_HOME", None)
    ui = subprocess.Popen([sys.executable, "-m", "trader_assets.cli", "ui", "--port", str(port)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_ui(port)
        found = graphql(port, "{ repositoriesOrError { ... on RepositoryConnection { nodes { schedules { name "
                              "cronSchedule executionTimezone scheduleState { status } } } } } }")
        schedules = {s["name"]: s for repo in found["repositoriesOrError"]["nodes"] for s in repo["schedules"]}
        assert SCHEDULES <= set(schedules)
        weekly = schedules["weekly_monitoring_schedule"]
        assert (weekly["cronSchedule"], weekly["executionTimezone"]) == ("0 9 * * 1", "UTC")
        assert {schedules[name]["scheduleState"]["status"] for name in SCHEDULES} == {"RUNNING"}
        browser = Browser(CHROMIUM, [f for f in CHROME_FLAGS if not f.startswith("--virtual-time-budget")],
                          tmp_path / "profile")
        try:
            browser.open(f"http://127.0.0.1:{port}/automation")
            browser.wait_for(" && ".join(f"document.body.innerText.includes('{name}')" for name in sorted(SCHEDULES)),
                             120)
        finally:
            browser.close()
    finally:
        alive = ui.poll() is None
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=30)
    assert alive

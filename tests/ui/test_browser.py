"""Browser test: the Dagster UI serves the asset graph and the demo run's check results.

Starts `trader ui` (project-local DAGSTER_HOME) on a free loopback port, renders the asset graph and the run
page in headless Chromium (screenshots kept under the test's tmp folder), asserts assets and check results
through the page text and GraphQL, then stops the UI by its PID. `.ci/run` installs Chromium.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from trader_assets import cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--virtual-time-budget=15000", "--window-size=1400,900"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def chromium(args: list[str], tmp_path: Path) -> str:
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    out = subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                         text=True, timeout=120)
    return out.stdout


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs the Debian package)")
def test_ui_shows_assets_and_check_results(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("TRADER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    assert cli.main(["run", "uidemo", "--days", "6", "--symbols", "BTC-USDT-PERP",
                     "--select", "raw_market,replay_1m,split_manifest,feature_frame"]) == 0
    port = free_port()
    env = {**os.environ, "TRADER_HOME": str(home), "DAGSTER_HOME": str(tmp_path / "dagster")}
    ui = subprocess.Popen([sys.executable, "-m", "trader_assets.cli", "ui", "--port", str(port)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("the Dagster UI did not start within 120 s")
        assets = {tuple(n["assetKey"]["path"]) for n in graphql(port, "{ assetNodes { assetKey { path } } }")["assetNodes"]}
        assert {("replay_1m",), ("feature_frame",), ("release",)} <= assets
        runs = graphql(port, '{ runsOrError(limit: 1) { ... on Runs { results { runId status tags { key value } } } } }')
        run = runs["runsOrError"]["results"][0]
        assert run["status"] == "SUCCESS" and {"key": "dagster/partition", "value": "uidemo"} in run["tags"]
        checks = graphql(port, '{ assetNodeOrError(assetKey: {path: ["split_manifest"]}) { ... on AssetNode { '
                               'assetChecksOrError { ... on AssetChecks { checks { name } } } } } }')
        names = {c["name"] for c in checks["assetNodeOrError"]["assetChecksOrError"]["checks"]}
        assert {"split_locked_unchanged", "split_order_and_embargo"} <= names
        graph_png, run_png = tmp_path / "asset_graph.png", tmp_path / "run.png"
        chromium([f"--screenshot={graph_png}", f"http://127.0.0.1:{port}/asset-groups"], tmp_path)
        chromium([f"--screenshot={run_png}", f"http://127.0.0.1:{port}/runs/{run['runId']}"], tmp_path)
        assert graph_png.stat().st_size > 10_000 and run_png.stat().st_size > 10_000
        if os.environ.get("TRADER_SCREENSHOT_DIR"):  # keep the pictures for a person to look at
            for png in (graph_png, run_png):
                shutil.copy(png, Path(os.environ["TRADER_SCREENSHOT_DIR"]) / png.name)
        dom = chromium(["--dump-dom", f"http://127.0.0.1:{port}/runs/{run['runId']}"], tmp_path)
        assert "feature_frame" in dom and "split_manifest" in dom  # the run page lists the materialized assets
        raw = graphql(port, '{ assetNodeOrError(assetKey: {path: ["raw_market"]}) { ... on AssetNode { '
                            'assetMaterializations(limit: 1) { metadataEntries { label } } } } }')
        labels = {e["label"] for e in raw["assetNodeOrError"]["assetMaterializations"][0]["metadataEntries"]}
        assert {"data_check", "filled_minutes", "days_kept", "days_dropped", "gap_runs_by_length"} <= labels
    finally:
        alive = ui.poll() is None
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=30)
    assert alive and ui.returncode == 0  # served until stopped by its PID, then shut down cleanly

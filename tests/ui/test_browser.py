"""Browser test: the Dagster UI serves the asset graph and the demo run's check results, and creates a run.

Starts `trader ui` (project-local DAGSTER_HOME) on a free loopback port, renders the asset graph and the run
page in headless Chromium (screenshots kept under the test's tmp folder), asserts assets and check results
through the page text and GraphQL. Then it creates a run from the UI alone, as a person would: the
`register_run` launchpad (its scaffolded defaults edited: run id, one symbol, a 6-day window), Launch Run,
then the `market_job` launchpad with the new partition picked (raw_market -> replay_1m -> split_manifest:
the whole graph takes minutes, this selection seconds), Launch Run; both runs are asserted through the UI.
Finally it stops the UI by its PID. `.ci/run` installs Chromium.
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
import yaml

from tests.ui.cdp import Browser
from trader_assets import cli
from trader_core import layout
from trader_core.config import RunSpec
from trader_core.config_mapping import to_mapping
from trader_core.runs import load_spec

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--virtual-time-budget=15000", "--window-size=1400,900"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_ui(port: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
            return
        except OSError:
            time.sleep(1)
    pytest.fail(f"the Dagster UI did not start within {timeout:.0f} s")


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def wait_for_run(port: int, run_id: str, timeout: float = 300.0) -> str:
    """The run's final status, polled through GraphQL."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = graphql(port, f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status }} }} }}')["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(2)
    pytest.fail(f"run {run_id} did not finish within {timeout:.0f} s")


EDITOR = "document.querySelector('.CodeMirror').CodeMirror"  # the launchpad's config editor
LAUNCH = "Array.from(document.querySelectorAll('button')).find(b => b.textContent === 'Launch Run')"
PARTITION = "document.querySelector('input[placeholder=\"Partition\"]')"


def pick_partition(browser: Browser, partition: str, attempts: int = 5) -> None:
    """Type ``partition`` into the launchpad's partition picker and take its suggestion (the list of
    partitions loads after the page, so a keystroke can come too early: type again until it is offered)."""
    browser.wait_for(f"{PARTITION} !== null", 60)
    for _ in range(attempts):
        browser.evaluate(f"{PARTITION}.click(), {PARTITION}.focus(), {PARTITION}.select()")
        browser.type_text(partition)
        try:  # the suggestion is page text; the input's own value is not
            browser.wait_for(f"document.body.innerText.includes('{partition}')", 15)
        except TimeoutError:
            continue
        browser.press_enter()
        browser.wait_for(f"document.body.innerText.includes('partition: {partition}')", 30)
        return
    pytest.fail(f"the partition picker never offered {partition!r} (input: "
                f"{browser.evaluate(PARTITION + '.value')!r})")


def launch_from_launchpad(browser: Browser, port: int, job: str, *, edit=None, partition: str | None = None) -> str:
    """Open ``job``'s launchpad, edit its scaffolded config with ``edit`` and/or pick ``partition``, press Launch
    Run; the run id of the run page it opens."""
    browser.open(f"http://127.0.0.1:{port}/locations/trader_assets.definitions/jobs/{job}/playground")
    browser.wait_for(f"document.querySelector('.CodeMirror') !== null && {EDITOR}.getValue().length > 0", 120)
    if edit is not None:
        config = yaml.safe_load(browser.evaluate(f"{EDITOR}.getValue()"))
        edit(config)
        browser.evaluate(f"{EDITOR}.setValue({json.dumps(yaml.safe_dump(config))})")
    if partition is not None:
        pick_partition(browser, partition)
    browser.wait_for(f"{LAUNCH} !== undefined && !{LAUNCH}.disabled", 60)
    browser.evaluate(f"{LAUNCH}.click()")
    return browser.wait_for("location.pathname.startsWith('/runs/') && location.pathname", 120).split("/")[-1]


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
        wait_for_ui(port)
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

        # a run created from the UI alone: register it from its launchpad, then materialize its partition
        browser = Browser(CHROMIUM, [f for f in CHROME_FLAGS if not f.startswith("--virtual-time-budget")],
                          tmp_path / "profile-launchpad")
        try:
            shown_defaults: dict = {}

            def new_run(config: dict) -> None:
                spec = config["ops"]["register_run_spec"]["config"]
                shown_defaults.update(spec)
                spec.update(run_id="uirun", symbols=["BTC-USDT-PERP"], start="2026-01-01", end="2026-01-07")

            registered = launch_from_launchpad(browser, port, "register_run", edit=new_run)
            assert wait_for_run(port, registered) == "SUCCESS"
            materialized = launch_from_launchpad(browser, port, "market_job", partition="uirun")
            assert wait_for_run(port, materialized) == "SUCCESS"
            browser.open(f"http://127.0.0.1:{port}/runs/{materialized}")
            browser.wait_for("document.body.innerText.includes('split_manifest')", 120)
        finally:
            browser.close()
        assert shown_defaults["labels"] == to_mapping(RunSpec(run_id="defaults").labels)  # defaults shown
        partitions = graphql(port, '{ partitionSetOrError(repositorySelector: {repositoryName: "__repository__", '
                                   'repositoryLocationName: "trader_assets.definitions"}, partitionSetName: '
                                   '"market_job_partition_set") { ... on PartitionSet { partitionsOrError { '
                                   '... on Partitions { results { name } } } } } }')
        assert "uirun" in {p["name"] for p in partitions["partitionSetOrError"]["partitionsOrError"]["results"]}
        split = graphql(port, '{ assetNodeOrError(assetKey: {path: ["split_manifest"]}) { ... on AssetNode { '
                              'assetMaterializations(partitions: ["uirun"]) { runId partition } } } }')
        assert split["assetNodeOrError"]["assetMaterializations"] == [{"runId": materialized, "partition": "uirun"}]
        spec = load_spec("uirun", home)
        assert (spec.symbols, spec.start, spec.end) == (("BTC-USDT-PERP",), "2026-01-01", "2026-01-07")
        assert (layout.run_root("uirun", home) / layout.ARTIFACT_PATHS["split_manifest"]).exists()
    finally:
        alive = ui.poll() is None
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=30)
    assert alive and ui.returncode == 0  # served until stopped by its PID, then shut down cleanly

"""Browser test: the walk-forward report and its equity plot render in the Dagster UI of the walk-forward home.

Uses the stable walk-forward of the session (tests/conftest.py), starts `trader ui` on its home (its own Dagster
instance), opens the `walk_forward_report` asset page in headless Chromium, opens the report's and the plot's
markdown, and checks the rendered text and image. `.ci/run` installs Chromium.
"""

import os
import signal
import subprocess
import sys

import pytest

from tests.ui.cdp import Browser
from tests.ui.test_browser import CHROME_FLAGS, CHROMIUM, free_port, graphql, wait_for_ui
from trader_core import io

SHOW = "Array.from(document.querySelectorAll('a')).filter(e => e.textContent === '[Show Markdown]')"


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs the Debian package)")
def test_walk_forward_report_and_plot_render_in_the_ui(stable_walk_forward, tmp_path):
    home, _ = stable_walk_forward
    summary = io.read_json(home / "walk-forward" / "summary.json")
    port = free_port()
    env = {**os.environ, "TRADER_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)  # the walk-forward home's own instance, <home>/dagster
    ui = subprocess.Popen([sys.executable, "-m", "trader_assets.cli", "ui", "--port", str(port)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_ui(port)
        node = graphql(port, '{ assetNodeOrError(assetKey: {path: ["walk_forward_report"]}) { ... on AssetNode { '
                             'groupName assetMaterializations(limit: 1) { metadataEntries { label '
                             '... on IntMetadataEntry { intValue } } } } } }')["assetNodeOrError"]
        entries = {e["label"]: e for e in node["assetMaterializations"][0]["metadataEntries"]}
        assert node["groupName"] == "walk_forward"
        assert entries["loop_trades"]["intValue"] == summary["loop_trades"] > 0
        browser = Browser(CHROMIUM, [f for f in CHROME_FLAGS if not f.startswith("--virtual-time-budget")],
                          tmp_path / "profile")
        try:
            browser.open(f"http://127.0.0.1:{port}/assets/walk_forward_report")
            browser.wait_for(f"{SHOW}.length === 2", 120)  # the report, then the equity curves
            browser.evaluate(f"{SHOW}[1].click()")
            browser.wait_for("Array.from(document.querySelectorAll('img')).some(i => i.alt === 'equity curves' "
                             "&& i.naturalWidth > 300)", 60)
            browser.evaluate("Array.from(document.querySelectorAll('button')).find(b => b.textContent === 'Close')"
                             ".click()")
            browser.evaluate(f"{SHOW}[0].click()")
            browser.wait_for("document.body.innerText.includes('Walk-forward of the monthly retraining loop')", 60)
            text = browser.evaluate("document.body.innerText")
            assert browser.evaluate("Array.from(document.querySelectorAll('img')).some(i => "
                                    "i.alt === 'stitched equity curves' && i.naturalWidth > 300)")
        finally:
            browser.close()
        assert f"monthly retraining loop\t{summary['loop_trades']}\t{summary['loop_edge_bps']:.1f}" in text
    finally:
        alive = ui.poll() is None
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=30)
    assert alive

"""Shared fixtures: a small synthetic market and the path to the real recordings; how the suite is split over
parallel workers (docs/testing.md)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas as pd
import pytest

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
FTX_CSV = REAL_DATA / "ftx_btc-perp_2021-12-31_2022-02-01_1m.csv"
BINANCE_FEED = REAL_DATA / "binance-usdm_btcusdt_20240808_feed.gz"


#: Session fixtures that build a run several test files read: every file using one runs on the same worker, so the
#: run is built once per suite as without workers.
SHARED_RUNS = ("promoted_perp", "stable_walk_forward")


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets its own TRADER_HOME below the suite's, so default-home runs never meet.

    A suite started in the background (``cmd &``) inherits an ignored SIGINT; after a run, Dagster gives SIGTERM
    the SIGINT handler, so the ``tail`` processes of the compute logs ignore SIGTERM too and every step of a
    multiprocess or Dask run waits 2 x 30 s for them. The default handler makes the suite's time independent of
    how it was started (docs/testing.md)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("TRADER_HOME"):
        home = Path(os.environ["TRADER_HOME"]) / worker
        home.mkdir(parents=True, exist_ok=True)
        os.environ["TRADER_HOME"] = str(home)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The xdist group of each test (``--dist loadgroup`` sends a group to one worker): the shared run it reads
    (``SHARED_RUNS``), else its file when it uses a module fixture (built once per file), else the test alone.
    Groups holding a slow test go first, so the long ones start early instead of ending the run alone."""
    groups = {item.nodeid: _xdist_group(item) for item in items}
    slow = {groups[item.nodeid] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: groups[item.nodeid] not in slow)  # stable: file order kept within each part
    for item in items:
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))


def _xdist_group(item: pytest.Item) -> str:
    fixtures = getattr(item, "fixturenames", ())
    shared = next((name for name in SHARED_RUNS if name in fixtures), None)
    if shared:
        return shared
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    module_scoped = any(d.scope in ("module", "package", "class") for defs in definitions.values() for d in defs)
    return item.nodeid.split("::")[0] if module_scoped else item.nodeid


def require_real(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real recording {path.name} not found at {path.parent} (../shared/data/real/ is absent)")
    return path


@pytest.fixture(scope="session")
def small_raw() -> dict[str, pd.DataFrame]:
    """2 symbols x 6 days of the synthetic market (signal on)."""
    from trader_core.market.synthetic import SyntheticMarketConfig, generate_synthetic_market

    return generate_synthetic_market(SyntheticMarketConfig(days=6, seed=11, depth_levels=5))


@pytest.fixture()
def raw_copy(small_raw: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in small_raw.items()}


@pytest.fixture()
def instance():
    """An ephemeral Dagster instance."""
    import dagster as dg

    with dg.instance_for_test() as inst:
        yield inst


#: The stable-signal walk-forward (scenario (a) of docs/retraining.md, "Walk-forward"): 2 symbols, one-month
#: retrain window, three months; shared by its end-to-end test and the browser test of its report.
STABLE_WALK = ["walk-forward", "--from", "2026-01", "--to", "2026-03", "--retrain-months", "1", "--signal", "2"]


@pytest.fixture(scope="session")
def stable_walk_forward(tmp_path_factory) -> tuple[Path, str]:
    """The home of the stable walk-forward, walked once per session through the CLI, and what it printed."""
    import contextlib
    import io as _io

    from trader_assets import cli

    home = tmp_path_factory.mktemp("walk-forward-stable") / "home"
    out = _io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main([*STABLE_WALK, "--home", str(home)]) == 0
    return home, out.getvalue()

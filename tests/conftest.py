"""Shared fixtures: a small synthetic market and the path to the real recordings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
FTX_CSV = REAL_DATA / "ftx_btc-perp_2021-12-31_2022-02-01_1m.csv"
BINANCE_FEED = REAL_DATA / "binance-usdm_btcusdt_20240808_feed.gz"


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

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

"""Fixtures of the end-to-end tests: a temporary data root and Dagster home for CLI runs."""

import pytest


@pytest.fixture()
def homes(tmp_path, monkeypatch):
    """TRADER_HOME = <tmp>/home and DAGSTER_HOME = <tmp>/dagster; returns the data root."""
    monkeypatch.setenv("TRADER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    return tmp_path / "home"

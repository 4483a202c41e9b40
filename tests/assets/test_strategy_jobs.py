"""Each strategy plug-in names Dagster jobs that exist and that write only into the strategy's folders."""

import pytest

from trader_assets.definitions import defs
from trader_core import layout
from trader_core.strategies import STRATEGIES

NAMES = ("perp", "butterfly")


def test_the_plugins_are_the_two_strategies():
    assert set(STRATEGIES) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("which", ["job", "job_with_experiments"])
def test_a_strategys_jobs_write_into_its_folders(name, which):
    strategy = STRATEGIES[name]
    job = defs.resolve_job_def(getattr(strategy, which))
    assets = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    stored = sorted(assets & set(layout.ARTIFACT_PATHS))
    assert stored, f"{job.name} materializes no stored artifact"
    outside = [a for a in stored if layout.ARTIFACT_PATHS[a].split("/")[0] not in strategy.folders]
    assert outside == []

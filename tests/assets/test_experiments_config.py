"""Experiments are configurable from the launchpad: config classes mirror the params dataclasses."""

import dataclasses

import pytest

from trader_assets.assets.experiments import (
    ConditionalEntryConfig,
    DynamicExitConfig,
    EXPERIMENT_ASSETS,
    PricePlanConfig,
    StateContinueConfig,
    to_params,
)
from trader_assets.definitions import defs
from trader_core.errors import ConfigError
from trader_core.experiments import entry_probes, plan_search, state_continue


@pytest.mark.parametrize("config_cls, params_cls", [
    (DynamicExitConfig, plan_search.DynamicExitParams),
    (PricePlanConfig, plan_search.PricePlanSearchParams),
    (ConditionalEntryConfig, entry_probes.ConditionalEntryParams),
    (StateContinueConfig, state_continue.StateContinueParams),
])
def test_config_defaults_round_trip_to_the_params_defaults(config_cls, params_cls):
    assert to_params(params_cls, config_cls()) == params_cls()
    assert set(config_cls.model_fields) == {f.name for f in dataclasses.fields(params_cls)}


def test_launchpad_values_are_validated_by_the_params_dataclass():
    params = to_params(plan_search.DynamicExitParams, DynamicExitConfig(horizons=[30], targets_bps=[10.0]))
    assert params.horizons == (30,) and params.targets_bps == (10.0,)
    with pytest.raises(ConfigError, match="horizons"):
        to_params(plan_search.DynamicExitParams, DynamicExitConfig(horizons=[]))


def test_experiments_job_selects_exactly_the_experiments_group():
    keys = {k.to_user_string() for k in defs.resolve_job_def("experiments_job").asset_layer.executable_asset_keys}
    assert keys == {a.key.to_user_string() for a in EXPERIMENT_ASSETS} | {"training_diagnostics"}
    retrain = {k.to_user_string() for k in defs.resolve_job_def("retrain_job").asset_layer.executable_asset_keys}
    assert not keys & retrain and "release" in retrain

"""Entry screens on the synthetic market: they rank the planted signal's observables first when the signal is on
and report no stable candidate when it is off (the same honesty rule as the models). Price plan of the demo
(configs/demo.json: target 40 / stop 20 bps)."""

import pytest

from tests.pipeline import run_pipeline
from trader_core import layout
from trader_core.config import LabelConfig
from trader_core.config_mapping import from_mapping, read_json_object
from trader_core.experiments.entry_screens import screen_entry_condition_pairs, screen_entry_features

#: The observables of the latent state (trader_core.market.synthetic docstring).
PLANTED = ("taker_imbalance_", "book_depth_imbalance_5", "book_pressure_taker_", "book_microprice_basis_bps",
           "level1_ofi_1m")


def planted(feature: str) -> bool:
    return feature.startswith(PLANTED)


@pytest.fixture(scope="module", params=[2.0, 0.0], ids=["signal-on", "signal-off"])
def screens(request):
    labels = from_mapping(LabelConfig, read_json_object(layout.PROJECT_ROOT / "configs" / "demo.json", "demo")["labels"])
    entry = run_pipeline(signal=request.param, days=60, seed=7, labels=labels).datasets["entry"]
    return request.param, screen_entry_features(entry), screen_entry_condition_pairs(entry)


@pytest.mark.slow
def test_entry_screens_find_the_planted_signal_and_nothing_without_it(screens):
    signal, features, pairs = screens
    stable = features.tables["candidates"]
    stable = stable[stable["stable_positive_edge"]]
    if signal > 0:
        assert features.result["stable_candidate_count"] > 0 and pairs.result["stable_candidate_count"] > 0
        assert all(planted(f) for f in stable["feature"].head(5)), stable["feature"].head(5).tolist()
        best_pair = pairs.tables["candidates"].iloc[0]
        assert planted(best_pair["feature_a"]) or planted(best_pair["feature_b"])
    else:
        assert features.result["stable_candidate_count"] == 0, stable.head()
        assert pairs.result["stable_candidate_count"] == 0

"""Butterfly honesty (issue 11): with the synthetic signal on, the model beats chance on validation_locked and the
backtest PASSes; with it off, macro F1 stays within the documented band around chance and the backtest FAILs.

Chance = the macro F1 of predictions independent of the labels with the same class mixes
(``mean_k 2 p_k q_k / (p_k + q_k)``; ~0.17-0.24 here, not 0.25, because classes 1 and 2 hold ~3-5 % each).
Bands from a survey of seeds 7-20 at this size (docs/butterfly.md): signal on, F1 - chance = +0.094..+0.148
and every backtest PASSes; signal off, F1 - chance = -0.011..+0.046 except one seed at +0.101 (of 14), every
backtest FAILs. The off band is not centred on 0: the IV proxy's moneyness steps, the strike grid and
the HV's estimation error leave some ROI structure that needs no signal.
Each run: 8 years x 20 tickers, 80/120/80 sample days (5600 samples), about 1-2 s.
"""

from __future__ import annotations

import pytest

from trader_core.butterfly_config import ButterflyConfig, SamplingSection, SyntheticSection
from trader_core.butterfly.pipeline import run

SEEDS = (7, 8, 9)
ON_MIN_F1, ON_MIN_EXCESS = 0.30, 0.08
OFF_MAX_F1, OFF_EXCESS_BAND = 0.25, (-0.04, 0.06)


def _run(signal: float, seed: int):
    return run(ButterflyConfig(synthetic=SyntheticSection(signal=signal, seed=seed),
                               sampling=SamplingSection(low_days=80, normal_days=120, high_days=80, seed=seed)))


@pytest.mark.parametrize("seed", SEEDS)
def test_signal_on_beats_chance_and_passes(seed):
    result = _run(1.0, seed)
    m = result.trained.metrics["validation_locked"]
    assert m["row_count"] >= 400
    assert m["macro_f1"] >= ON_MIN_F1 and m["macro_f1"] - m["chance_macro_f1"] >= ON_MIN_EXCESS, m
    assert result.backtest["status"] == "PASS", result.backtest["splits"]
    assert set(result.backtest["splits"]) == {"validation_locked", "latest_stress"}  # the loop below sees both
    for split in result.backtest["splits"].values():
        assert split["trades"] >= 20 and split["mean_roi"] > 0 and split["excess_t"] >= 2.0


@pytest.mark.parametrize("seed", SEEDS)
def test_signal_off_stays_at_chance_and_fails(seed):
    result = _run(0.0, seed)
    m = result.trained.metrics["validation_locked"]
    excess = m["macro_f1"] - m["chance_macro_f1"]
    assert m["macro_f1"] <= OFF_MAX_F1 and OFF_EXCESS_BAND[0] <= excess <= OFF_EXCESS_BAND[1], m
    assert result.backtest["status"] == "FAIL", result.backtest["splits"]

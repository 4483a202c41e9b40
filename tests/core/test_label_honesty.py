"""Honesty of the labels on the synthetic market: with the signal off nothing observable predicts them.

Sample size: the features and the 45-minute labels are overlapping windows and the symbols share a market
factor (correlation 0.6), so the sampling SD of a feature-label correlation is about
sqrt(43 * 2.1 / N) for N validation rows. 4 symbols x 160 days with 65 % of the days in
validation_locked (N ~ 600k) gives SD ~ 0.012: the 0.05 bound is ~ 4 SD, robust across seeds
(measured maxima 0.022-0.024 for seeds 31 and 32), while the signal's features reach ~ 0.2.
"""

import numpy as np
import pandas as pd
import pytest

from tests.pipeline import run_pipeline
from trader_core.config import SplitPlan
from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.versions import TRAINING_SPLITS

SYMBOLS = ("AAA-USDT-PERP", "BBB-USDT-PERP", "CCC-USDT-PERP", "DDD-USDT-PERP")


def labelled_validation(signal: float, days: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    run = run_pipeline(signal=signal, days=days, seed=seed, symbols=SYMBOLS, split=SplitPlan(0.15, 0.10, 0.65, 0.10))
    labels = run.direction_labels
    valid = labels[labels["split_id"] == "validation_locked"].merge(
        run.features[["sample_id", *FEATURE_ORDER]], on="sample_id", validate="one_to_one")
    return labels, valid


def feature_label_correlations(valid: pd.DataFrame) -> pd.DataFrame:
    targets = {"future_return_bps": valid["future_return_bps"].to_numpy(dtype=float),
               "long_minus_short": (valid["long_target"] - valid["short_target"]).to_numpy(dtype=float)}
    rows = []
    for name in FEATURE_ORDER:
        x = valid[name].to_numpy(dtype=float)
        for label, y in targets.items():
            ok = np.isfinite(x) & np.isfinite(y)
            xc, yc = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
            denom = np.sqrt((xc * xc).sum() * (yc * yc).sum())
            rows.append({"feature": name, "label": label, "corr": float((xc * yc).sum() / denom) if denom else 0.0})
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_no_feature_predicts_direction_when_the_signal_is_off():
    labels, valid = labelled_validation(signal=0.0, days=160, seed=31)
    assert len(valid) > 500_000
    corr = feature_label_correlations(valid)
    worst = corr.loc[corr["corr"].abs().idxmax()]
    assert abs(worst["corr"]) <= 0.05, f"{worst['feature']} vs {worst['label']}: corr {worst['corr']:.4f}"
    rates = labels.groupby("split_id")[["long_target", "short_target"]].mean()
    for split in TRAINING_SPLITS:
        long, short = rates.loc[split]
        assert abs(long - short) <= 0.05, (split, long, short)  # no side is favoured
        assert abs(long - rates.loc["fit_inner", "long_target"]) <= 0.05  # stable across splits


def test_the_signal_features_predict_direction_when_the_signal_is_on():
    _, valid = labelled_validation(signal=1.0, days=30, seed=31)
    corr = feature_label_correlations(valid).set_index(["feature", "label"])["corr"]
    for name in ("taker_imbalance_5m", "book_depth_imbalance_5", "book_pressure_taker_5m"):
        assert corr[(name, "future_return_bps")] > 0.1, name

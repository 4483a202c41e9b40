"""Nothing that is chosen may depend on the sealed splits: scramble their labels and predictions, and every fitted
weight and every chosen PM threshold stays bit-identical (docs/splits.md, docs/trading.md)."""

import numpy as np
import pandas as pd
import pytest

from tests.pipeline import run_pipeline
from trader_core.contracts.labels import DATASET_LABELS
from trader_core.contracts.models import DIRECTION, ENTRY, TARGETS
from trader_core.contracts.versions import SEALED_SPLITS, TUNE_SPLIT
from trader_core.contracts.price_plan import PricePlan
from trader_core.labels.price_plan import build_price_plan
from trader_core.config import CostConfig, EntryLabelConfig, LabelConfig
from trader_core.models.training import train_model
from trader_core.pm.frame import RISK_COLUMNS, pm_frame
from trader_core.pm.search import search_thresholds

DEMO_PLAN = EntryLabelConfig(target_bps=40.0, stop_bps=20.0, second_target_bps=80.0,
                             trailing_stop_bps=25.0, max_entry_mae_bps=20.0)  # configs/demo.json


def _scramble(frame: pd.DataFrame, columns: list[str], rows: np.ndarray, seed: int) -> pd.DataFrame:
    """``frame`` with ``columns`` of ``rows`` replaced by draws that share nothing with the originals."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for name in columns:
        values = out[name].to_numpy()
        if np.issubdtype(values.dtype, np.integer) or set(np.unique(values[rows])) <= {0, 1}:
            fresh = rng.integers(0, 2, rows.sum()).astype(values.dtype)
        else:
            fresh = rng.normal(0.0, 50.0, rows.sum()).astype(values.dtype)
        values = values.copy()
        values[rows] = fresh
        out[name] = values
    return out


def _sealed(frame: pd.DataFrame) -> np.ndarray:
    return frame["split_id"].isin(list(SEALED_SPLITS)).to_numpy()


def _risk(direction_pred: pd.DataFrame) -> pd.DataFrame:
    return direction_pred[["sample_id"]].assign(**{c: 0.1 for c in RISK_COLUMNS})


def _choose(datasets: dict[str, pd.DataFrame], entry_labels: pd.DataFrame, plan: PricePlan, *, scramble: bool):
    models = {m: train_model(TARGETS[m], datasets[TARGETS[m].dataset]) for m in (DIRECTION, ENTRY)}
    preds = {m: models[m].predictions for m in models}
    if scramble:
        preds = {m: _scramble(p, [c for c in p.columns if c.endswith(("_prob", "_bps"))], _sealed(p), seed=5)
                 for m, p in preds.items()}
    frame, _ = pm_frame(preds[DIRECTION], preds[ENTRY], _risk(preds[DIRECTION]), datasets["entry"], entry_labels,
                        plan)
    search = search_thresholds(frame[frame["split_id"] == TUNE_SPLIT].reset_index(drop=True), plan)
    return models, search


@pytest.mark.slow
def test_scrambled_sealed_labels_and_predictions_change_no_weight_and_no_threshold():
    run = run_pipeline(signal=2.0, days=16, seed=3, labels=LabelConfig(entry=DEMO_PLAN))
    plan = build_price_plan(DEMO_PLAN, CostConfig())
    clean_models, clean_search = _choose(run.datasets, run.entry_labels, plan, scramble=False)
    scrambled_data = {name: _scramble(data, list(DATASET_LABELS[name]), _sealed(data), seed=3)
                      for name, data in run.datasets.items()}
    sealed_labels = _sealed(run.entry_labels)
    scrambled_labels = _scramble(run.entry_labels, ["gross_edge_bps", "cost_bps"], sealed_labels, seed=4)
    assert not scrambled_data["entry"].equals(run.datasets["entry"]) and sealed_labels.any()
    models, search = _choose(scrambled_data, scrambled_labels, plan, scramble=True)
    for name in (DIRECTION, ENTRY):
        for clean, other in zip(clean_models[name].heads, models[name].heads, strict=True):
            assert clean.weight.tobytes() == other.weight.tobytes() and clean.bias.tobytes() == other.bias.tobytes()
    assert search.best_thresholds == clean_search.best_thresholds
    assert search.best_config.config_hash == clean_search.best_config.config_hash
    assert clean_search.best_metrics["trade_count"] > 0  # the search chose among real candidates

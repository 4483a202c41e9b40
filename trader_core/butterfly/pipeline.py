"""Stage functions of the butterfly strategy (the Dagster layer calls these; no Dagster, no file IO except
``export``):

    generate_market | load_market_csv -> sample_and_label -> build_features -> split -> make_dataset
        -> train -> export / backtest -> monitor (newly landed samples)

Every stage takes frames/dicts plus the ``ButterflyConfig`` and returns frames/dicts/small objects. ``run``
chains them in memory (tests, demos).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core.butterfly import model as bf_model
from trader_core.butterfly.backtest import backtest as run_backtest
from trader_core.butterfly_config import ButterflyConfig
from trader_core.contracts.butterfly import BUTTERFLY_FEATURE_ORDER
from trader_core.butterfly.daily import daily_table
from trader_core.butterfly.inference import ButterflyEngine
from trader_core.butterfly.features import build_features as _features
from trader_core.butterfly.labels import label_positions
from trader_core.butterfly.market import generate_market as _generate
from trader_core.butterfly.market import load_daily_csv, validate_market
from trader_core.butterfly.monitoring import monitor as _monitor
from trader_core.butterfly.positions import price_positions
from trader_core.butterfly.sampling import sample_positions
from trader_core.errors import DataContractError
from trader_core.splits import assign_split, build_split_manifest, to_epoch_ms

__all__ = [
    "ButterflyConfig",
    "ButterflyRun",
    "backtest",
    "build_features",
    "daily",
    "export",
    "generate_market",
    "load_market_csv",
    "make_dataset",
    "monitor",
    "run",
    "sample_and_label",
    "split",
    "train",
]


def generate_market(config: ButterflyConfig = ButterflyConfig()) -> dict[str, pd.DataFrame]:
    """The synthetic market of ``config.synthetic``, validated."""
    return validate_market(_generate(config.synthetic), "synthetic butterfly market")


def load_market_csv(bars_path: Path | str, vix_path: Path | str | None = None, *,
                    vix_symbol: str = "VIX") -> dict[str, pd.DataFrame]:
    """A user's daily bars (+ index) from CSV (see ``trader_core.butterfly.market``); reads files."""
    return load_daily_csv(bars_path, vix_path, vix_symbol=vix_symbol)


def daily(market: dict[str, pd.DataFrame], config: ButterflyConfig) -> pd.DataFrame:
    return daily_table(validate_market(market), config.pricing.hv_window, config.sampling.low_threshold,
                       config.sampling.high_threshold)


def sample_and_label(market: dict[str, pd.DataFrame],
                     config: ButterflyConfig = ButterflyConfig()) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Stratified samples, priced as of their date and labelled at their evaluation date; plus the report
    (sampling counts per regime, dropped non-positive-cost positions, label mix, ROI summary)."""
    table = daily(market, config)
    samples, report = sample_positions(table, config.pricing, config.sampling)
    positions = price_positions(samples, table, config.pricing)
    labels = label_positions(positions, table, config.pricing.risk_free_rate)
    out = positions.merge(labels, on="sample_id", how="inner", validate="one_to_one")
    report["dropped_non_positive_cost"] = int(len(samples) - len(positions))
    report["label_mix"] = (np.bincount(out["label"], minlength=4) / max(len(out), 1)).tolist()
    report["roi_mean"], report["roi_median"] = float(out["roi"].mean()), float(out["roi"].median())
    return out, report


def build_features(samples: pd.DataFrame, market: dict[str, pd.DataFrame],
                   config: ButterflyConfig = ButterflyConfig()) -> pd.DataFrame:
    """``sample_id`` + the 23 features of each sample (as of its date)."""
    return _features(samples, daily(market, config))


def split(samples: pd.DataFrame, config: ButterflyConfig = ButterflyConfig()) -> tuple[dict[str, Any], np.ndarray]:
    """Split manifest over the sample dates (day-aligned, embargo = ``config.split.embargo_minutes``) and the
    split id of every sample (a training split, ``embargo`` or ``unassigned``)."""
    times = to_epoch_ms(samples["date"]).to_numpy(dtype=np.int64)
    manifest = build_split_manifest(times, config.split, longest_label_horizon_minutes=config.longest_horizon_minutes)
    return manifest, assign_split(times, manifest)


def make_dataset(samples: pd.DataFrame, features: pd.DataFrame, split_ids: np.ndarray) -> pd.DataFrame:
    """Samples (keys, position, label) + split id + features, one row per sample."""
    if len(split_ids) != len(samples):
        raise DataContractError(f"butterfly dataset: {len(split_ids)} split ids for {len(samples)} samples")
    data = samples.assign(split_id=np.asarray(split_ids, dtype=object))
    return data.merge(features[["sample_id", *BUTTERFLY_FEATURE_ORDER]], on="sample_id", how="inner",
                      validate="one_to_one")


def train(dataset: pd.DataFrame, config: ButterflyConfig = ButterflyConfig()) -> bf_model.TrainedButterfly:
    return bf_model.train(dataset, config.model)


def export(trained: bf_model.TrainedButterfly, path: Path | str) -> str:
    """Write the ONNX model (atomic); returns its sha256."""
    return bf_model.export(trained, path)


def backtest(predictions: pd.DataFrame,
             config: ButterflyConfig = ButterflyConfig()) -> tuple[dict[str, Any], pd.DataFrame]:
    return run_backtest(predictions, config.decision)


def monitor(engine: ButterflyEngine, dataset: pd.DataFrame,
            config: ButterflyConfig = ButterflyConfig()) -> dict[str, Any]:
    """Predicted vs realized ROI of newly labelled samples through a model's inference engine."""
    return _monitor(engine, dataset, config.decision)


@dataclass
class ButterflyRun:
    market: dict[str, pd.DataFrame]
    samples: pd.DataFrame
    sampling_report: dict[str, Any]
    features: pd.DataFrame
    manifest: dict[str, Any]
    dataset: pd.DataFrame
    trained: bf_model.TrainedButterfly
    backtest: dict[str, Any]
    trades: pd.DataFrame


def run(config: ButterflyConfig = ButterflyConfig(), market: dict[str, pd.DataFrame] | None = None) -> ButterflyRun:
    """Every stage in memory (synthetic market unless ``market`` is given)."""
    market = generate_market(config) if market is None else validate_market(market)
    samples, report = sample_and_label(market, config)
    features = build_features(samples, market, config)
    manifest, split_ids = split(samples, config)
    dataset = make_dataset(samples, features, split_ids)
    trained = train(dataset, config)
    result, trades = backtest(trained.predictions, config)
    return ButterflyRun(market, samples, report, features, manifest, dataset, trained, result, trades)

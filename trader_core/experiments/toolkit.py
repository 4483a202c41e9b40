"""The evaluation toolkit every experiment shares (docs/experiments.md, "Shared toolkit"): diagnostic only, never part of the formal chain.

An experiment is a pure function from in-memory frames (a run's datasets, labels, predictions) to an
``ExperimentOutput``: a result dict (JSON), named tables (CSV or parquet) and a markdown report. Writing
is separate (``write_experiment``), atomic, and puts the result JSON last, so a folder whose result JSON
exists is complete.

Shared pieces:
* ``fit_classifier`` / ``fit_regressor``: the linear and tree model families of the original modules,
  with the StandardScaler fitted on the training rows only;
* ``bucket_edges``: fit_inner-learned bucket edges with the zero-inflated fallback (docs/experiments.md, "Shared toolkit");
* ``top_fraction_metrics`` and ``eval_split_frames``: top-scored-rows metrics and the eval splits;
* ``stable_across``: the "holds on tune_inner, validation_locked and latest_stress" verdict helper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from trader_core import io
from trader_core.contracts.versions import EVAL_SPLITS, FIT_SPLIT
from trader_core.errors import DataContractError
from trader_core.experiments.param_checks import FAMILIES
from trader_core.models.huber import FastHuberRegressor

DIAGNOSTIC_ONLY = "diagnostic_only_not_exported"
NAN_SCORE = -999.0

#: Tree settings of the original modules (docs/experiments.md, "Shared toolkit"); ``random_state`` varies per use.
TREE_CLASSIFIER = dict(max_iter=120, learning_rate=0.04, max_leaf_nodes=31, l2_regularization=0.02,
                       early_stopping=True)


@dataclass
class ExperimentOutput:
    """What an experiment produced: ``result`` (JSON), ``tables`` (name -> frame) and ``report`` (markdown)."""

    name: str
    result: dict[str, Any]
    report: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def file_names(self) -> list[str]:
        names = [f"{self.name}_{t}" + (".parquet" if _is_parquet(t) else ".csv") for t in self.tables]
        return names + [f"{self.name}_report.md", f"{self.name}_result.json"]


def _is_parquet(table: str) -> bool:
    return table.endswith("_parquet")


def write_experiment(output: ExperimentOutput, folder: Path) -> dict[str, str]:
    """Write tables, report and (last) the result JSON under ``folder``; returns file name -> sha256.

    A table whose name ends in ``_parquet`` is written as ``<name minus suffix>.parquet``, others as CSV.
    """
    folder = Path(folder)
    hashes: dict[str, str] = {}
    for table, frame in output.tables.items():
        if _is_parquet(table):
            name = f"{output.name}_{table[: -len('_parquet')]}.parquet"
            hashes[name] = io.write_parquet(folder / name, frame)
        else:
            name = f"{output.name}_{table}.csv"
            hashes[name] = io.atomic_write_bytes(folder / name, frame.to_csv(index=False).encode("utf-8"))
    report = f"{output.name}_report.md"
    hashes[report] = io.write_text(folder / report, output.report)
    result = f"{output.name}_result.json"
    hashes[result] = io.write_json(folder / result, {**output.result, "files": dict(sorted(hashes.items()))})
    return hashes


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """Raise DataContractError naming the missing columns of ``name``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataContractError(f"{name}: missing column(s) {missing}")


def eval_split_frames(frame: pd.DataFrame, splits: Sequence[str] = EVAL_SPLITS) -> dict[str, pd.DataFrame]:
    """Rows of each eval split (present or empty), keyed by split id."""
    require_columns(frame, ["split_id"], "experiment frame")
    return {s: frame[frame["split_id"] == s] for s in splits}


def fit_rows(frame: pd.DataFrame) -> pd.DataFrame:
    require_columns(frame, ["split_id"], "experiment frame")
    return frame[frame["split_id"] == FIT_SPLIT]


def finite_matrix(frame: pd.DataFrame, columns: Sequence[str], name: str, *, allow_nan: bool = False) -> np.ndarray:
    """Float64 matrix of ``columns``; non-finite values raise unless ``allow_nan`` (tree models accept NaN)."""
    require_columns(frame, columns, name)
    x = frame[list(columns)].to_numpy(dtype="float64", na_value=np.nan)
    bad = np.isinf(x) if allow_nan else ~np.isfinite(x)
    if bad.any():
        col = list(columns)[int(np.argwhere(bad)[0][1])]
        raise DataContractError(f"{name}: non-finite value(s) in feature {col!r}")
    return x


def fit_classifier(family: str, x: np.ndarray, y: np.ndarray, *, random_state: int = 23,
                   balanced: bool = True, max_iter: int | None = None) -> Pipeline | HistGradientBoostingClassifier:
    """Fit ``linear`` (StandardScaler + logistic regression) or ``tree`` (histogram gradient boosting).

    The logistic regression is solved by Newton-Cholesky: the same convex optimum as lbfgs (``LogisticRegression(max_iter=500)``,
    docs/experiments.md "Shared toolkit"), reached in a handful of iterations instead of 40-100, and closer to
    it than lbfgs at its default tolerance (predicted probabilities differ by < 0.005 on the demo run).
    """
    if family == "linear":
        lr = LogisticRegression(max_iter=max_iter or 500, class_weight="balanced" if balanced else None,
                                solver="newton-cholesky")
        return make_pipeline(StandardScaler(), lr).fit(x, y)
    if family == "tree":
        params = {**TREE_CLASSIFIER, "random_state": random_state}
        if max_iter:
            params["max_iter"] = max_iter
        return HistGradientBoostingClassifier(**params).fit(x, y)
    raise ValueError(f"model family must be one of {FAMILIES}, got {family!r}")


def fit_regressor(kind: str, x: np.ndarray, y: np.ndarray, *, alpha: float = 0.001, epsilon: float = 1.35,
                  max_iter: int = 500, random_state: int = 53) -> Pipeline | HistGradientBoostingRegressor:
    """Fit ``huber``/``ridge`` (with a StandardScaler) or ``tree`` (gradient-boosted) regression."""
    if kind == "huber":
        huber = FastHuberRegressor(alpha=alpha, epsilon=epsilon, max_iter=max_iter)
        return make_pipeline(StandardScaler(), huber).fit(x, y)
    if kind == "ridge":
        return make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(x, y)
    if kind == "tree":
        return HistGradientBoostingRegressor(max_iter=max_iter, learning_rate=0.04, max_leaf_nodes=31,
                                             l2_regularization=0.02, early_stopping=True,
                                             random_state=random_state).fit(x, y)
    raise ValueError(f"regressor kind must be huber, ridge or tree, got {kind!r}")


def positive_proba(model: Any, x: np.ndarray) -> np.ndarray:
    """Probability of class 1 from a fitted binary classifier."""
    classes = list(model.classes_)
    return model.predict_proba(x)[:, classes.index(1)] if 1 in classes else np.zeros(len(x))


def top_indices(score: np.ndarray, fraction: float) -> np.ndarray:
    """Indices of the top ``max(1, int(n * fraction))`` scores (stable order on ties)."""
    n = len(score)
    if n == 0:
        return np.array([], dtype=int)
    k = max(1, int(n * fraction))
    return np.argsort(-np.asarray(score, dtype=float), kind="stable")[:k]


def top_fraction_metrics(frame: pd.DataFrame, score: np.ndarray, fraction: float, *, edge: str,
                         good: str | None = None) -> dict[str, Any]:
    """Rows, good rate and avg/p50/p90 ``edge`` of the top ``fraction`` of ``frame`` by ``score`` (docs/experiments.md, "Good-trade structure")."""
    idx = top_indices(score, fraction)
    top = frame.iloc[idx]
    values = top[edge].to_numpy(dtype="float64")
    out: dict[str, Any] = {"rows": int(len(top)), "avg_edge": _stat(values, np.mean),
                           "p50_edge": _stat(values, np.median),
                           "p90_edge": _stat(values, lambda v: np.quantile(v, 0.9))}
    if good is not None:
        out["good_rate"] = float(top[good].mean()) if len(top) else None
    return out


def _stat(values: np.ndarray, fn: Callable[[np.ndarray], Any]) -> float | None:
    return float(fn(values)) if len(values) else None


def bucket_edges(values: Any, *, min_nonzero_rows: int = 300) -> np.ndarray:
    """Bucket edges learned on fit rows (docs/experiments.md, "Shared toolkit").

    Normal case: unique deciles (0, 0.1, ..., 1 — the quantile set is [inferred]); with >= 3 edges the
    outer ones become -inf/+inf. Zero-inflated fallback (< 3 unique deciles): with fewer than
    ``min_nonzero_rows`` nonzero values return no edges; otherwise quantiles 0, .2, .., 1 of the nonzero
    values give ``[-inf, 0, inner..., +inf]`` (``[-inf, 0, inf]`` when they have < 2 unique values).
    """
    x = np.asarray(values, dtype="float64")
    clean = x[np.isfinite(x)]
    if len(clean) == 0:
        return np.array([])
    edges = np.unique(np.quantile(clean, np.linspace(0.0, 1.0, 11)))
    if len(edges) >= 3:
        edges = edges.astype("float64")
        edges[0], edges[-1] = -np.inf, np.inf
        return edges
    nonzero = clean[clean != 0]
    if len(nonzero) < min_nonzero_rows:
        return np.array([])
    ev = np.unique(np.quantile(nonzero, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    if len(ev) < 2:
        return np.array([-np.inf, 0.0, np.inf])
    out = np.unique(np.concatenate([[-np.inf, 0.0], ev[1:-1], [np.inf]]))
    return out if len(out) >= 3 else np.array([])


def stable_across(values: Mapping[str, Any], predicate: Callable[[float], bool],
                  splits: Sequence[str] = EVAL_SPLITS) -> bool:
    """True when every split in ``splits`` has a finite value satisfying ``predicate``."""
    for split in splits:
        v = values.get(split)
        if v is None or not math.isfinite(float(v)) or not predicate(float(v)):
            return False
    return True


def nan_to(value: Any, default: float) -> float:
    """``value`` as float, or ``default`` when it is None/NaN (the original scores' NaN -> constant rule)."""
    if value is None:
        return default
    v = float(value)
    return default if math.isnan(v) else v


def split_min_mean(values: Mapping[str, Any], splits: Sequence[str] = EVAL_SPLITS) -> tuple[float, float]:
    """(min, mean) of the finite values over ``splits``; NaN when a split is missing."""
    vals = [values.get(s) for s in splits]
    if any(v is None or not math.isfinite(float(v)) for v in vals):
        return float("nan"), float("nan")
    arr = np.asarray(vals, dtype="float64")
    return float(arr.min()), float(arr.mean())

"""Entry classifier probes: can a classifier pick a filtered Entry target's top rows? (docs/experiments.md,
"Entry MAE diagnostic" and "Conditional entry probe")

Both experiments fit a classifier (``toolkit.fit_classifier``: balanced LR or HGB) on fit_inner rows for a
derived binary target, score the eval splits and measure the top ``fraction`` of rows by probability
against the realised ``<side>_actual_plan_net_edge_bps``. They share one core (``_probe_rows``: every
``Probe``'s classifier fitted together by ``fits.run_fits``, then a metric row per eval split and top
fraction; ``_candidate_table`` keyed on tune_inner and merged with validation_locked/latest_stress):

* ``diagnose_entry_mae_labels``: target ``mae <= max_mae and max_achievable_net_edge >= min_opp``
  on all fit rows; a one-class target gives a ``SKIPPED_ONE_CLASS_TRAIN`` row per family.
* ``probe_conditional_entry_training``: fit and eval rows are restricted to
  ``max_achievable_net_edge >= condition`` (an oracle future filter: diagnostic only), target
  ``actual_plan_net_edge >= target_edge``; skips are listed in the result.

Decisions: the top rows are ``toolkit.top_indices`` (stable order on ties); brier is computed directly
(mean squared error, defined for one-class splits); a candidate's min/mean over the eval splits is NaN
(score term -999) unless all three splits were measured, so a candidate missing a split never ranks on
the splits it has; the conditional probe also lists eval splits skipped for too few rows (``NOT_ENOUGH_EVAL_ROWS``).
Non-finite features raise DataContractError naming the feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.versions import EVAL_SPLITS, TUNE_SPLIT
from trader_core.errors import DataContractError
from trader_core.experiments.entry_probes_params import ConditionalEntryParams, EntryMaeParams
from trader_core.experiments.fits import FitJob, run_fits
from trader_core.experiments.toolkit import (
    DIAGNOSTIC_ONLY,
    NAN_SCORE,
    ExperimentOutput,
    eval_split_frames,
    finite_matrix,
    fit_rows,
    require_columns,
    top_indices,
)
from trader_core.models.metrics import safe_auc
from trader_core.report import jsonable, markdown_table

SIDES = ("LONG", "SHORT")
OK = "OK"
SKIPPED_ONE_CLASS_TRAIN = "SKIPPED_ONE_CLASS_TRAIN"
NOT_ENOUGH_TRAIN_ROWS = "NOT_ENOUGH_TRAIN_ROWS"
ONE_CLASS_TRAIN = "ONE_CLASS_TRAIN"
NOT_ENOUGH_EVAL_ROWS = "NOT_ENOUGH_EVAL_ROWS"
ORACLE_WARNING = ("warning: condition_opportunity_bps is an oracle future filter; use this only to decide whether "
                  "conditional Entry training is worth implementing")
MAE_TREE_RANDOM_STATE = 23
CONDITIONAL_TREE_RANDOM_STATE = 31
#: Per-split metrics carried into the candidate table as ``<split>_<metric>``.
CARRIED = ("row_count", "positive_rate", "auc", "brier", "constant_brier", "brier_beats_constant", "top_rows",
           "top_target_rate", "all_actual_edge_bps", "top_actual_edge_bps", "top_edge_lift_bps")


# --- shared core ---------------------------------------------------------------------------------------------

def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce")


def _tail_rows(frame: pd.DataFrame, max_rows: int, name: str) -> pd.DataFrame:
    """The last ``max_rows`` rows by event_time (all rows when 0)."""
    if max_rows <= 0 or len(frame) <= max_rows:
        return frame
    require_columns(frame, ["event_time"], name)
    return frame.sort_values("event_time", kind="mergesort").tail(max_rows)


def _metric_row(y: np.ndarray, proba: np.ndarray, auc: float | None, order: np.ndarray, fraction: float,
                edges: pd.Series, top_means: Mapping[str, pd.Series], train_rate: float) -> dict[str, Any]:
    """Probe metrics of one eval split and top fraction; the split's ``auc``, ``order`` (row indices by probability
    descending, stable on ties) and ``edges`` / ``top_means`` columns are computed once per split."""
    idx = order[:max(1, int(len(order) * fraction))] if len(order) else order
    constant = float(np.clip(train_rate, 1e-6, 1 - 1e-6))
    row: dict[str, Any] = {
        "top_fraction": fraction, "row_count": len(y), "positive_rate": float(y.mean()),
        "train_positive_rate": train_rate, "brier": float(np.mean((proba - y) ** 2)),
        "constant_brier": float(np.mean((constant - y) ** 2)), "auc": auc,
        "top_rows": len(idx), "top_target_rate": float(y[idx].mean()),
        "all_actual_edge_bps": float(edges.mean()), "top_actual_edge_bps": float(edges.iloc[idx].mean()),
        **{f"top_{name}": float(values.iloc[idx].mean()) for name, values in top_means.items()},
        "top_probability_min": float(proba[idx].min()), "top_probability_max": float(proba[idx].max()),
    }
    row["brier_beats_constant"] = row["brier"] < row["constant_brier"]
    row["top_edge_lift_bps"] = row["top_actual_edge_bps"] - row["all_actual_edge_bps"]
    row["top_target_lift"] = row["top_target_rate"] - row["positive_rate"]
    return row


@dataclass(frozen=True)
class Probe:
    """One classifier to fit on ``x_train``/``y_train`` and measure on ``evals`` (split -> (frame, x, y)): the top
    rows' mean ``edge`` and the means of ``top_means`` (metric name -> column)."""

    keys: Mapping[str, Any]
    family: str
    random_state: int
    x_train: np.ndarray
    y_train: np.ndarray
    evals: Mapping[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]]
    edge: str
    top_means: Mapping[str, str]


def _probe_rows(items: Sequence[Probe | list[dict[str, Any]]], top_fractions: Sequence[float]) -> list[dict[str, Any]]:
    """Metric rows in ``items`` order: a list of rows is kept as is, a ``Probe`` gives a row per (eval split, top
    fraction). The probes' classifiers are fitted together (``fits.run_fits``)."""
    probes = [item for item in items if isinstance(item, Probe)]
    jobs = [FitJob("classifier", p.family, p.x_train, p.y_train, tuple(x for _, x, _ in p.evals.values()),
                   {"random_state": p.random_state}) for p in probes]
    fitted = dict(zip(map(id, probes), run_fits(jobs)))
    rows: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, Probe):
            rows += item
            continue
        result, train_rate = fitted[id(item)], float(item.y_train.mean())
        for k, (split, (frame, _, y)) in enumerate(item.evals.items()):
            proba = result.positive(k)
            auc, order = safe_auc(y, proba), top_indices(proba, 1.0)
            edges = _numeric(frame, item.edge)
            means = {name: _numeric(frame, column) for name, column in item.top_means.items()}
            for fraction in top_fractions:
                rows.append({**item.keys, "model_family": item.family, "split_id": split, "status": OK,
                             "train_rows": len(item.y_train),
                             **_metric_row(y, proba, auc, order, fraction, edges, means, train_rate)})
    return rows


def _candidate_table(metrics: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Tune-keyed candidates: a row per ``keys`` measured on tune_inner, with ``<split>_<metric>`` per eval split."""
    if metrics.empty or "status" not in metrics.columns:
        return pd.DataFrame()
    ok = metrics[metrics["status"] == OK]
    table = ok.loc[ok["split_id"] == TUNE_SPLIT, [*keys, "train_rows", "train_positive_rate"]]
    for split in EVAL_SPLITS:
        part = ok.loc[ok["split_id"] == split, [*keys, *CARRIED]]
        table = table.merge(part.rename(columns={c: f"{split}_{c}" for c in CARRIED}), on=list(keys), how="left")
    return table.reset_index(drop=True)


def _across(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``<split>_<metric>`` of the three eval splits as float64 (a missing metric, None, becomes NaN)."""
    return table[[f"{split}_{metric}" for split in EVAL_SPLITS]].astype("float64")


def _split_stats(table: pd.DataFrame, metric: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(min, mean, all > 0) of ``metric`` over the eval splits; min/mean NaN unless every split has a value."""
    values = _across(table, metric)
    return values.min(axis=1, skipna=False), values.mean(axis=1, skipna=False), values.gt(0.0).all(axis=1)


def _eval_inputs(frame: pd.DataFrame, name: str) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    """Non-empty eval splits of ``frame`` with their feature matrices."""
    return {s: (part, finite_matrix(part, FEATURE_ORDER, f"{name} {s}"))
            for s, part in eval_split_frames(frame).items() if len(part)}


def _side_columns(side: str) -> tuple[str, str, str]:
    p = side.lower()
    return f"{p}_actual_plan_net_edge_bps", f"{p}_mae_bps", f"{p}_max_achievable_net_edge_bps"


def _report(title: str, intro: Sequence[str], facts: Mapping[str, Any], candidates: pd.DataFrame,
            columns: Sequence[str], head: int) -> str:
    lines = [f"# {title}", "", *intro, ""]
    lines += [f"- {k}: `{v}`" for k, v in facts.items()]
    lines += ["", "## Candidates", ""]
    if candidates.empty:
        lines.append("No candidates.")
    else:
        lines.append(markdown_table(candidates[[c for c in columns if c in candidates.columns]].head(head)))
    return "\n".join(lines) + "\n"


# --- entry MAE diagnostic -----------------------------------------------------------------------------------

def mae_target(frame: pd.DataFrame, side: str, max_mae_bps: float, min_opportunity_bps: float) -> np.ndarray:
    """1 where ``<side>_mae_bps <= max_mae`` and ``<side>_max_achievable_net_edge_bps >= min_opp`` (NaN -> 0)."""
    _, mae, opportunity = _side_columns(side)
    return ((_numeric(frame, mae) <= max_mae_bps) & (_numeric(frame, opportunity) >= min_opportunity_bps)).to_numpy(
        dtype=np.int64)


def mae_target_name(side: str, max_mae_bps: float, min_opportunity_bps: float) -> str:
    return f"{side.lower()}_mae_le_{max_mae_bps:g}_opp_ge_{min_opportunity_bps:g}"


def diagnose_entry_mae_labels(entry_train: pd.DataFrame, params: EntryMaeParams = EntryMaeParams()) -> ExperimentOutput:
    """Entry MAE diagnostic: can the features rank low-drawdown, enough-room Entry rows ahead of the rest?"""
    name = "entry_train"
    require_columns(entry_train, ["split_id", *FEATURE_ORDER, *[c for s in SIDES for c in _side_columns(s)]], name)
    train = _tail_rows(fit_rows(entry_train), params.max_train_rows, name)
    if train.empty:
        raise DataContractError(f"{name}: entry MAE label diagnostic needs fit_inner rows")
    x_train = finite_matrix(train, FEATURE_ORDER, f"{name} fit_inner")
    evals = _eval_inputs(entry_train, name)
    items: list[Probe | list[dict[str, Any]]] = []
    for side in SIDES:
        edge, mae, opportunity = _side_columns(side)
        for max_mae in params.max_mae_bps:
            for min_opp in params.min_opportunity_bps:
                keys = {"side": side, "target_name": mae_target_name(side, max_mae, min_opp),
                        "max_mae_bps": max_mae, "min_opportunity_bps": min_opp}
                y_train = mae_target(train, side, max_mae, min_opp)
                if np.unique(y_train).size < 2:
                    items.append([{**keys, "model_family": f, "status": SKIPPED_ONE_CLASS_TRAIN,
                                   "train_rows": len(y_train), "train_positive_rate": float(y_train.mean())}
                                  for f in params.families])
                    continue
                split_inputs = {s: (part, x, mae_target(part, side, max_mae, min_opp))
                                for s, (part, x) in evals.items()}
                items += [Probe(keys, family, MAE_TREE_RANDOM_STATE, x_train, y_train, split_inputs, edge,
                                {"mae_bps": mae, "opportunity_bps": opportunity}) for family in params.families]
    metrics = pd.DataFrame(_probe_rows(items, params.top_fractions))
    candidates = _mae_candidates(metrics)
    positive = int(candidates["stable_top_edge_positive"].sum()) if len(candidates) else 0
    result = jsonable({
        "experiment": "entry_mae_label_diagnostic", "diagnostic_only": True, "status": DIAGNOSTIC_ONLY,
        "params": asdict(params), "feature_count": len(FEATURE_ORDER), "train_rows": len(train),
        "metric_count": len(metrics), "candidate_count": len(candidates),
        "skipped_one_class_count": int((metrics.get("status") == SKIPPED_ONE_CLASS_TRAIN).sum()) if len(metrics) else 0,
        "positive_top_edge_candidate_count": positive,
        "best_candidate": candidates.iloc[0].to_dict() if len(candidates) else None,
        "selection_rule": "fit on fit_inner; rank the top predicted low-MAE opportunity rows on tune_inner, "
                          "validation_locked and latest_stress by realised actual-plan edge",
    })
    report = _report(
        "Entry MAE label diagnostic",
        [("Diagnostic only, nothing is exported: can the current features pick Entry rows with a small drawdown "
          "and enough room, measured by the realised plan edge?")],
        {k: result[k] for k in ("train_rows", "metric_count", "candidate_count", "positive_top_edge_candidate_count")},
        candidates, ["side", "model_family", "top_fraction", "max_mae_bps", "min_opportunity_bps",
                     *[f"{s}_auc" for s in EVAL_SPLITS], *[f"{s}_top_actual_edge_bps" for s in EVAL_SPLITS],
                     "min_eval_top_edge_bps", "stable_top_edge_positive", "stable_lift",
                     "stable_brier_beats_constant", "diagnostic_score"], 25)
    return ExperimentOutput("entry_mae_label_diagnostic", result, report,
                            {"metrics": metrics, "candidates": candidates})


def _top_edge_stability(table: pd.DataFrame,
                        names: tuple[str, str, str, str]) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Add (min top edge, mean top edge, min AUC, stable positive) under ``names`` and ``stable_lift``."""
    low, mean, positive = _split_stats(table, "top_actual_edge_bps")
    table[names[0]], table[names[1]] = low, mean
    table[names[2]] = _across(table, "auc").min(axis=1, skipna=False)
    table[names[3]] = positive
    table["stable_lift"] = _split_stats(table, "top_edge_lift_bps")[2]
    return low, mean, positive


def _mae_candidates(metrics: pd.DataFrame) -> pd.DataFrame:
    table = _candidate_table(metrics, ["side", "target_name", "model_family", "max_mae_bps", "min_opportunity_bps",
                                       "top_fraction"])
    if table.empty:
        return table
    low, mean, positive = _top_edge_stability(table, ("min_eval_top_edge_bps", "mean_eval_top_edge_bps",
                                                      "min_eval_auc", "stable_top_edge_positive"))
    brier_flags = table[[f"{s}_brier_beats_constant" for s in EVAL_SPLITS]]
    table["stable_brier_beats_constant"] = brier_flags.eq(True).all(axis=1)
    table["diagnostic_score"] = (low.fillna(NAN_SCORE) + 0.25 * mean.fillna(NAN_SCORE)
                                 + 2.0 * table["min_eval_auc"].fillna(0.0) + table["stable_lift"].astype(float))
    return table.sort_values("diagnostic_score", ascending=False, kind="mergesort").reset_index(drop=True)


# --- conditional entry probe --------------------------------------------------------------------------------

def probe_conditional_entry_training(entry_train: pd.DataFrame,
                                     params: ConditionalEntryParams = ConditionalEntryParams()) -> ExperimentOutput:
    """Conditional probe: inside an (oracle) opportunity filter, can a classifier pick rows with plan edge >= target?"""
    name = "entry_train"
    require_columns(entry_train, ["split_id", *FEATURE_ORDER,
                                  *[c for s in SIDES for c in _side_columns(s)[::2]]], name)  # edge, opportunity
    fit = fit_rows(entry_train)
    evals = eval_split_frames(entry_train)
    probes: list[Probe] = []
    skipped: list[dict[str, Any]] = []
    for side in SIDES:
        edge, _, opportunity = _side_columns(side)
        for condition in params.condition_opportunity_bps:
            base = {"side": side, "condition_opportunity_bps": condition}
            train = _tail_rows(fit[_numeric(fit, opportunity) >= condition], params.max_train_rows, name)
            if len(train) < params.min_train_rows:
                skipped.append({**base, "reason": NOT_ENOUGH_TRAIN_ROWS, "train_rows": len(train)})
                continue
            x_train = finite_matrix(train, FEATURE_ORDER, f"{name} fit_inner")
            split_inputs = {}
            for split, part in evals.items():
                part = part[_numeric(part, opportunity) >= condition]
                if len(part) < params.min_eval_rows:
                    skipped.append({**base, "split_id": split, "reason": NOT_ENOUGH_EVAL_ROWS, "eval_rows": len(part)})
                    continue
                split_inputs[split] = (part, finite_matrix(part, FEATURE_ORDER, f"{name} {split}"))
            for target in params.target_edge_bps:
                keys = {**base, "target_edge_bps": target}
                y_train = (_numeric(train, edge) >= target).to_numpy(dtype=np.int64)
                if np.unique(y_train).size < 2:
                    skipped.append({**keys, "reason": ONE_CLASS_TRAIN, "train_rows": len(train),
                                    "train_positive_rate": float(y_train.mean())})
                    continue
                inputs = {s: (part, x, (_numeric(part, edge) >= target).to_numpy(dtype=np.int64))
                          for s, (part, x) in split_inputs.items()}
                probes += [Probe(keys, family, CONDITIONAL_TREE_RANDOM_STATE, x_train, y_train, inputs, edge,
                                 {"opportunity_bps": opportunity}) for family in params.families]
    metrics = pd.DataFrame(_probe_rows(probes, params.top_fractions))
    candidates = _conditional_candidates(metrics)
    result = jsonable({
        "experiment": "conditional_entry_probe", "diagnostic_only": True, "status": DIAGNOSTIC_ONLY,
        "warning": ORACLE_WARNING, "params": asdict(params), "feature_count": len(FEATURE_ORDER),
        "metric_count": len(metrics), "candidate_count": len(candidates),
        "stable_positive_count": int(candidates["stable_positive"].sum()) if len(candidates) else 0,
        "best_candidate": candidates.iloc[0].to_dict() if len(candidates) else None,
        "skipped": skipped,
    })
    report = _report(
        "Conditional Entry probe", [("Diagnostic only, nothing is exported. Fit and eval rows are filtered by the "
                                    "side's future max-achievable edge, simulating a population Direction already "
                                    "screened."), f"**{ORACLE_WARNING}**"],
        {k: result[k] for k in ("metric_count", "candidate_count", "stable_positive_count")}
        | {"skipped": len(skipped)},
        candidates, ["side", "model_family", "condition_opportunity_bps", "target_edge_bps", "top_fraction",
                     *[f"{s}_top_actual_edge_bps" for s in EVAL_SPLITS], "min_top_edge_bps", "min_auc",
                     "stable_positive", "stable_lift", "score"], 30)
    return ExperimentOutput("conditional_entry_probe", result, report, {"metrics": metrics, "candidates": candidates})


def _conditional_candidates(metrics: pd.DataFrame) -> pd.DataFrame:
    table = _candidate_table(metrics, ["side", "model_family", "condition_opportunity_bps", "target_edge_bps",
                                       "top_fraction"])
    if table.empty:
        return table
    low, mean, positive = _top_edge_stability(table, ("min_top_edge_bps", "mean_top_edge_bps", "min_auc",
                                                      "stable_positive"))
    table["score"] = low.fillna(NAN_SCORE) + 0.25 * mean.fillna(NAN_SCORE) + 2.0 * positive.astype(float)
    return table.sort_values("score", ascending=False, kind="mergesort").reset_index(drop=True)

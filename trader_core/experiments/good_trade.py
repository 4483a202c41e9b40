"""Good-trade structure: can the features separate good from bad realised Entry trades? (docs/experiments.md,
"Good-trade structure")

Per side, ``side_frame`` labels every row by its realised ``<side>_actual_plan_net_edge_bps``: good
(>= min_good_edge_bps), breakeven (>= 0) and bad (<= bad_edge_bps). Three views:

* split summary: rows, good/breakeven/bad rates, mean and p50/p90/p99 edge per split;
* single features: the tune_inner AUC of the raw feature vs good_trade fixes ``better_when`` (HIGH if
  AUC >= 0.5, else LOW); each eval split then gets the directional AUC and the top-``top_fractions[0]``
  rows by the feature (in that direction);
* a gradient-boosted tree (HGB, 180 iterations, random_state 71 LONG / 73 SHORT, NaN features allowed)
  fitted on fit_inner good_trade (both sides' trees together, ``fits.run_fits``); per eval split its AUC
  and ``toolkit.top_fraction_metrics`` per fraction.

Decisions: a raw AUC needs ``min_auc_rows`` (1000) rows with a finite feature value and two classes and
two distinct values; the feature score is -999 unless every eval split has a directional AUC and top
rows; infinite feature values raise (NaN is allowed). The report shows the
feature table at ``top_fractions[0]`` (the original looked for ``top10`` columns that never existed). The
tree verdict reads the 0.10 rows: PROMISING_TREE_STRUCTURE when some side has all three eval splits with
min avg edge > 0 and min AUC >= 0.56; NO_MODEL_ROWS when no side could be fitted; NO_TOP10_ROWS when
0.10 is not among the fractions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.versions import EVAL_SPLITS, TRAINING_SPLITS, TUNE_SPLIT
from trader_core.experiments.entry_probes import SIDES
from trader_core.experiments.good_trade_params import GoodTradeParams
from trader_core.experiments.fits import FitJob, run_fits
from trader_core.experiments.toolkit import (
    DIAGNOSTIC_ONLY,
    NAN_SCORE,
    ExperimentOutput,
    finite_matrix,
    require_columns,
    split_min_mean,
    stable_across,
    top_fraction_metrics,
)
from trader_core.models.metrics import safe_auc
from trader_core.report import jsonable, markdown_table

TREE_RANDOM_STATE = {"LONG": 71, "SHORT": 73}
TREE_MAX_ITER = 180
STABLE_FEATURE_AUC = 0.53
PROMISING_TREE_AUC = 0.56
VERDICT_FRACTION = 0.10
PROMISING_TREE_STRUCTURE = "PROMISING_TREE_STRUCTURE"
NO_STABLE_TREE_STRUCTURE = "NO_STABLE_TREE_STRUCTURE"
NO_MODEL_ROWS = "NO_MODEL_ROWS"
NO_TOP10_ROWS = "NO_TOP10_ROWS"


def side_frame(dataset: pd.DataFrame, side: str, min_good_edge_bps: float, bad_edge_bps: float) -> pd.DataFrame:
    """sample_id, split_id, actual_edge_bps, FEATURE_ORDER, side and the good/breakeven/bad flags; NaN edges dropped."""
    edge = f"{side.lower()}_actual_plan_net_edge_bps"
    require_columns(dataset, ["sample_id", "split_id", edge, *FEATURE_ORDER], "entry_train")
    frame = dataset[["sample_id", "split_id", edge, *FEATURE_ORDER]].rename(columns={edge: "actual_edge_bps"})
    frame["actual_edge_bps"] = pd.to_numeric(frame["actual_edge_bps"], errors="coerce")
    frame = frame[frame["actual_edge_bps"].notna()].reset_index(drop=True)
    values = frame["actual_edge_bps"]
    frame["side"] = side
    frame["good_trade"] = (values >= min_good_edge_bps).astype("int8")
    frame["breakeven_trade"] = (values >= 0.0).astype("int8")
    frame["bad_trade"] = (values <= bad_edge_bps).astype("int8")
    return frame


def split_summary(frame: pd.DataFrame, side: str) -> pd.DataFrame:
    rows = []
    for split in TRAINING_SPLITS:
        part = frame[frame["split_id"] == split]
        if part.empty:
            continue
        edge = part["actual_edge_bps"]
        rows.append({"side": side, "split_id": split, "rows": len(part), "good_rate": float(part["good_trade"].mean()),
                     "breakeven_rate": float(part["breakeven_trade"].mean()),
                     "bad_rate": float(part["bad_trade"].mean()), "avg_edge": float(edge.mean()),
                     **{f"p{q}_edge": float(edge.quantile(q / 100)) for q in (50, 90, 99)}})
    return pd.DataFrame(rows)


def _fraction_label(fraction: float) -> str:
    return f"top{fraction * 100:g}"


def _raw_auc(part: pd.DataFrame, feature: str, min_rows: int) -> float | None:
    """AUC of the raw feature vs good_trade on rows with a finite value; None below ``min_rows`` or when degenerate."""
    x = part[feature].to_numpy(dtype="float64")
    keep = np.isfinite(x)
    x, y = x[keep], part["good_trade"].to_numpy()[keep]
    if len(x) < min_rows or np.unique(x).size < 2:
        return None
    return safe_auc(y, x)


def feature_candidates(frame: pd.DataFrame, side: str, params: GoodTradeParams) -> pd.DataFrame:
    """One row per feature with a tune AUC: direction, per-split directional AUC and top rows, flags and score."""
    fraction = params.top_fractions[0]
    label = _fraction_label(fraction)
    parts = {s: frame[frame["split_id"] == s] for s in EVAL_SPLITS}
    outcomes = {s: part[["actual_edge_bps", "good_trade"]] for s, part in parts.items()}
    rows = []
    for feature in FEATURE_ORDER:
        tune_auc = _raw_auc(parts[TUNE_SPLIT], feature, params.min_auc_rows)
        if tune_auc is None:
            continue
        high = tune_auc >= 0.5
        row: dict[str, Any] = {"side": side, "feature": feature, "better_when": "HIGH" if high else "LOW",
                               "tune_raw_auc": tune_auc}
        aucs, top_edges, top_good = {}, {}, {}
        for split, part in parts.items():
            raw = _raw_auc(part, feature, params.min_auc_rows)
            aucs[split] = None if raw is None else (raw if high else 1.0 - raw)
            x = part[feature].to_numpy(dtype="float64")
            finite = outcomes[split][np.isfinite(x)]
            ranking = x[np.isfinite(x)] * (1.0 if high else -1.0)
            top = top_fraction_metrics(finite, ranking, fraction, edge="actual_edge_bps", good="good_trade")
            top_edges[split], top_good[split] = top["avg_edge"], top["good_rate"]
            row |= {f"{split}_directional_auc": aucs[split], f"{split}_{label}_rows": top["rows"],
                    f"{split}_{label}_good_rate": top["good_rate"], f"{split}_{label}_avg_edge": top["avg_edge"]}
        row["min_eval_directional_auc"] = split_min_mean(aucs)[0]
        row["min_top_avg_edge"] = split_min_mean(top_edges)[0]
        row["min_top_good_rate"] = split_min_mean(top_good)[0]
        row["stable_auc"] = stable_across(aucs, lambda v: v >= STABLE_FEATURE_AUC)
        row["stable_positive_top_edge"] = stable_across(top_edges, lambda v: v > 0.0)
        finite_score = math.isfinite(row["min_eval_directional_auc"]) and math.isfinite(row["min_top_avg_edge"])
        score = (10.0 * row["min_eval_directional_auc"] + 0.1 * row["min_top_avg_edge"]
                 + 2.0 * row["stable_auc"] + 3.0 * row["stable_positive_top_edge"])
        row["score"] = score if finite_score else NAN_SCORE
        rows.append(row)
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).sort_values("score", ascending=False, kind="mergesort").reset_index(drop=True)


def tree_model_top(frames: Mapping[str, pd.DataFrame], top_fractions: tuple[float, ...]) -> pd.DataFrame:
    """Tree AUC and top-fraction metrics per side (``frames``: side -> side_frame) and eval split; a side whose
    fit_inner rows are empty or one-class has none. The sides' trees are fitted together (``fits.run_fits``)."""
    sides, jobs, evals = [], [], []
    for side, frame in frames.items():
        train = frame[frame["split_id"] == "fit_inner"]
        y = train["good_trade"].to_numpy()
        if train.empty or np.unique(y).size < 2:
            continue
        parts = {split: part for split in EVAL_SPLITS if len(part := frame[frame["split_id"] == split])}
        x = finite_matrix(train, FEATURE_ORDER, f"{side} good-trade fit_inner", allow_nan=True)
        eval_x = tuple(finite_matrix(part, FEATURE_ORDER, f"{side} good-trade {split}", allow_nan=True)
                       for split, part in parts.items())
        sides.append(side)
        evals.append(parts)
        jobs.append(FitJob("classifier", "tree", x, y, eval_x,
                           {"random_state": TREE_RANDOM_STATE[side], "max_iter": TREE_MAX_ITER}))
    rows = []
    for side, parts, fitted in zip(sides, evals, run_fits(jobs)):
        for k, (split, part) in enumerate(parts.items()):
            proba = fitted.positive(k)
            auc = safe_auc(part["good_trade"].to_numpy(), proba)
            for fraction in top_fractions:
                rows.append({"side": side, "split_id": split, "model": "HistGradientBoostingClassifier", "auc": auc,
                             "top_fraction": fraction,
                             **top_fraction_metrics(part, proba, fraction, edge="actual_edge_bps", good="good_trade")})
    return pd.DataFrame(rows)


def tree_verdict(model_rows: pd.DataFrame) -> dict[str, Any]:
    if model_rows.empty:
        return {"status": NO_MODEL_ROWS, "reason": "no side had fit_inner rows with both classes to train the tree"}
    top = model_rows[np.isclose(model_rows["top_fraction"].to_numpy(dtype=float), VERDICT_FRACTION)]
    if top.empty:
        return {"status": NO_TOP10_ROWS, "reason": "0.10 is not among the top fractions"}
    promising = []
    for side, part in top.groupby("side", sort=True):
        by_split = part.set_index("split_id")
        edges = by_split["avg_edge"].to_dict()
        aucs = by_split["auc"].to_dict()
        if stable_across(edges, lambda v: v > 0.0) and stable_across(aucs, lambda v: v >= PROMISING_TREE_AUC):
            promising.append(str(side))
    if promising:
        return {"status": PROMISING_TREE_STRUCTURE, "promising_sides": promising,
                "reason": f"tree top 10% avg edge > 0 and AUC >= {PROMISING_TREE_AUC} on all eval splits for "
                          f"{promising}"}
    return {"status": NO_STABLE_TREE_STRUCTURE, "promising_sides": [],
            "reason": "no side's tree top 10% is positive with enough AUC on tune, validation and stress together"}


def diagnose_good_trade_structure(entry_train: pd.DataFrame,
                                  params: GoodTradeParams = GoodTradeParams()) -> ExperimentOutput:
    """The good-trade structure experiment on the entry dataset."""
    require_columns(entry_train, ["sample_id", "split_id", *FEATURE_ORDER, "long_actual_plan_net_edge_bps",
                                  "short_actual_plan_net_edge_bps"], "entry_train")
    frames = {side: side_frame(entry_train, side, params.min_good_edge_bps, params.bad_edge_bps) for side in SIDES}
    summary = pd.concat([split_summary(f, s) for s, f in frames.items()], ignore_index=True)
    features = pd.concat([feature_candidates(f, s, params) for s, f in frames.items()], ignore_index=True)
    if len(features):
        features = features.sort_values("score", ascending=False, kind="mergesort").reset_index(drop=True)
    model_rows = tree_model_top(frames, params.top_fractions)
    verdict = tree_verdict(model_rows)
    result = jsonable({
        "experiment": "good_trade_structure", "diagnostic_only": True, "status": DIAGNOSTIC_ONLY,
        "params": asdict(params), "feature_count": len(FEATURE_ORDER), "feature_candidate_count": len(features),
        "stable_feature_count": int(features["stable_auc"].sum()) if len(features) else 0,
        "stable_positive_top_feature_count": int(features["stable_positive_top_edge"].sum()) if len(features) else 0,
        "tree_model_verdict": verdict, "verdict": verdict["status"],
    })
    return ExperimentOutput("good_trade_structure", result, _report(result, summary, features, model_rows, params),
                            {"split_summary": summary, "feature_candidates": features, "tree_model_top": model_rows})


def _report(result: dict[str, Any], summary: pd.DataFrame, features: pd.DataFrame, model_rows: pd.DataFrame,
            params: GoodTradeParams) -> str:
    label = _fraction_label(params.top_fractions[0])
    columns = ["side", "feature", "better_when", "min_eval_directional_auc",
               *[f"{s}_{label}_avg_edge" for s in EVAL_SPLITS], "min_top_avg_edge", "min_top_good_rate",
               "stable_auc", "stable_positive_top_edge", "score"]
    feature_table = features[[c for c in columns if c in features.columns]].head(25) if len(features) else features
    model_table = (model_rows.sort_values(["side", "top_fraction", "split_id"], kind="mergesort")
                   if len(model_rows) else model_rows)
    lines = [
        "# Good-trade structure", "",
        ("Diagnostic only, nothing is exported: can the current features separate realised good Entry trades "
        "from bad ones?"), "",
        f"- good trade: actual plan net edge >= `{params.min_good_edge_bps}` bps",
        f"- bad trade: actual plan net edge <= `{params.bad_edge_bps}` bps",
        f"- tree verdict: `{result['verdict']}` ({result['tree_model_verdict']['reason']})", "",
        "## Split summary", "", markdown_table(summary), "",
        "## Single features", "",
        (f"- features with a stable AUC (>= {STABLE_FEATURE_AUC} on all eval splits): "
         f"`{result['stable_feature_count']}`"),
        (f"- features whose {label} rows have a positive avg edge on all eval splits: "
        f"`{result['stable_positive_top_feature_count']}`"), "",
        markdown_table(feature_table), "",
        "## Tree model top rows", "", markdown_table(model_table),
    ]
    return "\n".join(lines) + "\n"

"""Entry feature and condition-pair screens on the entry dataset (docs/experiments.md, both "Entry ... screen").

Both screens cut every FEATURE_ORDER feature into buckets whose edges are learned on fit_inner only
(``toolkit.bucket_edges``; a feature with fewer than 3 edges is skipped) and assigned to all rows with
``pd.cut(include_lowest=True, duplicates="drop")``. Returns are always the **actual price-plan** net edge
``<side>_actual_plan_net_edge_bps`` (``screen_edge_column``); the expected-edge column is never accepted.
Rows whose edge (or, for the pair screen, MAE) is not finite are left out of that side. Lifts are
differences from the split's baseline (all rows of the side in that split): edge and MAE lifts in bps,
positive-rate lift in rate points. Bucket statistics are grouped with ``np.bincount``; the pair loop runs
over at most 32*31/2 seed pairs per side with numpy boolean masks.

Entry feature screen decisions:

* a candidate is a (feature, bucket, side) with >= ``min_bucket_rows`` tune_inner rows and a positive tune
  edge lift; it is checked on validation_locked and latest_stress;
* ``stable_positive_edge`` = average net edge > 0 on tune_inner, validation_locked and latest_stress
  (the original rule), ``stable_lift`` = edge lift > 0 on all three; candidates are ranked by the minimum edge over the
  three splits (``min_eval_edge_bps``, NaN last), then by the tune edge;
* files: ``entry_feature_screen_{bucket_metrics,candidates}.csv``, ``_report.md`` and ``_result.json``.

**Significance (added to the original rule).** Both screens test hundreds of buckets or pairs, so "edge > 0 on three
splits" happens by chance: at signal 0 on the synthetic market (seed 7) that rule alone found 2 "stable"
pairs with edges of 0.2-1.3 bps over ~150-250 rows. A candidate is therefore counted as stable only when,
in addition, its edge t-statistic (mean / (sd / sqrt(rows))) is >= ``MIN_EDGE_T`` (2) on every eval split
(``significant_edge``). Overlapping label windows make that t-statistic optimistic, so this is a minimum
bar, not a significance test. ``spec_stable_candidate_count`` keeps the count without the bar for comparison.

Condition-pair screen (seeds on tune_inner, pairs of seeds on different features, candidates
merged with validation_locked and latest_stress); files ``entry_condition_pair_screen_{seeds,metrics,
candidates}.csv``, ``_report.md`` and ``_result.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.labels import SIDES
from trader_core.contracts.versions import (
    EVAL_SPLITS,
    FIT_SPLIT,
    TRAINING_SPLITS,
    TUNE_SPLIT,
)
from trader_core.experiments.entry_screens_params import FeatureScreenParams, PairScreenParams
from trader_core.experiments.plan_grid import pivot_by_split
from trader_core.experiments.toolkit import (
    DIAGNOSTIC_ONLY,
    NAN_SCORE,
    ExperimentOutput,
    bucket_edges,
    require_columns,
)
from trader_core.report import jsonable, markdown_table

FEATURE_SCREEN = "entry_feature_screen"
PAIR_SCREEN = "entry_condition_pair_screen"
_SPLITS = TRAINING_SPLITS


def screen_edge_column(ds: pd.DataFrame, side: str) -> str:
    """``<side>_actual_plan_net_edge_bps``; ValueError when absent (the expected edge is never a substitute)."""
    column = f"{side.lower()}_actual_plan_net_edge_bps"
    if column not in ds.columns:
        raise ValueError(f"entry dataset: missing {column!r}; the screens use the actual price-plan edge and never "
                         f"{side.lower()}_expected_net_edge_bps")
    return column


# ----------------------------------------------------------------------------------------- buckets
@dataclass(frozen=True)
class FeatureBuckets:
    """Fit-learned edges of one feature and every row's bucket code (-1: no bucket)."""

    feature: str
    edges: np.ndarray
    codes: np.ndarray

    @property
    def count(self) -> int:
        return len(self.edges) - 1

    def bounds(self, bucket: int) -> tuple[float, float]:
        return float(self.edges[bucket]), float(self.edges[bucket + 1])

    def condition(self, bucket: int) -> str:
        low, high = self.bounds(bucket)
        return f"{low:g} < {self.feature} <= {high:g}"


def feature_buckets(ds: pd.DataFrame, features: Sequence[str] = FEATURE_ORDER) -> list[FeatureBuckets]:
    """Buckets of each feature with >= 3 fit_inner edges (docs/experiments.md, "Shared toolkit")."""
    fit = ds["split_id"].to_numpy() == FIT_SPLIT
    out = []
    for feature in features:
        values = ds[feature].to_numpy(dtype="float64", na_value=np.nan)
        edges = bucket_edges(values[fit])
        if len(edges) < 3:
            continue
        codes = pd.cut(values, edges, include_lowest=True, duplicates="drop", labels=False)
        out.append(FeatureBuckets(feature, edges, np.where(np.isnan(codes), -1, codes).astype(np.int64)))
    return out


def _split_codes(ds: pd.DataFrame) -> np.ndarray:
    """Index into ``_SPLITS`` per row, -1 for any other split id."""
    return pd.Categorical(ds["split_id"].astype("str"), categories=list(_SPLITS)).codes.astype(np.int64)


def _grouped_means(split: np.ndarray, bucket: np.ndarray, n_buckets: int,
                   values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per (split, bucket) row count and mean of each value: arrays of shape (len(_SPLITS), n_buckets)."""
    ok = (split >= 0) & (bucket >= 0)
    key = split[ok] * n_buckets + bucket[ok]
    size = len(_SPLITS) * n_buckets
    rows = np.bincount(key, minlength=size).astype("float64")
    out = {"rows": rows.reshape(len(_SPLITS), n_buckets)}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, v in values.items():
            out[name] = (np.bincount(key, weights=v[ok], minlength=size) / rows).reshape(len(_SPLITS), n_buckets)
    return out


def _side_data(ds: pd.DataFrame, side: str, *, with_mae: bool) -> dict[str, np.ndarray]:
    """Edge, target (and MAE) of one side as float arrays, with the rows that carry finite values."""
    p = side.lower()
    data = {"edge": ds[screen_edge_column(ds, side)].to_numpy(dtype="float64", na_value=np.nan),
            "target": ds[f"{p}_entry_target"].to_numpy(dtype="float64", na_value=np.nan)}
    if with_mae:
        data["mae"] = ds[f"{p}_mae_bps"].to_numpy(dtype="float64", na_value=np.nan)
    valid = np.isfinite(data["edge"]) & (np.isfinite(data["mae"]) if with_mae else True)
    return {**data, "valid": valid}


def _baselines(split: np.ndarray, data: dict[str, np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Per split (index into ``_SPLITS``): rows and mean of ``names`` over the side's valid rows."""
    stats = _grouped_means(np.where(data["valid"], split, -1), np.zeros(len(split), dtype=np.int64), 1,
                           {n: np.nan_to_num(data[n]) for n in names})
    return {k: v[:, 0] for k, v in stats.items()}


def _edge_for_input(ds: pd.DataFrame) -> dict[str, str]:
    return {side: screen_edge_column(ds, side) for side in SIDES}


# ---------------------------------------------------------------------------------- feature screen
MIN_EDGE_T = 2.0


def _t_stat(mean: np.ndarray, mean_sq: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """mean / (sample sd / sqrt(rows)); +inf for a positive mean with zero spread, NaN below 2 rows."""
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(mean_sq - mean**2, 0.0) * rows / (rows - 1)
        t = mean / np.sqrt(var / rows)
    return np.where(rows >= 2, t, np.nan)


def _stability(wide: pd.DataFrame, edge: str, lift: str, rows: str) -> pd.DataFrame:
    """Flags and eval aggregates over the three eval splits (NaN fails every flag)."""
    edges = wide[[f"{edge}_{s}" for s in EVAL_SPLITS]]
    wide["stable_positive_edge"] = (edges > 0).all(axis=1)
    wide["significant_edge"] = (wide[[f"edge_t_stat_{s}" for s in EVAL_SPLITS]] >= MIN_EDGE_T).all(axis=1)
    wide["stable_lift"] = (wide[[f"{lift}_{s}" for s in EVAL_SPLITS]] > 0).all(axis=1)
    wide["min_eval_edge_bps"] = edges.min(axis=1, skipna=False)
    wide["mean_eval_edge_bps"] = edges.mean(axis=1, skipna=False)
    wide["min_eval_rows"] = wide[[f"{rows}_{s}" for s in EVAL_SPLITS]].fillna(0).min(axis=1).astype(np.int64)
    return wide


def screen_entry_features(ds: pd.DataFrame, params: FeatureScreenParams | None = None) -> ExperimentOutput:
    """Feature screen: per (feature, fit bucket, side) edge metrics on every split; tune-picked candidates."""
    params = params or FeatureScreenParams()
    edge_source = _edge_for_input(ds)
    require_columns(ds, ["split_id", *FEATURE_ORDER, "long_entry_target", "short_entry_target"], "entry dataset")
    split = _split_codes(ds)
    buckets = feature_buckets(ds)
    parts, baselines = [], {}
    for side in SIDES:
        data = _side_data(ds, side, with_mae=False)
        base = _baselines(split, data, ("target", "edge"))
        baselines[side] = {s: {"rows": int(base["rows"][i]), "positive_rate": base["target"][i],
                               "avg_edge_bps": base["edge"][i]} for i, s in enumerate(_SPLITS)}
        for b in buckets:
            stats = _grouped_means(np.where(data["valid"], split, -1), b.codes, b.count,
                                   {"target": data["target"], "edge": data["edge"], "edge_sq": data["edge"] ** 2})
            for i, s in enumerate(_SPLITS):
                parts.append(pd.DataFrame({
                    "feature": b.feature, "bucket": np.arange(b.count), "bucket_low": b.edges[:-1],
                    "bucket_high": b.edges[1:], "side": side, "split_id": s, "rows": stats["rows"][i].astype(np.int64),
                    "positive_rate": stats["target"][i], "positive_rate_lift": stats["target"][i] - base["target"][i],
                    "avg_edge_bps": stats["edge"][i], "edge_lift_bps": stats["edge"][i] - base["edge"][i],
                    "edge_t_stat": _t_stat(stats["edge"][i], stats["edge_sq"][i], stats["rows"][i])}))
    metrics = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["feature", "bucket", "bucket_low", "bucket_high", "side", "split_id", "rows", "positive_rate",
                 "positive_rate_lift", "avg_edge_bps", "edge_lift_bps", "edge_t_stat"])
    candidates = _feature_candidates(metrics, params.min_bucket_rows)
    best = None if candidates.empty else {k: jsonable(v) for k, v in candidates.iloc[0].to_dict().items()}
    spec_stable = int(candidates["stable_positive_edge"].sum()) if len(candidates) else 0
    stable = int((candidates["stable_positive_edge"] & candidates["significant_edge"]).sum()) if len(candidates) else 0
    rule = (f"candidate = (feature, fit_inner bucket, side) with >= {params.min_bucket_rows} tune_inner rows and "
            "tune edge lift > 0; stable = avg actual-plan net edge > 0 and edge t-stat >= "
            f"{MIN_EDGE_T:g} on tune_inner, validation_locked and latest_stress; ranked by min_eval_edge_bps")
    result = {
        "name": FEATURE_SCREEN, "status": DIAGNOSTIC_ONLY, "diagnostic_only": True, "params": asdict(params),
        "min_bucket_rows": params.min_bucket_rows, "edge_source_by_side": edge_source, "selection_rule": rule,
        "bucketed_feature_count": len(buckets), "bucket_metric_count": len(metrics),
        "candidate_count": len(candidates), "stable_candidate_count": stable,
        "spec_stable_candidate_count": spec_stable, "baselines": baselines, "best_candidate": best,
    }
    columns = ["feature", "bucket_low", "bucket_high", "side", "rows_tune_inner", "avg_edge_bps_tune_inner",
               "avg_edge_bps_validation_locked", "avg_edge_bps_latest_stress", "min_eval_edge_bps",
               "stable_positive_edge", "significant_edge", "stable_lift"]
    report = (f"# Entry feature screen ({DIAGNOSTIC_ONLY})\n\nEdge: actual price-plan net edge "
              f"({', '.join(edge_source.values())}). Buckets learned on {FIT_SPLIT} ({len(buckets)} features "
              f"bucketed).\n\nSelection rule: {rule}.\n\n{len(candidates)} candidates, {stable} with a stable positive "
              "edge on all three splits ({spec_stable} by the spec's rule without the t-stat bar). A screen, not a model: candidates need a formal test before any use.\n\n"
              "## Top 30 candidates\n\n" + markdown_table(candidates.head(30), columns if len(candidates) else None))
    return ExperimentOutput(FEATURE_SCREEN, result, report, {"bucket_metrics": metrics, "candidates": candidates})


def _feature_candidates(metrics: pd.DataFrame, min_rows: int) -> pd.DataFrame:
    key = ["feature", "bucket", "bucket_low", "bucket_high", "side"]
    tune = metrics[(metrics["split_id"] == TUNE_SPLIT) & (metrics["rows"] >= min_rows) & (metrics["edge_lift_bps"] > 0)]
    if tune.empty:
        return pd.DataFrame(columns=[*key, "stable_positive_edge", "significant_edge", "stable_lift",
                                     "min_eval_edge_bps"])
    picked = metrics.merge(tune[["feature", "bucket", "side"]], on=["feature", "bucket", "side"])
    wide = pivot_by_split(picked, key, ["rows", "avg_edge_bps", "edge_lift_bps", "positive_rate", "edge_t_stat"],
                          EVAL_SPLITS)
    wide = _stability(wide, "avg_edge_bps", "edge_lift_bps", "rows")
    return wide.sort_values(["min_eval_edge_bps", "avg_edge_bps_tune_inner"], ascending=False, na_position="last",
                            kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------- condition pairs
_PAIR_METRICS = ("rows", "positive_rate", "positive_rate_lift", "avg_edge_bps", "edge_lift_bps", "avg_mae_bps",
                 "mae_lift_bps", "median_edge_bps", "edge_t_stat")


def _seeds(buckets: list[FeatureBuckets], split: np.ndarray, data: dict[str, np.ndarray],
           base: dict[str, np.ndarray], side: str, params: PairScreenParams) -> pd.DataFrame:
    """Tune (feature, bucket) conditions with enough rows: top per feature, then top overall by edge lift."""
    t = _SPLITS.index(TUNE_SPLIT)
    tune_split = np.where(data["valid"] & (split == t), split, -1)
    parts = []
    for i, b in enumerate(buckets):
        s = _grouped_means(tune_split, b.codes, b.count, {k: data[k] for k in ("target", "edge", "mae")})
        parts.append(pd.DataFrame({
            "side": side, "feature_index": i, "feature": b.feature, "bucket": np.arange(b.count),
            "bucket_low": b.edges[:-1], "bucket_high": b.edges[1:], "rows": s["rows"][t].astype(np.int64),
            "positive_rate": s["target"][t], "positive_rate_lift": s["target"][t] - base["target"][t],
            "avg_edge_bps": s["edge"][t], "edge_lift_bps": s["edge"][t] - base["edge"][t],
            "avg_mae_bps": s["mae"][t], "mae_lift_bps": s["mae"][t] - base["mae"][t]}))
    if not parts:
        return pd.DataFrame()
    seeds = pd.concat(parts, ignore_index=True)
    seeds = seeds[seeds["rows"] >= params.min_seed_rows]
    order = ["edge_lift_bps", "avg_edge_bps", "rows"]
    seeds = seeds.sort_values(order, ascending=False, kind="stable")
    seeds = seeds.groupby("feature", sort=False).head(params.max_buckets_per_feature)
    return seeds.head(params.max_seed_conditions_per_side).reset_index(drop=True)


def _subset_metrics(m: np.ndarray, edge: np.ndarray, target: np.ndarray, mae: np.ndarray,
                    base: dict[str, float]) -> dict[str, float]:
    n = int(m.sum())
    if n == 0:
        return {"rows": 0, **{k: np.nan for k in _PAIR_METRICS[1:]}}
    e, y, a = edge[m], target[m], mae[m]
    return {"rows": n, "positive_rate": float(y.mean()), "positive_rate_lift": float(y.mean()) - base["target"],
            "avg_edge_bps": float(e.mean()), "edge_lift_bps": float(e.mean()) - base["edge"],
            "avg_mae_bps": float(a.mean()), "mae_lift_bps": float(a.mean()) - base["mae"],
            "median_edge_bps": float(np.median(e)),
            "edge_t_stat": float(_t_stat(np.array(e.mean()), np.array((e**2).mean()), np.array(float(n))))}


def _pair_rows(seeds: pd.DataFrame, buckets: list[FeatureBuckets], split: np.ndarray, data: dict[str, np.ndarray],
               base: dict[str, np.ndarray], side: str, min_pair_rows: int) -> list[dict[str, Any]]:
    """Metric rows (one per eval split) of every seed pair on different features with enough tune rows."""
    rows_of = {s: np.flatnonzero(data["valid"] & (split == _SPLITS.index(s))) for s in EVAL_SPLITS}
    values = {s: {k: data[k][r] for k in ("edge", "target", "mae")} for s, r in rows_of.items()}
    base_of = {s: {k: float(base[k][_SPLITS.index(s)]) for k in ("edge", "target", "mae")} for s in EVAL_SPLITS}
    seed_list = list(seeds.itertuples(index=False))  # <= max_seed_conditions_per_side seeds, not market rows
    masks = [{s: buckets[q.feature_index].codes[r] == q.bucket for s, r in rows_of.items()} for q in seed_list]
    out = []
    for i, j in combinations(range(len(seed_list)), 2):
        a, b = seed_list[i], seed_list[j]
        if a.feature == b.feature:
            continue
        pair = {s: masks[i][s] & masks[j][s] for s in EVAL_SPLITS}
        if int(pair[TUNE_SPLIT].sum()) < min_pair_rows:
            continue
        ident = {"side": side, "pair_id": f"{a.feature}#{a.bucket}&{b.feature}#{b.bucket}",
                 "feature_a": a.feature, "bucket_a": a.bucket,
                 "condition_a": buckets[a.feature_index].condition(a.bucket), "feature_b": b.feature,
                 "bucket_b": b.bucket, "condition_b": buckets[b.feature_index].condition(b.bucket)}
        for s in EVAL_SPLITS:
            v = values[s]
            out.append({**ident, "split_id": s,
                        **_subset_metrics(pair[s], v["edge"], v["target"], v["mae"], base_of[s])})
    return out


def screen_entry_condition_pairs(ds: pd.DataFrame, params: PairScreenParams | None = None) -> ExperimentOutput:
    """Pair screen: pairs of tune-selected bucket conditions, checked on validation_locked and latest_stress."""
    params = params or PairScreenParams()
    edge_source = _edge_for_input(ds)
    require_columns(ds, ["split_id", *FEATURE_ORDER, "long_entry_target", "short_entry_target", "long_mae_bps",
                         "short_mae_bps"], "entry dataset")
    split = _split_codes(ds)
    buckets = feature_buckets(ds)
    seed_parts, metric_rows, baselines = [], [], {}
    for side in SIDES:
        data = _side_data(ds, side, with_mae=True)
        base = _baselines(split, data, ("target", "edge", "mae"))
        baselines[side] = {s: {"rows": int(base["rows"][i]), "positive_rate": base["target"][i],
                               "avg_edge_bps": base["edge"][i], "avg_mae_bps": base["mae"][i]}
                           for i, s in enumerate(_SPLITS)}
        seeds = _seeds(buckets, split, data, base, side, params)
        if seeds.empty:
            continue
        seed_parts.append(seeds.assign(seed_rank=np.arange(1, len(seeds) + 1)))
        metric_rows += _pair_rows(seeds, buckets, split, data, base, side, params.min_pair_rows)
    seeds = pd.concat(seed_parts, ignore_index=True).drop(columns="feature_index") if seed_parts else pd.DataFrame()
    metrics = pd.DataFrame(metric_rows)
    candidates = _pair_candidates(metrics, params.min_pair_rows)
    spec_flags = candidates["stable_positive_edge"] & candidates["stable_lift"] if len(candidates) else pd.Series([])
    spec_stable = int(spec_flags.sum())
    stable = int((spec_flags & candidates["significant_edge"]).sum()) if len(candidates) else 0
    usable = int(candidates["usable_candidate"].sum()) if len(candidates) else 0
    best = None if candidates.empty else {k: jsonable(v) for k, v in candidates.iloc[0].to_dict().items()}
    result = {
        "name": PAIR_SCREEN, "status": DIAGNOSTIC_ONLY, "diagnostic_only": True, "params": asdict(params),
        "edge_source_by_side": edge_source, "bucketed_feature_count": len(buckets),
        "seed_count_by_side": {s: int((seeds["side"] == s).sum()) if len(seeds) else 0 for s in SIDES},
        "pair_metric_count": len(metrics), "candidate_count": len(candidates),
        "stable_candidate_count": stable, "spec_stable_candidate_count": spec_stable,
        "usable_candidate_count": usable, "baselines": baselines,
        "best_candidate": best,
    }
    columns = ["side", "condition_a", "condition_b", "rows_tune_inner", "avg_edge_bps_tune_inner",
               "avg_edge_bps_validation_locked", "avg_edge_bps_latest_stress", "min_eval_edge_bps", "min_eval_rows",
               "usable_candidate", "screen_score"]
    report = (f"# Entry condition-pair screen ({DIAGNOSTIC_ONLY})\n\nEdge: actual price-plan net edge. Seeds: "
              f"tune_inner buckets with >= {params.min_seed_rows} rows (top {params.max_buckets_per_feature} per "
              f"feature, top {params.max_seed_conditions_per_side} per side by edge lift); pairs with >= "
              f"{params.min_pair_rows} tune rows.\n\n{len(candidates)} candidates, {stable} stable (positive edge "
              f"with t-stat >= {MIN_EDGE_T:g} and lift on {', '.join(EVAL_SPLITS)}; {spec_stable} by the spec's rule "
              f"without the t-stat bar), {usable} usable (also >= {params.min_pair_rows} rows on "
              "each). A screen, not a model: candidates need a formal test before any use.\n\n"
              "## Top 30 candidates\n\n" + markdown_table(candidates.head(30), columns if len(candidates) else None))
    return ExperimentOutput(PAIR_SCREEN, result, report,
                            {"seeds": seeds, "metrics": metrics, "candidates": candidates})


def _pair_candidates(metrics: pd.DataFrame, min_pair_rows: int) -> pd.DataFrame:
    if metrics.empty:
        return pd.DataFrame(columns=["side", "pair_id", "stable_positive_edge", "significant_edge", "stable_lift",
                                     "usable_candidate", "screen_score"])
    key = ["side", "pair_id", "feature_a", "bucket_a", "condition_a", "feature_b", "bucket_b", "condition_b"]
    wide = _stability(pivot_by_split(metrics, key, _PAIR_METRICS, EVAL_SPLITS), "avg_edge_bps", "edge_lift_bps",
                      "rows")
    wide = wide[wide[f"rows_{TUNE_SPLIT}"] >= min_pair_rows]
    wide["stable_enough_rows"] = wide["min_eval_rows"] >= min_pair_rows
    wide["usable_candidate"] = (wide["stable_positive_edge"] & wide["significant_edge"] & wide["stable_lift"]
                                & wide["stable_enough_rows"])
    wide["screen_score"] = (wide["min_eval_edge_bps"].fillna(NAN_SCORE) + 0.25 * wide["mean_eval_edge_bps"].fillna(
        NAN_SCORE) + 2 * wide["stable_lift"].astype(float) + wide["stable_enough_rows"].astype(float))
    return wide.sort_values("screen_score", ascending=False, kind="stable").reset_index(drop=True)

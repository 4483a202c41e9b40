"""Monitoring stages (the feedback loop): reference profile, shadow scoring, drift, champion vs challenger, report.

Definitions used by every stage here:

* **incumbent**: the champion of the run's model line (``release.model_line``) at the time this run is judged,
  never this run's own release (on a re-run after promotion the previous champion is the incumbent again),
  so re-runs decide the same way; a champion of another line is never compared with.
* **newest window**: ``trader_core.monitoring.window.newest_window`` (a retrain run's newly landed month).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from trader_core import io, layout, release
from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import LATEST_STRESS_SPLIT
from trader_core.labels.datasets import trainable_features
from trader_core.models.inference import InferenceEngine
from trader_core.monitoring import challenger as cc
from trader_core.monitoring import drift as dr
from trader_core.monitoring.drift import reference_profile
from trader_core.monitoring.shadow import Bundle, claimed, decay, evaluate_bundle
from trader_core.monitoring.window import newest_window
from trader_core.plots import psi_bar_png, reliability_png
from trader_core.pm.config import PMConfig
from trader_core.report import markdown_table, png_markdown
from trader_core.run_context import RunContext
from trader_core.stages.result import StageResult

PROFILE_FILE = layout.ARTIFACT_PATHS["reference_profile"]
SHADOW_DIR = "monitoring/shadow"
DRIFT_DIR = "monitoring/drift"
REPORT_FILE = "monitoring/monitoring_report.md"
DECAY_COLUMNS = ["metric", "claimed_validation_locked", "shadow", "change"]
SIDE_COLUMNS = ["side", "direction_auc", "entry_auc", "entry_ece", "mean_entry_prob", "entry_target_rate",
                "mean_predicted_edge_bps", "mean_realized_edge_bps", "predicted_realized_edge_corr",
                "top_decile_realized_edge_bps"]


def incumbent_path(home: Path, run_id: str, line: str) -> Path | None:
    """The line's champion release to judge ``run_id`` against (never a release of ``run_id`` itself)."""
    pointer = release.champion(home, line)
    if not pointer:
        return None
    root = release.releases_root(home)
    for version in [pointer["version"], *pointer.get("previous", [])]:
        if io.read_json(root / version / release.MANIFEST)["run_id"] != run_id:
            return root / version
    return None


def run_bundle(run_dir: Path, pm_doc: dict[str, Any], price_plan: PricePlan) -> Bundle:
    """This run's own models, PM config (of the PM search's document) and price plan as a Bundle (the challenger)."""
    order = io.read_json(run_dir / layout.FEATURE_ORDER_FILE)
    return Bundle(name=f"run {run_dir.name}", engine=InferenceEngine.from_bundle(run_dir / "model", feature_order=order),
                  pm_config=PMConfig.from_json(pm_doc["config"]), price_plan=price_plan, model_manifest={},
                  backtest={}, run_spec={})


def reference_profile_stage(*, features: pd.DataFrame, direction_train: pd.DataFrame,
                            entry_train: pd.DataFrame) -> StageResult:
    """The fit_inner profile shipped in the release bundle, so drift is measured against the champion's data."""
    profile = reference_profile(trainable_features(features), direction_train, entry_train)
    return StageResult(value=profile, figures={"rows": profile["rows"], "label_rates": profile["label_rates"]})


def shadow_stage(*, ctx: RunContext, features: pd.DataFrame, direction_train: pd.DataFrame,
                 entry_train: pd.DataFrame, entry_labels: pd.DataFrame) -> StageResult:
    """The incumbent scores the newest window; realized outcomes, calibration and its PM trades."""
    result = _shadow(run_dir=ctx.run_dir, path=incumbent_path(ctx.home, ctx.run_id, release.model_line(ctx.spec).name),
                     features=features, direction_train=direction_train, entry_train=entry_train,
                     entry_labels=entry_labels)
    figures = {"status": result["status"], "window": result["window"]}
    if result["status"] != "SCORED":
        return StageResult(value=result, figures=figures)
    return StageResult(value=result,
                       figures={**figures, "champion": result["champion"],
                                "in_sample_warning": result["in_sample_warning"]},
                       reports={"decay": markdown_table(result["decay"], DECAY_COLUMNS)},
                       images={"reliability": ctx.run_dir / result["reliability_plot"]})


def _shadow(*, run_dir: Path, path: Path | None, features: pd.DataFrame, direction_train: pd.DataFrame,
            entry_train: pd.DataFrame, entry_labels: pd.DataFrame) -> dict[str, Any]:
    """The shadow-scoring document of the incumbent release at ``path`` (None: no champion yet)."""
    rows, window = newest_window(features)
    if path is None:
        return {"status": "NO_CHAMPION", "window": window, "rows": int(len(rows))}
    bundle = Bundle.from_release(path)
    summary, tables = evaluate_bundle(bundle, rows, direction_train, entry_train, entry_labels)
    out = run_dir / SHADOW_DIR
    for name, table in tables.items():
        io.write_parquet(out / f"{name}.parquet", table)
    plot = out / "reliability.png"
    reliability_png(plot, {f"{s} entry": tables[f"{s}_entry_reliability"] for s in ("long", "short")},
                    f"{bundle.name} on {window}")
    trained = bundle.run_spec.get("start"), bundle.run_spec.get("end")
    first = str(pd.to_datetime(rows["event_time"], utc=True).min())
    overlap = trained[1] is not None and pd.Timestamp(trained[1], tz="UTC") > pd.Timestamp(first)
    return {"status": "SCORED", "champion": bundle.name, "window": window, "summary": summary,
            "claimed": claimed(bundle), "decay": decay(claimed(bundle), summary),
            "champion_window": {"start": trained[0], "end": trained[1]},
            "in_sample_warning": bool(overlap), "reliability_plot": str(plot.relative_to(run_dir)),
            "tables": {k: f"{SHADOW_DIR}/{k}.parquet" for k in tables}}


def drift_stage(*, ctx: RunContext, own_profile: dict[str, Any], features: pd.DataFrame,
                direction_train: pd.DataFrame, entry_train: pd.DataFrame) -> StageResult:
    """PSI per feature and label-rate drift of the newest window against the incumbent's profile."""
    result = _drift(run_dir=ctx.run_dir, path=incumbent_path(ctx.home, ctx.run_id, release.model_line(ctx.spec).name),
                    own_profile=own_profile, features=features, direction_train=direction_train,
                    entry_train=entry_train)
    return StageResult(
        value=result,
        figures={"reference": result["reference"], "window": result["window"], "max_psi": result["max_psi"],
                 "features_warn": result["features_warn"], "labels_warn": result["labels_warn"]},
        reports={"label_rates": markdown_table(result["label_rates"],
                                               ["label", "reference_rate", "newest_rate", "change", "status"])},
        images={"psi": ctx.run_dir / result["psi_plot"]})


def _drift(*, run_dir: Path, path: Path | None, own_profile: dict[str, Any], features: pd.DataFrame,
           direction_train: pd.DataFrame, entry_train: pd.DataFrame) -> dict[str, Any]:
    """The drift document against the incumbent's profile at ``path`` (else this run's own profile)."""
    profile_file = path / PROFILE_FILE if path is not None else None
    if profile_file is not None and profile_file.exists():
        profile, reference = io.read_json(profile_file), f"champion {path.name} (fit_inner)"
    else:
        profile, reference = own_profile, "this run's fit_inner (no champion profile)"
    rows, window = newest_window(features)
    keys = set(rows["sample_id"])
    features_drift = dr.feature_drift(profile, rows)
    labels_drift = dr.label_drift(profile, direction_train[direction_train["sample_id"].isin(keys)],
                                  entry_train[entry_train["sample_id"].isin(keys)])
    out = run_dir / DRIFT_DIR
    io.write_parquet(out / "feature_psi.parquet", features_drift)
    io.write_parquet(out / "label_rates.parquet", labels_drift)
    plot = out / "feature_psi.png"
    psi_bar_png(plot, features_drift, f"PSI: {window} vs {reference}", dr.PSI_WARN)
    return {"reference": reference, "window": window, "rows": int(len(rows)),
            "psi_warn_threshold": dr.PSI_WARN, "label_rate_warn": {"abs": dr.LABEL_RATE_WARN_ABS,
                                                                    "rel": dr.LABEL_RATE_WARN_REL},
            "features_warn": features_drift.loc[features_drift["status"] == "WARN", "feature"].tolist(),
            "labels_warn": labels_drift.loc[labels_drift["status"] == "WARN", "label"].tolist(),
            "max_psi": float(features_drift["psi"].max()),
            "feature_psi": features_drift.to_dict(orient="records"),
            "label_rates": labels_drift.to_dict(orient="records"), "psi_plot": str(plot.relative_to(run_dir))}


def challenger_stage(*, ctx: RunContext, features: pd.DataFrame, direction_train: pd.DataFrame,
                     entry_train: pd.DataFrame, entry_labels: pd.DataFrame, pm_doc: dict[str, Any],
                     price_plan: PricePlan) -> StageResult:
    """Challenger (this run) and its line's incumbent on this run's latest_stress rows, each with its own price
    plan; the promotion decision (a plan change is refused unless the spec accepts it, docs/monitoring.md)."""
    result = _challenger(ctx, features=features, direction_train=direction_train, entry_train=entry_train,
                         entry_labels=entry_labels, pm_doc=pm_doc, price_plan=price_plan)
    rows = [{"bundle": name, **{k: (ev or {}).get("pm", {}).get(k) for k in
                                ("trade_count", "total_weighted_edge_bps", "max_drawdown_bps")}}
            for name, ev in (("challenger", result["challenger_eval"]), ("champion", result["champion_eval"]))]
    return StageResult(value=result,
                       figures={"decision": result["decision"], "line": result["line"],
                                "champion": result["champion"] or "none", "reasons": result["reasons"]},
                       reports={"comparison": markdown_table(rows)})


def _challenger(ctx: RunContext, *, features: pd.DataFrame, direction_train: pd.DataFrame,
                entry_train: pd.DataFrame, entry_labels: pd.DataFrame, pm_doc: dict[str, Any],
                price_plan: PricePlan) -> dict[str, Any]:
    """The champion-vs-challenger document (see ``challenger_stage``)."""
    run_dir, spec, home = ctx.run_dir, ctx.spec, ctx.home
    rows = trainable_features(features)
    rows = rows[rows["split_id"] == LATEST_STRESS_SPLIT].reset_index(drop=True)
    challenger_eval, _ = evaluate_bundle(run_bundle(run_dir, pm_doc, price_plan), rows, direction_train,
                                         entry_train, entry_labels)
    line = release.model_line(spec).name
    path = incumbent_path(home, spec.run_id, line)
    champion_eval, champion_plan = None, None
    if path is not None:
        champion = Bundle.from_release(path)
        champion_plan = champion.price_plan.price_plan_config_hash
        champion_eval, _ = evaluate_bundle(champion, rows, direction_train, entry_train, entry_labels)
    plans = {"challenger": price_plan.price_plan_config_hash, "champion": champion_plan}
    decision = cc.decide(challenger_eval["pm"], champion_eval["pm"] if champion_eval else None,
                         same_plan=plans["champion"] == plans["challenger"],
                         accept_plan_change=spec.release.accept_plan_change)
    return {**decision, "rows": int(len(rows)), "split": LATEST_STRESS_SPLIT, "line": line, "price_plans": plans,
            "champion": path.name if path is not None else None, "challenger": spec.run_id,
            "challenger_eval": challenger_eval, "champion_eval": champion_eval}


def _pm_row(name: str, evaluation: dict[str, Any] | None) -> dict[str, Any]:
    pm = (evaluation or {}).get("pm", {})
    return {"bundle": name, **{k: pm.get(k) for k in ("trade_count", "avg_weighted_edge_bps", "total_weighted_edge_bps",
                                                      "max_drawdown_bps", "win_rate")}}


def monitoring_report_stage(*, ctx: RunContext, shadow: dict[str, Any], drift: dict[str, Any],
                            challenger: dict[str, Any]) -> StageResult:
    """The monthly monitoring page (markdown with embedded plots, written to REPORT_FILE) and its summary."""
    text = monitoring_report(ctx.run_dir, ctx.run_id, shadow, drift, challenger)
    return StageResult(value={"path": REPORT_FILE, "decision": challenger["decision"],
                              "shadow_status": shadow["status"], "drift_features_warn": drift["features_warn"],
                              "drift_labels_warn": drift["labels_warn"]},
                       reports={"report": text})


def monitoring_report(run_dir: Path, run_id: str, shadow: dict[str, Any], drift: dict[str, Any],
                      challenger: dict[str, Any]) -> str:
    """The monthly monitoring page; also written to REPORT_FILE."""
    parts = [f"# Monitoring report: {run_id}", ""]
    parts += ["## Shadow scoring", ""]
    if shadow["status"] == "NO_CHAMPION":
        parts += [f"No champion yet: nothing to shadow-score on {shadow['window']}.", ""]
    else:
        parts += [f"Champion `{shadow['champion']}` scored {shadow['summary']['rows']} rows of {shadow['window']} "
                  "through the release inference engine.", ""]
        if shadow["in_sample_warning"]:
            parts += ["**Warning:** the champion's training window overlaps these rows; this is not a fair "
                      "out-of-sample test.", ""]
        parts += ["### Decay: claimed on its validation_locked vs shadow", "", markdown_table(shadow["decay"], DECAY_COLUMNS), "",
                  "### Calibration and realized edge", "",
                  markdown_table([{"side": s, **shadow["summary"][s]} for s in ("long", "short")], SIDE_COLUMNS), "",
                  png_markdown(run_dir / shadow["reliability_plot"], "reliability"), "",
                  "### PM trades replayed", "", markdown_table([_pm_row(shadow["champion"], shadow["summary"])]), ""]
    parts += ["## Drift", "", f"Reference: {drift['reference']}; newest: {drift['window']} ({drift['rows']} rows).",
              f"Features with PSI >= {drift['psi_warn_threshold']}: {drift['features_warn'] or 'none'}; "
              f"label rates drifting: {drift['labels_warn'] or 'none'}.", "",
              markdown_table(drift["label_rates"], ["label", "reference_rate", "newest_rate", "change", "status"]), "",
              markdown_table(drift["feature_psi"][:10], ["feature", "psi", "status"]), "",
              png_markdown(run_dir / drift["psi_plot"], "feature PSI"), ""]
    plans = challenger["price_plans"]
    parts += ["## Champion vs challenger", "", f"Model line: `{challenger['line']}`", "",
              f"Decision: **{challenger['decision']}**", "", *[f"- {r}" for r in challenger["reasons"]], "",
              f"Price plans (config hash): challenger `{str(plans['challenger'])[:12]}`, champion "
              f"`{str(plans['champion'])[:12]}`; each bundle is scored with its own plan.", "",
              f"Rule: {challenger['rule']}", "",
              markdown_table([_pm_row(f"challenger {challenger['challenger']}", challenger["challenger_eval"]),
                              _pm_row(f"champion {challenger['champion']}", challenger["champion_eval"])]), ""]
    text = "\n".join(parts)
    io.write_text(run_dir / REPORT_FILE, text)
    return text

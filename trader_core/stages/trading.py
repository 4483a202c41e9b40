"""Trading stages: PM frames, threshold search, integrated backtest, promotion, diagnostics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from trader_core import diagnostics, io, layout, sealed_ledger
from trader_core.config import RunSpec
from trader_core.contracts.labels import TRADE_COST_COLUMNS
from trader_core.contracts.models import DIRECTION, ENTRY, RISK
from trader_core.contracts.versions import SEALED_SPLITS, TUNE_SPLIT
from trader_core.costs import COST_MODEL_FORMULA, cost_source_summary
from trader_core.plots import equity_curve_png
from trader_core.pm.backtest import backtest_report, integrated_backtest
from trader_core.pm.frame import pm_frame
from trader_core.pm.metrics import jsonable_metrics
from trader_core.pm.search import search_thresholds
from trader_core.monitoring.challenger import allows_promotion
from trader_core.release import ReleaseRefused, bundle_files, model_line, promote
from trader_core.report import markdown_table

PM_SPLITS = (TUNE_SPLIT, *SEALED_SPLITS)


def pm_frames(run_dir: Path, entry_train: pd.DataFrame, entry_labels: pd.DataFrame,
              plan: dict[str, Any]) -> tuple[dict[str, pd.DataFrame], str]:
    """The PM frame (spec 11.1) of tune_inner and the sealed splits, from the run's model predictions."""
    preds = {m: pd.concat([io.read_parquet(layout.model_predictions_path(run_dir, m, s), verify=False)
                           for s in PM_SPLITS], ignore_index=True) for m in (DIRECTION, ENTRY, RISK)}
    frame, mode = pm_frame(preds[DIRECTION], preds[ENTRY], preds[RISK], entry_train, entry_labels, plan)
    split = frame["split_id"].to_numpy()
    return {s: frame.loc[split == s].reset_index(drop=True) for s in PM_SPLITS}, mode


def pm_search_stage(run_dir: Path, entry_train: pd.DataFrame, entry_labels: pd.DataFrame,
                    plan: dict[str, Any]) -> dict[str, Any]:
    """Threshold search on tune_inner only; writes candidates, best tune trades and the PM report."""
    frames, mode = pm_frames(run_dir, entry_train, entry_labels, plan)
    searched = frames[TUNE_SPLIT]
    result = search_thresholds(searched, plan)
    io.write_parquet(run_dir / layout.PM_CANDIDATES_FILE, result.candidates)
    io.write_parquet(run_dir / layout.PM_TUNE_TRADES_FILE, result.best_trades)
    doc = {"config": result.best_config, "config_hash_sha256": result.best_config_hash,
           "thresholds": result.best_thresholds, "edge_mode": mode, "score_formula": result.score_formula,
           "tune_metrics": jsonable_metrics(result.best_metrics), "candidate_count": len(result.candidates),
           "rows_by_split": {str(k): int(v) for k, v in searched["split_id"].value_counts(sort=False).items()},
           "cost_model": cost_model_sources(entry_labels, result.best_trades.assign(eval_split=TUNE_SPLIT), plan,
                                            (TUNE_SPLIT,))}
    io.write_text(run_dir / layout.PM_REPORT_FILE, pm_report(doc, result.candidates))
    return doc


def pm_report(doc: dict[str, Any], candidates: pd.DataFrame) -> str:
    top = candidates.sort_values("score", ascending=False, kind="mergesort").head(10)
    return "\n".join([
        "# PM Threshold Report", "",
        f"- searched on the rows of: {', '.join(f'{s} ({n})' for s, n in doc['rows_by_split'].items())} "
        f"({doc['candidate_count']} candidates); sealed rows read: "
        f"{sum(n for s, n in doc['rows_by_split'].items() if s in SEALED_SPLITS)}",
        f"- edge mode: {doc['edge_mode']}", f"- score: {doc['score_formula']}",
        f"- best thresholds: `{doc['thresholds']}`", f"- config hash: `{doc['config_hash_sha256']}`",
        f"- tune metrics of the best: `{doc['tune_metrics']}`", "", "## Top candidates", "",
        markdown_table(top), "", cost_model_section(doc["cost_model"])])


def backtest_stage(run_dir: Path, spec: RunSpec, home: Path, pm_doc: dict[str, Any], entry_train: pd.DataFrame,
                   entry_labels: pd.DataFrame, plan: dict[str, Any]) -> dict[str, Any]:
    """Replay the chosen PM config on the sealed splits, as a look recorded in the sealed ledger whose count
    deflates the verdict; writes trades, equity plots and the report."""
    run_id = spec.run_id
    frames, _ = pm_frames(run_dir, entry_train, entry_labels, plan)
    tune_trades_path = run_dir / layout.PM_TUNE_TRADES_FILE
    tune_trades = io.read_parquet(tune_trades_path, verify=False) if tune_trades_path.exists() else None
    looks = sealed_ledger.record_run_look(run_dir, spec, home, kind="backtest", what="integrated backtest")
    result, trades = integrated_backtest(frames, pm_doc["config"], plan, run_id, tune_trades, looks=looks)
    result["metrics"] = {k: jsonable_metrics(v) for k, v in result["metrics"].items()}
    io.write_parquet(run_dir / layout.BACKTEST_TRADES_FILE, trades)
    plots = {}
    for split in SEALED_SPLITS:
        part = trades[trades["eval_split"] == split] if len(trades) else trades
        path = run_dir / "backtest" / f"equity_{split}.png"
        equity_curve_png(path, part, f"{run_id} {split}: {result['status']}")
        plots[split] = str(path.relative_to(run_dir))
    result["equity_plots"] = plots
    result["cost_model"] = cost_model_sources(entry_labels, trades, plan, PM_SPLITS)
    io.write_text(run_dir / layout.BACKTEST_REPORT_FILE,
                  "\n".join([backtest_report(result, searched=pm_doc), cost_model_section(result["cost_model"])]))
    return result



def cost_model_sources(entry_labels: pd.DataFrame, trades: pd.DataFrame, plan: dict[str, Any],
                       splits: tuple[str, ...]) -> dict[str, Any]:
    """The cost model and, per split, its average parts and sources over every label row (both sides) and over
    the trades taken (``trades`` carry ``eval_split``, ``sample_id`` and ``side``)."""
    labels = entry_labels[["sample_id", "split_id", "side", *TRADE_COST_COLUMNS]].astype(
        {"side": str, "split_id": str})
    traded = (trades[["sample_id", "side", "eval_split"]].astype({"side": str})
              .merge(labels.drop(columns="split_id"), on=["sample_id", "side"], how="left", validate="many_to_one")
              if len(trades) else labels.iloc[:0].rename(columns={"split_id": "eval_split"}))
    return {"formula": COST_MODEL_FORMULA, "flat_reference_cost_bps": plan.get("costBps"),
            "by_split": {split: {"labels": cost_source_summary(labels[labels["split_id"] == split]),
                                 "trades": cost_source_summary(traded[traded["eval_split"] == split])}
                         for split in splits}}


def cost_model_section(cost_model: dict[str, Any]) -> str:
    """'## Cost model' of the PM and backtest reports: the formula and each split's sources."""
    rows = [{"split": split, "rows of": scope, **summary}
            for split, scopes in cost_model["by_split"].items() for scope, summary in scopes.items()]
    return "\n".join([
        "## Cost model", "", f"- {cost_model['formula']} (docs/trading.md, \"Cost model\")",
        f"- flat reference (price plan costBps, used by the predicted edge and sizing): "
        f"{cost_model['flat_reference_cost_bps']} bps", "", markdown_table(rows), ""])


def release_stage(run_dir: Path, spec: RunSpec, backtest: dict[str, Any], home: Path,
                  challenger: dict[str, Any] | None = None) -> dict[str, Any]:
    """Promote the run's bundle as the champion of its model line; returns the release record.

    Refused unless the backtest passed and (when given) the champion-vs-challenger decision allows it; an
    accepted price-plan change is recorded in the release manifest (docs/trading.md, Release).
    """
    if challenger is not None and not allows_promotion(challenger):
        raise ReleaseRefused(f"run {spec.run_id!r}: {challenger['decision']} ({'; '.join(challenger['reasons'])})")
    files = bundle_files(run_dir, {
        "model/feature_order.json": run_dir / layout.FEATURE_ORDER_FILE,
        "model/model_train_manifest.json": run_dir / layout.ARTIFACT_PATHS["model_train_manifest"],
        "feature/feature_schema.json": run_dir / layout.FEATURE_SCHEMA_FILE,
        "label/price_plan_context.json": run_dir / layout.ARTIFACT_PATHS["price_plan"],
        "pm/position_manager_config.json": run_dir / layout.ARTIFACT_PATHS["pm_search"],
        "backtest/backtest_result.json": run_dir / layout.ARTIFACT_PATHS["backtest"],
        "run_spec.json": run_dir / layout.RUN_SPEC_FILE,
        "monitoring/reference_profile.json": run_dir / layout.ARTIFACT_PATHS["reference_profile"],
    })
    line = model_line(spec)
    release = promote(files, run_id=spec.run_id, spec_hash=spec.spec_hash, backtest=backtest, line=line, home=home,
                      plan_change_accepted=bool(challenger and challenger["plan_change_accepted"]))
    return {"version": release.version, "path": str(release.path), "reused": release.reused, "line": line.name,
            "content_hash": release.manifest["content_hash"], "files": release.manifest["files"]}


def diagnostics_stage(run_dir: Path, direction_train: pd.DataFrame, entry_train: pd.DataFrame,
                      entry_labels: pd.DataFrame, plan: dict[str, Any], pm_doc: dict[str, Any]) -> dict[str, Any]:
    """Training diagnostics (spec 13.11): JSON returned for the IO manager, markdown written here."""
    frames, _ = pm_frames(run_dir, entry_train, entry_labels, plan)
    candidates = io.read_parquet(run_dir / layout.PM_CANDIDATES_FILE, verify=False)
    labels = diagnostics.label_summary(direction_train, entry_train)
    pm = diagnostics.pm_summary(frames, pm_doc["config"], plan, candidates)
    verdict = diagnostics.conclusion(pm)
    io.write_text(run_dir / layout.DIAGNOSTICS_REPORT_FILE, diagnostics.diagnostics_report(labels, pm, verdict))
    return {"labels": labels, "pm": pm, "conclusion": verdict}

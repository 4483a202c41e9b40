"""Trading stages: the PM frame, threshold search, integrated backtest, promotion, diagnostics."""

from __future__ import annotations

from typing import Any

import pandas as pd

from trader_core import diagnostics, io, layout, sealed_ledger
from trader_core.contracts.labels import TRADE_COST_COLUMNS
from trader_core.contracts.models import DIRECTION, ENTRY, RISK
from trader_core.contracts.price_plan import PricePlan
from trader_core.contracts.versions import SEALED_SPLITS, TUNE_SPLIT
from trader_core.costs import COST_MODEL_FORMULA, cost_source_summary
from trader_core.plots import equity_curve_png
from trader_core.pm.backtest import backtest_report, integrated_backtest
from trader_core.pm.config import PMConfig
from trader_core.pm.frame import edge_mode, pm_frame
from trader_core.pm.metrics import jsonable_metrics
from trader_core.pm.search import search_thresholds
from trader_core.monitoring.challenger import allows_promotion
from trader_core.release import ReleaseRefused, model_line, promote, release_files
from trader_core.report import markdown_table
from trader_core.run_context import RunContext
from trader_core.stages.result import StageResult

PM_SPLITS = (TUNE_SPLIT, *SEALED_SPLITS)


def pm_frame_stage(*, ctx: RunContext, entry_train: pd.DataFrame, entry_labels: pd.DataFrame,
                   plan: PricePlan) -> StageResult:
    """The PM frame (docs/trading.md, "PM frame and edge mode") of tune_inner and the sealed splits, from the run's model predictions: built once
    and stored, so the search, the backtest and the diagnostics read the same rows."""
    preds = {m: pd.concat([io.read_parquet(layout.model_predictions_path(ctx.run_dir, m, s), verify=False)
                           for s in PM_SPLITS], ignore_index=True) for m in (DIRECTION, ENTRY, RISK)}
    frame, mode = pm_frame(preds[DIRECTION], preds[ENTRY], preds[RISK], entry_train, entry_labels, plan)
    return StageResult(value=frame, figures={
        "dagster/row_count": len(frame), "edge_mode": mode, "data_hash_sha256": io.frame_hash(frame),
        "rows_per_split": {s: int((frame["split_id"] == s).sum()) for s in PM_SPLITS}})


def pm_split_frames(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The PM frame's rows of each of tune_inner and the sealed splits."""
    split = frame["split_id"].to_numpy()
    return {s: frame.loc[split == s].reset_index(drop=True) for s in PM_SPLITS}


def pm_search_stage(*, ctx: RunContext, frame: pd.DataFrame, entry_labels: pd.DataFrame,
                    plan: PricePlan) -> StageResult:
    """Threshold search on tune_inner only; writes candidates, best tune trades and the PM report."""
    run_dir = ctx.run_dir
    searched = pm_split_frames(frame)[TUNE_SPLIT]
    result = search_thresholds(searched, plan)
    io.write_parquet(run_dir / layout.PM_CANDIDATES_FILE, result.candidates)
    io.write_parquet(run_dir / layout.PM_TUNE_TRADES_FILE, result.best_trades)
    doc = {"config": result.best_config.to_json(), "config_hash_sha256": result.best_config.config_hash,
           "thresholds": result.best_thresholds, "edge_mode": edge_mode(plan), "score_formula": result.score_formula,
           "tune_metrics": jsonable_metrics(result.best_metrics), "candidate_count": len(result.candidates),
           "rows_by_split": {str(k): int(v) for k, v in searched["split_id"].value_counts(sort=False).items()},
           "cost_model": cost_model_sources(entry_labels, result.best_trades.assign(eval_split=TUNE_SPLIT), plan,
                                            (TUNE_SPLIT,))}
    report = pm_report(doc, result.candidates)
    io.write_text(run_dir / layout.PM_REPORT_FILE, report)
    return StageResult(value=doc, figures={"config_hash": doc["config_hash_sha256"], "thresholds": doc["thresholds"],
                                           "edge_mode": doc["edge_mode"], "tune_metrics": doc["tune_metrics"]},
                       reports={"report": report})


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


def backtest_stage(*, ctx: RunContext, frame: pd.DataFrame, pm_doc: dict[str, Any], entry_labels: pd.DataFrame,
                   plan: PricePlan) -> StageResult:
    """Replay the chosen PM config (``pm_doc``, the PM search's document) on the sealed splits, as a look recorded
    in the sealed ledger whose count deflates the verdict; writes trades, equity plots and the report."""
    run_id, run_dir = ctx.run_id, ctx.run_dir
    config = PMConfig.from_json(pm_doc["config"])
    tune_trades_path = run_dir / layout.PM_TUNE_TRADES_FILE
    tune_trades = io.read_parquet(tune_trades_path, verify=False) if tune_trades_path.exists() else None
    looks = sealed_ledger.record_run_look(run_dir, ctx.spec, ctx.home, kind="backtest", what="integrated backtest")
    result, trades = integrated_backtest(pm_split_frames(frame), config, plan, run_id, tune_trades,
                                         looks=looks)
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
    report = "\n".join([backtest_report(result, searched=pm_doc), cost_model_section(result["cost_model"])])
    io.write_text(run_dir / layout.BACKTEST_REPORT_FILE, report)
    rows = [{"split": s, **{k: m.get(k) for k in ("trade_count", "win_rate", "avg_weighted_edge_bps",
                                                 "total_weighted_edge_bps", "max_drawdown_bps", "profit_factor")}}
            for s, m in result["metrics"].items()]
    validation = result["significance"]["validation_locked"]
    return StageResult(
        value=result,
        figures={"status": result["status"], "status_reasons": result["status_reasons"], "look": result["looks"],
                 "required_t": result["required_statistic"], "validation_t": validation["statistic"],
                 "validation_deflated_t": validation["deflated_statistic"],
                 "validation_p_value": validation["p_value"]},
        reports={"why": "```\n" + "\n".join(result["explanation"]) + "\n```", "metrics": markdown_table(rows),
                 "report": report},
        images={f"equity_{split}": run_dir / rel for split, rel in plots.items()},
        paths={f"equity_{split}_path": run_dir / rel for split, rel in plots.items()})


def cost_model_sources(entry_labels: pd.DataFrame, trades: pd.DataFrame, plan: PricePlan,
                       splits: tuple[str, ...]) -> dict[str, Any]:
    """The cost model and, per split, its average parts and sources over every label row (both sides) and over
    the trades taken (``trades`` carry ``eval_split``, ``sample_id`` and ``side``)."""
    labels = entry_labels[["sample_id", "split_id", "side", *TRADE_COST_COLUMNS]].astype(
        {"side": str, "split_id": str})
    traded = (trades[["sample_id", "side", "eval_split"]].astype({"side": str})
              .merge(labels.drop(columns="split_id"), on=["sample_id", "side"], how="left", validate="many_to_one")
              if len(trades) else labels.iloc[:0].rename(columns={"split_id": "eval_split"}))
    return {"formula": COST_MODEL_FORMULA, "flat_reference_cost_bps": plan.cost_bps,
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


def release_stage(*, ctx: RunContext, backtest: dict[str, Any],
                  challenger: dict[str, Any] | None = None) -> StageResult:
    """Promote the run's bundle as the champion of its model line (or its canary, ``release.promote_as``); the
    value is the release record.

    Refused unless the backtest passed and (when given) the champion-vs-challenger decision allows it; an
    accepted price-plan change is recorded in the release manifest (docs/trading.md, Release).
    """
    spec, run_dir = ctx.spec, ctx.run_dir
    if challenger is not None and not allows_promotion(challenger):
        raise ReleaseRefused(f"run {spec.run_id!r}: {challenger['decision']} ({'; '.join(challenger['reasons'])})")
    files = release_files(spec, run_dir)
    line = model_line(spec)
    share = spec.release.canary
    release = promote(files, run_id=spec.run_id, spec_hash=spec.spec_hash, backtest=backtest, line=line,
                      home=ctx.home, plan_change_accepted=bool(challenger and challenger["plan_change_accepted"]),
                      canary_share=share)
    record = {"version": release.version, "path": str(release.path), "reused": release.reused, "line": line.name,
              "content_hash": release.manifest["content_hash"], "files": release.manifest["files"],
              **({} if share is None else {"canary_share": share})}
    role = "the champion" if share is None else f"the canary ({share:.0%} of the decisions)"
    return StageResult(value=record,
                       figures={"version": record["version"], "line": record["line"], "reused": record["reused"],
                                "content_hash": record["content_hash"]},
                       paths={"path": release.path},
                       notes=(f"release {record['version']} is {role} of line {record['line']} "
                              f"({'reused' if record['reused'] else 'new'})",))


def diagnostics_stage(*, ctx: RunContext, frame: pd.DataFrame, direction_train: pd.DataFrame,
                      entry_train: pd.DataFrame, plan: PricePlan, pm_doc: dict[str, Any]) -> StageResult:
    """Training diagnostics (docs/experiments.md, "Training diagnostics"): JSON stored by the caller, markdown
    written here."""
    candidates = io.read_parquet(ctx.run_dir / layout.PM_CANDIDATES_FILE, verify=False)
    labels = diagnostics.label_summary(direction_train, entry_train)
    pm = diagnostics.pm_summary(pm_split_frames(frame), PMConfig.from_json(pm_doc["config"]), plan, candidates)
    verdict = diagnostics.conclusion(pm)
    report = diagnostics.diagnostics_report(labels, pm, verdict)
    io.write_text(ctx.run_dir / layout.DIAGNOSTICS_REPORT_FILE, report)
    return StageResult(value={"labels": labels, "pm": pm, "conclusion": verdict},
                       figures={"conclusion": verdict["code"]}, reports={"report": report})

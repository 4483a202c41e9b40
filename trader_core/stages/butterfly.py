"""Butterfly strategy stages (``strategy: butterfly`` in the run spec) on the project's shared machinery.

Same as the perp chain: one run partition, a locked split manifest (``butterfly/validation_lock.json``), an
ONNX bundle built by the shared exporter, a blocking backtest gate, champion vs challenger with the shared
rule (``trader_core.monitoring.challenger``) and a release under ``releases/`` competing within its model
line (``release.model_line``: the strategy is part of it, so a butterfly release never meets a perp champion).
Artifacts live under ``<run>/butterfly/``.

Champion vs challenger maps a butterfly trade list onto the rule's metrics: the "edge" of a trade is its
realized ROI, so the total is the sum of trade ROIs, the drawdown is that of the cumulative ROI, and the
drawdown slack is 0.25 (25 ROI points) instead of 25 bps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trader_core import io, release
from trader_core.butterfly import pipeline
from trader_core.butterfly import report as bf_report
from trader_core.butterfly.backtest import select_trades
from trader_core.butterfly.inference import get_inference_engine, onnx_parity
from trader_core.butterfly.source import market_of
from trader_core.config import RunSpec
from trader_core.contracts.versions import LATEST_STRESS_SPLIT
from trader_core.monitoring import challenger as cc
from trader_core.report import frame_preview, markdown_table
from trader_core.run_context import RunContext
from trader_core.splits import check_locked, lock_payload
from trader_core.stages.monitoring import incumbent_path
from trader_core.stages.result import StageResult
from trader_core.strategies.butterfly import BUTTERFLY, FOLDER, ONNX_FILE

PREDICTIONS_FILE = f"{FOLDER}/model/predictions.parquet"
LOCK_FILE = f"{FOLDER}/validation_lock.json"
REPORT_FILE = f"{FOLDER}/model/butterfly_report.md"
DRAWDOWN_SLACK_ROI = 0.25


def _spec(ctx: RunContext) -> RunSpec:
    """The run's spec, refused unless the run is a butterfly run."""
    return BUTTERFLY.require(ctx.spec)


def market_stage(*, ctx: RunContext) -> StageResult:
    """Daily bars + index: the synthetic market of ``spec.butterfly``, the user's daily CSV (``source.path``) or
    the landed daily months up to ``spec.end`` (retraining)."""
    market = market_of(_spec(ctx))
    return StageResult(value=market, figures={name: len(frame) for name, frame in market.items()})


def dataset_stage(*, ctx: RunContext, market: dict[str, pd.DataFrame]) -> StageResult:
    """Samples (priced, labelled), features and split ids; the sealed boundaries are locked on the first build."""
    spec, run_dir = _spec(ctx), ctx.run_dir
    samples, report = pipeline.sample_and_label(market, spec.butterfly)
    features = pipeline.build_features(samples, market, spec.butterfly)
    manifest, split_ids = pipeline.split(samples, spec.butterfly)
    lock_file = run_dir / LOCK_FILE
    lock = io.read_json(lock_file) if lock_file.exists() else None
    check_locked(lock, manifest, spec.run_id)
    if lock is None:
        io.write_json(lock_file, lock_payload(manifest, spec.run_id))
    dataset = pipeline.make_dataset(samples, features, split_ids)
    return StageResult(value=dataset, figures={"dagster/row_count": len(dataset),
                                               "rows_per_split": dataset["split_id"].value_counts().to_dict(),
                                               "sampling": report},
                       reports={"preview": frame_preview(dataset)})


def model_stage(*, ctx: RunContext, dataset: pd.DataFrame) -> StageResult:
    """Train, export the ONNX model, write predictions and plots; the value is the model manifest."""
    spec, run_dir = _spec(ctx), ctx.run_dir
    trained = pipeline.train(dataset, spec.butterfly)
    onnx_sha = pipeline.export(trained, run_dir / ONNX_FILE)
    io.write_parquet(run_dir / PREDICTIONS_FILE, trained.predictions)
    plots = bf_report.write_plots(trained, run_dir / FOLDER / "model")
    passed, parity = onnx_parity(get_inference_engine((run_dir / ONNX_FILE).parent), trained, dataset)
    manifest = {**trained.manifest(), "onnx_path": ONNX_FILE, "onnx_sha256": onnx_sha, "plots": plots,
                "onnx_parity_max_abs_diff": parity["max_abs_diff"], "onnx_parity": {"passed": passed, **parity},
                "summary_table": bf_report.metrics_table(trained).to_dict("records")}
    return StageResult(value=manifest,
                       figures={"class_values": manifest["class_values"],
                                "onnx_parity_max_abs_diff": manifest["onnx_parity_max_abs_diff"]},
                       reports={"metrics": markdown_table(manifest["summary_table"])},
                       images={name.removesuffix(".png"): run_dir / FOLDER / "model" / name
                               for name in sorted(plots) if name.endswith("validation_locked.png")})


def backtest_stage(*, ctx: RunContext, model: dict[str, Any]) -> StageResult:
    """The decision rule on the sealed splits with the run's predictions; writes the markdown report."""
    spec, run_dir = _spec(ctx), ctx.run_dir
    predictions = io.read_parquet(run_dir / PREDICTIONS_FILE, verify=False)
    result, trades = pipeline.backtest(predictions, spec.butterfly)
    io.write_parquet(run_dir / FOLDER / "backtest_trades.parquet", trades)
    report = _backtest_markdown(result, model)
    io.write_text(run_dir / REPORT_FILE, report)
    return StageResult(value=result, figures={"status": result["status"]}, reports={"report": report})


def _backtest_markdown(result: dict[str, Any], model: dict[str, Any]) -> str:
    return "\n".join([f"# Butterfly model and backtest: {result['status']}", "",
                      "## Classification", "", markdown_table(model["summary_table"]), "",
                      f"Class values (mean fit ROI per class): {model['class_values']}", "",
                      "## Backtest", "", f"Rule: {result['rule']}", "",
                      markdown_table(bf_report.backtest_table(result)), ""])


def _trade_metrics(trades: pd.DataFrame) -> dict[str, Any]:
    """A butterfly trade list in the champion/challenger rule's terms (ROI units, see module docstring)."""
    roi = trades.sort_values(["date", "symbol"], kind="mergesort")["roi"].to_numpy(np.float64)
    equity = np.cumsum(roi)
    return {"trade_count": len(roi), "total_weighted_edge_bps": float(equity[-1]) if len(roi) else 0.0,
            "max_drawdown_bps": (float(np.max(np.maximum.accumulate(np.maximum(equity, 0)) - equity))
                                 if len(roi) else 0.0),
            "weighted_edge_std_bps": float(roi.std(ddof=1)) if len(roi) > 1 else 0.0,
            "mean_roi": float(roi.mean()) if len(roi) else None}


def monitoring_stage(*, ctx: RunContext, dataset: pd.DataFrame) -> StageResult:
    """Shadow scoring of the incumbent butterfly champion on this run's latest_stress samples (predicted vs
    realized ROI through the inference engine of its hash-checked release) and the champion-vs-challenger
    decision on the same rows."""
    result = _monitoring(ctx, spec=_spec(ctx), dataset=dataset)
    return StageResult(value=result, figures={"decision": result["decision"], "reasons": result["reasons"],
                                              "champion": result.get("champion", "none")})


def _monitoring(ctx: RunContext, *, spec: RunSpec, dataset: pd.DataFrame) -> dict[str, Any]:
    """The shadow-scoring and decision document (see ``monitoring_stage``)."""
    run_dir, home = ctx.run_dir, ctx.home
    rows = dataset[dataset["split_id"] == LATEST_STRESS_SPLIT].reset_index(drop=True)
    predictions = io.read_parquet(run_dir / PREDICTIONS_FILE, verify=False)
    challenger = _trade_metrics(select_trades(predictions[predictions["split_id"] == LATEST_STRESS_SPLIT],
                                              spec.butterfly.decision))
    line = release.model_line(spec).name
    path = incumbent_path(home, spec.run_id, line)
    if path is None:
        decision = cc.decide(challenger, None)
        return {"status": "NO_CHAMPION", "line": line, "rows": len(rows), "challenger": challenger, **decision}
    engine = get_inference_engine(path)
    shadow = pipeline.monitor(engine, rows, spec.butterfly)
    scored = rows[["sample_id", "date", "symbol", "split_id", "roi", "label"]].assign(
        expected_roi=engine.predict_roi_distribution(rows)["expected_roi"].to_numpy())
    champion = _trade_metrics(select_trades(scored, spec.butterfly.decision))
    decision = cc.decide(challenger, champion, drawdown_slack=DRAWDOWN_SLACK_ROI, unit="ROI")
    return {"status": "SCORED", "line": line, "champion": path.name, "rows": len(rows), "shadow": shadow,
            "challenger": challenger, "champion_trades": champion, **decision}


def release_stage(*, ctx: RunContext, backtest: dict[str, Any], decision: dict[str, Any]) -> StageResult:
    """Promote the butterfly bundle (ONNX with its contract, predictions' backtest, run spec) as its line's
    champion (or canary, ``release.promote_as``); refused unless the backtest passed and the champion-vs-challenger decision allows it."""
    spec, run_dir, home = _spec(ctx), ctx.run_dir, ctx.home
    if not cc.allows_promotion(decision):
        raise release.ReleaseRefused(f"run {spec.run_id!r}: {decision['decision']} ({'; '.join(decision['reasons'])})")
    files = release.release_files(spec, run_dir)
    line = release.model_line(spec)
    promoted = release.promote(files, run_id=spec.run_id, spec_hash=spec.spec_hash, backtest=backtest, line=line,
                               home=home, canary_share=spec.release.canary)
    record = {"version": promoted.version, "path": str(promoted.path), "reused": promoted.reused, "line": line.name,
              "content_hash": promoted.manifest["content_hash"],
              **({} if spec.release.canary is None else {"canary_share": spec.release.canary})}
    return StageResult(value=record, figures={"version": record["version"], "reused": record["reused"]})

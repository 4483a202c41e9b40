"""Butterfly group: the ButterQuant strategy (spec 16) on the same run partitions, IO manager, checks, ONNX
exporter, release store and champion/challenger rule as the perp chain (``trader_core.stages.butterfly``).

Materialized by ``butterfly_job`` for runs whose spec says ``strategy: butterfly``.
"""

import base64

import dagster as dg
import pandas as pd

from trader_assets.metadata import json_value, preview
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core.butterfly.contracts import BUTTERFLY_MODEL_VERSION
from trader_core.report import markdown_table
from trader_core.stages import butterfly as stage

BUTTERFLY = dict(partitions_def=runs_partitions, group_name="butterfly", owners=["team:research"],
                 code_version=BUTTERFLY_MODEL_VERSION)


def _spec(trader_home: TraderHome, run_id: str):
    spec = trader_home.run_spec(run_id)
    if spec.strategy != "butterfly":
        raise ValueError(f"run {run_id!r} is a {spec.strategy!r} run; the butterfly assets need strategy: butterfly")
    return spec


@dg.asset(**BUTTERFLY, kinds={"python", "parquet"},
          description="Daily bars of the universe plus the volatility index: the synthetic daily market of the "
                      "run spec's butterfly section, or the user's daily CSV.")
def butterfly_market(context: dg.AssetExecutionContext, trader_home: TraderHome) -> dg.Output[dict[str, pd.DataFrame]]:
    market = stage.market_stage(_spec(trader_home, context.partition_key))
    return dg.Output(market, metadata={name: len(frame) for name, frame in market.items()})


@dg.asset(**BUTTERFLY, kinds={"python", "parquet"},
          description="Regime-stratified samples, each a long call butterfly priced as of its date (Black-Scholes on "
                      "the IV proxy), labelled with its ROI class at the evaluation date, with the 23 as-of features "
                      "and its split id (day-aligned splits, 45-day embargo, boundaries locked).")
def butterfly_dataset(context: dg.AssetExecutionContext, trader_home: TraderHome,
                      butterfly_market: dict[str, pd.DataFrame]) -> dg.Output[pd.DataFrame]:
    run_id = context.partition_key
    dataset, info = stage.dataset_stage(butterfly_market, _spec(trader_home, run_id), trader_home.run_dir(run_id))
    counts = dataset["split_id"].value_counts().to_dict()
    return dg.Output(dataset, metadata={"dagster/row_count": len(dataset), "rows_per_split": json_value(counts),
                                        "sampling": json_value(info["sampling"]), "preview": preview(dataset)})


@dg.asset(**BUTTERFLY, kinds={"python", "onnx"},
          description="4-class ROI model (balanced multinomial logistic regression, scaler folded into raw-feature "
                      "weights) exported with the shared ONNX exporter; class values from the fit split; accuracy, "
                      "macro F1, confusion matrix and calibration per split.")
def butterfly_model(context: dg.AssetExecutionContext, trader_home: TraderHome,
                    butterfly_dataset: pd.DataFrame) -> dg.Output[dict]:
    run_id = context.partition_key
    run_dir = trader_home.run_dir(run_id)
    manifest = stage.model_stage(butterfly_dataset, _spec(trader_home, run_id), run_dir)
    metadata = {"metrics": dg.MetadataValue.md(markdown_table(manifest["summary_table"])),
                "class_values": json_value(manifest["class_values"]),
                "onnx_parity_max_abs_diff": manifest["onnx_parity_max_abs_diff"]}
    for name in sorted(manifest["plots"]):
        if name.endswith("validation_locked.png"):
            png = base64.b64encode((run_dir / stage.FOLDER / "model" / name).read_bytes()).decode("ascii")
            metadata[name.removesuffix(".png")] = dg.MetadataValue.md(f"![{name}](data:image/png;base64,{png})")
    return dg.Output(manifest, metadata=metadata)


@dg.asset(**BUTTERFLY, kinds={"python", "json"},
          description="The decision rule (E[ROI] > 0.15, at most 5 per day) on validation_locked and latest_stress: "
                      "trades, mean ROI, win rate, excess over the day's candidates; PASS/FAIL.")
def butterfly_backtest(context: dg.AssetExecutionContext, trader_home: TraderHome,
                       butterfly_model: dict) -> dg.Output[dict]:
    run_id = context.partition_key
    run_dir = trader_home.run_dir(run_id)
    result = stage.backtest_stage(run_dir, _spec(trader_home, run_id), butterfly_model)
    return dg.Output(result, metadata={"status": result["status"],
                                       "report": dg.MetadataValue.md((run_dir / stage.REPORT_FILE).read_text())})


@dg.asset(**BUTTERFLY, kinds={"python", "onnx"}, deps=["butterfly_model"],
          description="The incumbent butterfly champion scores this run's latest_stress samples through its exported "
                      "model (predicted vs realized ROI), and champion vs challenger decides with the shared rule.")
def butterfly_monitoring(context: dg.AssetExecutionContext, trader_home: TraderHome,
                         butterfly_dataset: pd.DataFrame) -> dg.Output[dict]:
    run_id = context.partition_key
    result = stage.monitoring_stage(butterfly_dataset, _spec(trader_home, run_id), trader_home.run_dir(run_id),
                                    trader_home.path)
    return dg.Output(result, metadata={"decision": result["decision"], "reasons": json_value(result["reasons"]),
                                       "champion": result.get("champion", "none")})


@dg.asset(**BUTTERFLY, kinds={"python", "onnx"},
          description="Promote the butterfly bundle to releases/ as the champion of its model line. "
                      "Skipped when the backtest fails (blocking check); refuses when champion vs challenger keeps "
                      "the champion.")
def butterfly_release(context: dg.AssetExecutionContext, trader_home: TraderHome, butterfly_backtest: dict,
                      butterfly_monitoring: dict) -> dg.Output[dict]:
    run_id = context.partition_key
    record = stage.release_stage(trader_home.run_dir(run_id), _spec(trader_home, run_id), butterfly_backtest,
                                 butterfly_monitoring, trader_home.path)
    return dg.Output(record, metadata={"version": record["version"], "reused": record["reused"]})


BUTTERFLY_ASSETS = [butterfly_market, butterfly_dataset, butterfly_model, butterfly_backtest, butterfly_monitoring,
                    butterfly_release]


@dg.asset_check(asset=butterfly_model, blocking=True, partitions_def=runs_partitions,
                description="The exported ONNX model reproduces the trained probabilities on tune_inner within "
                            "4 float32 epsilons, the bound of the perp models' parity check (docs/models.md).")
def butterfly_onnx_parity(butterfly_model: dict) -> dg.AssetCheckResult:
    parity = butterfly_model["onnx_parity"]
    return dg.AssetCheckResult(passed=bool(parity["passed"]),
                               metadata={k: v for k, v in parity.items() if k != "passed"})


@dg.asset_check(asset=butterfly_backtest, blocking=True, partitions_def=runs_partitions,
                description="Promotion gate: the butterfly backtest passes on both sealed splits.")
def butterfly_backtest_pass(butterfly_backtest: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=butterfly_backtest["status"] == "PASS",
                               metadata={"status": butterfly_backtest["status"], "rule": butterfly_backtest["rule"]})


BUTTERFLY_CHECKS = [butterfly_onnx_parity, butterfly_backtest_pass]

"""Butterfly group: the ButterQuant strategy (docs/butterfly.md) on the same run partitions, IO manager, checks, ONNX
exporter, release store and champion/challenger rule as the perp chain (``trader_core.stages.butterfly``).

Materialized by ``butterfly_job`` for runs whose spec says ``strategy: butterfly``.
"""

import dagster as dg
import pandas as pd

from trader_assets.metadata import stage_output
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core.contracts.butterfly import BUTTERFLY_MODEL_VERSION
from trader_core import stages

BUTTERFLY = dict(partitions_def=runs_partitions, group_name="butterfly", owners=["team:research"],
                 code_version=BUTTERFLY_MODEL_VERSION)


@dg.asset(**BUTTERFLY, kinds={"python", "parquet"},
          description="Daily bars of the universe plus the volatility index: the synthetic daily market of the "
                      "run spec's butterfly section, or the user's daily CSV.")
def butterfly_market(context: dg.AssetExecutionContext, trader_home: TraderHome) -> dg.Output[dict[str, pd.DataFrame]]:
    return stage_output(stages.butterfly.market_stage(ctx=trader_home.context(context.partition_key)))


@dg.asset(**BUTTERFLY, kinds={"python", "parquet"},
          description="Regime-stratified samples, each a long call butterfly priced as of its date (Black-Scholes on "
                      "the IV proxy), labelled with its ROI class at the evaluation date, with the 23 as-of features "
                      "and its split id (day-aligned splits, 45-day embargo, boundaries locked).")
def butterfly_dataset(context: dg.AssetExecutionContext, trader_home: TraderHome,
                      butterfly_market: dict[str, pd.DataFrame]) -> dg.Output[pd.DataFrame]:
    return stage_output(stages.butterfly.dataset_stage(ctx=trader_home.context(context.partition_key),
                                                       market=butterfly_market))


@dg.asset(**BUTTERFLY, kinds={"python", "onnx"},
          description="4-class ROI model (balanced multinomial logistic regression, scaler folded into raw-feature "
                      "weights) exported with the shared ONNX exporter; class values from the fit split; accuracy, "
                      "macro F1, confusion matrix and calibration per split.")
def butterfly_model(context: dg.AssetExecutionContext, trader_home: TraderHome,
                    butterfly_dataset: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.butterfly.model_stage(ctx=trader_home.context(context.partition_key),
                                                     dataset=butterfly_dataset))


@dg.asset(**BUTTERFLY, kinds={"python", "json"},
          description="The decision rule (E[ROI] > 0.15, at most 5 per day) on validation_locked and latest_stress: "
                      "trades, mean ROI, win rate, excess over the day's candidates; PASS/FAIL.")
def butterfly_backtest(context: dg.AssetExecutionContext, trader_home: TraderHome,
                       butterfly_model: dict) -> dg.Output[dict]:
    return stage_output(stages.butterfly.backtest_stage(ctx=trader_home.context(context.partition_key),
                                                        model=butterfly_model))


@dg.asset(**BUTTERFLY, kinds={"python", "onnx"}, deps=["butterfly_model"],
          description="The incumbent butterfly champion scores this run's latest_stress samples through its exported "
                      "model (predicted vs realized ROI), and champion vs challenger decides with the shared rule.")
def butterfly_monitoring(context: dg.AssetExecutionContext, trader_home: TraderHome,
                         butterfly_dataset: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.butterfly.monitoring_stage(ctx=trader_home.context(context.partition_key),
                                                          dataset=butterfly_dataset))


@dg.asset(**BUTTERFLY, kinds={"python", "onnx"},
          description="Promote the butterfly bundle to releases/ as the champion of its model line. "
                      "Skipped when the backtest fails (blocking check); refuses when champion vs challenger keeps "
                      "the champion.")
def butterfly_release(context: dg.AssetExecutionContext, trader_home: TraderHome, butterfly_backtest: dict,
                      butterfly_monitoring: dict) -> dg.Output[dict]:
    return stage_output(stages.butterfly.release_stage(ctx=trader_home.context(context.partition_key),
                                                       backtest=butterfly_backtest, decision=butterfly_monitoring))


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

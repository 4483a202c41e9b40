"""Market group: raw market tables, the 1-minute replay, the split manifest."""


import dagster as dg
import pandas as pd

from trader_assets.metadata import stage_output
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.contracts.versions import RAW_MARKET_VERSION, REPLAY_VERSION, SPLIT_VERSION

COMMON = dict(partitions_def=runs_partitions, group_name="market", owners=["team:research"])


@dg.asset(**COMMON, kinds={"python", "parquet"}, code_version=RAW_MARKET_VERSION,
          description="Raw market tables of the run's source (synthetic, CSV, ...) in the raw market contract.")
def raw_market(context: dg.AssetExecutionContext, trader_home: TraderHome) -> dg.Output[dict[str, pd.DataFrame]]:
    result = stages.raw_market_stage(ctx=trader_home.context(context.partition_key))
    return stage_output(result, log=context.log)


@dg.asset(**COMMON, kinds={"python", "parquet"}, code_version=REPLAY_VERSION,
          description="One row per symbol-minute (docs/data.md, 'Replay rules'): bars, book, funding, mark/index, OI, "
                      "liquidations "
                      "as of each bar close; gaps visible, never filled.")
def replay_1m(context: dg.AssetExecutionContext, trader_home: TraderHome,
              raw_market: dict[str, pd.DataFrame]) -> dg.Output[pd.DataFrame]:
    result = stages.replay_stage(ctx=trader_home.context(context.partition_key), raw=raw_market)
    return stage_output(result, log=context.log)


@dg.asset(**COMMON, kinds={"python", "json"}, code_version=SPLIT_VERSION,
          description="Chronological fit_inner < tune_inner < validation_locked < latest_stress with embargo; "
                      "the sealed boundaries are locked on first build.")
def split_manifest(context: dg.AssetExecutionContext, trader_home: TraderHome,
                   replay_1m: pd.DataFrame) -> dg.Output[dict]:
    return stage_output(stages.split_stage(ctx=trader_home.context(context.partition_key), replay=replay_1m))

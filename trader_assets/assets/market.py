"""Market group: raw market tables, the 1-minute replay, the split manifest."""


import dagster as dg
import pandas as pd

from trader_assets.metadata import json_value, preview, table_schema
from trader_assets.partitions import runs_partitions
from trader_assets.resources import TraderHome
from trader_core import stages
from trader_core.contracts.replay import REPLAY
from trader_core.report import markdown_table
from trader_core.contracts.versions import RAW_MARKET_VERSION, REPLAY_VERSION, SPLIT_VERSION

COMMON = dict(partitions_def=runs_partitions, group_name="market", owners=["team:research"])


@dg.asset(**COMMON, kinds={"python", "parquet"}, code_version=RAW_MARKET_VERSION,
          description="Raw market tables of the run's source (synthetic, CSV, ...) in the raw market contract.")
def raw_market(context: dg.AssetExecutionContext, trader_home: TraderHome) -> dg.Output[dict[str, pd.DataFrame]]:
    spec = trader_home.run_spec(context.partition_key)
    tables, summary = stages.raw_market_stage(spec, trader_home.path)
    context.log.info(f"raw market from {spec.source.kind}: {summary['tables']}")
    check = summary["data_check"]
    return dg.Output(tables, metadata={"source": spec.source.kind, "run_spec_hash": spec.spec_hash,
                                       "table_rows": json_value(summary["tables"]),
                                       "data_check": dg.MetadataValue.md("```\n" + summary["data_check_text"] + "\n```"),
                                       "filled_minutes": check.get("filled_minutes", 0),
                                       "days_kept": check.get("days_kept", 0),
                                       "days_dropped": check.get("days_dropped", 0),
                                       "gap_runs_by_length": json_value(check.get("gap_runs_by_length", {}))})


@dg.asset(**COMMON, kinds={"python", "parquet"}, code_version=REPLAY_VERSION,
          description="One row per symbol-minute (spec 5.2): bars, book, funding, mark/index, OI, liquidations "
                      "as of each bar close; gaps visible, never filled.")
def replay_1m(context: dg.AssetExecutionContext, trader_home: TraderHome,
              raw_market: dict[str, pd.DataFrame]) -> dg.Output[pd.DataFrame]:
    run_id = context.partition_key
    spec = trader_home.run_spec(run_id)
    replay, summary = stages.replay_stage(raw_market, spec, trader_home.run_dir(run_id))
    for warning in summary["warnings"]:
        context.log.warning(warning)
    return dg.Output(replay, metadata={
        "dagster/row_count": len(replay),
        "dagster/column_schema": table_schema(REPLAY).value,
        "data_hash_sha256": summary["data_hash_sha256"],
        "symbols": json_value(summary["rows_per_symbol"]),
        "gaps": summary["gaps"],
        "availability_share": json_value(summary["availability_share"]),
        "preview": preview(replay),
        "report": json_value(summary),
    })


@dg.asset(**COMMON, kinds={"python", "json"}, code_version=SPLIT_VERSION,
          description="Chronological fit_inner < tune_inner < validation_locked < latest_stress with embargo; "
                      "the sealed boundaries are locked on first build.")
def split_manifest(context: dg.AssetExecutionContext, trader_home: TraderHome,
                   replay_1m: pd.DataFrame) -> dg.Output[dict]:
    run_id = context.partition_key
    spec = trader_home.run_spec(run_id)
    manifest = stages.split_stage(replay_1m, spec, trader_home.run_dir(run_id))
    rows = [{k: s[k] for k in ("split_id", "start", "end", "days", "row_count")} for s in manifest["splits"]]
    return dg.Output(manifest, metadata={
        "boundaries_hash": manifest["boundaries_hash"],
        "embargo_minutes": manifest["embargo_minutes"],
        "splits": dg.MetadataValue.md(markdown_table(rows)),
    })

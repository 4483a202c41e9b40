"""Market stages: raw market, replay (with report) and the locked split manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from trader_core import io, layout, runs
from trader_core.config import RunSpec
from trader_core.data_check import check_data, render_check
from trader_core.errors import ArtifactError
from trader_core.market.sources import load_raw_market
from trader_core.replay import build_replay
from trader_core.report import frame_preview, markdown_table
from trader_core.run_context import RunContext
from trader_core.splits import build_split_manifest, check_locked, lock_payload
from trader_core.stages.result import StageResult


def raw_market_stage(*, ctx: RunContext) -> StageResult:
    """Load the run's raw market; the first materialization locks the run spec. The data check (``trader
    check-data``'s lines) is shown so the UI says what the run will see."""
    spec = ctx.spec
    tables = load_raw_market(spec)
    runs.lock_spec(spec, ctx.home)
    check = check_data(tables, spec)
    rows = {k: len(v) for k, v in sorted(tables.items())}
    summary = check.summary
    return StageResult(
        value=tables,
        figures={"source": spec.source.kind, "run_spec_hash": spec.spec_hash, "table_rows": rows,
                 "filled_minutes": summary.get("filled_minutes", 0), "days_kept": summary.get("days_kept", 0),
                 "days_dropped": summary.get("days_dropped", 0),
                 "gap_runs_by_length": summary.get("gap_runs_by_length", {})},
        reports={"data_check": "```\n" + "\n".join(render_check(check)) + "\n```"},
        notes=(f"raw market from {spec.source.kind}: {rows}",))


def replay_stage(*, ctx: RunContext, raw: dict[str, pd.DataFrame]) -> StageResult:
    """The 1-minute replay and its report (written to the run); refused before anything is written if it would
    move the run's locked sealed splits."""
    spec = ctx.spec
    replay, report = build_replay(raw, symbols=tuple(spec.symbols), start=spec.start_ts, end=spec.end_ts,
                                  config=spec.replay)
    lock = read_split_lock(ctx.run_dir)
    if lock is not None:
        check_locked(lock, _manifest(replay, spec), spec.run_id)
    summary = report.as_dict() | {"data_hash_sha256": io.frame_hash(replay)}
    io.write_json(ctx.run_dir / layout.REPLAY_REPORT_FILE, summary)
    return StageResult(
        value=replay,
        figures={"dagster/row_count": len(replay), "data_hash_sha256": summary["data_hash_sha256"],
                 "symbols": summary["rows_per_symbol"], "gaps": summary["gaps"],
                 "availability_share": summary["availability_share"], "report": summary},
        reports={"preview": frame_preview(replay)}, warnings=tuple(summary["warnings"]))


def split_stage(*, ctx: RunContext, replay: pd.DataFrame) -> StageResult:
    """Build the split manifest and enforce the locked validation contract (lock written on first build)."""
    manifest = _manifest(replay, ctx.spec)
    lock = read_split_lock(ctx.run_dir)
    check_locked(lock, manifest, ctx.run_id)
    if lock is None:
        io.write_json(ctx.run_dir / layout.SPLIT_LOCK_FILE, lock_payload(manifest, ctx.run_id))
    rows = [{k: s[k] for k in ("split_id", "start", "end", "days", "row_count")} for s in manifest["splits"]]
    return StageResult(value=manifest,
                       figures={"boundaries_hash": manifest["boundaries_hash"],
                                "embargo_minutes": manifest["embargo_minutes"]},
                       reports={"splits": markdown_table(rows)})


def _manifest(replay: pd.DataFrame, spec: RunSpec) -> dict[str, Any]:
    return build_split_manifest(
        replay["open_time_ms"].to_numpy(), spec.split,
        longest_label_horizon_minutes=spec.labels.longest_horizon_minutes,
        source_replay_path=layout.ARTIFACT_PATHS["replay_1m"],  # relative to the run folder: portable, deterministic
        replay_hash=io.frame_hash(replay),
    )


def read_split_lock(run_dir: Path) -> dict[str, Any] | None:
    lock_file = run_dir / layout.SPLIT_LOCK_FILE
    if not lock_file.exists():
        return None
    lock = io.read_json(lock_file)
    if not isinstance(lock, dict) or "sealed_boundaries" not in lock:
        raise ArtifactError(f"{lock_file}: corrupt split lock (no sealed_boundaries)")
    return lock

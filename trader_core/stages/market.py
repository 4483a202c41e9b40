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
from trader_core.splits import build_split_manifest, check_locked, lock_payload


def raw_market_stage(spec: RunSpec, home: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Load the run's raw market; the first materialization locks the run spec. The summary holds the data
    check (``trader check-data``'s lines) so the UI shows what the run will see."""
    tables = load_raw_market(spec)
    runs.lock_spec(spec, home)
    check = check_data(tables, spec)
    summary = {"source": spec.source.kind, "tables": {k: len(v) for k, v in sorted(tables.items())},
               "data_check": check.summary, "data_check_text": "\n".join(render_check(check))}
    return tables, summary


def replay_stage(raw: dict[str, pd.DataFrame], spec: RunSpec, run_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    replay, report = build_replay(raw, symbols=tuple(spec.symbols), start=spec.start_ts, end=spec.end_ts,
                                  config=spec.replay)
    lock = read_split_lock(run_dir)
    if lock is not None:  # refuse before anything is written if this replay would move the sealed splits
        check_locked(lock, _manifest(replay, spec, run_dir), spec.run_id)
    summary = report.as_dict() | {"data_hash_sha256": io.frame_hash(replay)}
    io.write_json(run_dir / layout.REPLAY_REPORT_FILE, summary)
    return replay, summary


def split_stage(replay: pd.DataFrame, spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    """Build the split manifest and enforce the locked validation contract (lock written on first build)."""
    manifest = _manifest(replay, spec, run_dir)
    lock_file = run_dir / layout.SPLIT_LOCK_FILE
    lock = read_split_lock(run_dir)
    check_locked(lock, manifest, spec.run_id)
    if lock is None:
        io.write_json(lock_file, lock_payload(manifest, spec.run_id))
    return manifest


def _manifest(replay: pd.DataFrame, spec: RunSpec, run_dir: Path) -> dict[str, Any]:
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

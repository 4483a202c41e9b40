"""Bad-input matrix (issue 9.1): malformed input at every entry point gets a clear error or a documented repair.

Entry points: raw market tables (replay and split stages), bar CSV files, data.vision zips, run specs and the
label / cost / replay / PM configs, stored artifacts (verified reads, split lock, run spec on disk) and release
bundles (inference engine). An ERROR case asserts the exception type and a message substring that names the
column, file or key. Every error case runs against a copy of one small valid run folder (1 symbol x 12 days
through replay, split, features and price plan, plus a promoted release) and then checks that every file there
still has its sha256 (files a case corrupts on purpose keep the corrupted bytes) and that no temporary file is
left: a refused input never touches earlier artifacts. REPAIR cases assert the repaired output and the warning.
The cases are summarized in docs/reliability.md.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trader_core import io, layout, parts, release, runs
from trader_core.config import ReplayConfig, RunSpec
from trader_core.config_mapping import from_mapping, merge_sections
from trader_core.contracts.features import FEATURE_COUNT, FEATURE_ORDER
from trader_core.contracts.models import (
    ACTIVATION,
    ENTRY,
    MODEL_OUTPUTS,
    MODELS,
    TARGETS,
)
from trader_core.contracts.price_plan import PricePlan
from trader_core.errors import (
    ArtifactError,
    ConfigError,
    DataContractError,
    LockedSplitError,
)
from trader_core.costs import CostModel, with_trade_costs
from trader_core.labels.base import compute_label_path_stats, label_horizons
from trader_core.labels.datasets import build_train_dataset
from trader_core.labels.entry import build_entry_labels
from trader_core.labels.price_plan import build_price_plan, plan_params
from trader_core.market.sources import load_raw_market, read_bar_csv
from trader_core.models.heads import LinearHead
from trader_core.models.inference import InferenceEngine, bundle_model_path
from trader_core.models.onnx_export import export_heads, read_model
from trader_core.models.training import train_model
from trader_core.pm.config import default_pm_config
from trader_core.replay import build_replay
from trader_core.run_context import RunContext
from trader_core.stages import (
    backtest_stage,
    feature_frame_stage,
    label_summary,
    price_plan_stage,
    raw_market_stage,
    replay_stage,
    split_stage,
    symbol_features_stage,
)

SYMBOL = "BTC-USDT-PERP"
RUN_ID = "golden"
PASS = {"status": "PASS", "status_reasons": [], "metrics": {}}


# ------------------------------------------------------------------------------------------ the valid run
@dataclass
class Golden:
    home: Path
    spec: RunSpec
    raw: dict[str, pd.DataFrame]
    replay: pd.DataFrame
    manifest: dict[str, Any]
    plan: PricePlan
    features: pd.DataFrame
    release: str
    snapshot: dict[str, str]


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative POSIX path -> hash)."""
    return {p.relative_to(root).as_posix(): io.sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def _store(run_dir: Path, asset: str, value: Any) -> None:
    """Store a stage's main value as the IO manager does: atomic write, manifest last."""
    path = run_dir / layout.ARTIFACT_PATHS[asset]
    if isinstance(value, parts.PartsManifest):
        parts.write_manifest(path, value)
        return
    if isinstance(value, pd.DataFrame):
        io.write_parquet(path, value)
    else:
        io.write_json(path, value.to_json() if isinstance(value, PricePlan) else value)
    io.write_manifest(path, {})


def _promote_release(home: Path, spec: RunSpec) -> str:
    """A release of four small linear models (random weights; their values do not matter here)."""
    src = home.parent / "bundle-src"
    rng = np.random.default_rng(0)
    for model in MODELS:
        heads = [LinearHead(h.name, ACTIVATION[h.kind], rng.normal(0.0, 0.2, (FEATURE_COUNT, len(h.fields))),
                            rng.normal(0.0, 1.0, len(h.fields))) for h in TARGETS[model].heads]
        export_heads(bundle_model_path(src, model), heads, FEATURE_COUNT, MODEL_OUTPUTS[model])
    io.write_json(src / "feature_order.json", list(FEATURE_ORDER))
    files = {f"model/{m.lower()}/{m.lower()}.onnx": bundle_model_path(src, m) for m in MODELS}
    files["model/feature_order.json"] = src / "feature_order.json"
    return release.promote(files, run_id=RUN_ID, spec_hash=spec.spec_hash, backtest=PASS,
                           line=release.model_line(spec), home=home).version


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> Golden:
    home = tmp_path_factory.mktemp("golden") / "home"
    spec = from_mapping(RunSpec, {"run_id": RUN_ID, "symbols": [SYMBOL], "start": "2026-01-01", "end": "2026-01-13",
                                  "source": {"kind": "synthetic", "seed": 5, "depth_levels": 5}})
    runs.save_new_spec(spec, home)
    run_dir = layout.run_root(RUN_ID, home)
    run = RunContext(run_id=RUN_ID, run_dir=run_dir, home=home, spec=spec)
    raw = raw_market_stage(ctx=run).value
    replay = replay_stage(ctx=run, raw=raw).value
    _store(run_dir, "replay_1m", replay)
    manifest = split_stage(ctx=run, replay=replay).value
    _store(run_dir, "split_manifest", manifest)
    part = symbol_features_stage(ctx=run, replay=replay, manifest=manifest).value
    _store(run_dir, "feature_frame", feature_frame_stage(ctx=run, parts=[part]).value)
    features = parts.read_frame(run_dir / layout.ARTIFACT_PATHS["feature_frame"])
    plan = price_plan_stage(ctx=run).value
    _store(run_dir, "price_plan", plan)
    version = _promote_release(home, spec)
    return Golden(home, spec, raw, replay, manifest, plan, features, version, snapshot(home))


@dataclass
class Ctx:
    """One case's copy of the valid run; ``expected`` is the hash of every file once the case is done."""

    golden: Golden
    home: Path
    tmp: Path
    expected: dict[str, str]

    @property
    def spec(self) -> RunSpec:
        return self.golden.spec

    @property
    def run_dir(self) -> Path:
        return layout.run_root(RUN_ID, self.home)

    @property
    def release_dir(self) -> Path:
        return release.releases_root(self.home) / self.golden.release

    def raw(self, bars: Callable[[pd.DataFrame], pd.DataFrame]) -> dict[str, pd.DataFrame]:
        tables = {k: v.copy() for k, v in self.golden.raw.items()}
        tables["bars"] = bars(tables["bars"])
        return tables

    def spec_with(self, changes: dict[str, Any]) -> RunSpec:
        return from_mapping(RunSpec, merge_sections(self.spec.to_dict(), changes))

    def run(self, spec: RunSpec | None = None) -> RunContext:
        """The stages' view of this case's run (``spec`` in place of the run's own when given)."""
        return RunContext(run_id=RUN_ID, run_dir=self.run_dir, home=self.home, spec=spec or self.spec)

    def corrupt(self, path: Path, data: bytes) -> Path:
        """Replace a file's bytes on purpose (the new bytes become the expected ones)."""
        path.chmod(0o644)
        path.write_bytes(data)
        self.expected[path.relative_to(self.home).as_posix()] = io.sha256_bytes(data)
        return path


@pytest.fixture()
def ctx(golden: Golden, tmp_path: Path) -> Ctx:
    home = tmp_path / "home"
    shutil.copytree(golden.home, home)
    (tmp_path / "work").mkdir()
    return Ctx(golden, home, tmp_path / "work", dict(golden.snapshot))


# ------------------------------------------------------------------------------------------ case helpers
def bars_row(column: str, value: Any, row: int = 100) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(bars: pd.DataFrame) -> pd.DataFrame:
        bars.loc[row, column] = value
        return bars
    return mutate


def into_replay(bars: Callable[[pd.DataFrame], pd.DataFrame], spec: dict[str, Any] | None = None):
    """Mutated raw bars into the replay stage of the run (with its split lock)."""
    return lambda c: replay_stage(ctx=c.run(c.spec_with(spec or {})), raw=c.raw(bars))


def into_split(rows: Callable[[pd.DataFrame], pd.DataFrame]):
    """A reduced replay into the split stage of the run."""
    return lambda c: split_stage(ctx=c.run(), replay=rows(c.golden.replay).reset_index(drop=True))


def days(replay: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """Rows of replay days ``first .. last - 1`` (0 = the window's first day)."""
    day = (replay["event_time"] - replay["event_time"].iloc[0].floor("D")) // pd.Timedelta(days=1)
    return replay[(day >= first) & (day < last)]


def mixed_zones(bars: pd.DataFrame) -> pd.DataFrame:
    times = bars["open_time"].astype(object)
    times.iloc[:10] = [t.tz_convert("Asia/Tokyo") for t in times.iloc[:10]]
    return bars.assign(open_time=times)


def conflicting_minute(bars: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([bars, bars.iloc[[100]].assign(volume=bars["volume"].iloc[100] + 1.0)], ignore_index=True)


def flip_byte(c: Ctx, path: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    return c.corrupt(path, bytes(data))


def truncate(c: Ctx, path: Path) -> Path:
    return c.corrupt(path, path.read_bytes()[: path.stat().st_size // 2])


def garbage_parquet_with_manifest(c: Ctx) -> None:
    path = c.corrupt(c.run_dir / layout.ARTIFACT_PATHS["replay_1m"], b"PAR1 not a parquet file PAR1")
    io.write_manifest(path, {})  # a manifest that matches the garbage: the read itself must refuse it
    mpath = io.manifest_path(path)
    c.expected[mpath.relative_to(c.home).as_posix()] = io.sha256_file(mpath)
    io.read_parquet(path)


def edited_run_spec(edit: Callable[[dict[str, Any]], None]):
    def call(c: Ctx) -> None:
        path = c.run_dir / layout.RUN_SPEC_FILE
        data = json.loads(path.read_text())
        edit(data)
        c.corrupt(path, json.dumps(data).encode())
        runs.load_spec(RUN_ID, c.home)
    return call


def bad_spec(changes: dict[str, Any]):
    """A run spec with ``changes`` for the label stage of the run (refused before the stage runs)."""
    return lambda c: price_plan_stage(ctx=c.run(c.spec_with(changes)))


def bad_pm_config(section: str, key: str, value: Any):
    """The PM search's document with a bad config into the backtest stage (refused before its sealed look)."""
    def call(c: Ctx) -> None:
        config = default_pm_config().to_json()
        config[section][key] = value
        backtest_stage(ctx=c.run(), frame=pd.DataFrame(), pm_doc={"config": config}, entry_labels=pd.DataFrame(),
                       plan=c.golden.plan)
    return call


def csv_file(text: str | bytes, replay: bool = False):
    """A bar CSV read by the csv source (and, with ``replay``, passed on to replay)."""
    def call(c: Ctx) -> None:
        path = c.tmp / "bars.csv"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        bars = read_bar_csv(path, SYMBOL)
        if replay:
            build_replay({"bars": bars}, config=ReplayConfig(complete_days_only=False))
    return call


def csv_source(c: Ctx) -> None:
    load_raw_market(c.spec_with({"source": {"kind": "csv", "path": str(c.tmp / "absent.csv")}, "start": None,
                                 "end": None}))


def truncated_vision_zip(c: Ctx) -> None:
    vision = pytest.importorskip("trader_core.market.binance_vision",
                                 reason="trader_core.market.binance_vision (data.vision reader) is not in this checkout")
    minutes = pd.date_range("2026-01-01", periods=1440, freq="min", tz="UTC")
    ms = (minutes - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(milliseconds=1)
    rows = "\n".join(f"{t},100.0,100.5,99.5,100.2,3.0,{t + 59_999},300.6,12,1.5,150.3,0" for t in ms)
    root = c.tmp / "vision"
    root.mkdir()
    path = root / "BTCUSDT-1m-2026-01-01.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("BTCUSDT-1m-2026-01-01.csv", "open_time,open,high,low,close,volume,close_time,quote_volume,"
                                                 "count,taker_buy_volume,taker_buy_quote_volume,ignore\n" + rows)
    assert len(vision.read_binance_vision(root, [SYMBOL])["bars"]) == 1440  # the intact file reads
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    vision.read_binance_vision(root, [SYMBOL])


def tampered_onnx(c: Ctx) -> None:
    """Flip one byte inside a weight of the released ENTRY model: still a valid ONNX file, other numbers."""
    path = bundle_model_path(c.release_dir / "model", ENTRY)
    data = bytearray(path.read_bytes())
    weight = read_model(path).graph.initializer[0].raw_data
    at = bytes(data).index(weight[:8]) + 2
    data[at] ^= 0x01
    c.corrupt(path, bytes(data))
    read_model(path)  # parses: only the release manifest's hash can tell
    InferenceEngine.from_bundle(c.release_dir / "model")


def tampered_champion(c: Ctx) -> None:
    flip_byte(c, bundle_model_path(c.release_dir / "model", MODELS[0]))
    release.set_champion(c.golden.release, c.home)


LOCK, SPLIT_JSON = layout.SPLIT_LOCK_FILE, layout.ARTIFACT_PATHS["split_manifest"]

#: id -> (entry point, call, exception type, substring of the message)
ERRORS: dict[str, tuple[str, Callable[[Ctx], Any], type[Exception], str]] = {
    # raw market tables -> replay stage
    "raw-missing-column": ("replay", into_replay(lambda b: b.drop(columns=["close"])), DataContractError,
                           "bars: missing required column(s) ['close']"),
    "raw-string-prices": ("replay", into_replay(lambda b: b.assign(close=b["close"].astype(str))), DataContractError,
                          "bars.close: expected float"),
    "raw-epoch-int-times": ("replay", into_replay(lambda b: b.assign(open_time=np.arange(len(b), dtype=np.int64))),
                            DataContractError, "bars.open_time: expected timestamp, got dtype int64"),
    "raw-nan-price": ("replay", into_replay(bars_row("close", np.nan)), DataContractError,
                      "bars.close: 1 null/NaN value(s)"),
    "raw-inf-price": ("replay", into_replay(bars_row("high", np.inf)), DataContractError,
                      "bars.high: 1 infinite value(s)"),
    "raw-zero-price": ("replay", into_replay(bars_row("low", 0.0)), DataContractError, "bars.low: 1 value(s) <= 0"),
    "raw-negative-price": ("replay", into_replay(bars_row("open", -1.0)), DataContractError,
                           "bars.open: 1 value(s) <= 0"),
    "raw-high-below-low": ("replay", into_replay(lambda b: bars_row("high", b.loc[100, "low"] * 0.99)(b)),
                           DataContractError, "violate low <= open/close <= high"),
    "raw-negative-volume": ("replay", into_replay(bars_row("volume", -2.0)), DataContractError,
                            "bars.volume: 1 negative value(s)"),
    "raw-conflicting-duplicate-minute": ("replay", into_replay(conflicting_minute), DataContractError,
                                         "share a (symbol, minute) with different values"),
    "raw-naive-times": ("replay", into_replay(lambda b: b.assign(open_time=b["open_time"].dt.tz_localize(None))),
                        DataContractError, "bars.open_time: timestamps are naive"),
    "raw-non-utc-zone": ("replay",
                         into_replay(lambda b: b.assign(open_time=b["open_time"].dt.tz_convert("America/New_York"))),
                         DataContractError, "bars.open_time: time zone is America/New_York, expected UTC"),
    "raw-mixed-zones": ("replay", into_replay(mixed_zones), DataContractError,
                        "bars.open_time: expected timestamp, got dtype object"),
    "raw-off-minute-times": ("replay", into_replay(lambda b: b.assign(open_time=b["open_time"] + pd.Timedelta("5s"))),
                             DataContractError, "bars.open_time: 17280 bar(s) not on a whole minute"),
    "raw-symbol-without-rows": ("replay", into_replay(lambda b: b, {"symbols": [SYMBOL, "ETH-USDT-PERP"]}),
                                DataContractError, "symbol(s) ['ETH-USDT-PERP'] have no rows"),
    "raw-no-complete-day": ("replay", into_replay(lambda b: b.iloc[:600]), DataContractError,
                            "no complete UTC day (1440 minutes) left"),
    "raw-moves-sealed-split": ("replay", into_replay(lambda b: b.iloc[:-1440]), LockedSplitError,
                               "sealed split boundaries are locked"),
    # replay -> split stage
    "split-empty-tune": ("split", into_split(lambda r: pd.concat([days(r, 0, 6), days(r, 8, 12)])),
                         DataContractError, "split: tune_inner"),
    "split-window-too-short": ("split", into_split(lambda r: days(r, 0, 3)), DataContractError,
                               "too short for the split plan"),
    "split-empty-replay": ("split", into_split(lambda r: r.iloc[:0]), DataContractError,
                           "split: the replay is empty"),
    # stored artifacts (verified reads, locks, the run spec on disk)
    "artifact-parquet-byte-flipped": ("io.read_parquet", lambda c: io.read_parquet(
        flip_byte(c, c.run_dir / layout.ARTIFACT_PATHS["replay_1m"])), ArtifactError, "does not match its manifest"),
    "artifact-garbage-parquet": ("io.read_parquet", garbage_parquet_with_manifest, ArtifactError,
                                 "replay_1m.parquet: unreadable parquet"),
    "artifact-part-byte-flipped": ("parts.read_frame", lambda c: parts.read_frame(flip_byte(
        c, next((c.run_dir / layout.ARTIFACT_PATHS["feature_frame"]).glob("*.parquet"))).parent), ArtifactError,
        "does not match its manifest"),
    "artifact-truncated-manifest": ("parts.read_frame", lambda c: parts.read_frame(
        truncate(c, io.manifest_path(c.run_dir / layout.ARTIFACT_PATHS["feature_frame"])).with_name(
            "feature_frame.parts")), ArtifactError, "feature_frame.manifest.json: corrupt manifest"),
    "artifact-manifest-not-object": ("io.read_json", lambda c: io.read_json(
        c.corrupt(io.manifest_path(c.run_dir / SPLIT_JSON), b"[]").with_name("split_manifest.json"), verify=True),
        ArtifactError, "split_manifest.manifest.json: corrupt manifest"),
    "artifact-truncated-split-lock": ("split", lambda c: (truncate(c, c.run_dir / LOCK),
                                                          split_stage(ctx=c.run(), replay=c.golden.replay)),
                                      ArtifactError, "validation_lock.json: corrupt JSON"),
    "artifact-binary-split-lock": ("replay", lambda c: (c.corrupt(c.run_dir / LOCK, b"\xff\xfe\x00\x01"),
                                                        replay_stage(ctx=c.run(), raw=c.raw(lambda b: b))),
                                   ArtifactError, "validation_lock.json: corrupt JSON"),
    "artifact-lock-without-boundaries": ("split", lambda c: (c.corrupt(c.run_dir / LOCK, b"{}"),
                                                             split_stage(ctx=c.run(), replay=c.golden.replay)),
                                         ArtifactError, "corrupt split lock (no sealed_boundaries)"),
    "run-spec-edited-by-hand": ("runs.load_spec", edited_run_spec(lambda d: d.update(symbols=["ETH-USDT-PERP"])),
                                ConfigError, "run_spec.json: edited by hand"),
    "run-spec-unknown-key": ("runs.load_spec", edited_run_spec(lambda d: d.update(symbol=SYMBOL)), ConfigError,
                             "unknown config key(s) ['symbol']"),
    "run-spec-not-utf8": ("runs.load_spec", lambda c: (c.corrupt(c.run_dir / layout.RUN_SPEC_FILE, b"\xff{"),
                                                       runs.load_spec(RUN_ID, c.home)),
                          ConfigError, "run_spec.json is not valid JSON"),
    # run spec sections -> the label stage (refused while the spec is built, before the stage runs)
    "spec-unknown-nested-key": ("labels", bad_spec({"replay": {"book_max_age": 5}}), ConfigError,
                                "unknown config key(s) ['replay.book_max_age']"),
    "spec-mistyped-value": ("labels", bad_spec({"costs": {"fee_bps": "4"}}), ConfigError,
                            "costs.fee_bps: expected a number, got '4'"),
    "spec-nan-value": ("labels", bad_spec({"labels": {"entry": {"target_bps": float("nan")}}}), ConfigError,
                       "labels.entry.target_bps: must be finite"),
    "label-second-target-negative": ("labels", bad_spec({"labels": {"entry": {"second_target_bps": -24.0}}}),
                                     ConfigError, "labels.entry.second_target_bps: must be > 0"),
    "label-trailing-stop-negative": ("labels", bad_spec({"labels": {"entry": {"trailing_stop_bps": -1.0}}}),
                                     ConfigError, "labels.entry.trailing_stop_bps: must be >= 0"),
    "label-risk-ratio-zero": ("labels", bad_spec({"labels": {"risk": {"vol_expansion_ratio": 0.0}}}), ConfigError,
                              "labels.risk.vol_expansion_ratio: must be > 0"),
    "label-horizon-zero": ("labels", bad_spec({"labels": {"exit": {"horizon_minutes": 0}}}), ConfigError,
                           "labels.exit.horizon_minutes: must be in [1, 1440]"),
    "cost-negative": ("labels", bad_spec({"costs": {"slippage_bps": -1.0}}), ConfigError,
                      "costs.slippage_bps: must be >= 0"),
    "replay-max-age-negative": ("replay", bad_spec({"replay": {"book_max_age_minutes": -5}}), ConfigError,
                                "replay.book_max_age_minutes: must be >= 1"),
    "pm-ratio-out-of-range": ("backtest", bad_pm_config("sizing", "maxSingleLegRatio", 1.5), ConfigError,
                              "'sizing.maxSingleLegRatio' must be a number in [0.0, 1.0]"),
    "pm-mistyped-threshold": ("backtest", bad_pm_config("open", "longOpenProb", "0.6"), ConfigError,
                              "'open.longOpenProb' must be a number"),
    "pm-unknown-key": ("backtest", bad_pm_config("add", "cooldown", 5), ConfigError,
                       "unknown keys ['add.cooldown']"),
    # bar CSV source
    "csv-empty-file": ("read_bar_csv", csv_file(""), DataContractError, "bars.csv: unreadable CSV"),
    "csv-not-utf8": ("read_bar_csv", csv_file(b"timestamp,open\n\xff\xfe,1\n"), DataContractError,
                     "bars.csv: unreadable CSV"),
    "csv-missing-column": ("read_bar_csv", csv_file("timestamp,open,high,low,close\n2026-01-01,1,2,0.5,1\n"),
                           DataContractError, "bars.csv: missing column(s) ['volume']"),
    "csv-unparseable-time": ("read_bar_csv", csv_file("timestamp,open,high,low,close,volume\n"
                                                      "2026-01-01 00:00,1,2,0.5,1,1\nnoon,1,2,0.5,1,1\n"),
                             DataContractError, "column 'timestamp' is not parseable as time"),
    "csv-string-prices": ("read_bar_csv", csv_file("timestamp,open,high,low,close,volume\n"
                                                   "2026-01-01 00:00,1,2,0.5,abc,1\n"),
                          DataContractError, "column 'close' is not numeric"),
    "csv-empty-price-reaches-replay": ("read_bar_csv+replay", csv_file("timestamp,open,high,low,close,volume\n"
                                                                       "2026-01-01 00:00,1,2,0.5,,1\n", replay=True),
                                       DataContractError, "bars.close: 1 null/NaN value(s)"),
    "csv-file-absent": ("load_raw_market", csv_source, ConfigError, "absent.csv is not a file"),
    # data.vision zips
    "zip-truncated": ("binance_vision", truncated_vision_zip, ArtifactError, "corrupt or truncated zip"),
    # release bundles
    "bundle-onnx-hash-mismatch": ("InferenceEngine.from_bundle", tampered_onnx, ArtifactError,
                                  "['model/entry/entry.onnx'] missing or not matching their sha256"),
    "bundle-truncated-release-manifest": ("InferenceEngine.from_bundle", lambda c: (
        truncate(c, c.release_dir / release.MANIFEST), InferenceEngine.from_bundle(c.release_dir / "model")),
        ArtifactError, "release_manifest.json: corrupt JSON"),
    "bundle-tampered-champion": ("release.set_champion", tampered_champion, ArtifactError,
                                 "not matching their sha256"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_is_refused_and_earlier_artifacts_are_untouched(ctx: Ctx, case: str) -> None:
    _entry, call, exc_type, needle = ERRORS[case]
    with pytest.raises(exc_type, match=re.escape(needle)):
        call(ctx)
    assert snapshot(ctx.home) == ctx.expected
    assert not [p for p in ctx.home.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".staging-")]


def test_the_matrix_covers_every_entry_point() -> None:
    assert len(ERRORS) >= 20
    assert {entry for entry, *_ in ERRORS.values()} >= {
        "replay", "split", "labels", "backtest", "io.read_parquet", "parts.read_frame", "runs.load_spec", "read_bar_csv",
        "binance_vision", "InferenceEngine.from_bundle"}


def test_the_valid_run_loads(golden: Golden) -> None:
    """The baseline the cases mutate is itself accepted (so every refusal above is caused by the mutation)."""
    run_dir = layout.run_root(RUN_ID, golden.home)
    pd.testing.assert_frame_equal(io.read_parquet(run_dir / layout.ARTIFACT_PATHS["replay_1m"]), golden.replay)
    assert io.read_json(run_dir / layout.ARTIFACT_PATHS["split_manifest"], verify=True) == json.loads(
        io.json_bytes(golden.manifest))
    assert runs.load_spec(RUN_ID, golden.home) == golden.spec
    engine = InferenceEngine.from_bundle(release.releases_root(golden.home) / golden.release / "model")
    assert engine.run(np.zeros((2, FEATURE_COUNT), np.float32)).shape == (2, sum(map(len, MODEL_OUTPUTS.values())))
    assert snapshot(golden.home) == golden.snapshot


# ------------------------------------------------------------------------------------------ documented repairs
def test_repair_unsorted_minutes_are_sorted_with_a_warning(golden: Golden) -> None:
    raw = {k: v.copy() for k, v in golden.raw.items()}
    raw["bars"] = raw["bars"].sample(frac=1.0, random_state=7)
    replay, report = build_replay(raw, symbols=(SYMBOL,), start=golden.spec.start_ts, end=golden.spec.end_ts)
    pd.testing.assert_frame_equal(replay, golden.replay)
    assert "bars were not sorted by (symbol, open_time); sorted them" in report.warnings


def test_repair_exactly_repeated_rows_are_dropped_and_counted(golden: Golden) -> None:
    raw = {k: v.copy() for k, v in golden.raw.items()}
    raw["bars"] = pd.concat([raw["bars"], raw["bars"].iloc[10:13]], ignore_index=True)
    replay, report = build_replay(raw, symbols=(SYMBOL,), start=golden.spec.start_ts, end=golden.spec.end_ts)
    pd.testing.assert_frame_equal(replay, golden.replay)
    assert report.exact_duplicates_dropped == 3
    assert "dropped 3 exactly repeated bar row(s)" in report.warnings


def test_repair_no_trade_minutes_are_filled_flat_and_flagged(golden: Golden) -> None:
    raw = {k: v.copy() for k, v in golden.raw.items()}
    raw["bars"] = raw["bars"].drop(index=range(2000, 2003))  # 3 minutes of day 1 (00:00 = row 1440)
    replay, report = build_replay(raw)
    filled = replay[replay["bar_filled"] == 1]
    previous_close = golden.raw["bars"]["close"].iloc[1999]
    assert len(replay) == len(golden.replay) and len(filled) == 3 == report.filled_minutes
    assert (filled[["open", "high", "low", "close"]] == previous_close).all().all()
    assert (filled[["volume", "taker_buy_volume", "taker_sell_volume", "trade_count"]] == 0).all().all()
    assert report.gaps == 0 and report.incomplete_days_dropped == 0
    assert any("filled 3 no-trade minute(s)" in w for w in report.warnings)
    present = replay["bar_filled"] == 0
    pd.testing.assert_frame_equal(replay[present].drop(columns="gap_minutes_before").reset_index(drop=True),
                                  golden.replay[present.to_numpy()].drop(columns="gap_minutes_before")
                                  .reset_index(drop=True), check_exact=False, rtol=0, atol=0)


def test_repair_outage_gaps_drop_the_day_or_stay_visible(golden: Golden) -> None:
    raw = {k: v.copy() for k, v in golden.raw.items()}
    raw["bars"] = raw["bars"].drop(index=range(2000, 2016))  # 16 minutes: longer than the 15-minute default
    replay, report = build_replay(raw)
    assert report.incomplete_days_dropped == 1 and replay["gap_minutes_before"].max() == 1440
    assert any("complete-day filter dropped 1 incomplete symbol-day(s)" in w and "outage gap longer than 15" in w
               for w in report.warnings)
    day = [d for d in report.days if d["minutes_present"] == 1440 - 16]
    assert [(d["longest_gap_minutes"], d["kept"]) for d in day] == [(16, False)]
    replay, report = build_replay(raw, config=ReplayConfig(complete_days_only=False))
    after = replay["open_time_ms"] == int(golden.raw["bars"]["open_time"].iloc[2016].timestamp() * 1000)
    assert replay.loc[after, "gap_minutes_before"].tolist() == [16]
    assert report.gaps == 1 and report.missing_minutes == 16 and len(replay) == len(golden.replay) - 16
    assert any("1 gap(s) in the minute grid (16 missing minutes)" in w for w in report.warnings)


def test_repair_csv_times_without_offset_are_utc_and_offsets_are_converted(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text("timestamp,open,high,low,close,volume\n"
                    "2026-01-01 00:00:00,1,2,0.5,1,1\n"          # naive: read as UTC (documented)
                    "2026-01-01T02:01:00+02:00,1,2,0.5,1,1\n"    # +02:00: converted to 00:01 UTC
                    "2026-01-01T00:02:00Z,1,2,0.5,1,1\n")
    bars = read_bar_csv(path, SYMBOL)
    assert str(bars["open_time"].dt.tz) == "UTC"
    assert bars["open_time"].tolist() == list(pd.date_range("2026-01-01", periods=3, freq="min", tz="UTC"))
    replay, _ = build_replay({"bars": bars}, config=ReplayConfig(complete_days_only=False))
    assert len(replay) == 3 and (replay["book_available"] == 0).all()


def test_repair_one_class_labels_train_a_flagged_constant_head(golden: Golden) -> None:
    """An entry edge nobody reaches: every entry label is 0, the label summary lists the one-class targets
    (the WARN asset check ``entry_not_one_class`` reads it) and the heads are constant and flagged."""
    spec = golden.spec
    labels = from_mapping(RunSpec, merge_sections(spec.to_dict(), {
        "labels": {"entry": {"min_expected_net_edge_bps": 5000.0}}})).labels
    plan = build_price_plan(labels.entry, spec.costs)
    stats = compute_label_path_stats(golden.replay, golden.manifest, plan_params(plan), label_horizons(labels))
    stats = with_trade_costs(stats, CostModel.from_replay(golden.replay, spec.costs))
    entry = build_entry_labels(golden.features, stats, plan)
    assert entry["entry_target"].eq(0).all()
    summary = label_summary(entry, ("entry_target",))
    assert {"fit_inner.entry_target", "tune_inner.entry_target"} <= set(summary["one_class"])
    trained = train_model(TARGETS[ENTRY], build_train_dataset("entry", golden.features, entry), spec.models)
    for name in ("long_entry_prob", "short_entry_prob"):
        head = next(h for h in trained.heads if h.name == name)
        assert not head.weight.any() and trained.fit[name]["constant_head"] is True
        np.testing.assert_allclose(trained.predictions[name], 1e-6, rtol=1e-3)  # clipped prevalence
    assert trained.fit["long_expected_net_edge_bps"]["constant_head"] is False

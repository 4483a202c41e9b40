"""The ``trader`` command: create runs and materialize them without the UI.

    trader run RUN_ID [--strategy perp|butterfly] [--source synthetic|csv|binance-vision|binance-feed|lake]
                      [--path DIR_OR_FILE]
                      [--symbols A,B] [--start DATE --end DATE | --days N] [--signal S] [--seed N]
                      [--config FILE] [--select ASSETS] [--no-experiments] [--debug]
    trader check-data --source KIND [--path P] [--symbols A,B] [--start D --end D] [--config FILE]
                                what a run would see of a source; exit 1 (with the reason) if it could not run
    trader runs                 list runs with their last status, as recorded on disk (docs/runs.md)
    trader show RUN_ID          where a run's artifacts and reports are
    trader land synthetic --month YYYY-MM [--symbols A,B] [--seed N] [--signal S]
    trader land binance-vision --month YYYY-MM --path DIR [--symbols A,B]
    trader land butterfly --month YYYY-MM [--source synthetic|csv] [--path daily.csv] [--symbols A,B]
                          [--seed N] [--signal S]
                                land a month (synthetic, from data.vision zips, or daily bars for the butterfly
                                strategy) for the retraining sensor
    trader walk-forward --from YYYY-MM --to YYYY-MM [--source synthetic|binance-vision|landed] [--path P]
                        [--symbols A,B] [--signal S] [--signal-change DATE=S ...] [--retrain-months N] [--home DIR]
                                backtest the monthly retraining loop month by month through the graph
    trader download binance-vision --month YYYY-MM [--symbols A,B] [--daily] [--dest DIR]
                                fetch data.vision zips (network needed; tests never call it)
    trader releases             promoted releases with their model line, and each line's champion and canary
    trader rollback [--line LINE] [--canary]
                                restore a line's previous champion (LINE may be omitted when there is one line);
                                --canary drops the line's canary and leaves the champion
    trader promote-canary [--line LINE]
                                make the line's canary its champion (`trader rollback` restores the old one)
    trader decide [--line LINE] [--at ISO-TIME] [--max-age DURATION]
                                the line's champion decides on the newest data (perp: per symbol; butterfly: the
                                ranked candidates and both tracks); every decision is appended to
                                decisions/<line>.parquet
    trader weekly-report [--at ISO-TIME] [--window-days N]
                                every line's decisions of the last N (30) days joined with their realized
                                outcomes: monitoring/weekly/<date>/report.md (what the Monday schedule runs)
    trader adapt-threshold [--line LINE] [--window-days N]
                                adapt a butterfly line's min_expected_roi from its realized outcomes (a new
                                version of decisions/<line>.thresholds.json, or why not)
    trader ui [--port N]        start the Dagster UI on 127.0.0.1 with the project-local DAGSTER_HOME

A new run id creates its partition and run spec; an existing one reuses its stored spec, and any flag
that would change it is refused (a changed spec needs a new run id). Errors print one line and exit 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from trader_assets.run_summary import print_summary, refusal_lines
from trader_core import layout, release, run_status, runs
from trader_core.config import SOURCE_KINDS, STRATEGIES, RunSpec
from trader_core.config_mapping import merge_sections, read_json_object
from trader_core.errors import ConfigError, TraderError
from trader_core.monitoring.decision_bounds import DEFAULT_WINDOW_DAYS
from trader_core.registration import default_sections, new_spec, register_run, stored_sections
from trader_core.strategies import strategy_named

DEMO_DAYS = 60
#: First line of the repository's dagster.yaml: an instance file starting with it is ours to keep up to date.
TEMPLATE_MARKER = "# Dagster instance for trader."


def dagster_home() -> Path:
    """``$DAGSTER_HOME`` or ``<TRADER_HOME>/dagster``, initialized with the project's dagster.yaml (kept in sync
    with it unless the instance file there is the user's own, e.g. a copy of dagster_postgres.yaml)."""
    home = Path(os.environ.get("DAGSTER_HOME") or layout.trader_home() / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    template = layout.PROJECT_ROOT / "dagster.yaml"
    ours = not target.exists() or target.read_text().startswith(TEMPLATE_MARKER)
    if template.exists() and ours and (not target.exists() or target.read_bytes() != template.read_bytes()):
        shutil.copyfile(template, target)  # a user's own instance file (e.g. dagster_postgres.yaml) is kept
    os.environ["DAGSTER_HOME"] = str(home)
    return home


# ------------------------------------------------------------------------------------------ run spec
def load_config_file(path: str) -> dict[str, Any]:
    data = read_json_object(path, "--config")
    if "run_id" in data:
        raise ConfigError(f"--config: {path} must hold run spec sections only (the run id comes from the command)")
    return data


def sections_from_args(args: argparse.Namespace, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The run spec sections the command gives: --config's sections, then the explicitly given flags.

    ``stored`` is the run's stored spec (None for a new run id); flags that depend on the spec they apply to
    (the window of --days, where --signal/--seed go) read it, or the defaults, merged with --config.
    """
    sections = load_config_file(args.config) if args.config else {}
    view = merge_sections(stored or default_sections(args.run_id), sections)
    flags: dict[str, Any] = {}
    if args.strategy is not None:
        flags["strategy"] = args.strategy
    knobs = {flag: getattr(args, flag) for flag in ("signal", "seed") if getattr(args, flag) is not None}
    source: dict[str, Any] = {}
    if knobs:  # --signal/--seed go to the strategy's synthetic section
        for key in reversed(strategy_named(flags.get("strategy", view["strategy"])).synthetic_section):
            knobs = {key: knobs}
        flags = merge_sections(flags, knobs)
        source = dict(flags.pop("source", {}))
    if args.source is not None:
        source["kind"] = args.source
        if args.source != "synthetic" and stored is None:
            flags["start"] = flags["end"] = None
    if args.path is not None:
        source["path"] = str(Path(args.path).resolve())
    if source:
        flags["source"] = source
    if args.symbols is not None:
        flags["symbols"] = [s.strip() for s in args.symbols.split(",") if s.strip()]
    if args.start is not None:
        flags["start"] = args.start
    if args.days is not None:
        if args.end is not None:
            raise ConfigError("--days and --end are exclusive: give one")
        start = pd.Timestamp((flags["start"] if "start" in flags else view["start"])
                             or RunSpec.__dataclass_fields__["start"].default)
        flags["start"] = start.strftime("%Y-%m-%d")
        flags["end"] = (start + pd.Timedelta(days=args.days)).strftime("%Y-%m-%d")
    elif args.end is not None:
        flags["end"] = args.end
    elif stored is None and source.get("kind", view["source"]["kind"]) == "synthetic" and args.start:
        flags["end"] = (pd.Timestamp(args.start) + pd.Timedelta(days=DEMO_DAYS)).strftime("%Y-%m-%d")
    return merge_sections(sections, flags)


def ensure_run(run_id: str, sections: Mapping[str, Any], home: Path) -> RunSpec:
    """Register the run (create or reuse its spec) and say which it was."""
    registration = register_run(run_id=run_id, sections=sections, home=home)
    spec = registration.spec
    if registration.created:
        print(f"run {spec.run_id}: new spec written (hash {spec.spec_hash[:12]})")
    else:
        print(f"run {spec.run_id}: reusing its spec (hash {spec.spec_hash[:12]})")
    return spec


# ------------------------------------------------------------------------------------------ commands
def cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg

    from trader_assets.definitions import defs
    from trader_assets.registration import ensure_run_partition
    from trader_assets.run_recording import execute_recorded

    home = layout.trader_home()
    stored = stored_sections(args.run_id, home=home)
    sections = sections_from_args(args, stored)
    strategy = strategy_named(merge_sections(stored or default_sections(args.run_id), sections)["strategy"])
    job = defs.resolve_job_def(strategy.job if args.no_experiments else strategy.job_with_experiments)
    selection = None
    if args.select:
        known = {k.to_user_string(): k for k in job.asset_layer.executable_asset_keys}
        names = [s.strip() for s in args.select.split(",") if s.strip()]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(f"--select: unknown asset(s) {unknown}; known: {sorted(known)}")
        selection = [known[n] for n in names]
    spec = ensure_run(args.run_id, sections, home)
    dagster_home()
    instance = dg.DagsterInstance.get()
    ensure_run_partition(instance, spec.run_id)
    print(f"materializing {strategy.name} run {spec.run_id} ({strategy.describe(spec)}) into "
          f"{layout.run_root(spec.run_id, home)}")
    result = execute_recorded(
        job, instance=instance, partition_key=spec.run_id, home=home, asset_selection=selection,
        raise_on_error=False, run_config={"loggers": {"progress": {}}}, tags={"trader/run_spec_hash": spec.spec_hash},
    )
    evaluations = [e for e in result.get_asset_check_evaluations() if not e.passed]
    failed = [e.check_name for e in evaluations if e.severity == dg.AssetCheckSeverity.ERROR]
    warned = [e.check_name for e in evaluations if e.severity == dg.AssetCheckSeverity.WARN]
    print_summary(spec.run_id, home)
    if warned:
        print(f"warnings (WARN checks that did not pass): {', '.join(warned)}")
    if not result.success or failed:
        print(f"run {spec.run_id}: FAILED" + (f" (blocking checks failed: {', '.join(failed)})" if failed else ""),
              file=sys.stderr)
        for line in refusal_lines(spec.run_id, home):
            print(line, file=sys.stderr)
        return 1
    print(f"run {spec.run_id}: succeeded")
    return 0


def cmd_check_data(args: argparse.Namespace) -> int:
    """Print what a run would see of a source (same adapters, replay rules and split plan); 1 if not runnable."""
    from trader_core.data_check import check_data, render_check
    from trader_core.market.sources import load_raw_market

    spec = new_spec(run_id=args.run_id, sections=sections_from_args(args, None))
    check = check_data(load_raw_market(spec), spec)
    for line in render_check(check):
        print(line)
    return 0 if check.ok else 1


def cmd_runs(_args: argparse.Namespace) -> int:
    """Each run's last status as recorded on disk (trader_core.run_status): no Dagster import, no instance."""
    home = layout.trader_home()
    root = layout.runs_root(home)
    run_ids = sorted(p.name for p in root.iterdir() if (p / layout.RUN_SPEC_FILE).exists()) if root.exists() else []
    if not run_ids:
        print(f"no runs under {root}; create one with `trader run demo`")
        return 0
    print(f"{'run':<24} {'source':<10} {'window':<25} {'last status':<12} {'since (UTC)':<20} spec")
    unknown = False
    for run_id in run_ids:
        spec = runs.load_spec(run_id, home)
        record = run_status.last_run_status(run_id, spec_hash=spec.spec_hash, home=home)
        status, since = (record.status, record.updated_at[:19].replace("T", " ")) if record else ("unknown", "-")
        unknown = unknown or record is None
        window = f"{spec.start or '*'}..{spec.end or '*'}"
        print(f"{run_id:<24} {spec.source.kind:<10} {window:<25} {status:<12} {since:<20} {spec.spec_hash[:12]}")
    if unknown:
        print("unknown: no status recorded: never run, or run only from the UI or a sensor while the Dagster "
              "daemon (which records their status) was off, or before this release; the UI's Runs page knows")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    home = layout.trader_home()
    root = layout.run_root(args.run_id, home)
    if not (root / layout.RUN_SPEC_FILE).exists():
        raise ConfigError(f"no run {args.run_id!r} under {layout.runs_root(home)}")
    spec = runs.load_spec(args.run_id, home)
    print(json.dumps({"run_id": spec.run_id, "spec_hash": spec.spec_hash, "source": dataclasses.asdict(spec.source),
                      "symbols": list(spec.symbols), "start": spec.start, "end": spec.end}, indent=2))
    for row in (r for r in release.list_releases(home) if r["run_id"] == args.run_id):
        print(f"release {row['version']} (line {row['line']}): {_role(row) or 'not current'}")
    print(f"run folder: {root}")
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        print(f"  {path.relative_to(root)}  ({path.stat().st_size:,} bytes)")
    return 0


def _role(row: dict) -> str:
    """'champion', 'canary 20%' or '' for a row of ``release.list_releases``."""
    return "champion" if row["champion"] else "" if row["canary_share"] is None else f"canary {row['canary_share']:.0%}"


def cmd_releases(_args: argparse.Namespace) -> int:
    home = layout.trader_home()
    rows = release.list_releases(home)
    if not rows:
        print(f"no releases under {release.releases_root(home)}")
        return 0
    print(f"{'version':<32} {'run':<20} {'line':<32} {'backtest':<9} {'content':<13} role")
    for row in rows:
        print(f"{row['version']:<32} {row['run_id']:<20} {row['line'] or '-':<32} {row['backtest_status']:<9} "
              f"{row['content_hash']:<13} {_role(row)}")
    print("champions:")
    canaries = release.canaries(home)
    for line, pointer in release.champions(home).items():
        print(f"  {line}: {pointer['version']}  {json.dumps(pointer['definition'], sort_keys=True)}")
        if line in canaries:
            print(f"    canary: {canaries[line]['version']} with {canaries[line]['share']:.0%} of the decisions")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    home = layout.trader_home()
    line = release.resolve_line(home, args.line)
    if args.canary:
        dropped = release.drop_canary(home, line)
        print(f"line {line}: canary {dropped['version']} dropped; champion "
              f"{release.champion(home, line)['version']} unchanged")
        return 0
    pointer = release.rollback(home, line)
    print(f"line {line}: champion is now {pointer['version']} (rolled back from {pointer['rolled_back_from']})")
    return 0


def cmd_promote_canary(args: argparse.Namespace) -> int:
    home = layout.trader_home()
    line = release.resolve_line(home, args.line)
    pointer = release.promote_canary(home, line)
    print(f"line {line}: canary {pointer['version']} is now the champion (previous champion "
          f"{pointer['previous'][0]}; `trader rollback` restores it)")
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    """The line's champion decides on the newest data of its source (or at --at); appended to the decision log."""
    from trader_core.decide import decide, parse_request

    decisions = decide(line=args.line, request=parse_request(at=args.at, max_age=args.max_age))
    print("\n".join(decisions.render()))
    return 0


def cmd_weekly_report(args: argparse.Namespace) -> int:
    """The weekly decision report, as the Monday schedule's asset makes it (one stage)."""
    from trader_core import stages

    result = stages.weekly_report_stage(home=layout.trader_home(), at=args.at, window_days=args.window_days)
    print("\n".join((*result.notes, *(f"WARN {line}" for line in result.warnings))))
    return 0


def cmd_adapt_threshold(args: argparse.Namespace) -> int:
    """A butterfly line's min_expected_roi from the realized outcomes of its decisions (docs/decide.md)."""
    from trader_core.decide.adapt import adapt_threshold

    adapted = adapt_threshold(line=args.line, window_days=args.window_days)
    figures = adapted.figures
    print(f"window {figures.window_start[:10]} to {figures.window_end[:10]}: {figures.traded} resolved traded "
          f"decision(s) of {figures.resolved}, realized mean ROI {figures.realized_mean:+.4f} vs predicted "
          f"{figures.predicted_mean:+.4f}, {figures.trades_per_day:.2f} trade(s) per decision day")
    if adapted.move == "keep":
        print(f"min_expected_roi kept at {adapted.old:g} (version {adapted.version})")
    else:
        moved = {"raise": "raised", "lower": "lowered"}[adapted.move]
        print(f"min_expected_roi {moved} from {adapted.old:g} to {adapted.new:g}: version {adapted.version} "
              f"in {adapted.path}")
    return 0


def _symbols(args: argparse.Namespace, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s.strip() for s in args.symbols.split(",") if s.strip()) if args.symbols else default


def cmd_land(args: argparse.Namespace) -> int:
    """Land a month (synthetic, or read from a folder of data.vision zips); the retraining sensor picks it up."""
    from trader_core.market.synthetic import SyntheticMarketConfig

    defaults = SyntheticMarketConfig()
    if args.daily_source and args.source != "butterfly":
        raise ConfigError(f"--source: daily bars are landed by `trader land butterfly`, not {args.source}")
    if args.source == "butterfly":
        marker = _land_butterfly(args)
    elif args.source == "binance-vision":
        from trader_core.market.binance_vision import land_vision_month

        if not args.path:
            raise ConfigError("--path: the folder holding the data.vision zips is required for binance-vision")
        marker = land_vision_month(Path(args.path), args.month, _symbols(args, defaults.symbols), layout.trader_home())
    else:
        from trader_core.market.landing import land_synthetic_month

        config = SyntheticMarketConfig(
            symbols=_symbols(args, defaults.symbols), seed=defaults.seed if args.seed is None else args.seed,
            signal=RunSpec(run_id="x").source.signal if args.signal is None else args.signal)
        marker = land_synthetic_month(args.month, config)
    rows = {name: entry["rows"] for name, entry in marker["tables"].items()}
    print(f"landed {args.source} {args.month} for {', '.join(marker['symbols'])}: {rows}")
    return 0


def cmd_walk_forward(args: argparse.Namespace) -> int:
    """Land the months one at a time in a walk-forward home and retrain each through the graph, then report."""
    from trader_assets.walk_forward import walk_forward
    from trader_core.strategies.perp import trailing_months
    from trader_core.walk_forward.plan import WalkForwardPlan, default_home

    plan = WalkForwardPlan(
        start=args.start_month, end=args.end_month, source=args.source, path=args.path,
        symbols=_symbols(args, WalkForwardPlan.__dataclass_fields__["symbols"].default),
        seed=7 if args.seed is None else args.seed,
        signal=RunSpec(run_id="x").source.signal if args.signal is None else args.signal,
        signal_changes=tuple(_signal_change(text) for text in args.signal_change or ()),
        retrain_months=args.retrain_months or trailing_months())
    home = Path(args.home).resolve() if args.home else default_home(layout.trader_home(), plan)
    print(f"walk-forward {plan.start} to {plan.end} in {home}")
    outcome = walk_forward(plan, home)
    if not outcome.launched:
        print("nothing new: every month of the plan has its retrain run already")
    if outcome.report is not None:
        print(f"report: {outcome.report}")
    print(f"open it in the UI: TRADER_HOME={home} trader ui")
    return 0


def _signal_change(text: str) -> tuple[str, float]:
    day, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return day.strip(), float(value)
    except ValueError:
        raise ConfigError(f"--signal-change: expected DATE=S like 2026-07-01=-2, got {text!r}") from None


def _land_butterfly(args: argparse.Namespace) -> dict[str, Any]:
    """A month of the synthetic daily market (the butterfly section's defaults unless --seed/--signal/--symbols),
    or of a daily-bar CSV (--source csv --path FILE)."""
    from trader_core.butterfly.landing import land_butterfly_csv_month, land_butterfly_synthetic_months
    from trader_core.butterfly_config import ButterflyConfig

    if args.daily_source == "csv":
        if not args.path or args.seed is not None or args.signal is not None:
            raise ConfigError("--source csv: needs --path (the daily-bar CSV) and takes no --seed/--signal")
        return land_butterfly_csv_month(args.month, Path(args.path), symbols=_symbols(args, ()),
                                        home=layout.trader_home())
    if args.path:
        raise ConfigError("--path: the synthetic daily market reads no file (use --source csv for daily bars)")
    section = ButterflyConfig().synthetic
    synthetic = dataclasses.replace(section, symbols=_symbols(args, section.symbols),
                                    seed=section.seed if args.seed is None else args.seed,
                                    signal=section.signal if args.signal is None else args.signal)
    return land_butterfly_synthetic_months([args.month], ButterflyConfig(synthetic=synthetic), layout.trader_home())[0]


def cmd_download(args: argparse.Namespace) -> int:
    """Fetch a month of data.vision zips (needs network access); then ``trader land binance-vision``."""
    from trader_core.market.symbols import binance_symbol
    from trader_core.market.vision_download import download_month

    dest = Path(args.dest) if args.dest else layout.trader_home() / "market" / "downloads" / "binance-vision"
    symbols = [binance_symbol(s) for s in _symbols(args, ("BTC-USDT-PERP",))]
    report = download_month(symbols, args.month, dest, daily=args.daily)
    print(f"{args.month}: {len(report['downloaded'])} downloaded, {len(report['skipped'])} already present, "
          f"{len(report['missing'])} not published; folder {dest}")
    print(f"next: trader land binance-vision --month {args.month} --path {dest} --symbols {','.join(_symbols(args, ('BTC-USDT-PERP',)))}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    home = dagster_home()
    exe = Path(sys.executable).with_name("dagster")
    argv = [str(exe), "dev", "-h", "127.0.0.1", "-p", str(args.port), "-m", "trader_assets.definitions"]
    print(f"Dagster UI on http://127.0.0.1:{args.port} (DAGSTER_HOME={home}); stop with Ctrl-C or kill -TERM {os.getpid()}")
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.chdir(layout.PROJECT_ROOT)
    os.execv(argv[0], argv)
    return 0  # pragma: no cover - execv does not return


# ------------------------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trader", description="Train, backtest and gate trading models.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="create a run (if new) and materialize it")
    run.add_argument("run_id")
    run.add_argument("--strategy", choices=STRATEGIES, help="perp (default) or butterfly (daily options butterflies)")
    run.add_argument("--source", choices=SOURCE_KINDS)
    run.add_argument("--path", help="data file or folder for non-synthetic sources")
    run.add_argument("--symbols", help="comma-separated symbols")
    run.add_argument("--start", help="window start date (UTC, inclusive)")
    run.add_argument("--end", help="window end date (UTC, exclusive)")
    run.add_argument("--days", type=int, help="window length in days from --start")
    run.add_argument("--signal", type=float, help="synthetic signal strength s >= 0 (0 = no signal)")
    run.add_argument("--seed", type=int, help="synthetic market seed")
    run.add_argument("--config", help="JSON file of run spec sections (labels, costs, split, models, ...)")
    run.add_argument("--select", help="comma-separated assets to materialize (default: all)")
    run.add_argument("--no-experiments", action="store_true",
                     help="materialize up to the release only (retrain_job), skipping the experiments group")
    run.set_defaults(func=cmd_run)
    check = sub.add_parser("check-data", help="what a run would see of a source: window, gaps, days kept, tables")
    check.add_argument("--source", choices=SOURCE_KINDS, required=True)
    check.add_argument("--path", help="data file or folder for non-synthetic sources")
    check.add_argument("--symbols", help="comma-separated symbols")
    check.add_argument("--start", help="window start date (UTC, inclusive)")
    check.add_argument("--end", help="window end date (UTC, exclusive)")
    check.add_argument("--config", help="JSON file of run spec sections (replay gap policy, split plan, ...)")
    check.set_defaults(func=cmd_check_data, run_id="check-data", strategy=None, signal=None, seed=None, days=None)
    sub.add_parser("runs", help="list runs with status").set_defaults(func=cmd_runs)
    show = sub.add_parser("show", help="where a run's artifacts and reports are")
    show.add_argument("run_id")
    show.set_defaults(func=cmd_show)
    land = sub.add_parser("land", help="land a month of data in the landing folder (the retraining sensor's input)")
    land.add_argument("source", choices=["synthetic", "binance-vision", "butterfly"])
    land.add_argument("--month", required=True, help="YYYY-MM")
    land.add_argument("--symbols", help="comma-separated symbols")
    land.add_argument("--path", help="binance-vision: the folder holding the data.vision zips; "
                                     "butterfly --source csv: the daily-bar CSV")
    land.add_argument("--source", dest="daily_source", choices=["synthetic", "csv"],
                      help="butterfly only: its synthetic daily market (default) or a daily-bar CSV")
    land.add_argument("--seed", type=int, help="synthetic only")
    land.add_argument("--signal", type=float, help="synthetic only")
    land.set_defaults(func=cmd_land)
    walk = sub.add_parser("walk-forward", help="backtest the monthly retraining loop: land months one at a time in a "
                                               "dedicated home, retrain each through the graph, report")
    walk.add_argument("--from", dest="start_month", required=True, help="first month, YYYY-MM")
    walk.add_argument("--to", dest="end_month", required=True, help="last month, YYYY-MM (inclusive)")
    walk.add_argument("--source", choices=["synthetic", "binance-vision", "landed"], default="synthetic")
    walk.add_argument("--path", help="binance-vision: the zips folder; landed: a landing source folder")
    walk.add_argument("--symbols", help="comma-separated symbols")
    walk.add_argument("--signal", type=float, help="synthetic signal s >= 0 (default 2.0)")
    walk.add_argument("--signal-change", action="append", metavar="DATE=S",
                      help="synthetic: the signal is S from DATE on (S < 0 flips it); repeatable")
    walk.add_argument("--seed", type=int, help="synthetic market seed (default 7)")
    walk.add_argument("--retrain-months", type=int, help="trailing window of each retrain (default "
                                                         "$TRADER_RETRAIN_MONTHS or 6)")
    walk.add_argument("--home", help="the walk-forward home (default <TRADER_HOME>/walk-forward/<source>-<from>-<hash>)")
    walk.set_defaults(func=cmd_walk_forward)
    download = sub.add_parser("download", help="fetch a month of Binance data.vision USD-M zips (needs network)")
    download.add_argument("source", choices=["binance-vision"])
    download.add_argument("--month", required=True, help="YYYY-MM")
    download.add_argument("--symbols", help="comma-separated symbols (default BTC-USDT-PERP)")
    download.add_argument("--daily", action="store_true", help="daily files instead of the monthly ones")
    download.add_argument("--dest", help="default <TRADER_HOME>/market/downloads/binance-vision")
    download.set_defaults(func=cmd_download)
    sub.add_parser("releases", help="list promoted releases, their model lines and each line's champion"
                   ).set_defaults(func=cmd_releases)
    rollback = sub.add_parser("rollback", help="make a line's previous champion its champion again (--canary: drop "
                                               "the line's canary, the champion stays)")
    rollback.add_argument("--line", help="the model line (see `trader releases`); optional when there is one line")
    rollback.add_argument("--canary", action="store_true", help="drop the line's canary instead")
    rollback.set_defaults(func=cmd_rollback)
    promote = sub.add_parser("promote-canary", help="make a line's canary its champion (the old champion stays the "
                                                    "previous one: `trader rollback` restores it)")
    promote.add_argument("--line", help="the model line (see `trader releases`); optional when there is one line")
    promote.set_defaults(func=cmd_promote_canary)
    decide = sub.add_parser("decide", help="decisions of a line's champion on the newest data, appended to the "
                                           "decision log")
    decide.add_argument("--line", help="the model line (see `trader releases`); optional when there is one line")
    decide.add_argument("--at", help="decide at this time (ISO, UTC when naive) instead of on the newest data")
    decide.add_argument("--max-age", help="refuse data whose newest bar closed longer ago than this before the "
                                          "decision time (90s, 5min, 2h, 3d; default 5min for perp lines, 3d "
                                          "for butterfly lines)")
    decide.set_defaults(func=cmd_decide)
    weekly = sub.add_parser("weekly-report", help="every line's decisions of the last days joined with their realized "
                                                  "outcomes (the weekly monitoring report)")
    weekly.add_argument("--at", help="report time (ISO, UTC when naive; default now)")
    weekly.add_argument("--window-days", type=int, default=DEFAULT_WINDOW_DAYS,
                        help=f"decisions of this many days before it ({DEFAULT_WINDOW_DAYS})")
    weekly.set_defaults(func=cmd_weekly_report)
    adapt = sub.add_parser("adapt-threshold", help="adapt a butterfly line's min_expected_roi from the realized "
                                                   "outcomes of its decisions")
    adapt.add_argument("--line", help="the model line (see `trader releases`); optional when there is one line")
    adapt.add_argument("--window-days", type=int, default=30,
                       help="days of decisions up to the newest resolved one (default 30)")
    adapt.set_defaults(func=cmd_adapt_threshold)
    ui = sub.add_parser("ui", help="start the Dagster UI on 127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TraderError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"trader: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # unexpected: still one line unless --debug
        if args.debug:
            traceback.print_exc()
        print(f"trader: unexpected error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

from datetime import datetime, timezone

import dagster as dg

from trader_assets.definitions import defs


def test_definitions_load_and_jobs_resolve():
    dg.Definitions.validate_loadable(defs)
    for name in ("retrain_job", "market_job", "features_job"):
        assert defs.resolve_job_def(name) is not None
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw_market", "replay_1m", "split_manifest", "feature_frame"} <= keys


MODELS = ("direction", "entry", "continue", "risk")
#: Checks that protect the locked split, the data and model contracts and promotion: a failure stops the run.
BLOCKING = {"replay_unique_sorted_minutes", "replay_ohlc_sane", "split_order_and_embargo", "split_locked_unchanged",
            "feature_order_hash_matches", "feature_trainable_rows_finite", "entry_path_stats_sane",
            "entry_two_rows_per_sample", "pm_config_valid", "backtest_status_pass", "release_bundle_hashes_match",
            "butterfly_backtest_pass", "butterfly_onnx_parity",
            *(f"{m}_{c}" for m in MODELS for c in ("onnx_contract", "onnx_parity")),
            *(f"{f}_windows_inside_splits" for f in (*MODELS, "exit"))}
#: Generated from the stored tables' contracts: each table's declared columns, and its key and row order (replay's
#: key rule is replay_unique_sorted_minutes above).
TABLES = ("replay", "feature", "path_stats", *MODELS, "exit", *(f"{d}_train" for d in (*MODELS, "direction_opportunity")),
          "pm_frame")
BLOCKING |= {f"{t}_matches_contract" for t in TABLES} | {f"{t}_unique_sorted_keys" for t in TABLES if t != "replay"}
#: Diagnostics that warn: the run goes on and the UI shows them.
WARNING = {"challenger_not_worse_than_champion", "feature_drift_psi", "label_rate_drift",
           "weekly_realized_edge_not_negative", "weekly_hit_rate_not_below_predicted",
           *(f"{f}_not_one_class" for f in (*MODELS, "exit")), *(f"{m}_heads_beat_baseline" for m in MODELS)}


def test_blocking_checks_guard_the_contracts():
    graph = defs.resolve_asset_graph()
    blocking = {key.name: graph.get_check_spec(key).blocking for key in graph.asset_check_keys}
    assert set(blocking) == BLOCKING | WARNING
    assert {name for name, is_blocking in blocking.items() if is_blocking} == BLOCKING


def test_the_weekly_report_runs_on_mondays_beside_the_monthly_schedule():
    weekly, monthly = defs.resolve_schedule_def("weekly_monitoring_schedule"), defs.resolve_schedule_def(
        "monthly_retrain_schedule")
    assert (weekly.cron_schedule, weekly.execution_timezone, weekly.job_name) == ("0 9 * * 1", "UTC",
                                                                                  "weekly_monitoring_job")
    assert weekly.default_status == monthly.default_status == dg.DefaultScheduleStatus.RUNNING
    tick = datetime(2026, 3, 9, 9, 0, tzinfo=timezone.utc)
    with dg.instance_for_test() as instance:
        request = weekly.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick))
    (run,) = request.run_requests
    assert run.run_config == {"ops": {"weekly_decision_report": {"config": {"at": tick.isoformat()}}}}
    selected = {k.to_user_string() for k in defs.resolve_job_def("weekly_monitoring_job").asset_layer.executable_asset_keys}
    assert selected == {"weekly_decision_report"}
    perp = {k.to_user_string() for k in defs.resolve_job_def("everything_job").asset_layer.executable_asset_keys}
    assert "weekly_decision_report" not in perp and "feature_frame" in perp

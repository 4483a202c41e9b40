import dagster as dg

from trader_assets.definitions import defs


def test_definitions_load_and_jobs_resolve():
    dg.Definitions.validate_loadable(defs)
    for name in ("retrain_job", "market_job", "features_job"):
        assert defs.resolve_job_def(name) is not None
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw_market", "replay_1m", "split_manifest", "feature_frame"} <= keys


def test_blocking_checks_guard_the_contracts():
    checks = {c.name: c for c in defs.resolve_asset_graph().asset_check_keys}
    assert {"replay_unique_sorted_minutes", "replay_ohlc_sane", "split_order_and_embargo", "split_locked_unchanged",
            "feature_order_hash_matches", "feature_trainable_rows_finite"} <= set(checks)
    for spec in defs.resolve_all_asset_check_specs() if hasattr(defs, "resolve_all_asset_check_specs") else []:
        assert spec.blocking

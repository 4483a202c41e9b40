"""Trading and release checks: a valid PM config chosen on tune rows, the backtest gate, the release bundle hashes."""

from pathlib import Path

import dagster as dg

from trader_assets.assets.trading import backtest, pm_search, release
from trader_assets.checks.results import result
from trader_assets.partitions import runs_partitions
from trader_core.contracts.versions import TUNE_SPLIT
from trader_core.errors import ArtifactError, ConfigError
from trader_core.pm.config import PMConfig
from trader_core.release import verify_release


@dg.asset_check(asset=pm_search, blocking=True, partitions_def=runs_partitions,
                description="The PM config is valid, its hash matches, and the rows it was chosen on are tune_inner rows only.")
def pm_config_valid(pm_search: dict) -> dg.AssetCheckResult:
    try:
        hash_ok, error = PMConfig.from_json(pm_search["config"]).config_hash == pm_search["config_hash_sha256"], ""
    except ConfigError as exc:
        hash_ok, error = False, str(exc)
    searched = pm_search["rows_by_split"]
    return result(not error and hash_ok and set(searched) == {TUNE_SPLIT} and searched[TUNE_SPLIT] > 0, error=error,
                   hash_matches=hash_ok, rows_by_split=searched, candidate_count=pm_search["candidate_count"])


@dg.asset_check(asset=backtest, blocking=True, partitions_def=runs_partitions,
                description="Promotion gate: the integrated backtest on the sealed splits is PASS (a significantly "
                            "positive edge after deflating for the looks at the sealed window); the result's "
                            "description says why.")
def backtest_status_pass(backtest: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=backtest["status"] == "PASS", description="\n".join(backtest["explanation"]),
                               metadata={"status": backtest["status"],
                                         "reasons": dg.MetadataValue.json(backtest["status_reasons"]),
                                         "look": backtest["looks"]})


@dg.asset_check(asset=release, blocking=True, partitions_def=runs_partitions,
                description="Every file of the promoted release matches its recorded sha256.")
def release_bundle_hashes_match(release: dict) -> dg.AssetCheckResult:
    try:
        manifest = verify_release(Path(release["path"]))
        return result(True, version=release["version"], files=len(manifest["files"]))
    except ArtifactError as exc:
        return result(False, version=release["version"], error=str(exc))


TRADING_CHECKS = [pm_config_valid, backtest_status_pass, release_bundle_hashes_match]

"""The feedback loop end to end (issue 10): land months, retrain through the sensor's partitions, shadow-score the
champion, watch drift, and let champion vs challenger decide what is promoted.

Months 1-6 (signal on) train the first champion; month 7 has the signal switched off (a regime change): the
champion's shadow scores decay, drift warns, the challenger does not beat the champion and nothing is promoted;
month 8 has the signal back on and a new champion is promoted. The retraining window is one month
(``TRADER_RETRAIN_MONTHS=1``) to keep the test to three ~30-60 s runs.
"""

from __future__ import annotations

import dagster as dg
import pytest

from trader_assets.definitions import defs
from trader_assets.sensors import landed_month_sensor
from trader_core import io, layout, release
from trader_core.market.landing import land_synthetic_months
from trader_core.market.synthetic import SyntheticMarketConfig
from trader_core.models import inference

SYMBOLS = ("BTC-USDT-PERP", "ETH-USDT-PERP")


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADER_HOME", str(tmp_path))
    monkeypatch.setenv("TRADER_RETRAIN_MONTHS", "1")
    return tmp_path


class Loop:
    """Land months, evaluate the sensor, run the newest requested retrain partition in process."""

    def __init__(self, home, instance):
        self.home, self.instance, self.cursor = home, instance, None

    def land_and_retrain(self, months: list[str], signal: float):
        config = SyntheticMarketConfig(symbols=SYMBOLS, seed=7, signal=signal, depth_levels=5)
        land_synthetic_months(months, config, self.home)
        result = landed_month_sensor(dg.build_sensor_context(instance=self.instance, cursor=self.cursor,
                                                             definitions=defs))
        self.cursor = result.cursor
        for request in result.dynamic_partitions_requests:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        assert [r.partition_key for r in result.run_requests] == [f"retrain-{m}" for m in months]
        key = result.run_requests[-1].partition_key
        run = defs.resolve_job_def("retrain_job").execute_in_process(instance=self.instance, partition_key=key,
                                                                    raise_on_error=False)
        checks = {e.check_name: e for e in run.get_asset_check_evaluations()}
        root = layout.run_root(key, self.home)
        artifacts = {name: io.read_json(root / layout.ARTIFACT_PATHS[name])
                     for name in ("backtest", "shadow_scoring", "drift_report", "champion_challenger")}
        return run, checks, artifacts


def _decay(shadow: dict) -> dict[str, dict]:
    return {row["metric"]: row for row in shadow["decay"]}


@pytest.mark.slow
def test_champion_decays_nothing_is_promoted_then_a_new_champion_wins(home, monkeypatch):
    loaded = []
    original = inference.InferenceEngine.from_bundle.__func__

    def recording(cls, model_dir, **kwargs):
        loaded.append(str(model_dir))
        return original(cls, model_dir, **kwargs)

    monkeypatch.setattr(inference.InferenceEngine, "from_bundle", classmethod(recording))
    with dg.instance_for_test() as instance:
        loop = Loop(home, instance)

        run, checks, art = loop.land_and_retrain([f"2026-0{m}" for m in range(1, 7)], signal=2.0)
        assert run.success and art["backtest"]["status"] == "PASS"
        assert art["shadow_scoring"]["status"] == "NO_CHAMPION"
        assert art["champion_challenger"]["decision"] == "PROMOTE_CHALLENGER"
        line = art["champion_challenger"]["line"]  # the landed synthetic source: every month's retrain shares it
        first = release.champion(home, line)["version"]
        assert first == "r0001-retrain-2026-06"

        # month 7: the signal is off. The champion scores it through the release's own inference engine.
        loaded.clear()
        run, checks, art = loop.land_and_retrain(["2026-07"], signal=0.0)
        shadow, drift, decision = art["shadow_scoring"], art["drift_report"], art["champion_challenger"]
        assert str(home / "releases" / first / "model") in loaded  # one code path: the release bundle's engine
        assert shadow["status"] == "SCORED" and shadow["champion"] == first
        assert shadow["window"] == "calendar month 2026-07" and not shadow["in_sample_warning"]
        decay = _decay(shadow)
        for side in ("long", "short"):
            assert decay[f"{side}_entry_auc"]["change"] < -0.1 and abs(decay[f"{side}_entry_auc"]["shadow"] - 0.5) < 0.03
            assert shadow["summary"][side]["entry_ece"] > 0.05  # calibration broke
        assert decay["pm_avg_weighted_edge_bps"]["claimed_validation_locked"] > 0
        assert decay["pm_avg_weighted_edge_bps"]["shadow"] < 0  # realized edge fell below zero
        assert drift["features_warn"] and not checks["feature_drift_psi"].passed
        assert checks["feature_drift_psi"].severity == dg.AssetCheckSeverity.WARN
        assert decision["decision"] == "KEEP_CHAMPION" and decision["reasons"] and decision["line"] == line
        assert not checks["challenger_not_worse_than_champion"].passed
        assert not run.success  # blocked by the promotion gates
        assert release.champion(home, line)["version"] == first
        assert [r["version"] for r in release.list_releases(home)] == [first]
        report = (layout.run_root("retrain-2026-07", home) / "monitoring/monitoring_report.md").read_text()
        assert "KEEP_CHAMPION" in report and "data:image/png;base64," in report

        # month 8: the signal is back; the retrain is not worse than the champion on it and is promoted.
        run, checks, art = loop.land_and_retrain(["2026-08"], signal=2.0)
        shadow = art["shadow_scoring"]
        for side in ("long", "short"):
            assert shadow["summary"][side]["entry_ece"] < 0.05
            assert _decay(shadow)[f"{side}_entry_auc"]["shadow"] > 0.6
        assert art["champion_challenger"]["decision"] == "PROMOTE_CHALLENGER", art["champion_challenger"]["reasons"]
        assert art["champion_challenger"]["line"] == line
        assert run.success and checks["challenger_not_worse_than_champion"].passed
        assert release.champion(home, line)["version"] == "r0002-retrain-2026-08"
        assert release.champion(home, line)["previous"] == [first]
        assert list(release.champions(home)) == [line]

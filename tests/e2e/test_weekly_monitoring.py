"""The weekly decision monitoring end to end on a small promoted perp release (docs/decide.md, "Weekly
monitoring"): decisions made at minutes inside the data, the weekly job run as the Monday schedule runs it, and
the report joining each decision's realized outcome, equal to the run's own backtest for the same minute."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import pandas as pd
import pytest

from trader_assets import cli
from trader_assets.definitions import defs
from trader_core import decision_log, layout, release
from trader_core.contracts.decisions import PERP_DECISION_LOG
from trader_core.decide import DECIDERS, champion_of
from tests.e2e.test_decide import RUN, minute_after, stored

AT = "2026-01-08T09:00"


@pytest.fixture()
def decided(promoted_perp, monkeypatch):
    """Three decisions of the champion: at a minute its backtest traded, at a quiet minute (no trade) and at the
    window end (its horizon runs past the data: unresolved)."""
    shutil.rmtree(promoted_perp / decision_log.DECISIONS_DIR, ignore_errors=True)
    shutil.rmtree(promoted_perp / "monitoring", ignore_errors=True)
    monkeypatch.setenv("TRADER_HOME", str(promoted_perp))
    trades = pd.read_parquet(layout.run_root(RUN, promoted_perp) / "backtest" / "backtest_trades.parquet")
    trade = trades[trades["eval_split"] == "latest_stress"].iloc[0]
    direction = stored(promoted_perp, "DIRECTION")
    quiet = direction[(direction["long_prob"] < 0.3) & (direction["short_prob"] < 0.3)].iloc[0]
    for argv in (["--at", minute_after(trade["event_time"])], ["--at", minute_after(quiet["event_time"])], []):
        assert cli.main(["decide", *argv]) == 0
    (line,) = release.champions(promoted_perp)
    log = decision_log.read_decisions(decision_log.log_path(line, promoted_perp), PERP_DECISION_LOG)
    return promoted_perp, line, log, trade, quiet


@pytest.mark.slow
def test_outcomes_are_the_backtests_realized_edges(decided):
    home, line, log, trade, quiet = decided
    out = DECIDERS["perp"].outcomes(champion_of(line, home), log, home=home).set_index("decision_key")
    traded, idle, last = (out.loc[key] for key in log["decision_key"])
    assert traded["traded"] and traded["resolved"]
    assert traded["realized"] == pytest.approx(trade["actual_edge_bps"], rel=1e-9, abs=1e-9)
    assert traded["predicted"] == pytest.approx(trade["predicted_edge_bps"], rel=1e-5)
    # the quiet minute did not trade; it is resolved on the side the PM preferred, with that side's net edge
    side = log.iloc[1]["considered_side"].lower()
    frame = pd.read_parquet(layout.run_root(RUN, home) / "pm-frame" / "pm_frame.parquet").set_index("sample_id")
    assert not idle["traded"] and idle["resolved"]
    assert idle["realized"] == pytest.approx(frame.loc[quiet["sample_id"], f"{side}_trade_net_edge_bps"], rel=1e-9)
    # the window end: its max_hold_minutes bars are not in the data yet
    assert not last["resolved"] and pd.isna(last["realized"])


@pytest.mark.slow
def test_the_weekly_job_reports_the_realized_outcomes(decided):
    home, line, log, trade, _ = decided
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("weekly_monitoring_job").execute_in_process(
            instance=instance, run_config={"ops": {"weekly_decision_report": {"config": {"at": AT}}}})
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"weekly_realized_edge_not_negative", "weekly_hit_rate_not_below_predicted"}
    assert all(e.passed and e.severity == dg.AssetCheckSeverity.WARN for e in checks.values())  # 1 trade < 20
    folder = home / "monitoring" / "weekly" / "2026-01-08"
    doc = json.loads((folder / "report.json").read_text())
    champion = doc["lines"][line]["arms"]["champion"]
    assert (champion["decisions"], champion["traded"], champion["resolved"], champion["resolved_traded"]) == (3, 1, 2, 1)
    assert champion["mean_realized"] == pytest.approx(trade["actual_edge_bps"], rel=1e-9, abs=1e-9)
    assert champion["hit_rate"] == float(trade["actual_edge_bps"] > 0)
    assert doc["lines"][line]["arm_comparison"] is None and doc["warnings"] == []
    assert (folder / "report.md").read_text().startswith("# Weekly decision monitoring, 2026-01-08")
    assert (folder / "deciles.png").stat().st_size > 0
    # the CLI runs the same stage; a one-day window ending at AT holds none of the three decisions
    assert cli.main(["weekly-report", "--at", AT, "--window-days", "1"]) == 0
    doc = json.loads((folder / "report.json").read_text())
    assert doc["lines"] == {} and doc["skipped"] == {line: "no decisions in the window"}

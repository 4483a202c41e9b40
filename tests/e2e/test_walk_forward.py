"""The walk-forward end to end (issue 20): the monthly retraining loop backtested month by month through the graph.

Three scenarios on the synthetic market (2 symbols, one-month retrain window; docs/retraining.md, "Walk-forward"):
(a) a stable signal: the loop promotes and earns; (b) the signal flips sign at 2026-03-01: the frozen first champion
loses after the flip, the loop promotes a retrain of the flipped month and earns again the month after; (c) no
signal: nothing is promoted, nothing is traded, every month's gate says why. A re-run launches nothing.
"""

from __future__ import annotations

import hashlib
import re

import dagster as dg
import pandas as pd
import pytest

from tests.conftest import STABLE_WALK
from trader_assets import cli
from trader_core import io, release, run_status, runs
from trader_core.walk_forward.plan import WALK_FORWARD_DIR

pytestmark = pytest.mark.slow


def walk(home, *args) -> None:
    assert cli.main(["walk-forward", "--retrain-months", "1", "--home", str(home), *args]) == 0


def outputs(home) -> tuple[pd.DataFrame, pd.DataFrame, dict, str]:
    folder = home / WALK_FORWARD_DIR
    return (io.read_parquet(folder / "months.parquet", verify=False), io.read_parquet(folder / "trades.parquet", verify=False),
            io.read_json(folder / "summary.json"), (folder / "walk_forward_report.md").read_text())


def test_a_stable_signal_is_promoted_and_earns(stable_walk_forward):
    home, printed = stable_walk_forward
    months, trades, summary, report = outputs(home)
    assert list(months["month"]) == ["2026-01", "2026-02", "2026-03"]
    first = release.list_releases(home)[0]
    promoted_in = first["run_id"].removeprefix("retrain-")
    assert promoted_in < "2026-03"  # the loop promotes a champion ...
    before, after = months[months["month"] <= promoted_in], months[months["month"] > promoted_in]
    assert (before["loop_trades"] == 0).all()  # (nothing trades before the first champion)
    assert (after["champion_at_start"] == first["version"]).all()  # ... which trades the months after it
    assert (after["loop_trades"] > 0).all() and summary["loop_edge_bps"] > summary["no_trading_edge_bps"] == 0
    # while the loop's champion is the first champion, the train-once arm (scored by the report) and the loop's
    # shadow trades are one champion on one month: the two computations agree
    assert list(after["train_once_trades"]) == list(after["loop_trades"])
    assert list(after["train_once_edge_bps"]) == pytest.approx(list(after["loop_edge_bps"]), rel=1e-9)
    assert summary["loop_edge_bps"] == pytest.approx(trades.loc[trades["arm"] == "loop", "weighted_edge_bps"].sum())
    assert summary["loop_trades"] == int(after["loop_trades"].sum())
    assert "retrain-2026-03: " in printed and f"champion at start {first['version']} traded" in printed
    assert "data:image/png;base64," in report


def test_b_a_flipped_signal_decays_the_frozen_model_and_the_loop_recovers(tmp_path):
    home = tmp_path / "home"
    walk(home, "--from", "2026-01", "--to", "2026-04", "--signal", "2", "--signal-change", "2026-03-01=-2")
    months, trades, summary, report = outputs(home)
    by = months.set_index("month")
    first = release.list_releases(home)[0]
    assert first["run_id"] < "retrain-2026-03"  # a champion trained on the first regime
    for month in ("2026-03", "2026-04"):  # after the flip the frozen first champion loses money
        assert by.loc[month, "train_once_trades"] > 0 and by.loc[month, "train_once_edge_bps"] < 0
    # the loop promoted the retrain of the flipped month, and its champion earns in the month after
    assert by.loc["2026-03", "promoted"] is not None and by.loc["2026-04", "champion_at_start"] == by.loc["2026-03", "promoted"]
    assert by.loc["2026-04", "loop_trades"] > 0 and by.loc["2026-04", "loop_edge_bps"] > 0
    assert summary["loop_edge_bps"] > summary["train_once_edge_bps"]
    assert f"| monthly retraining loop | {summary['loop_trades']} | {summary['loop_edge_bps']:.1f} |" in report
    assert f"| train once (first champion frozen) | {summary['train_once_trades']} |" in report


def test_c_no_signal_promotes_nothing_trades_nothing_and_a_rerun_launches_nothing(tmp_path, capsys):
    home = tmp_path / "home"
    walk(home, "--from", "2026-01", "--to", "2026-02", "--signal", "0")
    months, trades, summary, report = outputs(home)
    assert list(months["month"]) == ["2026-01", "2026-02"]
    assert summary["promotions"] == 0 and release.list_releases(home) == []
    assert summary["loop_trades"] == summary["train_once_trades"] == 0 and trades.empty
    assert (months["gate"] == "FAIL").all()
    assert months["gate_reasons"].str.contains("not_significant|below").all()  # every month says why
    first_walk = capsys.readouterr().out
    for row in months.itertuples():  # the champion comparison is not read as a promotion when the gate failed
        assert (f"- **{row.month}**: gate FAIL: {row.gate_reasons}; challenger vs champion {row.decision}: "
                in report)
        assert re.search(rf"retrain-{row.month}: .*; gate FAIL; challenger vs champion {row.decision}; not promoted$",
                         first_walk, re.M)

    before = _hashes(home)
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        runs_before = len(instance.get_runs())
        for month in ("2026-01", "2026-02"):  # each month's Dagster run is its recorded last status (docs/runs.md)
            [dagster_run] = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": f"retrain-{month}"}))
            spec_hash = runs.load_spec(f"retrain-{month}", home).spec_hash
            record = run_status.last_run_status(f"retrain-{month}", spec_hash=spec_hash, home=home)
            assert (record.dagster_run_id, record.status) == (dagster_run.run_id, dagster_run.status.value)
    walk(home, "--from", "2026-01", "--to", "2026-02", "--signal", "0")
    assert "nothing new" in capsys.readouterr().out
    assert _hashes(home) == before  # landing, runs, report: nothing rewritten
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        assert len(instance.get_runs()) == runs_before  # exactly one run per month, ever


def test_a_home_is_never_walked_with_another_market(tmp_path, capsys):
    home = tmp_path / "home"
    from trader_core.walk_forward.plan import WalkForwardPlan, ensure_plan

    ensure_plan(home, WalkForwardPlan(start="2026-01", end="2026-02", signal=0.0, retrain_months=1))
    assert cli.main([*STABLE_WALK, "--home", str(home)]) == 1
    assert "was made with another plan (differs in: signal); use another --home" in capsys.readouterr().err


def _hashes(home) -> dict[str, str]:
    """sha256 of every file of the home except the Dagster instance's own storage."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file() and "dagster" not in p.relative_to(home).parts}

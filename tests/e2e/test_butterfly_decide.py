"""`trader decide` on a small promoted butterfly release (docs/decide.md, "Butterfly lines"): the ranked candidates
and both tracks on the newest data, the decision log, realized outcomes joined once the data reaches the evaluation
dates, and `trader adapt-threshold` refusing too few trades, then writing a new threshold version that the next
decisions record; a canary release deciding its share, and the weekly job joining both arms' outcomes."""

from __future__ import annotations

import json
import shutil
import stat

import dagster as dg
import pandas as pd
import pytest

from trader_assets import cli
from trader_assets.definitions import defs
from trader_core import decision_log, io, layout, release, runs
from trader_core.butterfly import threshold
from trader_core.contracts.decisions import BUTTERFLY_DECISION_LOG
from trader_core.decide import Champion, DecisionRequest, champion_of
from trader_core.decide import canary as allocation
from trader_core.decide.butterfly import ButterflyDecider

RUN = "bfd"
SYMBOLS = [f"SYN{i:02d}" for i in range(1, 9)]
#: Past decision dates whose AI trades realized less than predicted (the seeded market's July 2023).
PAST = ("2023-07-06", "2023-07-11", "2023-07-14")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A home whose one line's champion is a small butterfly run (8 names x 3 years). Its backtest does not pass the
    sealed gate, so its bundle is promoted directly (as tests/e2e/test_decide.py does): decisions need a champion."""
    root = tmp_path_factory.mktemp("bfly-decide")
    config = root / "small.json"
    config.write_text(json.dumps({"butterfly": {"synthetic": {"trading_days": 756, "symbols": SYMBOLS},
                                                "sampling": {"low_days": 30, "normal_days": 40, "high_days": 30}}}))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRADER_HOME", str(root / "home"))
        env.setenv("DAGSTER_HOME", str(root / "dagster"))
        assert cli.main(["run", RUN, "--strategy", "butterfly", "--config", str(config)]) == 1  # refused at the gate
        home = layout.trader_home()
        spec = runs.load_spec(RUN, home)
        release.promote(release.release_files(spec, layout.run_root(RUN, home)), run_id=RUN,
                        spec_hash=spec.spec_hash, backtest={"status": "PASS", "status_reasons": []},
                        line=release.model_line(spec), home=home)
        yield home


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_butterfly_decisions_outcomes_and_threshold_adaptation(home, capsys, monkeypatch):
    monkeypatch.setenv("TRADER_HOME", str(home))
    (line,) = release.champions(home)
    log = decision_log.log_path(line, home)

    code, out, _ = run_cli(capsys, "decide")
    assert code == 0
    assert f"line {line}: champion r0001-{RUN} (run {RUN}), decision time 2023-11-27 00:00:00Z" in out
    assert "8 candidate butterflies on 2023-11-27, ranked by expected ROI (AI track: E[ROI] > 0.150 (threshold " \
           "version 0: the release's), top 5 per day)" in out
    assert "baseline track opens 8 (every candidate, equal debit)" in out
    assert f"decision log {log}: 8 new row(s), 0 already logged" in out
    newest = decision_log.read_decisions(log, BUTTERFLY_DECISION_LOG)
    assert sorted(newest["symbol"]) == SYMBOLS and (newest["strategy"] == "butterfly").all()

    assert run_cli(capsys, "decide", "--at", PAST[0])[0] == 0
    code, _, err = run_cli(capsys, "adapt-threshold")
    assert code == 1 and "5 resolved traded decision(s) in the window" in err and "needs at least 10" in err
    for day in PAST[1:]:
        assert run_cli(capsys, "decide", "--at", day)[0] == 0

    rows = decision_log.read_decisions(log, BUTTERFLY_DECISION_LOG)
    outcomes = ButterflyDecider().outcomes(champion_of(None, home), rows, home=home)
    past = rows["data_time"].isin(pd.to_datetime(list(PAST), utc=True)).to_numpy()
    assert past.sum() == 24 and outcomes["resolved"].tolist() == past.tolist()
    assert outcomes.loc[past, "realized"].notna().all() and outcomes.loc[~past, "realized"].isna().all()
    traded = outcomes[outcomes["traded"]]
    assert len(traded[traded["resolved"]]) == 15
    assert traded.loc[traded["resolved"], "realized"].mean() < traded.loc[traded["resolved"], "predicted"].mean() \
        - threshold.MARGIN  # the model was too optimistic in that window

    code, out, _ = run_cli(capsys, "adapt-threshold", "--window-days", "30")
    assert code == 0 and "15 resolved traded decision(s) of 24" in out
    path = threshold.thresholds_path(line, home)
    assert f"min_expected_roi raised from 0.15 to 0.16: version 1 in {path}" in out
    (version,) = json.loads(path.read_text())["versions"]
    assert (version["version"], version["previous"], version["min_expected_roi"]) == (1, 0.15, 0.16)
    code, _, err = run_cli(capsys, "adapt-threshold")
    assert code == 1 and "no decision resolved after version 1's window" in err

    code, out, _ = run_cli(capsys, "decide", "--at", "2023-07-19")
    assert code == 0 and "E[ROI] > 0.160 (threshold version 1)" in out
    latest = decision_log.read_decisions(log, BUTTERFLY_DECISION_LOG).tail(8)
    assert (latest["threshold_version"] == 1).all() and (latest["min_expected_roi"] == 0.16).all()


#: Decision dates of the canary test: with 8 names, 64 decisions, whose outcomes have resolved by the data's end.
CANARY_DAYS = ("2023-07-03", "2023-07-05", "2023-07-06", "2023-07-07", "2023-07-10", "2023-07-11", "2023-07-12",
               "2023-07-14")


@pytest.mark.slow
def test_a_canary_decides_its_share_and_the_weekly_job_joins_both_arms(home, tmp_path, monkeypatch, capsys):
    """The champion's model with a narrower AI track (2 trades a day) promoted as the line's canary (20 %): each
    decision is made by the release its allocation names, and the Monday job's report joins both arms' realized
    outcomes and compares them."""
    copy = tmp_path / "home"
    shutil.copytree(home / "releases", copy / "releases")
    for path in (copy / "releases").rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    monkeypatch.setenv("TRADER_HOME", str(copy))
    spec = runs.load_spec(RUN, home)
    line = release.model_line(spec)
    champion = release.releases_root(copy) / f"r0001-{RUN}"
    narrow = io.read_json(champion / "run_spec.json")
    narrow["butterfly"]["decision"]["max_trades_per_day"] = 2
    io.write_json(tmp_path / "run_spec.json", narrow)
    files = {rel: champion / rel for rel in release.release_files(spec, layout.run_root(RUN, home))}
    made = release.promote(files | {"run_spec.json": tmp_path / "run_spec.json"}, run_id="bfd-narrow",
                           spec_hash=spec.spec_hash, backtest={"status": "PASS", "status_reasons": []}, line=line,
                           home=copy, canary_share=0.2)
    assert release.champion(copy, line.name)["version"] == f"r0001-{RUN}"

    for day in CANARY_DAYS:
        assert run_cli(capsys, "decide", "--at", day)[0] == 0
    rows = decision_log.read_decisions(decision_log.log_path(line.name, copy), BUTTERFLY_DECISION_LOG)
    sent = allocation.to_canary(line=line.name, symbols=rows["symbol"], data_times=rows["data_time"], share=0.2)
    assert len(rows) == 64 and sent.sum() == 17  # the allocation of these 64 keys (share 20 %: 12.8 expected)
    assert rows["arm"].tolist() == ["canary" if s else "champion" for s in sent]
    assert rows["release"].tolist() == [made.version if s else f"r0001-{RUN}" for s in sent]
    canary_rows = rows[sent]
    assert (canary_rows.groupby("data_time")["ai_track"].sum() <= 2).all()  # the canary's own decision rule
    day = canary_rows["data_time"].iloc[0]
    alone = ButterflyDecider().decide(
        Champion(line.name, made.version, made.path, io.read_json(made.path / release.MANIFEST)),
        DecisionRequest(at=day)).set_index("symbol")
    for row in canary_rows[canary_rows["data_time"] == day].itertuples():
        assert (row.expected_roi, row.ai_track, row.rank) == (
            alone.loc[row.symbol, "expected_roi"], alone.loc[row.symbol, "ai_track"], alone.loc[row.symbol, "rank"])

    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("weekly_monitoring_job").execute_in_process(
            instance=instance, run_config={"ops": {"weekly_decision_report": {"config": {"at": "2023-07-20"}}}})
    assert result.success
    doc = json.loads((copy / "monitoring" / "weekly" / "2023-07-20" / "report.json").read_text())
    arms = doc["lines"][line.name]["arms"]
    report = (copy / "monitoring" / "weekly" / "2023-07-20" / "report.md").read_text()
    assert f"(champion r0001-{RUN}, butterfly; predicted and realized in ROI, a fraction of the debit)" in report
    assert (arms["canary"]["decisions"], arms["champion"]["decisions"]) == (17, 47)
    outcomes = ButterflyDecider().outcomes(champion_of(None, copy), rows, home=copy)
    assert outcomes["resolved"].all()
    realized = outcomes[outcomes["traded"]].groupby("arm")["realized"].mean()
    for arm in ("canary", "champion"):
        assert arms[arm]["mean_realized"] == pytest.approx(realized[arm], rel=1e-12)
    better = "canary" if realized["canary"] > realized["champion"] else "champion"
    assert doc["lines"][line.name]["arm_comparison"]["better"] == better

"""A perp line with a champion and a canary (docs/decide.md, Canary): `trader decide` sends each decision to the arm
the allocation names and logs the row the named release made; `trader promote-canary`, `trader rollback` and
`trader rollback --canary` switch or drop the canary. The allocation's share over 1,000 keys is tested directly
(tests/core/test_canary.py): 1,000 decisions through the CLI would take minutes."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.conftest import DECIDE_RUN
from trader_assets import cli
from trader_core import decision_log, io, layout, release, runs
from trader_core.contracts.decisions import PERP_DECISION_LOG
from trader_core.decide import DECIDERS, Champion, DecisionRequest
from trader_core.decide import canary as allocation
from trader_core.pm.config import PMConfig

RUN = DECIDE_RUN
SYMBOL = "BTC-USDT-PERP"
CHAMPION, CANARY = f"r0001-{RUN}", "r0002-eager"
SHARE = 0.2


@pytest.fixture(scope="module")
def promoted(promoted_perp, tmp_path_factory) -> Path:
    """The session's promoted perp home (its champion: the 6-day run ``decide``, tests/e2e/conftest.py) with the
    same bundle and a PM config that opens on any direction probability promoted as its canary with a 20 % share,
    on a copy of its releases."""
    home = tmp_path_factory.mktemp("canary") / "home"
    _writable_copy(promoted_perp / "releases", home / "releases")
    spec = runs.load_spec(RUN, promoted_perp)
    files, line = release.release_files(spec, layout.run_root(RUN, promoted_perp)), release.model_line(spec)
    assert release.champion(home, line.name)["version"] == CHAMPION
    pm = io.read_json(files["pm/position_manager_config.json"])
    pm["config"]["open"].update(longOpenProb=0.0, shortOpenProb=0.0)
    eager = home.parent / "eager_position_manager_config.json"
    io.write_json(eager, pm)
    made = release.promote(files | {"pm/position_manager_config.json": eager}, run_id="eager",
                           spec_hash=spec.spec_hash, backtest={"status": "PASS", "status_reasons": []}, line=line,
                           home=home, canary_share=SHARE)
    assert made.version == CANARY and release.champion(home, line.name)["version"] == CHAMPION
    return home


def _writable_copy(source: Path, destination: Path) -> None:
    """Releases are written read-only; a copy that tests may change."""
    shutil.copytree(source, destination)
    for path in destination.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


@pytest.fixture()
def home(promoted, tmp_path, monkeypatch) -> Path:
    """A writable copy of the promoted releases (decide regenerates the synthetic market), no decision log."""
    copy = tmp_path / "home"
    _writable_copy(promoted / "releases", copy / "releases")
    monkeypatch.setenv("TRADER_HOME", str(copy))
    return copy


def trader(capsys, *argv: str) -> str:
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


def logged(home: Path) -> pd.DataFrame:
    (line,) = release.champions(home)
    return decision_log.read_decisions(decision_log.log_path(line, home), PERP_DECISION_LOG)


def minutes_by_arm(line: str) -> dict[bool, list[pd.Timestamp]]:
    """Two data minutes of the window's last hour the allocation sends to the canary, and two to the champion."""
    minutes = pd.Series(pd.date_range("2026-01-06T23:00", periods=60, freq="min", tz="UTC"))
    sent = allocation.to_canary(line=line, symbols=pd.Series([SYMBOL] * 60), data_times=minutes, share=SHARE)
    return {arm: minutes[sent == arm].tolist()[:2] for arm in (True, False)}


def at(minute: pd.Timestamp) -> str:
    """The --at that decides on data minute ``minute``: its bar has closed a minute later."""
    return (minute + pd.Timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")


def alone(home: Path, version: str, minute: pd.Timestamp) -> pd.Series:
    """What release ``version`` decides for ``minute`` on its own (the perp decider, no allocation)."""
    (line,) = release.champions(home)
    path = release.releases_root(home) / version
    made = DECIDERS["perp"].decide(Champion(line, version, path, io.read_json(path / release.MANIFEST)),
                                   DecisionRequest(at=pd.Timestamp(at(minute), tz="UTC")))
    return made.iloc[0]


@pytest.mark.slow
def test_each_decision_goes_to_its_arm_and_is_made_by_its_release(home, capsys):
    (line,) = release.champions(home)
    chosen = minutes_by_arm(line)
    assert [len(chosen[True]), len(chosen[False])] == [2, 2]
    for to_canary, minutes in chosen.items():
        for minute in minutes:
            out = trader(capsys, "decide", "--at", at(minute))
            assert f"canary {CANARY} (run eager, share 20%) decides {SYMBOL if to_canary else 'none'} of 1" in out
    rows = logged(home).set_index("data_time")
    assert len(rows) == 4 and rows["decision_key"].is_unique
    canary_pm = PMConfig.from_json(io.read_json(release.releases_root(home) / CANARY / "pm" /
                                                "position_manager_config.json")["config"]).config_hash
    for to_canary, minutes in chosen.items():
        version, arm = (CANARY, "canary") if to_canary else (CHAMPION, "champion")
        for minute in minutes:
            row = rows.loc[minute]
            assert (row["arm"], row["release"], row["release_run_id"]) == (
                arm, version, "eager" if to_canary else RUN)
            assert (row["pm_config_hash"] == canary_pm) == to_canary
            expected = alone(home, version, minute)
            columns = [c for c in expected.index if c not in ("decision_time", "data_time")]
            pd.testing.assert_series_equal(row[columns], expected[columns], check_names=False)


@pytest.mark.slow
def test_promote_canary_then_rollback_and_drop(home, capsys):
    (line,) = release.champions(home)
    minute = minutes_by_arm(line)[False][0]  # a decision the canary does not get while it is the canary
    out = trader(capsys, "releases")
    assert f"  {line}: {CHAMPION}" in out and f"    canary: {CANARY} with 20% of the decisions" in out
    out = trader(capsys, "promote-canary")
    assert out == (f"line {line}: canary {CANARY} is now the champion (previous champion {CHAMPION}; "
                   f"`trader rollback` restores it)\n")
    out = trader(capsys, "decide", "--at", at(minute))
    assert f"line {line}: champion {CANARY} (run eager)" in out and "canary r" not in out
    out = trader(capsys, "rollback")
    assert out == f"line {line}: champion is now {CHAMPION} (rolled back from {CANARY})\n"
    assert release.canary(home, line) is None  # promoted, so rolling back does not make it the canary again
    trader(capsys, "decide", "--at", at(minute))
    assert logged(home)[["release", "arm"]].values.tolist() == [[CANARY, "champion"], [CHAMPION, "champion"]]

    release.set_canary(CANARY, home, share=SHARE)
    sent = minutes_by_arm(line)[True][0]
    out = trader(capsys, "rollback", "--canary")
    assert out == f"line {line}: canary {CANARY} dropped; champion {CHAMPION} unchanged\n"
    trader(capsys, "decide", "--at", at(sent))  # a decision the canary would have got
    assert logged(home)[["release", "arm"]].values.tolist()[-1] == [CHAMPION, "champion"]

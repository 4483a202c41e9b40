"""Model lines (issue 18): a champion per line, retrains compete only within their line, no price-plan bypass."""

import json

import pytest

from trader_assets import cli
from trader_core import layout, release
from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping, to_mapping
from trader_core.contracts.models import MODELS
from trader_core.errors import ConfigError
from trader_core.monitoring import challenger as cc
from trader_core.retrain import retrain_spec
from trader_core.run_context import RunContext
from trader_core.stages.monitoring import incumbent_path
from trader_core.stages.trading import release_stage

PASS = {"status": "PASS", "status_reasons": [], "metrics": {}}
BTC, ETH, SOL = "BTC-USDT-PERP", "ETH-USDT-PERP", "SOL-USDT-PERP"


def spec(run_id: str, **changes) -> RunSpec:
    data = to_mapping(RunSpec(run_id=run_id))
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            data[section] = {**data[section], name: value}
        else:
            data[key] = value
    return from_mapping(RunSpec, data)


def run_dir(home, run: RunSpec):
    """The files ``release_stage`` bundles, with content unique to the run (its spec)."""
    root = layout.run_root(run.run_id, home)
    paths = [layout.model_onnx_path(root, m) for m in MODELS] + [
        root / layout.FEATURE_ORDER_FILE, root / layout.FEATURE_SCHEMA_FILE, root / layout.RUN_SPEC_FILE,
        *(root / layout.ARTIFACT_PATHS[k] for k in ("model_train_manifest", "price_plan", "pm_search", "backtest",
                                                    "reference_profile"))]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(run.to_dict()) + path.name)
    return root


def promote(home, run: RunSpec, decision: dict | None = None) -> dict:
    ctx = RunContext(run_id=run.run_id, run_dir=run_dir(home, run), home=home, spec=run)
    return release_stage(ctx=ctx, backtest=PASS, challenger=decision).value


def marker(month: str, source: str = "synthetic", symbols=(BTC, ETH)) -> dict:
    return {"month": month, "source": source, "symbols": list(symbols)}


def pm(trades=100, total=300.0, dd=40.0, sd=5.0) -> dict:
    return {"trade_count": trades, "total_weighted_edge_bps": total, "max_drawdown_bps": dd,
            "weighted_edge_std_bps": sd}


# ----------------------------------------------------------------------------------------------- lines
def test_consecutive_monthly_retrains_share_a_line(tmp_path):
    june, july = (retrain_spec(marker(m), home=tmp_path, months=6, config_path=None) for m in ("2026-06", "2026-07"))
    assert (june.start, june.end) != (july.start, july.end)
    assert release.model_line(june) == release.model_line(july)
    other_source = retrain_spec(marker("2026-07", source="binance-vision"), home=tmp_path, config_path=None)
    other_symbols = retrain_spec(marker("2026-07", symbols=(BTC, SOL)), home=tmp_path, config_path=None)
    assert release.model_line(other_source) != release.model_line(july)
    assert release.model_line(other_symbols) != release.model_line(july)


def test_the_line_is_the_market_never_the_window():
    base = release.model_line(spec("a"))
    assert release.model_line(spec("b", start="2026-02-01", end="2026-04-01")) == base
    assert release.model_line(spec("c", symbols=[ETH, BTC])) == base  # a universe, not an order
    for changed in (spec("d", symbols=[BTC]), spec("e", source__signal=0.0), spec("f", source__seed=8),
                    spec("g", source__depth_levels=5), spec("h", source__volatility_regimes=False),
                    spec("i", strategy="butterfly")):
        assert release.model_line(changed).name != base.name, changed.run_id
    csv = release.model_line(spec("j", source={"kind": "csv", "path": "/data/bars.csv"}, start=None, end=None))
    assert csv.definition["source"] == {"kind": "csv", "path": "/data/bars.csv"}
    assert base.definition["symbols"] == [BTC, ETH] and base.definition["strategy"] == "perp"


def test_a_named_line_replaces_the_derived_one():
    named = release.model_line(spec("a", release={"line": "majors"}))
    assert named.name == "majors"
    assert release.model_line(spec("b", symbols=[SOL], release={"line": "majors"})) == named
    with pytest.raises(ConfigError, match="release.line"):
        spec("c", release={"line": "../escape"})


# ------------------------------------------------------------------------------------- champions per line
def test_two_lines_keep_their_own_champions_and_roll_back_separately(tmp_path):
    majors, alts = spec("majors-1"), spec("alts-1", symbols=[SOL])
    first = promote(tmp_path, majors)
    other = promote(tmp_path, alts)
    second = promote(tmp_path, spec("majors-2", start="2026-01-15", end="2026-03-16"))
    line_a, line_b = release.model_line(majors).name, release.model_line(alts).name
    assert (first["line"], other["line"], second["line"]) == (line_a, line_b, line_a)
    assert release.champion(tmp_path, line_a)["version"] == second["version"]
    assert release.champion(tmp_path, line_a)["previous"] == [first["version"]]
    assert release.champion(tmp_path, line_b)["version"] == other["version"]
    assert release.champion(tmp_path, line_b)["definition"] == release.model_line(alts).definition
    assert sorted(release.champions(tmp_path)) == sorted([line_a, line_b])

    assert release.rollback(tmp_path, line_a)["version"] == first["version"]
    assert release.champion(tmp_path, line_b)["version"] == other["version"]  # the other line is untouched
    with pytest.raises(release.ReleaseRefused, match="no previous champion"):
        release.rollback(tmp_path, line_b)
    rows = {r["version"]: r for r in release.list_releases(tmp_path)}
    assert {v: (r["line"], r["champion"]) for v, r in rows.items()} == {
        first["version"]: (line_a, True), other["version"]: (line_b, True), second["version"]: (line_a, False)}


def test_a_retrain_never_touches_another_lines_champion(tmp_path):
    alts = spec("alts", symbols=[SOL])
    kept = promote(tmp_path, alts)
    months = [retrain_spec(marker(m), home=tmp_path, config_path=None) for m in ("2026-06", "2026-07")]
    line = release.model_line(months[0]).name
    assert incumbent_path(tmp_path, months[0].run_id, line) is None  # the alts champion is not its incumbent
    june = promote(tmp_path, months[0])
    assert incumbent_path(tmp_path, months[1].run_id, line).name == june["version"]
    promote(tmp_path, months[1])
    assert release.champion(tmp_path, release.model_line(alts).name)["version"] == kept["version"]
    assert release.champion(tmp_path, line)["previous"] == [june["version"]]


def test_a_named_line_holds_one_strategy(tmp_path):
    promote(tmp_path, spec("perp", release={"line": "shared"}))
    fly = spec("fly", strategy="butterfly", release={"line": "shared"})
    with pytest.raises(release.ReleaseRefused, match="line 'shared'"):
        release.promote({}, run_id=fly.run_id, spec_hash=fly.spec_hash, backtest=PASS, line=release.model_line(fly),
                        home=tmp_path)
    assert release.champion(tmp_path, "shared")["version"] == "r0001-perp"


def test_rollback_cli_needs_a_line_when_there_are_several(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRADER_HOME", str(tmp_path))
    majors, alts = spec("majors-1"), spec("alts-1", symbols=[SOL])
    for run in (majors, spec("majors-2", start="2026-01-08", end="2026-03-09")):
        promote(tmp_path, run)
    line_a = release.model_line(majors).name
    assert cli.main(["rollback"]) == 0  # one line: it is used
    assert release.champion(tmp_path, line_a)["version"] == "r0001-majors-1"
    promote(tmp_path, alts)
    capsys.readouterr()
    assert cli.main(["rollback"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and line_a in err and release.model_line(alts).name in err
    assert cli.main(["rollback", "--line", line_a]) != 0  # its stack is empty now
    assert cli.main(["releases"]) == 0
    out = capsys.readouterr().out
    assert f"{line_a}: r0001-majors-1" in out and f"{release.model_line(alts).name}: r0003-alts-1" in out


# ------------------------------------------------------------------------------------- no plan bypass
def test_a_plan_change_without_acceptance_is_refused(tmp_path):
    promote(tmp_path, spec("champ"))
    decision = cc.decide(pm(), pm(), same_plan=False)
    assert decision["decision"] == cc.NOT_COMPARABLE and not cc.allows_promotion(decision)
    with pytest.raises(release.ReleaseRefused, match=r"price plan.*release\.accept_plan_change"):
        promote(tmp_path, spec("newplan"), decision)
    assert release.champion(tmp_path, release.model_line(spec("champ")).name)["version"] == "r0001-champ"


def test_an_accepted_plan_change_is_promoted_and_recorded(tmp_path):
    champ = promote(tmp_path, spec("champ"))
    run = spec("newplan", release={"accept_plan_change": True})
    decision = {**cc.decide(pm(), pm(total=900.0), same_plan=False, accept_plan_change=True),
                "champion": champ["version"]}
    assert decision["decision"] == cc.PROMOTE and decision["plan_change_accepted"]
    record = promote(tmp_path, run, decision)
    manifest = json.loads((tmp_path / "releases" / record["version"] / release.MANIFEST).read_text())
    assert manifest["plan_change_accepted"] is True and manifest["replaced_champion"] == champ["version"]
    assert manifest["line"] == release.model_line(run).name
    assert release.champion(tmp_path, record["line"])["version"] == record["version"]


@pytest.mark.parametrize("challenger, reason", [
    (pm(trades=5), "5 trades"),
    (pm(total=40.0, sd=5.0), "not above one standard error"),  # 40 <= sqrt(100) x 5 = 50
])
def test_an_accepted_plan_change_must_pass_its_own_gate(challenger, reason):
    decision = cc.decide(challenger, pm(), same_plan=False, accept_plan_change=True)
    assert decision["decision"] == cc.KEEP and not cc.allows_promotion(decision)
    assert any(reason in r for r in decision["reasons"]), decision["reasons"]

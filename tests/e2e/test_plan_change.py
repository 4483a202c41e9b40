"""No bypass (issue 18): a challenger with another price plan than its line's champion is refused unless its run spec
sets release.accept_plan_change; accepted, it is still scored against the champion on the same rows, must pass its
own gate, and the release manifest records the plan change."""

import json

import pytest

from trader_assets import cli
from trader_core import io, layout, release, runs

DEMO = json.loads((layout.PROJECT_ROOT / "configs" / "demo.json").read_text())


def config(tmp_path, name: str, **release_section) -> str:
    """The demo config with a longer trailing stop (another price plan) and the given release section."""
    data = {**DEMO, "labels": {"entry": {**DEMO["labels"]["entry"], "trailing_stop_bps": 30.0}},
            "release": release_section}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.slow
def test_a_plan_change_is_refused_unless_the_run_spec_accepts_it(homes, tmp_path, capsys):
    demo = str(layout.PROJECT_ROOT / "configs" / "demo.json")
    assert cli.main(["run", "base", "--config", demo, "--no-experiments"]) == 0, capsys.readouterr().err
    line = release.model_line(runs.load_spec("base", homes)).name
    capsys.readouterr()

    assert cli.main(["run", "newplan", "--config", config(tmp_path, "refused"), "--no-experiments"]) == 1
    err = capsys.readouterr().err
    decision = io.read_json(layout.run_root("newplan", homes) / layout.ARTIFACT_PATHS["champion_challenger"])
    assert decision["decision"] == "NOT_COMPARABLE" and decision["line"] == line
    assert "price plan" in err and "release.accept_plan_change" in err
    assert release.champion(homes, line)["version"] == "r0001-base"

    assert cli.main(["run", "accepted", "--config", config(tmp_path, "accepted", accept_plan_change=True),
                     "--no-experiments"]) == 0, capsys.readouterr().err
    decision = io.read_json(layout.run_root("accepted", homes) / layout.ARTIFACT_PATHS["champion_challenger"])
    plans = decision["price_plans"]
    assert plans["champion"] != plans["challenger"] and decision["champion"] == "r0001-base"
    assert decision["champion_eval"]["pm"]["trade_count"] > 0  # the champion was scored on the same rows too
    assert decision["plan_change_accepted"] and decision["challenger_eval"]["pm"]["trade_count"] >= 20
    champion = release.champion(homes, line)
    assert champion["version"] == "r0002-accepted" and champion["previous"] == ["r0001-base"]
    manifest = io.read_json(homes / "releases" / "r0002-accepted" / release.MANIFEST)
    assert manifest["plan_change_accepted"] is True and manifest["replaced_champion"] == "r0001-base"
    report = (layout.run_root("accepted", homes) / "monitoring/monitoring_report.md").read_text()
    assert "champion r0001-base" in report and "challenger accepted" in report

"""`trader decide` on a small promoted release (docs/decide.md): the champion's decisions on the newest data and at
a given time, equal to what the run's own predictions and backtest say for the same minute; the decision log,
written once per decision; stale data, a tampered bundle and a feature-order mismatch refused in one line."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.conftest import DECIDE_RUN
from trader_assets import cli
from trader_core import decision_log, io, layout, release
from trader_core.contracts.decisions import PERP_DECISION_LOG
from trader_core.contracts.features import FEATURE_ORDER

RUN = DECIDE_RUN
SYMBOL = "BTC-USDT-PERP"
VERSION = f"r0001-{RUN}"


@pytest.fixture()
def promoted(promoted_perp) -> Path:
    """The session's promoted perp home (tests/e2e/conftest.py)."""
    return promoted_perp


@pytest.fixture()
def home(promoted, monkeypatch) -> Path:
    """The promoted home with an empty decision log."""
    shutil.rmtree(promoted / decision_log.DECISIONS_DIR, ignore_errors=True)
    monkeypatch.setenv("TRADER_HOME", str(promoted))
    return promoted


@pytest.fixture()
def releases_copy(promoted, tmp_path, monkeypatch) -> Path:
    """A home holding a writable copy of the promoted releases only (decide regenerates the synthetic market)."""
    copy = tmp_path / "home"
    shutil.copytree(promoted / "releases", copy / "releases")
    for path in (copy / "releases").rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    monkeypatch.setenv("TRADER_HOME", str(copy))
    return copy


def decide(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["decide", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def logged(home: Path) -> pd.DataFrame:
    (line,) = release.champions(home)
    return decision_log.read_decisions(decision_log.log_path(line, home), PERP_DECISION_LOG)


def minute_after(ts: pd.Timestamp) -> str:
    return (ts + pd.Timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")


def stored(home: Path, model: str) -> pd.DataFrame:
    return pd.read_parquet(layout.model_predictions_path(layout.run_root(RUN, home), model, "latest_stress"))


@pytest.mark.slow
def test_decide_prints_the_decisions_and_logs_each_once(home, capsys):
    (line,) = release.champions(home)
    code, out, _ = decide(capsys)
    assert code == 0
    assert f"line {line}: champion {VERSION} (run {RUN}), decision time 2026-01-07 00:00:00Z" in out
    assert f"{SYMBOL}  minute 2026-01-06 23:59Z" in out
    assert f"decision log {decision_log.log_path(line, home)}: 1 new row(s), 0 already logged" in out
    first = logged(home)
    assert first[["release", "release_run_id", "line", "strategy"]].values.tolist() == [[VERSION, RUN, line, "perp"]]
    assert first["data_time"].tolist() == [pd.Timestamp("2026-01-06T23:59", tz="UTC")]

    code, out, _ = decide(capsys)  # the same data minute again: found, not added
    assert code == 0 and ": 0 new row(s), 1 already logged" in out
    pd.testing.assert_frame_equal(logged(home), first)

    # a minute the backtest traded: the same side, size and edge, from the same probabilities the run predicted
    trades = pd.read_parquet(layout.run_root(RUN, home) / "backtest" / "backtest_trades.parquet")
    trade = trades[trades["eval_split"] == "latest_stress"].iloc[0]
    code, out, _ = decide(capsys, "--at", minute_after(trade["event_time"]))
    row = logged(home).iloc[-1]
    assert code == 0 and row["sample_id"] == trade["sample_id"] and row["side"] == trade["side"]
    assert f"  {trade['side']}  planned size {trade['planned_ratio']:.3f}" in out
    for ours, theirs in (("planned_ratio", "planned_ratio"), ("entry_prob", "entry_prob"),
                         ("direction_prob", "direction_prob"), ("expected_edge_bps", "predicted_edge_bps"),
                         ("market_risk_prob", "market_risk_prob")):
        assert row[ours] == pytest.approx(trade[theirs], rel=1e-5, abs=1e-6), ours
    plan = json.loads((layout.run_root(RUN, home) / layout.ARTIFACT_PATHS["price_plan"]).read_text())
    sign = 1 if trade["side"] == "LONG" else -1
    assert row["target_price"] == pytest.approx(row["decision_price"] * (1 + sign * plan["targetDistanceBps"] / 1e4))
    assert row["stop_price"] == pytest.approx(row["decision_price"] * (1 - sign * plan["stopDistanceBps"] / 1e4))
    assert f"target {row['target_price']:.6g}, stop {row['stop_price']:.6g}" in out

    # a minute both direction gates fail: no trade, blocked by the considered side's open probability
    direction = stored(home, "DIRECTION")
    quiet = direction[(direction["long_prob"] < 0.3) & (direction["short_prob"] < 0.3)].iloc[0]
    code, out, _ = decide(capsys, "--at", minute_after(quiet["event_time"]))
    row = logged(home).iloc[-1]
    assert code == 0 and row["sample_id"] == quiet["sample_id"] and row["side"] == "NONE"
    assert row["blocked_by"] == f"{row['considered_side'].lower()}_open_prob" and row["planned_ratio"] == 0
    assert (row["long_prob"], row["short_prob"]) == pytest.approx((quiet["long_prob"], quiet["short_prob"]), abs=1e-6)
    entry = stored(home, "ENTRY").set_index("sample_id").loc[quiet["sample_id"]]
    assert row["long_entry_prob"] == pytest.approx(entry["long_entry_prob"], abs=1e-6)
    assert f"  no trade: {row['blocked_by']}: {row['blocked_value']:.4g} <= {row['blocked_threshold']:.4g}" in out
    assert len(logged(home)) == 3 and logged(home)["decision_key"].is_unique


def assert_refused(capsys, needle: str, *argv: str) -> None:
    code, out, err = decide(capsys, *argv)
    assert code == 1 and not out
    assert err.startswith("trader: error: ") and needle in err and err.count("\n") == 1, err


@pytest.mark.slow
def test_stale_data_is_refused_in_one_line(home, capsys):
    assert_refused(capsys, "stale data: the newest BTC-USDT-PERP bar closed at 2026-01-07T00:00:00Z, 1 h before the "
                           "decision time 2026-01-07T01:00:00Z (max age 5 min", "--at", "2026-01-07T01:00")
    (line,) = release.champions(home)
    assert not decision_log.log_path(line, home).exists()
    code, out, _ = decide(capsys, "--at", "2026-01-07T01:00", "--max-age", "2h")  # allowed when asked for
    assert code == 0 and f"{SYMBOL}  minute 2026-01-06 23:59Z" in out
    assert logged(home)["decision_time"].tolist() == [pd.Timestamp("2026-01-07T01:00", tz="UTC")]
    code, out, _ = decide(capsys)  # the window end decides on the same minute: the same decision, not logged again
    assert code == 0 and ": 0 new row(s), 1 already logged" in out and len(logged(home)) == 1


@pytest.mark.slow
def test_a_tampered_bundle_is_refused_in_one_line(releases_copy, capsys):
    config = releases_copy / "releases" / VERSION / "pm" / "position_manager_config.json"
    doc = json.loads(config.read_text())
    doc["config"]["open"]["longOpenProb"] = 0.0  # trade on everything
    config.write_text(json.dumps(doc))
    assert_refused(capsys, f"release {VERSION}: file(s) ['pm/position_manager_config.json'] missing or not matching "
                           "their sha256")
    assert not (releases_copy / decision_log.DECISIONS_DIR).exists()


@pytest.mark.slow
def test_a_feature_order_mismatch_is_refused_in_one_line(releases_copy, capsys):
    """A champion trained on another feature order (its bundle hashes verify) is refused before it scores."""
    bundle = releases_copy / "releases" / VERSION
    manifest = io.read_json(bundle / "release_manifest.json")
    swapped = list(FEATURE_ORDER)
    swapped[3], swapped[4] = swapped[4], swapped[3]
    order = releases_copy / "swapped_feature_order.json"
    io.write_json(order, swapped)
    files = {rel: bundle / rel for rel in manifest["files"]} | {"model/feature_order.json": order}
    made = release.promote(files, run_id="swapped", spec_hash=manifest["run_spec_hash"], home=releases_copy,
                           backtest={"status": "PASS", "status_reasons": []},
                           line=release.Line(manifest["line"], manifest["line_definition"]))
    assert made.version == "r0002-swapped"
    assert_refused(capsys, f"feature order differs from FEATURE_ORDER at position 3: expected {FEATURE_ORDER[3]!r}, "
                           f"got {FEATURE_ORDER[4]!r}")
    assert not (releases_copy / decision_log.DECISIONS_DIR).exists()

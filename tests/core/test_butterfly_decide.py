"""Butterfly decisions (docs/decide.md, "Butterfly lines"): the candidates priced and featured as the pipeline does,
ranked, the AI track equal to the backtest's select_trades, refusals in one line, the realized outcome equal to the
label ROI; and the threshold adaptation's rule and its versioned document."""

from __future__ import annotations

import json
import re
import shutil
import stat
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader_core import decision_log, io, layout, release, runs
from trader_core.butterfly import pipeline, threshold
from trader_core.butterfly.backtest import select_trades
from trader_core.butterfly.features import build_features
from trader_core.butterfly.inference import get_inference_engine
from trader_core.butterfly.labels import label_positions
from trader_core.butterfly.model import onnx_model
from trader_core.butterfly.positions import price_positions
from trader_core.butterfly_config import DecisionSection
from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping
from trader_core.contracts.butterfly import BUTTERFLY_FEATURE_ORDER
from trader_core.contracts.decisions import BUTTERFLY_DECISION_LOG, DECISION_OUTCOMES
from trader_core.decide import DecisionRefused, decide, parse_request
from trader_core.decide.butterfly import ButterflyDecider
from trader_core.errors import ArtifactError
from trader_core.models.onnx_export import metadata, model_bytes
from trader_core.strategies.butterfly import BUTTERFLY, ONNX_FILE

SYMBOLS = [f"SYN{i:02d}" for i in range(1, 9)]
NEWEST = pd.Timestamp("2023-11-27", tz="UTC")  # the last trading day of the small synthetic window
PAST = "2023-06-01"  # a decision whose evaluation dates the data reaches


def small_spec(run_id: str = "bf") -> RunSpec:
    return from_mapping(RunSpec, {"run_id": run_id, "strategy": "butterfly", "butterfly": {
        "synthetic": {"trading_days": 756, "symbols": SYMBOLS},
        "sampling": {"low_days": 30, "normal_days": 40, "high_days": 30}}})


def promote_small(home: Path, *, model: onnx.ModelProto | None = None) -> release.Release:
    """A butterfly release of the small synthetic run, trained in memory and promoted directly (decisions need a
    champion, not a good one); ``model`` replaces the exported one."""
    spec = small_spec()
    runs.save_new_spec(spec, home)
    run_dir = layout.run_root(spec.run_id, home)
    trained = pipeline.run(spec.butterfly)
    pipeline.export(trained.trained, run_dir / ONNX_FILE)
    if model is not None:
        (run_dir / ONNX_FILE).write_bytes(model_bytes(model))
    io.write_json(run_dir / "butterfly" / "backtest.json", trained.backtest)
    return release.promote(BUTTERFLY.release_files(run_dir), run_id=spec.run_id, spec_hash=spec.spec_hash,
                           backtest={"status": "PASS"}, line=release.model_line(spec), home=home)


@pytest.fixture(scope="module")
def promoted(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("bfly") / "home"
    promote_small(home)
    return home


@pytest.fixture()
def home(promoted, tmp_path) -> Path:
    """A copy of the promoted home (its own decision log and threshold document)."""
    copy = tmp_path / "home"
    shutil.copytree(promoted, copy)
    return copy


@pytest.fixture(scope="module")
def market():
    return pipeline.generate_market(small_spec().butterfly)


def decided(home: Path, at: str | None = None, **kwargs) -> pd.DataFrame:
    return decide(home=home, request=parse_request(at=at, **kwargs), log=False).rows


def test_candidates_are_priced_and_featured_by_the_pipeline_on_data_up_to_the_date(promoted, market):
    rows = decided(promoted, PAST)
    date = pd.Timestamp(PAST, tz="UTC")
    assert set(rows["symbol"]) == set(SYMBOLS) and (rows["data_time"] == date).all()
    assert rows["sample_id"].tolist() == [f"{PAST}|{s}" for s in rows["symbol"]]
    assert rows["dte"].between(30, 45).all()
    # the same samples through the pipeline's functions on the whole market (the features are as of the date)
    config = small_spec().butterfly
    table = pipeline.daily(market, config)
    samples = rows[["sample_id", "data_time", "symbol", "dte"]].rename(columns={"data_time": "date"})
    positions = price_positions(samples, table, config.pricing)
    for name in ("spot", "hv", "lower", "center", "upper", "cost", "max_profit"):
        np.testing.assert_array_equal(rows[name].to_numpy(), positions[name].to_numpy(), err_msg=name)
    engine = get_inference_engine(release.releases_root(promoted) / "r0001-bf")
    scored = engine.predict_roi_distribution(build_features(positions, table))
    np.testing.assert_allclose(rows["expected_roi"].to_numpy(), scored["expected_roi"].to_numpy(), rtol=0, atol=0)
    np.testing.assert_array_equal(rows["p_excellent"].to_numpy(), scored["p_excellent"].to_numpy())
    assert rows["eval_date"].tolist() == label_positions(positions, table)["eval_date"].tolist()


def test_candidates_are_ranked_and_the_ai_track_is_the_backtests_rule(promoted):
    rows = decided(promoted, PAST)
    assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
    assert (np.diff(rows["expected_roi"].to_numpy()) <= 0).all()
    predictions = rows.assign(date=rows["data_time"], split_id="latest_stress", roi=0.0, label=0)
    traded = select_trades(predictions, DecisionSection())
    assert rows.loc[rows["ai_track"], "sample_id"].tolist() == traded["sample_id"].tolist()
    assert 0 < rows["ai_track"].sum() <= 5 and (rows["threshold_version"] == 0).all()
    assert rows["baseline_track"].all()  # the no-skill baseline holds every candidate of the day


def test_the_newest_threshold_version_decides_and_the_top_n_cap_holds(home):
    path = threshold.thresholds_path(release.resolve_line(home, None), home)
    io.write_json(path, {"line": "x", "versions": [{"version": 1, "min_expected_roi": -5.0}]})
    rows = decided(home, PAST)
    assert (rows["threshold_version"] == 1).all() and (rows["min_expected_roi"] == -5.0).all()
    assert rows["ai_track"].tolist() == [True] * 5 + [False] * (len(rows) - 5)  # every candidate passes; top 5
    predictions = rows.assign(date=rows["data_time"], split_id="latest_stress", roi=0.0, label=0)
    traded = select_trades(predictions, DecisionSection(min_expected_roi=-5.0))
    assert rows.loc[rows["ai_track"], "sample_id"].tolist() == traded["sample_id"].tolist()


def test_decisions_are_logged_once_with_the_contract(home):
    first = decide(home=home)
    assert first.log.added == len(first.rows) == len(SYMBOLS) and first.rows["data_time"].eq(NEWEST).all()
    assert decide(home=home).log.added == 0
    logged = decision_log.read_decisions(decision_log.log_path(first.champion.line, home), BUTTERFLY_DECISION_LOG)
    assert logged["decision_key"].tolist() == first.rows["decision_key"].tolist()
    text = "\n".join(first.render())
    assert f"{len(SYMBOLS)} candidate butterflies on 2023-11-27, ranked by expected ROI" in text
    assert f"baseline track opens {len(SYMBOLS)} (every candidate, equal debit)" in text
    assert f"AI track opens {int(first.rows['ai_track'].sum())}" in text


@pytest.mark.parametrize("at, max_age, needle", [
    ("2023-12-01T00:00", None, "stale data: the newest daily bar is dated 2023-11-27, 4 d before the decision time "
                               "2023-12-01T00:00:00Z (max age 3 d; --max-age to allow more"),
    ("2023-11-28T06:00", "1h", "stale data: the newest daily bar is dated 2023-11-27, 1 d 6 h before the decision "
                               "time 2023-11-28T06:00:00Z (max age 1 h;"),
    ("2020-01-01", None, "no daily bar dated at or before the decision time 2020-01-01T00:00:00Z"),
    ("2021-01-05", None, "no candidate on 2021-01-05: no symbol has a bar on it with 61 bars of history"),
])
def test_stale_data_and_a_day_without_candidates_are_refused_in_one_line(promoted, at, max_age, needle):
    with pytest.raises(DecisionRefused, match=re.escape(needle)) as refused:
        decided(promoted, at, max_age=max_age)
    assert "\n" not in str(refused.value)


def test_a_weekend_is_within_the_default_max_age(promoted):
    sunday = decided(promoted, "2023-11-26T23:00")  # Friday's bar, 2 d 23 h old
    assert sunday["data_time"].eq(pd.Timestamp("2023-11-24", tz="UTC")).all()
    with pytest.raises(DecisionRefused, match="2 d 23 h before the decision time"):
        decided(promoted, "2023-11-26T23:00", max_age="1d")


def test_a_model_of_another_feature_order_is_refused_in_one_line(tmp_path):
    trained = pipeline.run(small_spec().butterfly).trained
    model = onnx_model(trained)
    swapped = list(BUTTERFLY_FEATURE_ORDER)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    onnx.helper.set_model_props(model, metadata(model) | {"feature_order": json.dumps(swapped)})
    home = tmp_path / "home"
    promote_small(home, model=model)
    with pytest.raises(DecisionRefused) as refused:
        decided(home)
    assert str(refused.value).endswith("feature order differs from BUTTERFLY_FEATURE_ORDER at position 1: expected "
                                       "'hv_20', got 'hv_60' (23 features, expected 23)")
    assert "\n" not in str(refused.value)


def test_a_tampered_bundle_is_refused_in_one_line(home):
    spec_file = release.releases_root(home) / "r0001-bf" / "run_spec.json"
    spec_file.chmod(spec_file.stat().st_mode | stat.S_IWUSR)
    spec_file.write_text(spec_file.read_text() + " ")
    with pytest.raises(ArtifactError) as refused:
        decided(home)
    assert str(refused.value) == "release r0001-bf: file(s) ['run_spec.json'] missing or not matching their sha256"


def test_outcomes_realize_the_label_roi_once_the_data_reaches_the_evaluation_date(home, market):
    decide(home=home, request=parse_request(at=PAST))
    newest = decide(home=home)
    line = newest.champion.line
    rows = decision_log.read_decisions(decision_log.log_path(line, home), BUTTERFLY_DECISION_LOG)
    outcomes = ButterflyDecider().outcomes(newest.champion, rows, home=home)
    DECISION_OUTCOMES.validate(outcomes, extra_ok=False)
    past = (rows["data_time"] == pd.Timestamp(PAST, tz="UTC")).to_numpy()
    assert outcomes["resolved"].tolist() == past.tolist()  # the newest decisions evaluate after the data ends
    assert outcomes.loc[~past, "realized"].isna().all()
    # the pipeline's sample -> position -> label chain on the same samples
    config = small_spec().butterfly
    table = pipeline.daily(market, config)
    samples = rows.loc[past, ["sample_id", "data_time", "symbol", "dte"]].rename(columns={"data_time": "date"})
    labels = label_positions(price_positions(samples, table, config.pricing), table, config.pricing.risk_free_rate)
    np.testing.assert_array_equal(outcomes.loc[past, "realized"].to_numpy(), labels["roi"].to_numpy())
    assert outcomes["traded"].tolist() == rows["ai_track"].tolist()
    np.testing.assert_array_equal(outcomes["predicted"].to_numpy(), rows["expected_roi"].to_numpy())
    np.testing.assert_allclose(outcomes["predicted_prob"].to_numpy(),
                               (rows["p_good"] + rows["p_excellent"]).to_numpy(), rtol=0, atol=1e-12)


# --- threshold adaptation ---------------------------------------------------------------------------------------

def outcome_rows(*, days: int, traded_per_day: int, realized: float, predicted: float,
                 start: str = "2024-01-01") -> pd.DataFrame:
    """Resolved outcomes of ``days`` decision days with 8 candidates each, ``traded_per_day`` of them traded."""
    dates = pd.date_range(start, periods=days, freq="D", tz="UTC").repeat(8)
    traded = np.tile(np.arange(8) < traded_per_day, days)
    return pd.DataFrame({"decision_key": [f"k{i}" for i in range(len(dates))], "release": "r1", "arm": "champion",
                         "symbol": np.tile([f"S{i}" for i in range(8)], days), "data_time": dates,
                         "traded": traded, "predicted": predicted, "predicted_prob": 0.5, "resolved": True,
                         "realized": realized})


def figures(**overrides) -> threshold.WindowFigures:
    base = dict(window_start="a", window_end="b", resolved=100, traded=20, decision_days=10, trades_per_day=2.0,
                realized_mean=0.2, predicted_mean=0.2)
    return threshold.WindowFigures(**base | overrides)


@settings(max_examples=300, deadline=None)
@given(old=st.floats(*threshold.BOUNDS), realized=st.floats(-1.0, 3.0), predicted=st.floats(-1.0, 3.0),
       traded=st.integers(threshold.MIN_RESOLVED_TRADES, 200), per_day=st.floats(0.0, 10.0),
       max_trades=st.integers(1, 10))
def test_the_threshold_stays_within_bounds_and_moves_at_most_one_step(old, realized, predicted, traded, per_day,
                                                                      max_trades):
    move, new = threshold.next_value(old, figures(realized_mean=realized, predicted_mean=predicted, traded=traded,
                                                  trades_per_day=per_day), max_trades)
    assert threshold.BOUNDS[0] <= new <= threshold.BOUNDS[1]
    assert abs(new - old) <= threshold.STEP + 1e-6
    assert (move == threshold.KEEP) == (new == old)


@pytest.mark.parametrize("realized, predicted, per_day, move", [
    (-0.01, -0.5, 1.0, "raise"),  # negative realized
    (0.10, 0.20, 5.0, "raise"),   # 0.10 short of the prediction (> MARGIN)
    (0.25, 0.20, 1.0, "lower"),   # beats the prediction, slots left empty
    (0.25, 0.20, 5.0, "keep"),    # beats it, every slot used
    (0.17, 0.20, 1.0, "keep"),    # within the margin below the prediction
])
def test_the_rule_raises_lowers_or_keeps(realized, predicted, per_day, move):
    got, new = threshold.next_value(0.15, figures(realized_mean=realized, predicted_mean=predicted,
                                                  trades_per_day=per_day), 5)
    assert got == move
    assert new == {"raise": 0.16, "lower": 0.14, "keep": 0.15}[move]


def test_too_few_trades_or_a_value_off_bounds_are_refused():
    with pytest.raises(threshold.ThresholdRefused, match=f"9 resolved traded decision.s. in the window a to b; "
                                                         f"adapting needs at least {threshold.MIN_RESOLVED_TRADES}"):
        threshold.next_value(0.15, figures(traded=9), 5)
    with pytest.raises(threshold.ThresholdRefused, match=r"min_expected_roi 0.05 is outside the adaptation bounds"):
        threshold.next_value(0.05, figures(), 5)


def test_an_adaptation_is_a_new_version_and_the_same_outcomes_never_move_it_twice(tmp_path):
    worse = outcome_rows(days=40, traded_per_day=3, realized=-0.2, predicted=0.3)
    first = threshold.adapt(line="L", outcomes=worse, release_value=0.15, max_trades_per_day=5, home=tmp_path,
                            window_days=30, now=pd.Timestamp("2024-03-01", tz="UTC"))
    assert (first.move, first.old, first.new, first.version) == ("raise", 0.15, 0.16, 1)
    assert first.figures.decision_days == 30 and first.figures.traded == 90  # the window: 30 of the 40 days
    document = json.loads(threshold.thresholds_path("L", tmp_path).read_text())
    (entry,) = document["versions"]
    assert (entry["version"], entry["previous"], entry["min_expected_roi"]) == (1, 0.15, 0.16)
    assert entry["window"]["realized_mean"] == pytest.approx(-0.2) and entry["time"] == "2024-03-01T00:00:00+00:00"
    with pytest.raises(threshold.ThresholdRefused, match="no decision resolved after version 1's window"):
        threshold.adapt(line="L", outcomes=worse, release_value=0.15, max_trades_per_day=5, home=tmp_path)
    later = pd.concat([worse, outcome_rows(days=1, traded_per_day=3, realized=-0.2, predicted=0.3,
                                           start="2024-02-10").assign(decision_key=lambda f: "n" + f["decision_key"])])
    second = threshold.adapt(line="L", outcomes=later, release_value=0.15, max_trades_per_day=5, home=tmp_path)
    assert (second.old, second.new, second.version) == (0.16, 0.17, 2)
    assert threshold.newest_version("L", tmp_path)["min_expected_roi"] == 0.17


def test_a_kept_threshold_writes_no_version(tmp_path):
    fine = outcome_rows(days=20, traded_per_day=5, realized=0.3, predicted=0.2)
    kept = threshold.adapt(line="L", outcomes=fine, release_value=0.15, max_trades_per_day=5, home=tmp_path)
    assert (kept.move, kept.new, kept.version) == ("keep", 0.15, 0)
    assert not threshold.thresholds_path("L", tmp_path).exists()

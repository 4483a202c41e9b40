"""Table contracts: every stored table is declared once, its rules catch a frame that breaks them and pass a valid
one, and the library's builders produce frames that meet them."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.pipeline import run_pipeline
from trader_core.contracts.datasets import DATASETS, DIRECTION_OPPORTUNITY_TRAIN
from trader_core.contracts.feature_frame import FEATURE_FRAME
from trader_core.contracts.features import FEATURE_ORDER, META_COLUMNS
from trader_core.contracts.labels import (
    DIRECTION_LABELS,
    ENTRY_LABELS,
    LABEL_TABLES,
    PATH_STAT_COLUMNS,
    PATH_STATS,
    TRADE_COST_COLUMNS,
    dataset_columns,
)
from trader_core.contracts.models import MODELS, PREDICTION_KEY, PREDICTIONS, TARGETS, output_columns
from trader_core.contracts.pm_frame import PM_FRAME
from trader_core.contracts.replay import REPLAY
from trader_core.contracts.table import Column, Invariant, TableContract
from trader_core.labels.datasets import direction_opportunity_dataset
from trader_core.pm.frame import pm_frame

STORED = [REPLAY, FEATURE_FRAME, *LABEL_TABLES.values(), *DATASETS.values(), DIRECTION_OPPORTUNITY_TRAIN,
          *PREDICTIONS.values(), PM_FRAME]

TOY = TableContract(
    name="toy",
    columns=(Column("symbol", "str"), Column("t", "int", dtype="int64"),
             Column("p", "float", nullable=True, low=0.0, high=1.0), Column("flag", "int", values=(0, 1)),
             Column("side", "str", values=("LONG", "SHORT"))),
    key=("symbol", "t"), sort=("symbol", "t"))


def toy_frame() -> pd.DataFrame:
    return pd.DataFrame({"symbol": ["A", "A", "B"], "t": np.array([1, 2, 1], dtype=np.int64),
                         "p": [0.0, np.nan, 1.0], "flag": [0, 1, 1], "side": ["LONG", "SHORT", "LONG"]})


@pytest.fixture(scope="module")
def run():
    return run_pipeline(signal=2.0, days=6, seed=7, symbols=("BTC-USDT-PERP",))


def test_every_stored_table_is_declared_once():
    assert len({c.name for c in STORED}) == len(STORED)
    assert {"path_stats", "direction_labels", "entry_labels", "continue_labels", "exit_labels", "risk_labels",
            "direction_train", "entry_train", "continue_train", "risk_train", "direction_opportunity_train",
            "feature_frame", "pm_frame", "replay_1m"} <= {c.name for c in STORED}
    assert FEATURE_FRAME.names == [*META_COLUMNS, *FEATURE_ORDER]
    assert PATH_STATS.names == [*PATH_STAT_COLUMNS[:3], "horizon_minutes", *PATH_STAT_COLUMNS[3:], *TRADE_COST_COLUMNS]
    for name, contract in DATASETS.items():
        assert contract.names == list(dataset_columns(name))
    for model in MODELS:
        assert PREDICTIONS[model].names == [*PREDICTION_KEY, *TARGETS[model].fields]


def test_a_contract_refuses_duplicated_or_undeclared_columns():
    with pytest.raises(ValueError, match="duplicated"):
        TableContract("bad", columns=(Column("a", "int"), Column("a", "float")))
    with pytest.raises(ValueError, match="undeclared"):
        TableContract("bad", columns=(Column("a", "int"),), key=("b",))


def test_a_valid_frame_meets_the_column_rules():
    passed, details = TOY.column_report(toy_frame())
    assert passed, details
    categorical = toy_frame().assign(side=lambda f: f["side"].astype("category"))
    assert TOY.column_report(categorical)[0]


@pytest.mark.parametrize("column, value, problem", [
    ("p", 1.5, "out_of_range"), ("p", np.inf, "infinite"), ("flag", 2, "unknown_values"),
    ("side", "UP", "unknown_values"), ("symbol", None, "nulls"),
])
def test_the_column_rules_catch_a_broken_value(column, value, problem):
    frame = toy_frame()
    frame.loc[1, column] = value
    passed, details = TOY.column_report(frame)
    assert not passed
    assert problem in details["column_problems"][column]


def test_the_column_rules_catch_dtype_missing_and_order():
    assert TOY.column_report(toy_frame().astype({"t": "int32"}))[1]["column_problems"] == {"t": {"dtype": "int32"}}
    missing = TOY.column_report(toy_frame().drop(columns="flag"))
    assert not missing[0] and missing[1]["missing_columns"] == ["flag"]
    swapped = TOY.column_report(toy_frame()[["t", "symbol", "p", "flag", "side"]])
    assert not swapped[0] and swapped[1]["columns_in_order"] is False


KEYS = st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 30)), max_size=40)


def _keys_frame(rows: list[tuple[str, int]]) -> pd.DataFrame:
    return pd.DataFrame({"symbol": pd.Series([s for s, _ in rows], dtype="str"),
                         "t": np.array([t for _, t in rows], dtype=np.int64)})


@settings(max_examples=60, deadline=None)
@given(KEYS)
def test_the_key_rule_counts_duplicates_and_disorder_like_a_reference(rows):
    passed, details = TOY.key_report(_keys_frame(rows))
    duplicates = len(rows) - len(set(rows))
    unsorted = sum(rows[i + 1] < rows[i] for i in range(len(rows) - 1))
    assert (details["duplicate_keys"], details["unsorted_pairs"]) == (duplicates, unsorted)
    assert passed == (duplicates == 0 and unsorted == 0)


@settings(max_examples=30, deadline=None)
@given(KEYS.filter(lambda rows: len(set(rows)) >= 2))
def test_unique_sorted_keys_pass_and_a_swap_or_a_copy_fails(rows):
    keys = sorted(set(rows))
    assert TOY.key_report(_keys_frame(keys))[0]
    assert not TOY.key_report(_keys_frame([keys[1], keys[0], *keys[2:]]))[0]
    assert not TOY.key_report(_keys_frame([keys[0], *keys]))[0]


def test_the_builders_meet_their_contracts(run):
    context = {"split_manifest": run.split_manifest, "label_config": run.labels}
    opportunity, _ = direction_opportunity_dataset(run.datasets["direction"], run.datasets["entry"])
    tables = [(FEATURE_FRAME, run.features), (DIRECTION_LABELS, run.direction_labels), (ENTRY_LABELS, run.entry_labels),
              (DATASETS["direction"], run.datasets["direction"]), (DATASETS["entry"], run.datasets["entry"]),
              (DIRECTION_OPPORTUNITY_TRAIN, opportunity)]
    for contract, frame in tables:
        assert len(frame) > 0, contract.name
        for rule in contract.rules:
            passed, details = rule.evaluate(frame, context)
            assert passed, (contract.name, rule.name, details)


def test_the_pm_frame_meets_its_contract(run):
    entry_train = run.datasets["entry"]
    rng = np.random.default_rng(0)
    preds = {model: entry_train[list(PREDICTION_KEY)].assign(**{
        c.name: rng.uniform(0, 1, len(entry_train)).astype(np.float32) for c in output_columns(model)})
        for model in ("DIRECTION", "ENTRY", "RISK")}
    for model, frame in preds.items():
        assert all(rule.evaluate(frame)[0] for rule in PREDICTIONS[model].rules), model
    frame, _ = pm_frame(preds["DIRECTION"], preds["ENTRY"], preds["RISK"], entry_train, run.entry_labels)
    for rule in PM_FRAME.rules:
        passed, details = rule.evaluate(frame)
        assert passed, (rule.name, details)


def test_entry_labels_need_two_sides_per_sample(run):
    rule = next(r for r in ENTRY_LABELS.invariants if r.name == "two_rows_per_sample")
    assert rule.evaluate(run.entry_labels)[0]
    dropped = rule.evaluate(run.entry_labels.drop(index=3))
    assert not dropped[0] and dropped[1]["bad_samples"] == 1
    same_side = run.entry_labels.copy()
    same_side["side"] = same_side["side"].astype(str)
    same_side.loc[same_side.index[-1], "side"] = "LONG"
    assert rule.evaluate(same_side)[1]["bad_samples"] == 1


def test_label_windows_must_stay_inside_their_split(run):
    rule = next(r for r in DIRECTION_LABELS.invariants if r.name == "windows_inside_splits")
    context = {"split_manifest": run.split_manifest, "label_config": run.labels}
    assert rule.evaluate(run.direction_labels, context)[0]
    fit_end = next(s["end_ms"] for s in run.split_manifest["splits"] if s["split_id"] == "fit_inner")
    late = run.direction_labels.copy()
    late.loc[0, "open_time_ms"] = fit_end - 60_000  # its 45-minute window runs past the end of fit_inner
    passed, details = rule.evaluate(late, context)
    assert not passed and details["crossing_rows"] == 1


def test_a_one_class_target_is_a_warning(run):
    rule = next(r for r in ENTRY_LABELS.invariants if r.name == "not_one_class")
    assert rule.blocking is False
    assert rule.evaluate(run.entry_labels)[0]
    constant = run.entry_labels.assign(entry_target=np.int8(0))
    passed, details = rule.evaluate(constant)
    assert not passed and "fit_inner.entry_target" in details["one_class"]


def test_trainable_rows_must_have_finite_features(run):
    rule = FEATURE_FRAME.invariants[0]
    assert rule.name == "trainable_rows_finite" and rule.evaluate(run.features)[0]
    flags = run.features["data_quality_flag"].to_numpy()
    warmup, ok = np.flatnonzero(flags == "WARMUP")[0], np.flatnonzero(flags == "OK")[0]
    frame = run.features.copy()
    frame.loc[warmup, FEATURE_ORDER[0]] = np.nan
    assert rule.evaluate(frame)[0]  # a WARMUP row may hold NaN
    frame.loc[ok, FEATURE_ORDER[0]] = np.nan
    passed, details = rule.evaluate(frame)
    assert not passed and details["non_finite_trainable_rows"] == 1


def test_datasets_refuse_non_finite_features(run):
    frame = run.datasets["entry"].copy()
    frame.loc[0, FEATURE_ORDER[5]] = np.nan
    passed, details = DATASETS["entry"].column_report(frame)
    assert not passed and details["column_problems"] == {FEATURE_ORDER[5]: {"nulls": 1}}


def test_replay_rules_keep_their_check_names():
    assert [r.name for r in REPLAY.rules] == ["matches_contract", "unique_sorted_minutes", "ohlc_sane"]
    bars = pd.DataFrame({"open": [10.0, 10.0], "high": [11.0, 9.0], "low": [9.0, 9.5], "close": [10.5, 9.8],
                         "volume": [1.0, -1.0]})
    passed, details = REPLAY.invariants[0].evaluate(bars)
    assert not passed and details == {"bad_prices": 0, "bad_high_low": 1, "bad_volume": 1}


def test_an_invariant_reads_only_the_context_it_names():
    seen = []
    rule = Invariant("x", "records its context", lambda frame, **ctx: (seen.append(ctx) or True, {}), needs=("a",))
    assert rule.evaluate(toy_frame(), {"a": 1, "b": 2})[0]
    assert seen == [{"a": 1}]


def test_a_renamed_column_keeps_its_rules():
    col = Column("p", "float", "bps", nullable=True, low=0.0, dtype="float32")
    assert replace(col, name="long_p") == col.renamed("long_p")

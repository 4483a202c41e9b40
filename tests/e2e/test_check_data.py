"""``trader check-data``: what a run would see of a source, before any run (docs/data.md, "Checking data")."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FTX_CSV, require_real
from tests.core.test_bar_files import WRITERS
from tests.sparse import sparse_minutes
from trader_assets import cli


@pytest.fixture(scope="module")
def january(tmp_path_factory) -> pd.DataFrame:
    bars = pd.read_csv(require_real(FTX_CSV))
    times = pd.to_datetime(bars["timestamp"], utc=True, format="ISO8601")
    return bars[((times >= "2022-01-01") & (times < "2022-02-01")).to_numpy()].reset_index(drop=True)


def _check(path, capsys, *extra: str) -> tuple[int, list[str], str]:
    code = cli.main(["check-data", "--source", "csv", "--path", str(path), "--symbols", "BTC-PERP", *extra])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_the_ftx_month_is_runnable_and_its_partial_edge_days_are_named(homes, capsys):
    code, lines, _ = _check(require_real(FTX_CSV), capsys)
    assert code == 0
    assert "bars: 45,031 rows, 2021-12-31T23:01:00+00:00 .. 2022-02-01T05:31:00+00:00" in lines
    assert "symbol-days kept: 31 (31 complete)" in lines
    assert "symbol-days dropped: 2 (2 edge of the data: minutes before the first or after the last bar)" in lines
    assert lines[-1] == "OK: a run would have 31 UTC day(s) with bars; the split plan needs at least 4"
    assert any(line.startswith("optional tables: none; absent (never invented): book_l1") for line in lines)


def test_a_sparse_export_is_filled_and_its_gaps_counted_by_length(homes, capsys, tmp_path, january):
    sparse = sparse_minutes(january, share=0.03, max_run=8, seed=11)
    path = tmp_path / "sparse.csv"
    sparse.to_csv(path, index=False)
    code, lines, _ = _check(path, capsys)
    removed = len(january) - len(sparse)
    assert code == 0 and f"no-trade minutes filled (runs up to 15 min): {removed:,}" in lines
    assert "symbol-days kept: 31 (31 complete after filling no-trade minutes)" in lines
    gaps = next(line for line in lines if line.startswith("gaps between bars"))
    counts = {k: int(v) for k, v in (part.split(": ") for part in gaps.split("minutes: ")[1].split(", "))}
    missing = np.setdiff1d(january["timestamp"].to_numpy(), sparse["timestamp"].to_numpy())
    steps = np.diff(pd.to_datetime(missing).to_numpy()) != np.timedelta64(1, "m")
    lengths = np.diff(np.flatnonzero(np.r_[True, steps, True]))  # the runs the fixture removed
    bounds = {"1": (1, 1), "2": (2, 2), "3": (3, 3), "4-7": (4, 7), "8-15": (8, 15)}
    expected = {k: int(((lengths >= lo) & (lengths <= hi)).sum()) for k, (lo, hi) in bounds.items()}
    assert counts == {k: v for k, v in expected.items() if v} and sum(expected.values()) == len(lengths)


def test_an_outage_drops_its_day_and_a_stricter_policy_is_read_from_the_config(homes, capsys, tmp_path, january):
    path = tmp_path / "outage.csv"
    january.drop(index=range(5000, 5030)).to_csv(path, index=False)  # 30 minutes of 2022-01-04 missing
    code, lines, _ = _check(path, capsys)
    assert code == 0 and "symbol-days dropped: 1 (1 outage gap longer than 15 minutes)" in lines
    config = tmp_path / "keep.json"
    config.write_text('{"replay": {"complete_days_only": false}}')
    code, lines, _ = _check(path, capsys, "--config", str(config))
    assert code == 0 and "symbol-days kept: 31 (30 complete; 1 kept with an outage gap (its windows masked))" in lines


def test_too_few_days_exit_1_with_the_reason(homes, capsys, tmp_path, january):
    path = tmp_path / "short.csv"
    january.iloc[:3000].to_csv(path, index=False)
    code, lines, _ = _check(path, capsys)
    assert code == 1
    assert lines[-1] == ("NOT RUNNABLE: split: the window has 2 day(s), too short for the split plan: "
                         "need at least 4 whole days (one per split)")


def test_a_broken_file_is_one_line_and_exit_1(homes, capsys, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("a,b\n1,2\n")
    code, lines, err = _check(path, capsys)
    assert code == 1 and lines == [] and len(err.strip().splitlines()) == 1
    assert err.startswith(f"trader: error: {path}: unknown bar file layout")


@pytest.mark.parametrize("case", sorted(WRITERS))
def test_every_export_layout_gives_the_same_check(homes, capsys, tmp_path, january, case):
    days = january.iloc[:6 * 1440].copy()
    days["taker_buy_volume"] = days["volume"] * 0.5
    days["taker_sell_volume"] = days["volume"] - days["taker_buy_volume"]
    days["trade_count"] = 10
    days["open_time"] = pd.to_datetime(days["timestamp"]).dt.tz_localize("UTC")
    path = tmp_path / f"BTC-{case}.data"
    WRITERS[case][1](days, path)
    code, lines, _ = _check(path, capsys)
    assert code == 0
    assert "bars: 8,640 rows, 2022-01-01T00:00:00+00:00 .. 2022-01-06T23:59:00+00:00" in lines
    assert lines[-1] == "OK: a run would have 6 UTC day(s) with bars; the split plan needs at least 4"

"""Build the feature frame from the replay (docs/features.md, contract ``trader_core.contracts.features``).

One row per replay row, in replay order, fresh RangeIndex: META_COLUMNS (strings as ``str`` dtype), then
FEATURE_ORDER as float32 (computed in float64, cast when stored). Features 1-33 follow the original pandas code
exactly, including its semantics: windows count rows of one symbol; ``rolling(w, min_periods=m)``
skips NaN and needs m non-NaN values, with m = w everywhere except the liquidation 15-row sums (m = 1)
and the 1440-row liquidation mean/std (m = 60); the rolling-240 median of range_15m_bps uses m = 240;
``safe_divide`` maps den == 0, +-inf and NaN to 0 (so safe-divided features never cause WARMUP);
``std == 0`` becomes NaN then 0 in the z-scores; comparisons with NaN are False (features 16/17 are 0 in
warmup); ``clip`` keeps NaN. The kernels (``kernels.py``, ``rolling.py``, ``order_stats.py``) reproduce
pandas' rolling algorithms bit for bit, so those exact tests agree with pandas. Each symbol's price and flow
blocks run on worker threads (the kernels release the GIL); every block writes its own part of the matrix.

Decisions (docs/features.md):

* Input: the replay must satisfy the REPLAY contract, be non-empty, be sorted by (symbol, open_time_ms)
  with unique keys, and have event_time equal to open_time_ms. Anything else raises DataContractError
  (nothing is re-sorted). No complete-day filter is applied here: the replay stage owns the
  choice of rows. Gaps (``gap_minutes_before`` > 0) do not reset windows, since windows count rows.
* rolling_rank_last ties count as <= (rank method "max"); a window holding a NaN yields NaN, as in
  pandas (fewer than w values). compression_score_4h_pct = 1 - rank over 240 rows.
* Divisions outside ``safe_divide`` (returns, oi deltas, mark/index basis, microprice) are left as
  pandas computes them: a zero denominator gives +-inf or NaN. Only NaN makes a row WARMUP; +-inf is
  counted by the quality report's Extreme Value Check.
* Book features 38-41 follow the contract formulas; book_microprice_basis_bps is not safe-divided, so
  bid_size + ask_size == 0 gives NaN (the row is WARMUP).
* Optional sources: where a flag of OPTIONAL_SOURCE_FEATURES is 0 the listed features are set to 0.0
  after all features are computed. A missing source inside a trailing window therefore still yields
  NaN on later rows (e.g. spread_rank_24h_pct is NaN for 1440 rows after a NaN spread): those rows are
  WARMUP, not silently filled.
* minute_of_day = (epoch minutes of event_time) mod 1440, identical to UTC hour * 60 + minute.
  minutes_to_next_funding = (next_funding_time - event_time) / 1 minute clipped to [0, 480]; NaT gives
  NaN, which funding_available = 0 then neutralizes.
* liquidation_available (feature) = the replay flag as float, NaN -> 0.
* data_quality_flag, first that applies: WARMUP if any feature is NaN; GAP_WINDOW if the window of a feature
  in use (its source available on the row) spans a gap of the minute grid (``gap_minutes_before`` > 0
  inside it: an outage kept by the gap policy, or a dropped day); FILLED_BAR if replay filled the row as a
  no-trade minute (``bar_filled``); PARTIAL_OPTIONAL if any availability flag of the row is 0 (the original
  code only looked at liquidation_available); else OK. Values are never changed by the flag.
* split_id = ``split_ids`` (one per row, no missing values) or "unassigned"; walk_forward_fold =
  "fold_01" on fit_inner rows, "NO_FOLD" elsewhere.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa

from trader_core.contracts.features import (
    FEATURE_COUNT,
    FEATURE_ORDER,
    FEATURES,
    META_COLUMNS,
    OPTIONAL_SOURCE_FEATURES,
    QUALITY_FILLED_BAR,
    QUALITY_GAP_WINDOW,
    QUALITY_OK,
    QUALITY_PARTIAL_OPTIONAL,
    QUALITY_WARMUP,
)
from trader_core.contracts.replay import REPLAY
from trader_core.contracts.table import validate_frame
from trader_core.contracts.versions import FEATURE_VERSION, FIT_FOLD, FIT_SPLIT, NO_FOLD, UNASSIGNED_SPLIT
from trader_core.errors import DataContractError
from trader_core.features import kernels
from trader_core.keys import epoch_ms, factorize_runs
from trader_core.threads import in_background

_ROW = {name: i for i, name in enumerate(FEATURE_ORDER)}
_PASS_THROUGH = ("spread_bps", "funding_bps", "level1_ofi_1m")
_WINDOW_INPUTS = (
    "close", "high", "low", "volume", "taker_buy_volume", "taker_sell_volume", "spread_bps", "open_interest",
    "mark_price", "index_price", "liquidation_buy_notional_1m", "liquidation_sell_notional_1m",
    "best_bid_price", "best_bid_size", "best_ask_price", "best_ask_size", "depth_bid_notional_5",
    "depth_ask_notional_5",
)
_ROW_FEATURES = ("minute_of_day_sin", "minute_of_day_cos", "minutes_to_next_funding", "liquidation_available")
_QUALITY_LABELS = [QUALITY_OK, QUALITY_PARTIAL_OPTIONAL, QUALITY_WARMUP, QUALITY_GAP_WINDOW, QUALITY_FILLED_BAR]
_WINDOW = {f.name: f.window for f in FEATURES}
#: Rows of one symbol a feature row reads, itself included: the longest window of FEATURES (the 1440-row
#: liquidation mean/std over 15-row sums). A row built from this many rows has every feature of a row built from
#: the whole history; values kept by running sums and moments agree to rounding (docs/decide.md).
HISTORY_ROWS = max(_WINDOW.values())
_OPTIONAL = {name for names in OPTIONAL_SOURCE_FEATURES.values() for name in names}
#: Longest window of the features that do not depend on an optional source.
_BASE_WINDOW = max(w for name, w in _WINDOW.items() if name not in _OPTIONAL)
_QUALITY_CODE = {label: code for code, label in enumerate(_QUALITY_LABELS)}
#: Quality codes in the order they apply (docs/features.md): the first that applies wins, else OK.
_QUALITY_ORDER = np.array([_QUALITY_CODE[q] for q in (QUALITY_WARMUP, QUALITY_GAP_WINDOW, QUALITY_FILLED_BAR,
                                                      QUALITY_PARTIAL_OPTIONAL, QUALITY_OK)], dtype=np.int64)
#: sin/cos of 2 pi m / 1440 for every minute of the day m (looked up instead of evaluated per row).
_MINUTE_SIN = np.sin(2 * np.pi * np.arange(1440) / 1440.0)
_MINUTE_COS = np.cos(2 * np.pi * np.arange(1440) / 1440.0)


def _block(names: tuple[str, ...]) -> slice:
    """Rows of FEATURE_ORDER a kernel writes; the kernel's names must be consecutive there."""
    start = _ROW[names[0]]
    if FEATURE_ORDER[start:start + len(names)] != names:
        raise RuntimeError(f"kernel features {names} are not consecutive in FEATURE_ORDER")
    return slice(start, start + len(names))


_PRICE = _block(kernels.PRICE_FEATURES)
_COMPRESSION = _block(kernels.COMPRESSION_FEATURES)
_FLOW = _block(kernels.FLOW_FEATURES)
_BOOK = _block(kernels.BOOK_FEATURES)
_COVERED = (kernels.PRICE_FEATURES + kernels.COMPRESSION_FEATURES + kernels.FLOW_FEATURES
            + kernels.BOOK_FEATURES + _PASS_THROUGH + _ROW_FEATURES)
if sorted(_COVERED) != sorted(FEATURE_ORDER):
    raise RuntimeError("feature builder does not cover FEATURE_ORDER exactly once")


def build_feature_frame(replay: pd.DataFrame, split_ids: np.ndarray | None = None) -> pd.DataFrame:
    """Feature frame (META_COLUMNS + FEATURE_ORDER) of a sorted replay_1m table; see the module docstring.

    The windowed feature blocks run on worker threads (``in_background``) while this thread builds the
    columns that do not need them.
    """
    open_ms = _check_replay(replay)
    splits = _split_codes(split_ids, len(replay))
    codes, uniques = factorize_runs(replay["symbol"])
    symbols = [str(s) for s in uniques]
    bounds = _symbol_bounds(replay, open_ms, codes, symbols)
    matrix = np.empty((FEATURE_COUNT, len(replay)), dtype=np.float32)
    columns = {name: _floats(replay[name]) for name in _WINDOW_INPUTS}
    with in_background([partial(block, {k: v[start:end] for k, v in columns.items()}, matrix[:, start:end])
                        for start, end in zip(bounds[:-1], bounds[1:]) for block in (_price_block, _flow_block)]):
        meta = _meta_columns(replay, open_ms, codes, symbols, splits)
        _row_features(replay, open_ms, matrix)
        flags = _source_flags(replay)
        gap_window = spans_gap(replay, bounds, flags)
        filled = replay["bar_filled"].to_numpy() == 1
    partial_rows = _neutralize_unavailable(matrix, flags)
    quality = kernels.quality_codes(matrix, gap_window, filled, partial_rows, _QUALITY_ORDER)
    meta["data_quality_flag"] = _labels(quality, _QUALITY_LABELS)
    return pd.concat([meta, pd.DataFrame(matrix.T, columns=list(FEATURE_ORDER), copy=False)], axis=1)


def _floats(series: pd.Series) -> np.ndarray:
    return np.ascontiguousarray(series.to_numpy(dtype=np.float64, na_value=np.nan))


def _check_replay(replay: pd.DataFrame) -> np.ndarray:
    """Contract, non-empty, and event_time == open_time_ms; returns open_time_ms.

    The contract's key and order (unique, sorted (symbol, open_time_ms)) are checked by ``_symbol_bounds``,
    which needs the symbol blocks anyway.
    """
    validate_frame(replay, REPLAY.name, REPLAY.columns, positive=REPLAY.positive)
    if replay.empty:
        raise DataContractError("replay_1m: the replay is empty; there is nothing to build features from")
    open_ms = replay["open_time_ms"].to_numpy(dtype=np.int64)
    event_ms = epoch_ms(replay["event_time"])
    mismatch = event_ms != open_ms
    if mismatch.any():
        raise DataContractError(f"replay_1m: event_time and open_time_ms disagree on {int(mismatch.sum())} row(s), "
                                f"first at row {int(np.flatnonzero(mismatch)[0])}")
    return open_ms


def _symbol_bounds(replay: pd.DataFrame, open_ms: np.ndarray, codes: np.ndarray, symbols: list[str]) -> np.ndarray:
    """Row offsets [0, start of 2nd symbol, ..., n]; raises unless sorted by (symbol, open_time_ms)."""
    code_steps = np.diff(codes)
    if (code_steps < 0).any() or symbols != sorted(symbols):
        raise DataContractError("replay_1m: rows are not sorted by symbol (each symbol must form one block, "
                                f"in ascending order; found the order {symbols})")
    changes = np.flatnonzero(code_steps) + 1
    time_steps = np.diff(open_ms)
    time_steps[changes - 1] = 1  # a new symbol may start at any time
    if (time_steps <= 0).any():
        row = int(np.flatnonzero(time_steps <= 0)[0]) + 1
        if time_steps[row - 1] == 0:
            raise DataContractError(f"replay_1m: duplicate key (symbol, open_time_ms) = "
                                    f"({replay['symbol'].iloc[row]!r}, {open_ms[row]}) at row {row}")
        raise DataContractError(f"replay_1m: open_time_ms is not strictly increasing within symbol "
                                f"{replay['symbol'].iloc[row]!r} at row {row} (rows must be sorted and unique)")
    return np.concatenate(([0], changes, [len(codes)]))


def _price_block(cols: dict[str, np.ndarray], out: np.ndarray) -> None:
    """Write the price and compression features of one symbol's rows into ``out`` (all FEATURE_ORDER rows)."""
    kernels.price_block(cols["close"], cols["high"], cols["low"], cols["volume"], out[_PRICE], out[_COMPRESSION])


def _flow_block(cols: dict[str, np.ndarray], out: np.ndarray) -> None:
    """Write the flow and book features of one symbol's rows into ``out`` (all FEATURE_ORDER rows)."""
    kernels.flow_block(cols["close"], cols["taker_buy_volume"], cols["taker_sell_volume"], cols["spread_bps"],
                       cols["open_interest"], cols["mark_price"], cols["index_price"],
                       cols["liquidation_buy_notional_1m"], cols["liquidation_sell_notional_1m"],
                       cols["best_bid_price"], cols["best_bid_size"], cols["best_ask_price"], cols["best_ask_size"],
                       cols["depth_bid_notional_5"], cols["depth_ask_notional_5"], out[_FLOW], out[_BOOK])


def _row_features(replay: pd.DataFrame, open_ms: np.ndarray, matrix: np.ndarray) -> None:
    """Clock, funding countdown and pass-through features (no window, no symbol boundary)."""
    minute = (open_ms // 60_000) % 1440  # open_time_ms == event_time, checked; UTC hour * 60 + minute
    matrix[_ROW["minute_of_day_sin"]] = _MINUTE_SIN[minute]
    matrix[_ROW["minute_of_day_cos"]] = _MINUTE_COS[minute]
    to_funding = (replay["next_funding_time"] - replay["event_time"]) / pd.Timedelta(minutes=1)
    matrix[_ROW["minutes_to_next_funding"]] = np.clip(to_funding.to_numpy(dtype=np.float64, na_value=np.nan),
                                                      0.0, 480.0)
    for name in _PASS_THROUGH:
        matrix[_ROW[name]] = _floats(replay[name])
    matrix[_ROW["liquidation_available"]] = np.nan_to_num(_floats(replay["liquidation_available"]), nan=0.0)


def _source_flags(replay: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each optional source's availability flag as numbers: a plain integer column as it is (no copy), any
    other as float64 (NaN where missing)."""
    return {flag: _numbers(replay[flag]) for flag in OPTIONAL_SOURCE_FEATURES}


def _numbers(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        return series.to_numpy()
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def spans_gap(replay: pd.DataFrame, bounds: np.ndarray, flags: dict[str, np.ndarray]) -> np.ndarray:
    """True where the window of a feature in use spans a gap: rows i-w+1..i of a w-row window hold a row j > i-w+1
    with ``gap_minutes_before[j] > 0``. A feature is in use unless its optional source is unavailable (then it is 0).

    ``flags``: ``_source_flags`` of the replay.
    """
    window = np.full(len(replay), _BASE_WINDOW, dtype=np.int64)
    for flag, names in OPTIONAL_SOURCE_FEATURES.items():
        window = np.where(flags[flag] == 1, np.maximum(window, max(_WINDOW[name] for name in names)), window)
    return kernels.spans_gap(np.ascontiguousarray(replay["gap_minutes_before"].to_numpy() > 0), window, bounds)


def _neutralize_unavailable(matrix: np.ndarray, flags: dict[str, np.ndarray]) -> np.ndarray:
    """Set the features of unavailable optional sources to 0.0; True where any source is unavailable."""
    partial = np.zeros(matrix.shape[1], dtype=bool)
    for flag, names in OPTIONAL_SOURCE_FEATURES.items():
        unavailable = flags[flag] == 0
        if unavailable.any():
            for name in names:
                matrix[_ROW[name], unavailable] = 0.0
            partial |= unavailable
    return partial


def _str_column(array: pa.Array) -> pd.Series:
    return pd.Series(pd.array(array, dtype="str"))


def _labels(codes: np.ndarray, labels: list[str]) -> pd.Series:
    """A plain ``str`` column from integer codes into a few labels (taken by pyarrow, no per-row Python); a
    column of one label is repeated straight into the string buffers."""
    if codes.size and codes.min() == codes.max():
        data = np.tile(np.frombuffer(labels[codes[0]].encode(), dtype=np.uint8), codes.size)
        offsets = np.arange(codes.size + 1, dtype=np.int64) * (data.size // max(codes.size, 1))
        return _str_column(pa.LargeStringArray.from_buffers(codes.size, pa.py_buffer(offsets), pa.py_buffer(data)))
    return _str_column(pa.array(labels, pa.large_string()).take(pa.array(codes)))


def _sample_ids(codes: np.ndarray, symbols: list[str], open_ms: np.ndarray) -> pd.Series:
    """f"{symbol}:{open_time_ms}" per row, formatted by a numba kernel into arrow string buffers."""
    prefixes = [f"{s}:".encode() for s in symbols]
    prefix_offsets = np.concatenate(([0], np.cumsum([len(p) for p in prefixes]))).astype(np.int64)
    prefix_bytes = np.frombuffer(b"".join(prefixes), dtype=np.uint8)
    offsets, data = kernels.sample_id_buffers(codes, prefix_bytes, prefix_offsets, open_ms)
    return _str_column(pa.LargeStringArray.from_buffers(len(codes), pa.py_buffer(offsets), pa.py_buffer(data)))


def _split_codes(split_ids: np.ndarray | None, n: int) -> tuple[np.ndarray, list[str]]:
    """Integer codes and labels of the split ids ("unassigned" when none are given)."""
    if split_ids is None:
        return np.zeros(n, dtype=np.int64), [UNASSIGNED_SPLIT]
    if len(split_ids) != n:
        raise DataContractError(f"split_ids: {len(split_ids)} value(s) for {n} replay row(s)")
    codes, uniques = pd.factorize(np.asarray(split_ids, dtype=object))
    if (codes < 0).any():
        raise DataContractError("split_ids: missing split id(s); every row needs one")
    return codes, [str(s) for s in uniques]


def _meta_columns(replay: pd.DataFrame, open_ms: np.ndarray, codes: np.ndarray, symbols: list[str],
                  splits: tuple[np.ndarray, list[str]]) -> pd.DataFrame:
    """META_COLUMNS but ``data_quality_flag``, which needs the features."""
    n = len(replay)
    split_codes, split_labels = splits
    fit = split_labels.index(FIT_SPLIT) if FIT_SPLIT in split_labels else -1
    return pd.DataFrame({
        "sample_id": _sample_ids(codes, symbols, open_ms),
        "symbol": _labels(codes, symbols),
        "event_time": replay["event_time"].array,
        "open_time_ms": open_ms,
        "split_id": _labels(split_codes, split_labels),
        "walk_forward_fold": _labels((split_codes != fit).astype(np.int64), [FIT_FOLD, NO_FOLD]),
        "feature_version": _labels(np.zeros(n, dtype=np.int64), [FEATURE_VERSION]),
    }, columns=list(META_COLUMNS[:-1]))

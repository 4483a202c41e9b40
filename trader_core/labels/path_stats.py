"""Path statistics of a trade opened at a bar close and held for a fixed horizon (docs/labels.md, "Path statistics").

For a start row ``t`` of a symbol: entry = ``close[t]``, the future window is rows ``t+1 .. t+h`` and
the exit price is ``close[t+h]``. A start row is **valid**, and only valid rows are returned, when

* row ``t+h`` belongs to the same symbol (a symbol with ``<= h`` rows yields nothing);
* ``open_time_ms[t+h] - open_time_ms[t] == h * 60000``: rows are sorted and unique, so the window is
  a contiguous 1-minute grid without a gap;
* ``close[t]`` and every ``open``, ``high``, ``low`` and ``close`` of the window are finite (spread may be NaN);
* when ``split_ids`` is given, the split id does not change anywhere in rows ``t .. t+h``: the window
  neither crosses a split boundary nor touches an embargo. For split ids that form contiguous blocks
  in time this is the same as ``split_ids[t] == split_ids[t+h]``.

Side-independent columns: ``future_spread_p80`` = ``np.nanquantile(spread[t+1..t+h], 0.8)`` (linear
interpolation, NaN when the window has no spread) and ``future_realized_vol_bps`` = sample standard
deviation (ddof=1) of the h one-minute log returns ``log(close[t+k] / close[t+k-1])``, k = 1..h, x 1e4
(NaN for h = 1). The seed hides that formula; this one pairs with ``realized_vol_15m_bps`` of the
feature frame (rolling ddof=1 std of log returns x 1e4).

The plan outcomes (``FIXED_TARGET_STOP_V1``, ``DYNAMIC_TRAILING_V1`` and the stop fills of docs/labels.md
"Stop fills") and the plan itself (``PlanParams``) are in ``trader_core.labels.plan_outcomes``. A replay
without an ``open`` column opens every bar at the previous close.

Both methods run as numba kernels that scan each row's window forward with an early exit, and the
side-independent window statistics (``trader_core.labels.window_stats``) are accumulated for blocks of
consecutive rows at once: O(n*h) time, O(n) memory, no n x h matrices; results are written straight into
the preallocated output columns. Output rows are ordered by (symbol, side,
open_time_ms): per symbol the LONG rows, then the SHORT rows, as the seed concatenated them.

Everything but the plan outcomes (validation, valid start rows, output order, excursions, spread p80 and
vol) depends only on the replay, horizon, split ids and sides: ``prepare_path_windows`` computes it once and
``fill_path_stats`` adds one plan's outcomes, so a grid of plans of one horizon pays for it once.
``compute_path_stats`` is the two in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from trader_core.contracts.labels import FIXED_TARGET_STOP, PATH_STAT_COLUMNS, SIDES
from trader_core.contracts.replay import MINUTE_MS
from trader_core.errors import DataContractError
from trader_core.keys import factorize_runs
from trader_core.labels.plan_outcomes import PlanParams, dynamic_outcomes, fixed_outcomes
from trader_core.labels.window_stats import window_stats
from trader_core.threads import run_all

_FLAG_COLUMNS = ("target_hit", "stop_hit", "timeout_hit", "ambiguous_hit")
_TIME_COLUMNS = ("time_to_target_ms", "time_to_stop_ms", "time_to_exit_ms")
_OUTCOME_FLOAT_COLUMNS = ("gross_edge_bps", "future_return_bps")
_WINDOW_FLOAT_COLUMNS = ("mfe_bps", "mae_bps", "future_spread_p80", "future_realized_vol_bps")
_PRICE_COLUMNS = ("high", "low", "close", "spread_bps")


def compute_path_stats(replay: pd.DataFrame, *, horizon: int, plan: PlanParams,
                       split_ids: np.ndarray | None = None, sides: tuple[str, ...] = SIDES) -> pd.DataFrame:
    """``PATH_STAT_COLUMNS`` for every valid (start row, side); see the module docstring.

    ``replay`` must be sorted by (symbol, open_time_ms) without duplicates (DataContractError otherwise).
    ``split_ids`` (one per replay row, any hashable values) restricts windows to one split.
    """
    windows = prepare_path_windows(replay, horizon=horizon, split_ids=split_ids, sides=sides)
    return _fill(windows, plan, keep_windows=False)


@dataclass(frozen=True, eq=False)
class PathWindows:
    """The plan-independent part of ``compute_path_stats`` for one (replay, horizon, split ids, sides).

    The validated price arrays, the valid start rows ``idx``, their output rows per side (``dest``) and the
    side-independent output columns (``columns``: symbol and side codes, open_time_ms, excursions, spread
    p80, vol) in output order. Build it with ``prepare_path_windows``; ``fill_path_stats`` adds a plan.
    """

    horizon: int
    sides: tuple[str, ...]
    symbols: pd.api.extensions.ExtensionArray
    open_: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    idx: np.ndarray
    dest: tuple[np.ndarray, ...]
    columns: dict[str, np.ndarray]


def prepare_path_windows(replay: pd.DataFrame, *, horizon: int, split_ids: np.ndarray | None = None,
                         sides: tuple[str, ...] = SIDES) -> PathWindows:
    """Validate the inputs of ``compute_path_stats`` and compute everything that does not depend on the plan."""
    horizon = _check_horizon(horizon)
    sides = _check_sides(sides)
    codes, symbols = _symbol_codes(replay)
    open_ms, high, low, close, spread = _replay_arrays(replay)
    open_ = _bar_opens(replay, close)
    starts, ends = _symbol_blocks(codes, symbols, open_ms)
    split_codes = None if split_ids is None else _split_codes(split_ids, close.size)
    idx = _valid_rows(np.repeat(ends, ends - starts), open_ms, (open_, high, low, close), split_codes, horizon)
    with np.errstate(all="ignore"):
        log_ret = np.concatenate(([np.nan], np.log(close[1:] / close[:-1])))
    stats = window_stats(idx, high, low, close, spread, log_ret, horizon)
    block = codes[idx]
    return PathWindows(horizon, sides, symbols, open_, high, low, close, idx, tuple(_destinations(block, len(sides))),
                       _window_columns(sides, block, open_ms[idx], *stats))


def fill_path_stats(windows: PathWindows, plan: PlanParams) -> pd.DataFrame:
    """``compute_path_stats`` of ``plan`` on prepared windows: only the plan outcomes are computed."""
    return _fill(windows, plan, keep_windows=True)


def _fill(windows: PathWindows, plan: PlanParams, *, keep_windows: bool) -> pd.DataFrame:
    """The frame of ``plan`` on ``windows``; unless the windows serve more plans, it takes their columns
    rather than copies of them."""
    out = _OutputColumns(windows.columns, copy=keep_windows)
    run_all([partial(_fill_outcomes, out, dest, side == "LONG", windows, plan)  # the sides write their own rows
             for side, dest in zip(windows.sides, windows.dest)])
    return out.frame(windows.symbols, windows.sides)


# --------------------------------------------------------------------------------------------- inputs
def _check_horizon(horizon: int) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    return int(horizon)


def _check_sides(sides: tuple[str, ...]) -> tuple[str, ...]:
    sides = tuple(sides)
    if not sides or len(set(sides)) != len(sides) or not set(sides) <= set(SIDES):
        raise ValueError(f"sides must be distinct values of {SIDES}, got {sides}")
    return sides


def _symbol_codes(replay: pd.DataFrame) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """Per-row symbol code (0, 1, ... in row order) and the symbols as a str array."""
    if "symbol" not in replay.columns:
        raise DataContractError("replay_1m: missing columns ['symbol']")
    codes, uniques = factorize_runs(replay["symbol"])
    if (codes < 0).any():
        raise DataContractError("replay_1m: column symbol has nulls")
    return codes.astype(np.int64), pd.array(np.asarray(uniques, dtype=object), dtype="str")


def _replay_arrays(replay: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """open_time_ms (int64) and high/low/close/spread_bps (float64, NA -> NaN)."""
    missing = [c for c in ("open_time_ms", *_PRICE_COLUMNS) if c not in replay.columns]
    if missing:
        raise DataContractError(f"replay_1m: missing columns {missing}")
    if replay["open_time_ms"].isna().any():
        raise DataContractError("replay_1m: column open_time_ms has nulls")
    open_ms = replay["open_time_ms"].to_numpy(dtype=np.int64)
    return (open_ms, *(replay[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in _PRICE_COLUMNS))


def _bar_opens(replay: pd.DataFrame, close: np.ndarray) -> np.ndarray:
    """The ``open`` column (float64, NA -> NaN); without one, each bar opens at the previous row's close.

    The previous row is only read for window bars, whose previous row is of the same symbol.
    """
    if "open" in replay.columns:
        return replay["open"].to_numpy(dtype=np.float64, na_value=np.nan)
    opens = np.full_like(close, np.nan)
    opens[1:] = close[:-1]
    return opens


def _symbol_blocks(codes: np.ndarray, symbols: pd.api.extensions.ExtensionArray,
                   open_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) row of each symbol; checks the (symbol, open_time_ms) order.

    ``codes`` number the symbols in order of first appearance, so the rows are grouped by symbol iff
    the codes never decrease, and then sorted by symbol iff ``symbols`` (in code order) is increasing.
    """
    step = np.diff(codes)
    if (step < 0).any() or not pd.Index(symbols).is_monotonic_increasing:
        raise DataContractError("replay_1m: rows are not sorted by symbol")
    if np.any((step == 0) & (np.diff(open_ms) <= 0)):
        raise DataContractError("replay_1m: open_time_ms is not strictly increasing within a symbol")
    cuts = np.flatnonzero(step) + 1
    if codes.size == 0:
        return cuts, cuts
    return np.concatenate(([0], cuts)), np.concatenate((cuts, [codes.size]))


def _split_codes(split_ids: np.ndarray, n: int) -> np.ndarray:
    """Integer codes that are equal where the split ids are (integer split ids already are)."""
    if len(split_ids) != n:
        raise ValueError(f"split_ids has {len(split_ids)} values for {n} replay rows")
    split_ids = np.asarray(split_ids)
    if np.issubdtype(split_ids.dtype, np.integer):
        return split_ids
    return pd.factorize(split_ids, use_na_sentinel=False)[0]


def _valid_rows(row_end: np.ndarray, open_ms: np.ndarray, prices: tuple[np.ndarray, ...],
                split_codes: np.ndarray | None, horizon: int) -> np.ndarray:
    """Sorted indices of the valid start rows (module docstring), via prefix counts over the rows.

    ``prices`` are the bar prices every window bar must have finite, the close last.
    """
    close = prices[-1]
    start = np.flatnonzero(np.arange(close.size) + horizon < row_end)
    last = start + horizon
    bad_bars = np.cumsum(~np.logical_and.reduce([np.isfinite(p) for p in prices]))
    ok = (open_ms[last] - open_ms[start] == horizon * MINUTE_MS) & np.isfinite(close[start])
    ok &= bad_bars[last] == bad_bars[start]
    if split_codes is not None:
        changes = np.cumsum(np.concatenate(([False], split_codes[1:] != split_codes[:-1])))
        ok &= changes[last] == changes[start]
    return start[ok]


# --------------------------------------------------------------------------------------------- output
class _OutputColumns:
    """Output columns (``out[name]``): the windows' side-independent columns (copies, with ``copy``) plus
    preallocated outcome columns, which the kernels write row by row to their final output row.

    ``symbol`` and ``side`` hold codes until ``frame`` turns them into categorical columns; ``flags`` and
    ``times`` are the 2-D blocks behind the hit-flag and time columns, as the kernels fill them.
    """

    def __init__(self, window_columns: dict[str, np.ndarray], *, copy: bool) -> None:
        size = window_columns["symbol"].size
        self.flags = np.zeros((len(_FLAG_COLUMNS), size), dtype=np.int8)
        self.times = np.empty((len(_TIME_COLUMNS), size), dtype=np.int64)
        floats = np.empty((len(_OUTCOME_FLOAT_COLUMNS), size), dtype=np.float64)
        self.columns: dict[str, np.ndarray] = {
            **{name: values.copy() if copy else values for name, values in window_columns.items()},
            **dict(zip(_FLAG_COLUMNS, self.flags)),
            **dict(zip(_TIME_COLUMNS, self.times)),
            **dict(zip(_OUTCOME_FLOAT_COLUMNS, floats)),
        }

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def frame(self, symbols: pd.api.extensions.ExtensionArray, sides: tuple[str, ...]) -> pd.DataFrame:
        columns = {  # symbol and side as categoricals: O(1) per row to build, dictionary-encoded on disk
            **self.columns,
            "symbol": pd.Categorical.from_codes(self.columns["symbol"], categories=pd.Index(symbols, dtype=object)),
            "side": pd.Categorical.from_codes(self.columns["side"], categories=list(sides)),
        }
        return pd.DataFrame(columns, columns=list(PATH_STAT_COLUMNS), copy=False)


def _symbol_runs(block: np.ndarray) -> list[tuple[int, int, int]]:
    """(symbol code, first, stop) of each symbol's valid rows; ``block`` is the (non-decreasing) symbol code of
    each valid row."""
    per_block = np.bincount(block)
    stops = np.cumsum(per_block)
    return [(code, int(stop - count), int(stop)) for code, (count, stop) in enumerate(zip(per_block, stops)) if count]


def _window_columns(sides: tuple[str, ...], block: np.ndarray, open_ms: np.ndarray, up_bps: np.ndarray,
                    down_bps: np.ndarray, spread_p80: np.ndarray, vol_bps: np.ndarray) -> dict[str, np.ndarray]:
    """The side-independent output columns in output order, from the values of each valid row: per symbol,
    each side's rows are one contiguous stretch of the output (``_destinations``), copied as slices."""
    size = len(sides) * block.size
    out = {"symbol": np.empty(size, dtype=np.int32), "side": np.empty(size, dtype=np.int8),
           "open_time_ms": np.empty(size, dtype=np.int64), **{c: np.empty(size) for c in _WINDOW_FLOAT_COLUMNS}}
    for code, first, stop in _symbol_runs(block):
        rows = slice(first, stop)
        for side_code, side in enumerate(sides):
            start = len(sides) * first + side_code * (stop - first)
            at = slice(start, start + stop - first)
            favourable, adverse = (up_bps, down_bps) if side == "LONG" else (down_bps, up_bps)
            out["symbol"][at], out["side"][at], out["open_time_ms"][at] = code, side_code, open_ms[rows]
            out["mfe_bps"][at], out["mae_bps"][at] = favourable[rows], adverse[rows]
            out["future_spread_p80"][at], out["future_realized_vol_bps"][at] = spread_p80[rows], vol_bps[rows]
    return out


def _destinations(block: np.ndarray, n_sides: int) -> list[np.ndarray]:
    """Per side, the output row of each valid row: ordered by symbol block, side, then replay order.

    ``block`` is the (non-decreasing) symbol code of each valid row.
    """
    dest = [np.empty(block.size, dtype=np.int64) for _ in range(n_sides)]
    for _, first, stop in _symbol_runs(block):
        for side_code in range(n_sides):
            start = n_sides * first + side_code * (stop - first)
            dest[side_code][first:stop] = np.arange(start, start + stop - first)
    return dest


def _fill_outcomes(out: _OutputColumns, dest: np.ndarray, is_long: bool, windows: PathWindows,
                   plan: PlanParams) -> None:
    """Flags, times, gross edge and future return of one side, written to output rows ``dest``."""
    common = (windows.idx, dest, windows.open_, windows.high, windows.low, windows.close, windows.horizon,
              plan.target_bps, plan.stop_bps, plan.stop_fill_excess_share, plan.stop_slippage_allowance_bps)
    results = (out.flags, out.times, out["gross_edge_bps"], out["future_return_bps"])
    if plan.method == FIXED_TARGET_STOP:
        fixed_outcomes(*common, is_long, *results)
    else:
        dynamic_outcomes(*common, plan.second_target_bps, plan.trailing_stop_bps, plan.partial_take_1_ratio,
                         plan.partial_take_2_ratio, plan.breakeven_after_first_target, is_long, *results)

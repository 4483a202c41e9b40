"""Round-trip trading costs from the data where the data has them (docs/trading.md, "Cost model").

One ``CostModel``, built from ``CostConfig`` and the replay, prices every (sample, side) trade; the label
stage attaches its columns (``TRADE_COST_COLUMNS``) to the path statistics, and the entry and continue labels,
the PM search and the backtest all read them from there. For a trade entered at the close of row t and
exited ``time_to_exit_ms`` later (at the close of the exit row, ``open_time_ms + time_to_exit_ms``):

* fees: ``fee_bps``, always flat;
* slippage, per leg: half the quoted spread of that row where it has a book (``book_available == 1`` and a
  finite ``spread_bps``; a crossed quote counts as 0, never as a rebate), else half the flat ``slippage_bps``;
* funding: where the entry row has a funding table (``funding_available == 1``), the side times the sum of the
  settled rates of every settlement T with ``entry close < T <= exit close`` (LONG pays +rate, SHORT -rate);
  else, or when a crossed settlement has no known rate, the flat ``funding_cost_bps``.

Settlement times of a symbol are the distinct ``next_funding_time`` values of its rows with a funding table,
or the 00:00/08:00/16:00 UTC grid when the table carries none. The rate settled at T is the ``funding_bps``
of the bar that opens at T (floored to the minute): the as-of join puts a funding row stamped T into that
bar, and data.vision ``fundingRate`` and the synthetic market stamp the settled rate at its settlement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from trader_core.config import CostConfig
from trader_core.contracts.labels import TRADE_COST_COLUMNS
from trader_core.contracts.replay import MINUTE_MS
from trader_core.errors import DataContractError
from trader_core.keys import epoch_ms, factorize_runs, find_sorted, gallop, upper_bound

DEFAULT_FUNDING_INTERVAL_MS = 8 * 60 * MINUTE_MS  # 00:00, 08:00, 16:00 UTC: multiples of 8 h since the epoch
COST_MODEL_FORMULA = ("cost = fee_bps + slippage + funding; slippage = half the quoted spread per leg where the "
                      "replay has a book, else slippage_bps / 2 per leg; funding = side x sum of the settled rates "
                      "crossed (entry close < T <= exit close) where the replay has a funding table, else "
                      "funding_cost_bps")
_SYMBOL_SHIFT = 42  # key = symbol code << 42 | epoch ms (valid until the year 2109)
_REPLAY_COLUMNS = ("symbol", "open_time_ms", "spread_bps", "book_available", "funding_bps", "funding_available",
                   "next_funding_time")


@dataclass(frozen=True, eq=False)
class CostModel:
    """The cost inputs of one replay, kept as sorted integer keys (``symbol code << 42 | epoch ms``) so that
    pricing a million trades is a few binary searches, with no per-row Python."""

    config: CostConfig
    symbols: pd.Index
    row_keys: np.ndarray
    half_spread_bps: np.ndarray
    funding_table: np.ndarray
    settlement_keys: np.ndarray
    settlement_bps: np.ndarray

    @classmethod
    def from_replay(cls, replay: pd.DataFrame, config: CostConfig) -> CostModel:
        """Half spreads per row, and each settlement's rate (NaN where unknown), from the replay's own tables."""
        missing = [c for c in _REPLAY_COLUMNS if c not in replay.columns]
        if missing:
            raise DataContractError(f"replay_1m: missing column(s) {missing} needed for the cost model")
        codes, symbols = factorize_runs(replay["symbol"], sort=True)
        open_ms = replay["open_time_ms"].to_numpy(dtype=np.int64)
        keys = (codes.astype(np.int64) << _SYMBOL_SHIFT) | open_ms
        # a replay is in key order already: then every column is used as it is
        order = slice(None) if np.all(keys[1:] >= keys[:-1]) else np.argsort(keys, kind="stable")
        keys, codes, open_ms = keys[order], codes[order], open_ms[order]
        spread = replay["spread_bps"].to_numpy(dtype=np.float64, na_value=np.nan)[order]
        book = replay["book_available"].to_numpy(dtype=np.int64)[order] == 1
        half_spread = np.where(book & np.isfinite(spread), np.maximum(spread, 0.0) / 2.0, np.nan)
        funding_table = replay["funding_available"].to_numpy(dtype=np.int64)[order] == 1
        funding_bps = replay["funding_bps"].to_numpy(dtype=np.float64, na_value=np.nan)[order]
        next_ms = epoch_ms(replay["next_funding_time"])[order]
        settle_codes, settle_ms = _settlements(codes, open_ms, funding_table, next_ms)
        at = _find(keys, (settle_codes << _SYMBOL_SHIFT) | (settle_ms // MINUTE_MS * MINUTE_MS))
        found = at >= 0
        rate = np.full(settle_ms.size, np.nan)
        rate[found] = np.where(funding_table[at[found]], funding_bps[at[found]], np.nan)
        return cls(config, pd.Index(symbols), keys, half_spread, funding_table,
                   (settle_codes << _SYMBOL_SHIFT) | settle_ms, rate)

    def trade_costs(self, *, symbols: Any, open_time_ms: np.ndarray, is_long: np.ndarray,
                    time_to_exit_ms: np.ndarray) -> dict[str, np.ndarray]:
        """``TRADE_COST_COLUMNS`` of trades entered at the close of (symbol, open_time_ms) and held
        ``time_to_exit_ms``; a symbol the replay does not have is a DataContractError."""
        codes = self._symbol_codes(symbols)
        if (codes < 0).any():
            unknown = sorted(set(pd.Index(symbols)[codes < 0].astype(str)))
            raise DataContractError(f"cost model: symbol(s) {unknown} are not in the replay")
        held = np.asarray(time_to_exit_ms, dtype=np.int64)
        if (held < 0).any():
            raise ValueError("time_to_exit_ms must be >= 0")
        values = _trade_costs(codes.astype(np.int64, copy=False), np.asarray(open_time_ms, dtype=np.int64), held,
                              np.asarray(is_long, dtype=np.bool_), self.row_keys, self.half_spread_bps,
                              self.funding_table, self.settlement_keys, self.settlement_bps,
                              _prefix_sums(~np.isfinite(self.settlement_bps)), self.config.fee_bps,
                              self.config.slippage_bps / 2.0, self.config.funding_cost_bps)
        return dict(zip(TRADE_COST_COLUMNS, values))

    def _symbol_codes(self, symbols: Any) -> np.ndarray:
        """Position of each symbol in ``self.symbols`` (-1: not there); a categorical column (the path statistics'
        symbol is one) is looked up by its few categories, not row by row."""
        values = symbols.array if isinstance(symbols, pd.Series) else symbols
        if isinstance(values, pd.Categorical):
            return np.append(self.symbols.get_indexer(values.categories), -1)[values.codes]
        return self.symbols.get_indexer(pd.Index(symbols))


def with_trade_costs(path_stats: pd.DataFrame, model: CostModel) -> pd.DataFrame:
    """``path_stats`` (any horizons) with the ``TRADE_COST_COLUMNS`` of each (start row, side) appended."""
    costs = model.trade_costs(symbols=path_stats["symbol"], open_time_ms=path_stats["open_time_ms"].to_numpy(),
                              is_long=(path_stats["side"] == "LONG").to_numpy(),
                              time_to_exit_ms=path_stats["time_to_exit_ms"].to_numpy())
    return pd.concat([path_stats, pd.DataFrame(costs, index=path_stats.index, copy=False)], axis=1)


def require_trade_costs(path_stats: pd.DataFrame) -> None:
    """Labels charge the cost model's per-row cost, so path statistics without it are refused, not priced flat."""
    missing = [c for c in TRADE_COST_COLUMNS if c not in path_stats.columns]
    if missing:
        raise DataContractError(f"path_stats: missing cost column(s) {missing}; attach them with "
                                "trader_core.costs.with_trade_costs (the path_stats stage does)")


def cost_source_summary(rows: pd.DataFrame) -> dict[str, Any]:
    """Average cost parts and where they came from, over trades or label rows carrying ``TRADE_COST_COLUMNS``
    (averages and shares are None over no rows)."""
    n = len(rows)

    def mean(values: pd.Series) -> float | None:
        return float(values.mean()) if n else None

    spread_share = float(rows["cost_spread_legs"].sum()) / (2 * n) if n else None
    table_share = mean(rows["cost_funding_from_table"])
    return {
        "rows": n, "avg_cost_bps": mean(rows["cost_bps"]), "avg_slippage_bps": mean(rows["cost_slippage_bps"]),
        "avg_funding_bps": mean(rows["cost_funding_bps"]),
        "slippage_source": _source(spread_share, "spread"), "spread_leg_share": spread_share,
        "funding_source": _source(table_share, "funding_table"), "funding_table_share": table_share,
    }


def _source(share: float | None, name: str) -> str:
    """``name`` when every row used the data, ``flat`` when none did, ``name+flat`` when some did."""
    if share is None:
        return "none"
    return name if share == 1.0 else ("flat" if share == 0.0 else f"{name}+flat")


def _settlements(codes: np.ndarray, open_ms: np.ndarray, funding_table: np.ndarray,
                 next_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Settlements (symbol code, epoch ms) in key order: each symbol's announced ``next_funding_time`` values,
    or the 8-h grid over its rows when its funding table announces none (no funding table: none)."""
    announced = funding_table & (next_ms >= 0)
    parts = [np.stack([codes[announced].astype(np.int64), next_ms[announced]])]
    for code in np.unique(codes[funding_table & ~np.isin(codes, codes[announced])]):
        rows = open_ms[codes == code]
        first = rows[0] // DEFAULT_FUNDING_INTERVAL_MS * DEFAULT_FUNDING_INTERVAL_MS
        grid = np.arange(first, rows[-1] + MINUTE_MS + DEFAULT_FUNDING_INTERVAL_MS, DEFAULT_FUNDING_INTERVAL_MS)
        parts.append(np.stack([np.full(grid.size, code, dtype=np.int64), grid]))
    pairs = np.unique(np.concatenate(parts, axis=1), axis=1)  # sorted by code, then time
    return pairs[0], pairs[1]


def _find(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index of each wanted key in the sorted unique ``keys``, -1 where absent."""
    return find_sorted(keys, np.ascontiguousarray(wanted, dtype=np.int64))


def _prefix_sums(flags: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))


@njit(cache=True, nogil=True, error_model="numpy")
def _trade_costs(codes: np.ndarray, entry_ms: np.ndarray, held: np.ndarray, is_long: np.ndarray,
                 row_keys: np.ndarray, half_spread: np.ndarray, funding_table: np.ndarray,
                 settlement_keys: np.ndarray, rates: np.ndarray, unknown: np.ndarray, fee_bps: float,
                 flat_leg_bps: float, flat_funding_bps: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``TRADE_COST_COLUMNS`` per trade (module docstring), in one pass with no temporary per trade.

    The entry and exit rows are found by galloping searches over the row keys (trades come in key order, so
    each search starts where the last ended; -1: not in the replay); the settlements a trade crosses,
    ``rates[lo:hi]``, are added in settlement order, so a trade's sum never depends on other symbols' rates,
    as a prefix sum would. ``unknown`` counts the settlements without a rate before each.
    """
    n = codes.size
    cost, slippage, funding = np.empty(n), np.empty(n), np.empty(n)
    spread_legs, from_table = np.empty(n, dtype=np.int8), np.empty(n, dtype=np.int8)
    entry_at, exit_at = 0, 0
    for i in range(n):
        prefix = codes[i] << _SYMBOL_SHIFT
        entry_row, exit_row = -1, -1
        if row_keys.size:
            entry_row, entry_at = gallop(row_keys, prefix | entry_ms[i], entry_at)
            exit_row, exit_at = gallop(row_keys, prefix | (entry_ms[i] + held[i]), exit_at)
        entry_close = entry_ms[i] + MINUTE_MS
        lo = upper_bound(settlement_keys, prefix | entry_close)
        hi = upper_bound(settlement_keys, prefix | (entry_close + held[i]))
        legs = 0
        total = 0.0
        for row in (entry_row, exit_row):
            leg = half_spread[row] if row >= 0 else np.nan
            if np.isfinite(leg):
                legs += 1
                total += leg
            else:
                total += flat_leg_bps
        table = entry_row >= 0 and funding_table[entry_row] and unknown[hi] == unknown[lo]
        crossed = 0.0
        for k in range(lo, hi):
            crossed += rates[k]
        funding[i] = (crossed if is_long[i] else -1.0 * crossed) if table else flat_funding_bps
        slippage[i], spread_legs[i], from_table[i] = total, legs, table
        cost[i] = fee_bps + total + funding[i]
    return cost, slippage, funding, spread_legs, from_table

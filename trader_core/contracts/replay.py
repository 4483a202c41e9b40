"""The replay contract: one row per symbol-minute (docs/data.md, "Replay rules"; with book and availability columns).

``event_time`` equals the bar open on a 1-minute UTC grid, ``open_time_ms`` is the same instant in epoch
milliseconds. Snapshot values (book, mark/index, funding, open interest) are taken *as of the bar close*
(the last observation at or before ``open_time + 1 min``), so a row never contains information from
after its bar ends. Short runs of missing minutes are filled with flat no-trade bars (``bar_filled`` = 1,
docs/data.md "Gap policy"); longer ones stay missing and ``gap_minutes_before`` counts the minutes missing
between a row and the previous row of its symbol.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from trader_core.contracts.table import Column, Invariant, TableContract, Verdict

MINUTE_MS = 60_000
MINUTES_PER_DAY = 1440
FLAG = dict(kind="int", unit="flag", values=(0, 1))


def ohlc_rule(frame: pd.DataFrame, *, prices: tuple[str, str, str, str], volume: str) -> Verdict:
    """Prices positive and finite, low <= open/close <= high, volume >= 0."""
    o, h, low, c = (frame[k].to_numpy(dtype=float, na_value=np.nan) for k in prices)
    v = frame[volume].to_numpy(dtype=float, na_value=np.nan)
    stacked = np.stack([o, h, low, c])
    with np.errstate(invalid="ignore"):
        bad_price = int(np.sum(~np.isfinite(stacked).all(axis=0) | (stacked <= 0).any(axis=0)))
        bad_order = int(np.sum((h < np.maximum(o, c)) | (low > np.minimum(o, c))))
        bad_volume = int(np.sum(~(v >= 0)))
    return bad_price == bad_order == bad_volume == 0, {"bad_prices": bad_price, "bad_high_low": bad_order,
                                                       "bad_volume": bad_volume}


OHLC_SANE = Invariant("ohlc_sane", "OHLC sanity: prices positive and finite, low <= open/close <= high, volume >= 0.",
                      partial(ohlc_rule, prices=("open", "high", "low", "close"), volume="volume"))

REPLAY = TableContract(
    name="replay_1m",
    description="One row per symbol-minute, sorted by symbol then minute.",
    key=("symbol", "open_time_ms"),
    sort=("symbol", "open_time_ms"),
    key_rule="unique_sorted_minutes",
    invariants=(OHLC_SANE,),
    positive=("open", "high", "low", "close"),
    columns=(
        Column("symbol", "str"),
        Column("event_time", "timestamp", "UTC", description="bar open (UTC)"),
        Column("open_time_ms", "int", "ms since epoch", description="bar open in epoch ms"),
        Column("open", "float", "quote"),
        Column("high", "float", "quote"),
        Column("low", "float", "quote"),
        Column("close", "float", "quote"),
        Column("volume", "float", "base", low=0),
        Column("taker_buy_volume", "float", "base", nullable=True),
        Column("taker_sell_volume", "float", "base", nullable=True),
        Column("trade_count", "float", "trades", nullable=True),
        Column("funding_bps", "float", "bps", nullable=True, description="latest funding rate x 1e4 as of bar close"),
        Column("mark_price", "float", "quote", nullable=True),
        Column("index_price", "float", "quote", nullable=True),
        Column("next_funding_time", "timestamp", "UTC", nullable=True),
        Column("open_interest", "float", "base", nullable=True),
        Column("spread_bps", "float", "bps", nullable=True, description="(ask - bid) / mid x 1e4 at bar close"),
        Column("level1_ofi_1m", "float", "quote notional", nullable=True,
               description="L1 snapshot-diff order flow imbalance between consecutive bar-close snapshots"),
        Column("best_bid_price", "float", "quote", nullable=True),
        Column("best_bid_size", "float", "base", nullable=True),
        Column("best_ask_price", "float", "quote", nullable=True),
        Column("best_ask_size", "float", "base", nullable=True),
        Column("depth_bid_notional_5", "float", "quote", nullable=True, description="sum price x size, 5 best bid "
                                                                                    "levels"),
        Column("depth_ask_notional_5", "float", "quote", nullable=True, description="sum price x size, 5 best ask "
                                                                                    "levels"),
        Column("liquidation_buy_notional_1m", "float", "quote", nullable=True,
               description="notional of BUY liquidation orders (shorts liquidated) in the minute"),
        Column("liquidation_sell_notional_1m", "float", "quote", nullable=True,
               description="notional of SELL liquidation orders (longs liquidated) in the minute"),
        Column("liquidation_available", **FLAG, description="1 if the source records liquidations"),
        Column("book_available", **FLAG, description="1 if a top-of-book snapshot exists as of bar close"),
        Column("depth_available", **FLAG, description="1 if a depth snapshot exists as of bar close"),
        Column("funding_available", **FLAG),
        Column("mark_index_available", **FLAG),
        Column("open_interest_available", **FLAG),
        Column("bar_filled", **FLAG,
               description="1 if replay filled this minute as a flat no-trade bar at the previous close"),
        Column("gap_minutes_before", "int", "minutes", low=0,
               description="minutes missing between this row and the previous row of the symbol (0 = contiguous)"),
    ),
)

REPLAY_COLUMNS = tuple(REPLAY.names)
AVAILABILITY_COLUMNS = tuple(c.name for c in REPLAY.columns if c.name.endswith("_available"))

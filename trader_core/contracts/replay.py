"""The replay contract: one row per symbol-minute (spec 5.2, plus book and availability columns).

``event_time`` equals the bar open on a 1-minute UTC grid, ``open_time_ms`` is the same instant in epoch
milliseconds. Snapshot values (book, mark/index, funding, open interest) are taken *as of the bar close*
(the last observation at or before ``open_time + 1 min``), so a row never contains information from
after its bar ends. Short runs of missing minutes are filled with flat no-trade bars (``bar_filled`` = 1,
docs/data.md "Gap policy"); longer ones stay missing and ``gap_minutes_before`` counts the minutes missing
between a row and the previous row of its symbol.
"""

from __future__ import annotations

from trader_core.contracts.table import Column, TableContract

REPLAY = TableContract(
    name="replay_1m",
    key=("symbol", "open_time_ms"),
    positive=("open", "high", "low", "close"),
    columns=(
        Column("symbol", "str"),
        Column("event_time", "timestamp", "UTC", description="bar open (UTC)"),
        Column("open_time_ms", "int", "ms since epoch", description="bar open in epoch ms"),
        Column("open", "float", "quote"),
        Column("high", "float", "quote"),
        Column("low", "float", "quote"),
        Column("close", "float", "quote"),
        Column("volume", "float", "base"),
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
        Column("depth_bid_notional_5", "float", "quote", nullable=True, description="sum price x size, 5 best bid levels"),
        Column("depth_ask_notional_5", "float", "quote", nullable=True, description="sum price x size, 5 best ask levels"),
        Column("liquidation_buy_notional_1m", "float", "quote", nullable=True,
               description="notional of BUY liquidation orders (shorts liquidated) in the minute"),
        Column("liquidation_sell_notional_1m", "float", "quote", nullable=True,
               description="notional of SELL liquidation orders (longs liquidated) in the minute"),
        Column("liquidation_available", "int", "flag", description="1 if the source records liquidations"),
        Column("book_available", "int", "flag", description="1 if a top-of-book snapshot exists as of bar close"),
        Column("depth_available", "int", "flag", description="1 if a depth snapshot exists as of bar close"),
        Column("funding_available", "int", "flag"),
        Column("mark_index_available", "int", "flag"),
        Column("open_interest_available", "int", "flag"),
        Column("bar_filled", "int", "flag",
               description="1 if replay filled this minute as a flat no-trade bar at the previous close"),
        Column("gap_minutes_before", "int", "minutes",
               description="minutes missing between this row and the previous row of the symbol (0 = contiguous)"),
    ),
)

REPLAY_COLUMNS = tuple(REPLAY.names)
AVAILABILITY_COLUMNS = ("liquidation_available", "book_available", "depth_available", "funding_available",
                        "mark_index_available", "open_interest_available")
MINUTE_MS = 60_000
MINUTES_PER_DAY = 1440

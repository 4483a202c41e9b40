"""The raw market contract: the normalized tables every data source produces.

Replay (``trader_core.replay``) consumes only these tables, so every source (synthetic, Binance
data.vision, Binance feed captures, Crypto Lake, bar CSV) goes through the same path. All times are
tz-aware UTC; prices are in quote currency; sizes are in base units unless noted.

Only ``bars`` is required. An absent optional table means "this source does not record it": replay then
sets the matching ``*_available`` flag to 0 and leaves the values null, it never invents them.
"""

from __future__ import annotations

from trader_core.contracts.table import Column, TableContract

MAX_BOOK_LEVELS = 20

SYMBOL = Column("symbol", "str", description="instrument id, e.g. BTC-USDT-PERP")

BARS = TableContract(
    name="bars",
    description="1-minute trade bars; open_time is the bar open (the bar covers [open_time, open_time + 1 min)).",
    key=("symbol", "open_time"),
    positive=("open", "high", "low", "close"),
    columns=(
        SYMBOL,
        Column("open_time", "timestamp", "UTC", description="bar open time, on the minute"),
        Column("open", "float", "quote"),
        Column("high", "float", "quote"),
        Column("low", "float", "quote"),
        Column("close", "float", "quote"),
        Column("volume", "float", "base", description="traded base volume in the minute"),
        Column("taker_buy_volume", "float", "base", nullable=True, description="volume of taker buys (aggressor buy)"),
        Column("taker_sell_volume", "float", "base", nullable=True, description="volume of taker sells"),
        Column("trade_count", "float", "trades", nullable=True, description="number of trades in the minute"),
    ),
)

BOOK_L1 = TableContract(
    name="book_l1",
    optional=True,
    description="Top-of-book snapshots (any frequency; replay takes the last one at or before each bar close).",
    key=("symbol", "ts"),
    positive=("bid_price", "ask_price"),
    columns=(
        SYMBOL,
        Column("ts", "timestamp", "UTC", description="snapshot time"),
        Column("bid_price", "float", "quote"),
        Column("bid_size", "float", "base"),
        Column("ask_price", "float", "quote"),
        Column("ask_size", "float", "base"),
    ),
)


def depth_columns(levels: int = MAX_BOOK_LEVELS) -> tuple[Column, ...]:
    """Columns ``bid_{i}_price, bid_{i}_size, ask_{i}_price, ask_{i}_size`` for i < levels (0 = best)."""
    cols: list[Column] = []
    for side in ("bid", "ask"):
        for i in range(levels):
            cols.append(Column(f"{side}_{i}_price", "float", "quote", nullable=True))
            cols.append(Column(f"{side}_{i}_size", "float", "base", nullable=True))
    return tuple(cols)


BOOK_DEPTH = TableContract(
    name="book_depth",
    optional=True,
    description=(f"Depth snapshots with 1..{MAX_BOOK_LEVELS} levels per side (crypto-lake naming "
                 "bid_{i}_price/size, level 0 = best). Only the first level is required; deeper levels may be absent."),
    key=("symbol", "ts"),
    columns=(SYMBOL, Column("ts", "timestamp", "UTC")) + depth_columns(1),
)

FUNDING = TableContract(
    name="funding",
    optional=True,
    description="Funding rate observations (settled or predicted) with the next funding time.",
    key=("symbol", "ts"),
    columns=(
        SYMBOL,
        Column("ts", "timestamp", "UTC"),
        Column("funding_rate", "float", "fraction per funding interval"),
        Column("next_funding_time", "timestamp", "UTC", nullable=True),
    ),
)

MARK_INDEX = TableContract(
    name="mark_index",
    optional=True,
    description="Mark and index price observations.",
    key=("symbol", "ts"),
    positive=("mark_price", "index_price"),
    columns=(
        SYMBOL,
        Column("ts", "timestamp", "UTC"),
        Column("mark_price", "float", "quote"),
        Column("index_price", "float", "quote"),
    ),
)

OPEN_INTEREST = TableContract(
    name="open_interest",
    optional=True,
    description="Open interest observations.",
    key=("symbol", "ts"),
    columns=(
        SYMBOL,
        Column("ts", "timestamp", "UTC"),
        Column("open_interest", "float", "base"),
    ),
)

LIQUIDATIONS = TableContract(
    name="liquidations",
    optional=True,
    description=("Forced liquidation orders. side is the liquidation order side: SELL closes a long (long "
                 "liquidated), BUY closes a short. An empty table with coverage means 'recorded, none happened'."),
    columns=(
        SYMBOL,
        Column("ts", "timestamp", "UTC"),
        Column("side", "str", description="BUY or SELL"),
        Column("price", "float", "quote"),
        Column("quantity", "float", "base"),
    ),
)

RAW_TABLES: dict[str, TableContract] = {
    t.name: t for t in (BARS, BOOK_L1, BOOK_DEPTH, FUNDING, MARK_INDEX, OPEN_INTEREST, LIQUIDATIONS)
}
REQUIRED_RAW_TABLES = tuple(name for name, t in RAW_TABLES.items() if not t.optional)

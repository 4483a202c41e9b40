"""Instrument naming: our ids (``BTC-USDT-PERP``) and the exchanges' names (``BTCUSDT``)."""

from __future__ import annotations

from trader_core.errors import ConfigError

PERP_SUFFIX = "-PERP"


def binance_symbol(symbol: str) -> str:
    """Binance USD-M name of ``symbol``: ``BTC-USDT-PERP`` -> ``BTCUSDT``; ``BTCUSDT`` stays as is."""
    name = symbol.strip().upper()
    if name.endswith(PERP_SUFFIX):
        name = name[: -len(PERP_SUFFIX)]
    name = name.replace("-", "").replace("_", "").replace("/", "")
    if not name.isalnum() or not name:
        raise ConfigError(f"symbol {symbol!r} cannot be mapped to a Binance instrument name")
    return name

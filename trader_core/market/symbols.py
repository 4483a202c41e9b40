"""Instrument naming: our ids (``BTC-USDT-PERP``) and the exchanges' names (``BTCUSDT``).

Binance lists USD-M (linear, quoted in a stablecoin) perpetuals as ``<BASE><QUOTE>`` and COIN-M (inverse,
margined in the base coin, quoted in USD) perpetuals as ``<BASE>USD_PERP``. Our id tells them apart by the
quote: ``BTC-USD-PERP`` is COIN-M, ``BTC-USDT-PERP`` / ``BTC-USDC-PERP`` are USD-M.
"""

from __future__ import annotations

import re

from trader_core.errors import ConfigError

PERP_SUFFIX = "-PERP"
COIN_M_SUFFIX = "USD_PERP"
#: COIN-M contract face value in USD: 100 for BTC, 10 for every other coin (docs/data.md).
COIN_M_CONTRACT_USD = {"BTC": 100.0}
COIN_M_DEFAULT_CONTRACT_USD = 10.0
_COIN_M_ID = re.compile(r"^(?P<base>[A-Z0-9]+)-USD-PERP$")
_COIN_M_NAME = re.compile(r"^(?P<base>[A-Z0-9]+)USD_PERP$")


def binance_symbol(symbol: str) -> str:
    """Binance name of ``symbol``: ``BTC-USDT-PERP`` -> ``BTCUSDT`` (USD-M), ``BTC-USD-PERP`` -> ``BTCUSD_PERP``
    (COIN-M); an exchange name (``BTCUSDT``, ``BTCUSD_PERP``) stays as is."""
    name = symbol.strip().upper()
    coin_m = _COIN_M_ID.match(name)
    if coin_m:
        return coin_m["base"] + COIN_M_SUFFIX
    if _COIN_M_NAME.match(name):
        return name
    if name.endswith(PERP_SUFFIX):
        name = name[: -len(PERP_SUFFIX)]
    name = name.replace("-", "").replace("_", "").replace("/", "")
    if not name.isalnum() or not name:
        raise ConfigError(f"symbol {symbol!r} cannot be mapped to a Binance instrument name")
    return name


def coin_m_contract_usd(symbol: str) -> float | None:
    """USD face value of one contract when ``symbol`` is a Binance COIN-M perpetual, else None (USD-M)."""
    coin_m = _COIN_M_NAME.match(binance_symbol(symbol))
    if coin_m is None:
        return None
    return COIN_M_CONTRACT_USD.get(coin_m["base"], COIN_M_DEFAULT_CONTRACT_USD)

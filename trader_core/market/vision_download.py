"""Download a month of Binance data.vision USD-M futures zips into a local folder in data.vision's layout.

Each zip comes with ``<zip>.CHECKSUM`` (``<sha256>  <file name>``); the zip is written only when its sha256
matches (else ArtifactError: nothing is written), then the checksum file. Writes are atomic (temp file +
rename). A file already present whose local ``.CHECKSUM`` matches its bytes is skipped without any request,
so a re-run only fetches what is missing. A zip that does not exist (404, e.g. a table not yet or no longer
published for that date) is reported in ``missing``, not raised.

Granularity: ``metrics`` and ``bookDepth`` are published as daily files only, ``fundingRate`` as monthly
files only; ``download_month`` uses those whatever ``daily`` says, the other tables follow ``daily``.
The fetcher is injectable (``fetch(url) -> bytes | None``, ``None`` = not found); the default uses urllib.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from trader_core import io
from trader_core.errors import ArtifactError, ConfigError
from trader_core.market.vision_files import INTERVAL, KLINE_TABLES, VISION_TABLES
from trader_core.market.landing import parse_month
from trader_core.market.symbols import binance_symbol

BASE_URL = "https://data.binance.vision/data"
MARKET_PATH = "futures/um"
DAILY_ONLY = ("bookDepth", "metrics")
MONTHLY_ONLY = ("fundingRate",)
#: aggTrades (large) and bookTicker (published only until 2024-03) are fetched only when asked for;
#: bookDepth is not mapped to the raw contract (see binance_vision).
DEFAULT_TABLES = ("klines", "markPriceKlines", "indexPriceKlines", "premiumIndexKlines", "metrics", "fundingRate")
CHECKSUM_SUFFIX = ".CHECKSUM"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

Fetch = Callable[[str], bytes | None]


def urllib_fetch(url: str, timeout: float = 120.0) -> bytes | None:
    """GET ``url``; None on HTTP 404, ArtifactError on any other failure."""
    request = urllib.request.Request(url, headers={"User-Agent": "trader-vision-download"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise ArtifactError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ArtifactError(f"{url}: download failed ({exc})") from exc


def vision_relpath(symbol: str, table: str, period: str) -> str:
    """Path of one file below ``BASE_URL`` (and below a local root): ``futures/um/<daily|monthly>/...``."""
    if table not in VISION_TABLES:
        raise ConfigError(f"tables: unknown data.vision table {table!r}; known: {sorted(VISION_TABLES)}")
    name = binance_symbol(symbol)
    daily = len(period) == 10
    if (daily and table in MONTHLY_ONLY) or (not daily and table in DAILY_ONLY):
        raise ConfigError(f"{table} is published as {'monthly' if daily else 'daily'} files only, not {period!r}")
    folder = f"{MARKET_PATH}/{'daily' if daily else 'monthly'}/{table}/{name}"
    if table in KLINE_TABLES:
        return f"{folder}/{INTERVAL}/{name}-{INTERVAL}-{period}.zip"
    return f"{folder}/{name}-{table}-{period}.zip"


def vision_urls(symbol: str, table: str, month: str, *, daily: bool) -> list[str]:
    """URLs of ``table``'s files for ``month``: one monthly zip, or one zip per day of the month."""
    start = parse_month(month)
    periods = ([d.strftime("%Y-%m-%d") for d in pd.date_range(start, start + pd.offsets.MonthEnd(0), freq="D")]
               if daily else [month])
    return [f"{BASE_URL}/{vision_relpath(symbol, table, p)}" for p in periods]


def download_month(symbols: Sequence[str], month: str, dest: Path, tables: Sequence[str] = DEFAULT_TABLES,
                   daily: bool = False, fetch: Fetch = urllib_fetch) -> dict[str, Any]:
    """Fetch ``month`` of ``tables`` for ``symbols`` into ``dest`` (data.vision layout, checksums verified).

    Returns ``{"downloaded": [...], "skipped": [...], "missing": [...]}`` (paths relative to ``dest``; missing
    lists URLs that returned 404).
    """
    dest = Path(dest)
    unknown = [t for t in tables if t not in VISION_TABLES]
    if unknown:
        raise ConfigError(f"tables: unknown data.vision table(s) {unknown}; known: {sorted(VISION_TABLES)}")
    report: dict[str, Any] = {"month": month, "dest": str(dest), "downloaded": [], "skipped": [], "missing": []}
    for symbol in symbols:
        for table in tables:
            table_daily = (daily or table in DAILY_ONLY) and table not in MONTHLY_ONLY
            for url in vision_urls(symbol, table, month, daily=table_daily):
                rel = url[len(BASE_URL) + 1:]
                status = _fetch_one(url, dest / rel, fetch)
                report[status].append(url if status == "missing" else rel)
    return report


def _fetch_one(url: str, path: Path, fetch: Fetch) -> str:
    """Download one zip and its checksum; returns 'downloaded', 'skipped' or 'missing'."""
    checksum_path = path.with_name(path.name + CHECKSUM_SUFFIX)
    if path.is_file() and checksum_path.is_file():
        expected = _parse_checksum(checksum_path.read_bytes(), str(checksum_path))
        if io.sha256_file(path) == expected:
            return "skipped"
    checksum = fetch(url + CHECKSUM_SUFFIX)
    data = fetch(url)
    if data is None:
        return "missing"
    if checksum is None:
        raise ArtifactError(f"{url}: the zip exists but its {CHECKSUM_SUFFIX} file does not; "
                            "refusing an unverified file")
    expected = _parse_checksum(checksum, url + CHECKSUM_SUFFIX)
    actual = io.sha256_bytes(data)
    if actual != expected:
        raise ArtifactError(f"{url}: sha256 {actual} does not match its {CHECKSUM_SUFFIX} ({expected}); not written")
    io.atomic_write_bytes(path, data)
    io.atomic_write_bytes(checksum_path, checksum)
    return "downloaded"


def _parse_checksum(data: bytes, where: str) -> str:
    fields = data.decode("utf-8", errors="replace").split()
    if not fields or not _SHA256.match(fields[0].lower()):
        raise ArtifactError(f"{where}: not a sha256 checksum file")
    return fields[0].lower()

"""A Binance futures websocket capture file read into event lists (the input of ``binance_feed``).

Input: a gzip or plain text file (detected by the gzip magic bytes), one event a line:
``<local_timestamp_ns> <json>``. The json is a combined-stream message ``{"stream": "btcusdt@trade",
"data": {...}}`` in Binance's field names, or a bare REST depth snapshot ``{"lastUpdateId", "E", "T",
"bids", "asks"}`` (how the real capture stores it). Blank lines are skipped; any other line is an error
naming its line number.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trader_core.errors import DataContractError

SNAPSHOT = "depthSnapshot"  # event-count key of the REST depth snapshot lines


@dataclass
class Capture:
    """The events of a capture, by kind, in file order, with their counts and the instruments they name."""

    trades: list[tuple[int, int, float, float, bool, int]] = field(default_factory=list)  # T, id, p, q, m, n
    agg_trades: list[tuple[int, int, float, float, bool, int]] = field(default_factory=list)
    tickers: list[tuple[int, int, float, float, float, float]] = field(default_factory=list)  # E, u, b, B, a, A
    diffs: list[tuple[int, int, int, int, int, list, list]] = field(default_factory=list)  # line, E, U, u, pu, b, a
    snapshots: list[tuple[int, int, list, list]] = field(default_factory=list)  # line, lastUpdateId, bids, asks
    counts: Counter = field(default_factory=Counter)
    symbols: set[str] = field(default_factory=set)
    lines: int = 0
    first_ms: int | None = None
    last_ms: int | None = None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("rb") as fh:
        is_gzip = fh.read(2) == b"\x1f\x8b"
    line_no = 0
    try:
        with (gzip.open(path, "rt", encoding="utf-8") if is_gzip else path.open(encoding="utf-8")) as fh:
            for line_no, line in enumerate(fh, 1):
                yield line_no, line
    except (EOFError, OSError, zlib.error, UnicodeDecodeError) as exc:
        raise DataContractError(f"{path}: corrupt or truncated {'gzip ' if is_gzip else ''}file, unreadable after "
                                f"line {line_no} ({type(exc).__name__}: {exc})") from exc


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"field 'm' is {value!r}, expected true/false")
    return value


def parse_capture(path: Path) -> Capture:
    cap = Capture()
    for no, line in _lines(path):
        cap.lines = no
        if not line.strip():
            continue
        stamp, _, body = line.partition(" ")
        try:
            int(stamp)
            obj = json.loads(body)
            data = obj.get("data", obj)
            if "lastUpdateId" in data:
                cap.snapshots.append((no, int(data["lastUpdateId"]), data["bids"], data["asks"]))
                cap.counts[SNAPSHOT] += 1
                continue
            kind = data["e"]
            cap.counts[kind] += 1
            if "stream" in obj:
                cap.symbols.add(obj["stream"].partition("@")[0].upper())
            if "s" in data:
                cap.symbols.add(str(data["s"]).upper())
            if kind == "trade":
                cap.trades.append((int(data["T"]), int(data["t"]), float(data["p"]), float(data["q"]),
                                   _flag(data["m"]), 1))
                ms = cap.trades[-1][0]
            elif kind == "aggTrade":
                cap.agg_trades.append((int(data["T"]), int(data["a"]), float(data["p"]), float(data["q"]),
                                       _flag(data["m"]), int(data["l"]) - int(data["f"]) + 1))
                ms = cap.agg_trades[-1][0]
            elif kind == "bookTicker":
                ms = int(data["E"] if "E" in data else data["T"])
                cap.tickers.append((ms, int(data["u"]), float(data["b"]), float(data["B"]), float(data["a"]),
                                    float(data["A"])))
            elif kind == "depthUpdate":
                ms = int(data["E"])
                cap.diffs.append((no, ms, int(data["U"]), int(data["u"]), int(data["pu"]), data["b"], data["a"]))
            elif "E" in data:
                ms = int(data["E"])
            else:
                continue
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            raise DataContractError(f"{path}: line {no} is not '<local_timestamp_ns> <json event>' ({detail}): "
                                    f"{line[:120].rstrip()!r}") from exc
        cap.first_ms = ms if cap.first_ms is None else min(cap.first_ms, ms)
        cap.last_ms = ms if cap.last_ms is None else max(cap.last_ms, ms)
    return cap


def check_capture_symbol(cap: Capture, exchange_name: str, path: Path) -> None:
    other = sorted(cap.symbols - {exchange_name})
    if other:
        raise DataContractError(f"{path}: the capture holds instrument(s) {sorted(cap.symbols)}, expected only "
                                f"{exchange_name}; this file is not a capture of the requested symbol")

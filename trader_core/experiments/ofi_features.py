"""The OFI experiment's book features (docs/experiments.md, "OFI experiment"): order-flow imbalance from ``book_depth`` snapshots.

Book features come from the run's raw ``book_depth`` table (in-memory; the original read a Crypto Lake
partition per symbol and date):

* **Minute snapshots**: rows without an L1 bid/ask price or size are dropped, then the last snapshot of
  each minute (floor of ``ts``) is kept and keyed by ``open_time_ms`` = that minute. A snapshot of minute
  ``m`` has ``ts < m + 60 s`` = the bar close, the same as-of rule as the replay, so a feature row sees
  only book states up to its own bar close. (Decided here: drop-then-last, so a minute whose last
  snapshot lacks L1 falls back to its last complete one.)
* **Segments**: per symbol a step of open_time != 60 000 ms starts a new segment; previous values, rolling
  windows (``min_periods = window``) and diffs never reach across a segment start.
* **Snapshot-diff OFI** per level (``OFI_METHOD``): ``trader_core.replay.l1_ofi_parts`` applied level by
  level (it is vectorised over rows), NaN when any current or previous price/size is missing.
  ``ofi_l1`` = level 0, ``mlofi_l5`` = sum of levels 0..4, ``mlofi_l20`` = levels 0..19 (all required:
  a book with fewer than 20 levels raises). ``depth_quote_k`` = sum over levels < k of bid and ask notional.
* **Features**: the 13 book features + 3 cross features of ``OFI_FEATURES`` (formulas in ``OFI_SCHEMA``),
  inf -> NaN, float32. Trainable feature rows (OK/PARTIAL_OPTIONAL, the four training splits) are joined
  on (symbol, open_time_ms); a row with any NaN OFI feature is dropped (warm-up is never zero-filled).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.features import FEATURE_ORDER
from trader_core.contracts.replay import MINUTE_MS
from trader_core.errors import DataContractError
from trader_core.experiments.toolkit import require_columns
from trader_core.labels.datasets import trainable_features
from trader_core.replay import l1_ofi_parts
from trader_core.splits import to_epoch_ms

OFI_METHOD = "SNAPSHOT_DIFF_V1"
NORMALIZATION = "quote_notional_over_average_l1_depth_quote"
BOOK_LEVELS = 20
ZSCORE_WINDOW = 240
TINY = 1e-12
BASIS_FORMULA = ("basis_bps = (microprice / mid - 1) * 1e4, "
                 "microprice = (ask*bid_sz + bid*ask_sz) / max(bid_sz + ask_sz, 1e-12)")
SOURCE = "book_depth snapshot (run raw market)"

#: name -> (meaning, unit, window, formula); the 13 book features, then the 3 cross features. ``window`` counts
#: the minute rows of history a value needs, the current one included (as FeatureSpec.window).
OFI_SCHEMA: dict[str, tuple[str, str, int, str]] = {
    **{f"ofi_l1_{w}m": (f"L1 order flow imbalance over {w} min", "ratio", w + 1,
                        f"sum{w}(ofi_l1) / max(mean{w}(depth_quote_1), 1e-12)") for w in (1, 3, 5, 15)},
    **{f"mlofi_l{k}_{w}m": (f"levels 0..{k - 1} order flow imbalance over {w} min", "ratio", w + 1,
                            f"sum{w}(mlofi_l{k}) / max(mean{w}(depth_quote_{k}), 1e-12)")
       for k in (5, 20) for w in (1, 5)},
    "mlofi_l5_l20_gap_1m": ("shallow minus deep flow imbalance", "ratio", 2, "mlofi_l5_1m - mlofi_l20_1m"),
    **{f"microprice_basis_change_{w}m_bps": (f"{w}-minute change of the microprice basis", "bps", w + 1,
                                             f"basis_bps - basis_bps.shift({w}); {BASIS_FORMULA}") for w in (1, 5)},
    "ofi_l1_5m_zscore_240m": ("z-score of ofi_l1_5m over 240 min", "z", 245,
                              "(x - mean240(x)) / std240(x); std 0 -> NaN"),
    "mlofi_l20_5m_zscore_240m": ("z-score of mlofi_l20_5m over 240 min", "z", 245,
                                 "(x - mean240(x)) / std240(x); std 0 -> NaN"),
    "ofi_l1_5m_clipped": ("ofi_l1_5m clipped", "ratio", 6, "clip(ofi_l1_5m, -5, 5)"),
    "ofi_l1_taker_5m": ("clipped OFI times taker imbalance", "ratio", 6, "ofi_l1_5m_clipped * taker_imbalance_5m"),
    "ofi_l1_spread_rank_5m": ("clipped OFI times spread rank", "ratio", 1440,
                              "ofi_l1_5m_clipped * spread_rank_24h_pct"),
}
OFI_FEATURES: tuple[str, ...] = tuple(OFI_SCHEMA)
BOOK_FEATURES = OFI_FEATURES[:13]
CROSS_FEATURES = OFI_FEATURES[13:]


def ofi_feature_schema() -> list[dict[str, Any]]:
    """The 16 schema entries of ``OFI_FEATURES`` (order 1..16)."""
    return [{"name": name, "meaning": meaning, "unit": unit, "source": SOURCE if name in BOOK_FEATURES else "derived",
             "window_rows": window, "formula": formula, "ofi_method": OFI_METHOD,
             "null_handling": "NaN during warm-up or after a gap; rows with any NaN OFI feature are dropped",
             "order": i + 1} for i, (name, (meaning, unit, window, formula)) in enumerate(OFI_SCHEMA.items())]


# ------------------------------------------------------------------------------------------ book features
def _level_columns(level: int) -> tuple[str, str, str, str]:
    return f"bid_{level}_price", f"bid_{level}_size", f"ask_{level}_price", f"ask_{level}_size"


def minute_snapshots(book: pd.DataFrame, levels: int = BOOK_LEVELS) -> pd.DataFrame:
    """The last complete-L1 snapshot of each (symbol, minute), keyed by open_time_ms, sorted."""
    columns = [c for level in range(levels) for c in _level_columns(level)]
    require_columns(book, ["symbol", "ts"], "book_depth")
    missing = [c for c in columns if c not in book.columns]
    if missing:
        raise DataContractError(f"book_depth: the OFI features need {levels} levels (mlofi_l{levels}); missing "
                                f"{len(missing)} column(s), first {missing[:4]}")
    ms = to_epoch_ms(book["ts"]).to_numpy(dtype=np.int64)
    snap = pd.DataFrame({"symbol": book["symbol"].astype(str).to_numpy(), "open_time_ms": ms // MINUTE_MS * MINUTE_MS,
                         "_ts": ms})
    for c in columns:
        snap[c] = pd.to_numeric(book[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    snap = snap[snap[list(_level_columns(0))].notna().all(axis=1).to_numpy()]
    snap = snap.sort_values(["symbol", "open_time_ms", "_ts"], kind="mergesort")
    snap = snap.drop_duplicates(["symbol", "open_time_ms"], keep="last")
    return snap.drop(columns="_ts").reset_index(drop=True)


def _segment_position(symbol: np.ndarray, open_ms: np.ndarray) -> np.ndarray:
    """Row position inside its segment (0 at a symbol start or after a step != 1 minute)."""
    n = len(open_ms)
    start = np.ones(n, dtype=bool)
    start[1:] = (symbol[1:] != symbol[:-1]) | (np.diff(open_ms) != MINUTE_MS)
    idx = np.arange(n)
    return idx - np.maximum.accumulate(np.where(start, idx, 0))


def _lag(x: np.ndarray, k: int, pos: np.ndarray) -> np.ndarray:
    """``x`` shifted by ``k`` rows inside the segment (NaN where the segment is shorter)."""
    out = np.full(len(x), np.nan)
    out[k:] = x[:-k]
    return np.where(pos >= k, out, np.nan)


def _rolling(x: np.ndarray, window: int, pos: np.ndarray, how: str) -> np.ndarray:
    """Rolling ``how`` over ``window`` rows with min_periods = window, never across a segment start."""
    values = getattr(pd.Series(x).rolling(window, min_periods=window), how)().to_numpy()
    return np.where(pos >= window - 1, values, np.nan)


def level_ofi(snap: pd.DataFrame, level: int, pos: np.ndarray) -> np.ndarray:
    """Snapshot-diff OFI of one level (quote notional); NaN when a current or previous value is missing."""
    cur = [snap[c].to_numpy(dtype=np.float64) for c in _level_columns(level)]
    prev = [_lag(c, 1, pos) for c in cur]
    bid_part, ask_part = l1_ofi_parts(*cur, *prev)
    missing = np.isnan(np.vstack(cur + prev)).any(axis=0)
    return np.where(missing, np.nan, bid_part + ask_part)


def _depth_quote(snap: pd.DataFrame, levels: int) -> np.ndarray:
    parts = [snap[f"{side}_{i}_price"].to_numpy() * snap[f"{side}_{i}_size"].to_numpy()
             for i in range(levels) for side in ("bid", "ask")]
    return np.sum(parts, axis=0)


def _zscore(x: np.ndarray, pos: np.ndarray) -> np.ndarray:
    mean = _rolling(x, ZSCORE_WINDOW, pos, "mean")
    std = _rolling(x, ZSCORE_WINDOW, pos, "std")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std == 0, np.nan, (x - mean) / std)


def book_ofi_features(book: pd.DataFrame) -> pd.DataFrame:
    """symbol, open_time_ms and the 13 book OFI features (float32, NaN in warm-up) per minute snapshot."""
    snap = minute_snapshots(book)
    pos = _segment_position(snap["symbol"].to_numpy(), snap["open_time_ms"].to_numpy())
    per_level = [level_ofi(snap, level, pos) for level in range(BOOK_LEVELS)]
    flows = {"ofi_l1": per_level[0], "mlofi_l5": np.sum(per_level[:5], axis=0),
             "mlofi_l20": np.sum(per_level, axis=0)}
    depths = {"ofi_l1": _depth_quote(snap, 1), "mlofi_l5": _depth_quote(snap, 5), "mlofi_l20": _depth_quote(snap, 20)}
    out = pd.DataFrame({"symbol": snap["symbol"], "open_time_ms": snap["open_time_ms"]})
    for name, windows in (("ofi_l1", (1, 3, 5, 15)), ("mlofi_l5", (1, 5)), ("mlofi_l20", (1, 5))):
        for w in windows:
            out[f"{name}_{w}m"] = (_rolling(flows[name], w, pos, "sum")
                                   / np.maximum(_rolling(depths[name], w, pos, "mean"), TINY))
    out["mlofi_l5_l20_gap_1m"] = out["mlofi_l5_1m"] - out["mlofi_l20_1m"]
    bid, bid_sz, ask, ask_sz = (snap[c].to_numpy() for c in _level_columns(0))
    micro = (ask * bid_sz + bid * ask_sz) / np.maximum(bid_sz + ask_sz, TINY)
    basis = (micro / ((bid + ask) / 2.0) - 1.0) * 1e4
    for w in (1, 5):
        out[f"microprice_basis_change_{w}m_bps"] = basis - _lag(basis, w, pos)
    out["ofi_l1_5m_zscore_240m"] = _zscore(out["ofi_l1_5m"].to_numpy(), pos)
    out["mlofi_l20_5m_zscore_240m"] = _zscore(out["mlofi_l20_5m"].to_numpy(), pos)
    values = out[list(BOOK_FEATURES)].to_numpy(dtype=np.float64)
    out[list(BOOK_FEATURES)] = np.where(np.isfinite(values), values, np.nan).astype(np.float32)
    return out


def ofi_feature_frame(features: pd.DataFrame, book: pd.DataFrame,
                      max_rows_per_split: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(experiment frame, joined frame before the NaN drop, warnings).

    The experiment frame is the trainable feature rows (DATASET_KEY + FEATURE_ORDER) plus OFI_FEATURES,
    with every row that has a NaN OFI feature dropped and each split optionally capped to its last rows.
    """
    require_columns(features, ["data_quality_flag", *FEATURE_ORDER], "feature_frame")
    rows = trainable_features(features)
    symbols = rows["symbol"].astype(str)
    book = book[book["symbol"].astype(str).isin(set(symbols))]
    if book.empty:
        raise DataContractError(f"book_depth: no snapshot for any feature symbol {sorted(set(symbols))}")
    book_features = book_ofi_features(book)
    joined = rows.assign(symbol=symbols).merge(book_features, on=["symbol", "open_time_ms"], how="left",
                                               validate="one_to_one", indicator="_book")
    warnings = _missing_days(joined)
    joined = joined.drop(columns="_book")
    clipped = joined["ofi_l1_5m"].clip(-5.0, 5.0)
    joined["ofi_l1_5m_clipped"] = clipped
    joined["ofi_l1_taker_5m"] = clipped * joined["taker_imbalance_5m"]
    joined["ofi_l1_spread_rank_5m"] = clipped * joined["spread_rank_24h_pct"]
    joined[list(CROSS_FEATURES)] = joined[list(CROSS_FEATURES)].astype(np.float32)
    frame = joined[joined[list(OFI_FEATURES)].notna().all(axis=1).to_numpy()]
    if max_rows_per_split:
        frame = (frame.sort_values("event_time", kind="mergesort").groupby("split_id", sort=False)
                 .tail(max_rows_per_split).sort_values(["symbol", "open_time_ms"], kind="mergesort"))
    if frame.empty:
        raise DataContractError("ofi experiment: no feature row has all OFI features (warm-up, gaps or missing book)")
    return frame.reset_index(drop=True), joined, warnings


def _missing_days(joined: pd.DataFrame) -> list[str]:
    """A warning per (symbol, UTC date) of feature rows that has no book snapshot at all."""
    day = pd.to_datetime(joined["open_time_ms"] // 86_400_000 * 86_400_000, unit="ms", utc=True).dt.date.astype(str)
    covered = (joined["_book"] == "both").groupby([joined["symbol"], day]).any()
    return [f"book_depth: no snapshot for {sym} on {d}" for (sym, d), ok in covered.items() if not ok]

"""Batched PM candidate metrics: the metrics of many threshold sets in one parallel numba pass.

``candidate_metrics`` gives, per candidate, exactly what ``metrics_from_arrays`` gives for the candidate's
``select_trades`` selection (the per-candidate reference), with the same floating-point operations in the same
order: sums are numpy's pairwise summation, the equity curve is a sequential cumsum and the median takes the two
middle order statistics like ``np.median``.

* Gates and sizing are bitsets (64 sorted rows per word): one per distinct (gate, threshold) from
  ``PreparedFrame.passes`` and one per distinct (sizing, min_edge_bps) and side. Per candidate they combine
  word-wise into "selected" and "selected long" bits (``go_long = gates_long & (~gates_short | long_wins_tie)``).
* The overlap walk (``overlap_walk``) needs, per kept trade, only its release time: ``_visit`` gives it per row,
  side and cooldown once, with the jump to the symbol's first row at or after it. A candidate's walk keeps the
  next selected row and jumps; a (symbol, event_time) group with several selected rows is walked by predicted
  edge descending (stable), a row kept iff the group time is not before the last release.
* The kept trades form one event_time-sorted run per symbol; a stable merge of the runs is the reference's stable
  sort by event_time. Candidates are spread over threads in strided chunks (neighbouring grid points cost alike).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numba
import numpy as np
import pandas as pd
from numba import njit, prange
from numba.cpython.unsafe.numbers import trailing_zeros

from trader_core.pm.config import PMConfig, Sizing, check_thresholds, pm_config_from_thresholds
from trader_core.pm.metrics import METRIC_KEYS, metrics_from_arrays
from trader_core.pm.simulate import PreparedFrame, _visit, cooldown_ms, max_hold_ms, ratio_key, select_trades

#: (PreparedFrame value, threshold key) of every gate, in the kernel's gate-column order.
GATES = (("margin", "min_direction_margin"), ("market_risk_prob", "max_market_risk_prob"),
         ("long_direction_prob", "long_open_prob"), ("long_entry_prob", "min_entry_prob"),
         ("long_predicted_edge_bps", "min_expected_edge_bps"), ("short_direction_prob", "short_open_prob"),
         ("short_entry_prob", "min_entry_prob"), ("short_predicted_edge_bps", "min_expected_edge_bps"))
INT_KEYS = ("trade_count", "max_consecutive_losses")
FLOAT_KEYS = tuple(key for key in METRIC_KEYS if key not in INT_KEYS)
_N_FLOATS = len(FLOAT_KEYS)
_BLOCK = 128  # numpy's pairwise-summation block size
_STACK = 256  # task stack of the iterative pairwise sum (depth <= 64 halvings)


def candidate_metrics(prepared: PreparedFrame, candidates: Sequence[Mapping[str, float]],
                      pm_configs: Sequence[PMConfig] | None = None) -> pd.DataFrame:
    """One row per candidate with METRIC_KEYS (int64 counts, float64 otherwise) of
    ``select_trades(prepared, thresholds, config)``; config defaults to ``pm_config_from_thresholds``."""
    configs = [pm_config_from_thresholds(t) for t in candidates] if pm_configs is None else list(pm_configs)
    if len(configs) != len(candidates):
        raise ValueError(f"candidate_metrics: {len(candidates)} candidates but {len(configs)} PM configs")
    for thresholds in candidates if pm_configs is not None else ():  # pm_config_from_thresholds checked the others
        check_thresholds(thresholds)
    n, v = len(prepared.event_ns), prepared.values
    words = (n + 63) // 64
    gate_bits, gate_index = _gate_bits(prepared, candidates, words)
    sizing_index, ratios = _ratio_table(prepared, [config.sizing for config in configs])
    min_edge = np.array([config.sizing.min_edge_bps for config in configs], dtype=np.float64)
    sized_bits, sized_index = _sized_bits(prepared, ratios, sizing_index, min_edge, words)
    cooldowns, cooldown_index = np.unique(np.array([cooldown_ms(config) for config in configs], dtype=np.float64),
                                          return_inverse=True)
    starts = np.flatnonzero(np.diff(prepared.group, prepend=0))
    group_end = np.append(starts[1:], n)[prepared.group - 1].astype(np.int64)
    symbol_end = np.searchsorted(prepared.symbol, prepared.symbol, side="right").astype(np.int64)
    next_available, jump = _release_tables(_sides(v, "time_to_exit_ms"), prepared.event_ns, group_end, symbol_end,
                                           max_hold_ms(prepared.price_plan), cooldowns)
    counts, floats = _candidate_kernel(
        gate_bits, gate_index, _bits(prepared.long_wins_tie, words), sized_bits, sized_index, ratios, sizing_index,
        next_available, jump, cooldown_index.astype(np.int64), _sides(v, "predicted_edge_bps"),
        _sides(v, "actual_edge_bps"), prepared.event_ns, prepared.symbol, group_end, numba.get_num_threads() * 4)
    out = pd.DataFrame(floats, columns=list(FLOAT_KEYS))
    for k, key in enumerate(INT_KEYS):
        out[key] = counts[:, k]
    return out[list(METRIC_KEYS)]


def reference_metrics(prepared: PreparedFrame, candidates: Sequence[Mapping[str, float]],
                      pm_configs: Sequence[PMConfig] | None = None) -> pd.DataFrame:
    """The slow per-candidate reference of ``candidate_metrics``: ``select_trades`` + ``metrics_from_arrays``."""
    configs = [pm_config_from_thresholds(t) for t in candidates] if pm_configs is None else list(pm_configs)
    rows = []
    for thresholds, config in zip(candidates, configs, strict=True):
        selection = select_trades(prepared, thresholds, config)
        actual = selection.pick(prepared, "actual_edge_bps")
        rows.append(metrics_from_arrays(actual, actual * selection.planned_ratio, selection.planned_ratio))
    return pd.DataFrame(rows, columns=list(METRIC_KEYS))


def candidate_table(prepared: PreparedFrame, candidates: Sequence[Mapping[str, float]],
                    score: Callable[[dict[str, Any]], float]) -> pd.DataFrame:
    """Search table: the candidate's keys, METRIC_KEYS and ``score(metrics)`` per candidate (the frame of
    ``[{**thresholds, **metrics, "score": score(metrics)}, ...]``)."""
    metrics = candidate_metrics(prepared, candidates)
    table = pd.concat([pd.DataFrame([dict(t) for t in candidates]), metrics], axis=1)
    table["score"] = [score(row) for row in metrics.to_dict("records")]
    return table


def _gate_bits(prepared: PreparedFrame, candidates: Sequence[Mapping[str, float]],
               words: int) -> tuple[np.ndarray, np.ndarray]:
    """(bitsets [mask, word] of ``PreparedFrame.passes`` over the distinct thresholds per gate, mask index
    [candidate, gate])."""
    thresholds = np.array([[float(t[key]) for _, key in GATES] for t in candidates],
                          dtype=np.float64).reshape(len(candidates), len(GATES))
    bits, index = [np.zeros((0, words), dtype=np.int64)], np.empty(thresholds.shape, dtype=np.int64)
    offset = 0
    for k, (name, _key) in enumerate(GATES):
        values, inverse = np.unique(thresholds[:, k], return_inverse=True)
        index[:, k] = offset + inverse
        bits += [_bits(prepared.passes(name, value), words)[None] for value in values]
        offset += len(values)
    return np.concatenate(bits), index


def _sides(values: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    """``[long_<name>, short_<name>]`` as one (2, rows) array."""
    return np.stack([values[f"long_{name}"], values[f"short_{name}"]])


def _bits(mask: np.ndarray, words: int) -> np.ndarray:
    """A boolean row mask as int64 words, row ``64 * w + b`` in bit ``b`` of word ``w``."""
    packed = np.zeros(words * 8, dtype=np.uint8)
    packed[: (len(mask) + 7) // 8] = np.packbits(mask, bitorder="little")
    return packed.view("<i8")


def _ratio_table(prepared: PreparedFrame, sizings: list[Sizing]) -> tuple[np.ndarray, np.ndarray]:
    """(index per candidate, capped ratios [sizing, side, row]) over the distinct sizings (min_edge_bps aside)."""
    position: dict[tuple[float, ...], int] = {}
    tables = []
    index = np.empty(len(sizings), dtype=np.int64)
    for c, sizing in enumerate(sizings):
        key = ratio_key(sizing)
        if key not in position:
            position[key] = len(tables)
            tables.append(np.stack(prepared.ratios(sizing)))
        index[c] = position[key]
    n = len(prepared.event_ns)
    return index, (np.ascontiguousarray(np.stack(tables)) if tables else np.zeros((0, 2, n), dtype=np.float64))


def _sized_bits(prepared: PreparedFrame, ratios: np.ndarray, sizing_index: np.ndarray, min_edge: np.ndarray,
                words: int) -> tuple[np.ndarray, np.ndarray]:
    """([pair, side, word] bits of ratio > 0 after the min_edge_bps cut, pair index per candidate) over the distinct
    (sizing, min_edge_bps) pairs, sizing each side as ``select_trades`` sizes the chosen one."""
    pairs, index = np.unique(np.column_stack([sizing_index.astype(np.float64), min_edge]).reshape(-1, 2), axis=0,
                             return_inverse=True)
    edge = _sides(prepared.values, "predicted_edge_bps")
    bits = np.zeros((len(pairs), 2, words), dtype=np.int64)
    for p, (s, cut) in enumerate(pairs):
        for side in (0, 1):
            bits[p, side] = _bits(np.where(np.maximum(edge[side], 0.0) >= cut, ratios[int(s), side], 0.0) > 0, words)
    return bits, index.reshape(-1).astype(np.int64)


@njit(cache=True)
def _release_tables(exit_ms: np.ndarray, event_ns: np.ndarray, group_end: np.ndarray, symbol_end: np.ndarray,
                    max_hold: float, cooldowns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[cooldown, side, row]: ``_visit``'s next_available after keeping the row, and the first row to look at next
    (the symbol's first row at or after it, at least the row's group end)."""
    n = event_ns.shape[0]
    next_available = np.empty((cooldowns.shape[0], 2, n), dtype=np.int64)
    jump = np.empty((cooldowns.shape[0], 2, n), dtype=np.int64)
    for u in range(cooldowns.shape[0]):
        for side in range(2):
            for r in range(n):
                release = _visit(r, event_ns, exit_ms[side], max_hold, cooldowns[u], False, np.int64(0))[1]
                next_available[u, side, r] = release
                jump[u, side, r] = max(group_end[r], r + np.searchsorted(event_ns[r:symbol_end[r]], release))
    return next_available, jump


@njit(parallel=True, cache=True)
def _candidate_kernel(gate_bits: np.ndarray, gate_index: np.ndarray, tie_bits: np.ndarray, sized_bits: np.ndarray,
                      sized_index: np.ndarray, ratios: np.ndarray, sizing_index: np.ndarray,
                      next_available: np.ndarray, jump: np.ndarray, cooldown_index: np.ndarray, edge: np.ndarray,
                      actual: np.ndarray, event_ns: np.ndarray, symbol: np.ndarray, group_end: np.ndarray,
                      n_chunks: int) -> tuple[np.ndarray, np.ndarray]:
    """(counts [candidate, INT_KEYS], floats [candidate, FLOAT_KEYS]); chunk k runs candidates k, k + n_chunks..."""
    n_candidates, n, words = gate_index.shape[0], event_ns.shape[0], tie_bits.shape[0]
    counts = np.zeros((n_candidates, 2), dtype=np.int64)
    floats = np.zeros((n_candidates, _N_FLOATS), dtype=np.float64)
    max_group = 0
    for r in range(n):
        max_group = max(max_group, group_end[r] - r)
    for chunk in prange(n_chunks):
        selected = np.empty(words, dtype=np.int64)
        selected_long = np.empty(words, dtype=np.int64)
        kept = np.empty(n, dtype=np.int64)
        kept_side = np.empty(n, dtype=np.int64)
        kept_ns = np.empty(n, dtype=np.int64)
        runs = np.empty(n + 1, dtype=np.int64)
        order = np.empty(n, dtype=np.int64)
        spare = np.empty(n, dtype=np.int64)
        trades = np.empty((5, n), dtype=np.float64)  # actual, weighted, ratio, 2 x scratch
        group_rows = np.empty(max_group, dtype=np.int64)
        group_side = np.empty(max_group, dtype=np.int64)
        for c in range(chunk, n_candidates, n_chunks):
            g = gate_index[c]
            sized = sized_bits[sized_index[c]]
            for w in range(words):
                common = gate_bits[g[0], w] & gate_bits[g[1], w]
                gates_long = gate_bits[g[2], w] & gate_bits[g[3], w] & gate_bits[g[4], w] & common
                gates_short = gate_bits[g[5], w] & gate_bits[g[6], w] & gate_bits[g[7], w] & common
                go_long = gates_long & (~gates_short | tie_bits[w])
                selected_long[w] = go_long & sized[0, w]
                selected[w] = selected_long[w] | (gates_short & ~go_long & sized[1, w])
            release, skip_to = next_available[cooldown_index[c]], jump[cooldown_index[c]]
            count = n_runs = 0
            current_symbol = -1
            r = _next_bit(selected, 0, n)
            while r < n:
                if symbol[r] != current_symbol:
                    current_symbol = symbol[r]
                    runs[n_runs] = count
                    n_runs += 1
                stop = group_end[r]
                side = 1 - ((selected_long[r >> 6] >> (r & 63)) & 1)
                following = _next_bit(selected, r + 1, stop)
                if following == stop:  # the only selected row of its group: kept (the last release is behind it)
                    kept[count], kept_side[count], kept_ns[count] = r, side, event_ns[r]
                    count += 1
                    r = _next_bit(selected, skip_to[side, r], n)
                    continue
                size = 0
                while r < stop:  # the group's selected rows by predicted edge descending, equal edges in row order
                    side = 1 - ((selected_long[r >> 6] >> (r & 63)) & 1)
                    j = size
                    while j > 0 and edge[group_side[j - 1], group_rows[j - 1]] < edge[side, r]:
                        group_rows[j], group_side[j] = group_rows[j - 1], group_side[j - 1]
                        j -= 1
                    group_rows[j], group_side[j] = r, side
                    size += 1
                    r = _next_bit(selected, r + 1, stop)
                last = -1
                for j in range(size):
                    m, side = group_rows[j], group_side[j]
                    if last < 0 or event_ns[m] >= release[group_side[last], group_rows[last]]:
                        kept[count], kept_side[count], kept_ns[count] = m, side, event_ns[m]
                        count += 1
                        last = j
                r = _next_bit(selected, skip_to[group_side[last], group_rows[last]], n)
            runs[n_runs] = count
            sorted_order = _merge_runs(kept_ns, runs[:n_runs + 1], order, spare)
            ratio_c = ratios[sizing_index[c]]
            for k in range(count):
                m = sorted_order[k]
                trades[0, k] = actual[kept_side[m], kept[m]]
                trades[2, k] = ratio_c[kept_side[m], kept[m]]
                trades[1, k] = trades[0, k] * trades[2, k]
            _metrics(trades, count, counts[c], floats[c])
    return counts, floats


@njit(cache=True)
def _next_bit(bits: np.ndarray, start: int, limit: int) -> int:
    """The first set bit position in [start, limit), else ``limit``."""
    if start >= limit:
        return limit
    w = start >> 6
    word = bits[w] & (np.int64(-1) << (start & 63))
    while word == 0:
        w += 1
        if w << 6 >= limit:
            return limit
        word = bits[w]
    return min((w << 6) + np.int64(trailing_zeros(word)), limit)


@njit(cache=True)
def _merge_runs(kept_ns: np.ndarray, runs: np.ndarray, order: np.ndarray, spare: np.ndarray) -> np.ndarray:
    """Positions 0..count-1 of the kept trades stably sorted by their event times ``kept_ns``, given sorted runs
    ``[runs[i], runs[i + 1])``: bottom-up stable merges of neighbouring runs (branch-free steps)."""
    count = runs[-1]
    for k in range(count):
        order[k] = k
    bounds = runs.copy()
    n_runs = bounds.shape[0] - 1
    src, dst = order, spare
    while n_runs > 1:
        merged = 0
        for i in range(0, n_runs, 2):
            lo, mid, hi = bounds[i], bounds[min(i + 1, n_runs)], bounds[min(i + 2, n_runs)]
            a, b, k = lo, mid, lo
            while a < mid and b < hi:
                take_b = kept_ns[src[b]] < kept_ns[src[a]]
                dst[k] = src[b] if take_b else src[a]
                b += take_b
                a += 1 - take_b
                k += 1
            dst[k:k + mid - a] = src[a:mid]
            k += mid - a
            dst[k:k + hi - b] = src[b:hi]
            bounds[merged] = lo
            merged += 1
        bounds[merged] = count
        n_runs = merged
        src, dst = dst, src
    return src


@njit(cache=True)
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise-summation leaf over ``a[lo:lo + n]`` (n <= 128): 8 interleaved partial sums."""
    if n < 8:
        total = 0.0
        for i in range(lo, lo + n):
            total += a[i]
        return total
    r0, r1, r2, r3, r4, r5, r6, r7 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = lo + 8
    while i < lo + n - n % 8:
        r0, r1, r2, r3 = r0 + a[i], r1 + a[i + 1], r2 + a[i + 2], r3 + a[i + 3]
        r4, r5, r6, r7 = r4 + a[i + 4], r5 + a[i + 5], r6 + a[i + 6], r7 + a[i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for k in range(i, lo + n):
        total += a[k]
    return total


@njit(cache=True)
def _pairwise_sum(a: np.ndarray, n: int) -> float:
    """numpy's pairwise summation of ``a[:n]`` (``np.sum``/``np.mean`` of a contiguous float64 array): halves
    rounded down to a multiple of 8 until 128 values. Iterative: numba segfaults loading cached recursive code."""
    if n <= _BLOCK:
        return _block_sum(a, 0, n)
    task_lo = np.empty(_STACK, dtype=np.int64)
    task_n = np.empty(_STACK, dtype=np.int64)  # -1: add the two top values
    values = np.empty(_STACK, dtype=np.float64)
    task_lo[0], task_n[0] = 0, n
    tasks, n_values = 1, 0
    while tasks > 0:
        tasks -= 1
        lo, size = task_lo[tasks], task_n[tasks]
        if size < 0:
            n_values -= 1
            values[n_values - 1] = values[n_values - 1] + values[n_values]
        elif size <= _BLOCK:
            values[n_values] = _block_sum(a, lo, size)
            n_values += 1
        else:
            half = size // 2
            half -= half % 8
            task_lo[tasks], task_n[tasks] = 0, -1
            task_lo[tasks + 1], task_n[tasks + 1] = lo + half, size - half
            task_lo[tasks + 2], task_n[tasks + 2] = lo, half
            tasks += 3
    return values[0]


@njit(cache=True)
def _metrics(trades: np.ndarray, count: int, counts: np.ndarray, floats: np.ndarray) -> None:
    """metrics_from_arrays(actual, weighted, ratio) of ``trades[0..2, :count]`` into counts (INT_KEYS) and floats
    (FLOAT_KEYS); ``trades[3..4]`` are scratch. Leaves the zeros of an empty selection."""
    if count == 0:
        return
    actual, weighted, ratio, gain, loss = trades[0], trades[1], trades[2], trades[3], trades[4]
    wins = losses = run = longest = 0
    equity = peak = weighted[0]
    drawdown = peak - equity
    for k in range(count):
        w = weighted[k]
        if k > 0:
            equity += w
            peak = np.maximum(peak, equity)
            drawdown = np.maximum(drawdown, peak - equity)
        gain[wins] = w  # branch-free compaction
        wins += w > 0
        loss[losses] = w
        losses += w < 0
        run = (run + 1) * (w < 0)
        longest = max(longest, run)
    gains = _pairwise_sum(gain, wins)
    loss_sum = abs(_pairwise_sum(loss, losses))
    counts[0], counts[1] = count, longest
    floats[0] = wins / count
    floats[1] = _pairwise_sum(actual, count) / count
    floats[2] = _pairwise_sum(weighted, count) / count
    floats[3] = equity
    floats[4] = drawdown
    floats[5] = _pairwise_sum(ratio, count) / count
    floats[6] = ratio[:count].min()
    floats[7] = np.median(ratio[:count])
    floats[8] = ratio[:count].max()
    floats[9] = gains / loss_sum if loss_sum > 0 else np.inf

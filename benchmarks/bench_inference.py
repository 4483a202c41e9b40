"""Benchmark the live InferenceEngine on a random bundle of all four models (F = 41, one thread).

Measurements (median/percentiles of per-call wall times, after a warm-up):
- single-row full-bundle decision latency: 10,000 ``engine.predict(row)`` calls (input checks included);
- throughput for batches of 1/64/4096 rows: the full bundle through ``engine.predict`` and DIRECTION alone
  (its own ``direction.onnx`` in a session with the engine's options, raw ``session.run``).
Targets: single-row p50 <= 50 us and p99 <= 200 us; DIRECTION batch throughput >= 1,000,000 rows/s (batches
of 64+). The original design asked for < 2 ms per sample and > 500 samples/s; each line prints our ratio.

Run from the repository root: ``.venv/bin/python benchmarks/bench_inference.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trader_core.contracts.features import FEATURE_COUNT, FEATURE_ORDER  # noqa: E402
from trader_core.contracts.models import (ACTIVATION, DIRECTION, MODEL_OUTPUTS, MODELS, ONNX_INPUT_NAME,  # noqa: E402
                                          ONNX_OUTPUT_NAME, TARGETS)
from trader_core.models.heads import LinearHead  # noqa: E402
from trader_core.models.inference import InferenceEngine, bundle_model_path, make_session  # noqa: E402
from trader_core.models.onnx_export import export_heads  # noqa: E402

SINGLE_ROW_CALLS = 10_000
WARMUP_CALLS = 1_000
BATCH_CALLS = {1: 10_000, 64: 5_000, 4096: 300}
ORIGINAL_LATENCY_US = 2_000.0
ORIGINAL_ROWS_PER_S = 500.0
DIRECTION_TARGET_ROWS_PER_S = 1_000_000


def write_random_bundle(root: Path, seed: int = 0) -> None:
    """Random heads of the contract widths/kinds for every model, exported as ``<m>/<m>.onnx``."""
    rng = np.random.default_rng(seed)
    for model in MODELS:
        heads = [LinearHead(h.name, ACTIVATION[h.kind], rng.normal(0.0, 0.2, (FEATURE_COUNT, len(h.fields))),
                            rng.normal(0.0, 1.0, len(h.fields))) for h in TARGETS[model].heads]
        export_heads(bundle_model_path(root, model), heads, FEATURE_COUNT, MODEL_OUTPUTS[model])
    (root / "feature_order.json").write_text(json.dumps(list(FEATURE_ORDER)))


def call_times_us(fn: Callable[[], object], calls: int) -> np.ndarray:
    """Per-call wall times in microseconds after ``WARMUP_CALLS`` untimed calls."""
    for _ in range(WARMUP_CALLS):
        fn()
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter_ns()
        fn()
        times[i] = time.perf_counter_ns() - start
    return times / 1e3


def single_row_line(engine: InferenceEngine, row: np.ndarray) -> str:
    times = call_times_us(lambda: engine.predict(row), SINGLE_ROW_CALLS)
    p50, p99 = np.percentile(times, [50, 99])
    return (f"inference_single_row_bundle: p50 {p50:.1f} us, p99 {p99:.1f} us (target p50 <= 50 us, p99 <= 200 us); "
            f"ratio to the original 2 ms budget: {ORIGINAL_LATENCY_US / p50:,.0f}x")


def throughput_line(label: str, fn: Callable[[], object], rows: int, with_target: bool) -> str:
    p50 = float(np.median(call_times_us(fn, BATCH_CALLS[rows])))
    rate = rows / (p50 / 1e6)
    target = ""
    if with_target and rows > 1:
        verdict = "met" if rate >= DIRECTION_TARGET_ROWS_PER_S else "MISSED"
        target = f" (target >= {DIRECTION_TARGET_ROWS_PER_S:,} rows/s: {verdict})"
    return (f"inference_batch_{label}_rows_{rows}: {rate:,.0f} rows/s, p50 {p50:.1f} us per call{target}; "
            f"ratio to the original 500 samples/s: {rate / ORIGINAL_ROWS_PER_S:,.0f}x")


def main() -> None:
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_random_bundle(root)
        engine = InferenceEngine.from_bundle(root, threads=1)
        direction = make_session(bundle_model_path(root, DIRECTION), threads=1)
        print(single_row_line(engine, rng.normal(size=FEATURE_COUNT).astype(np.float32)))
        for rows in BATCH_CALLS:
            x = rng.normal(size=(rows, FEATURE_COUNT)).astype(np.float32)
            print(throughput_line("bundle", lambda: engine.predict(x), rows, with_target=False))
            print(throughput_line("direction", lambda: direction.run([ONNX_OUTPUT_NAME], {ONNX_INPUT_NAME: x}), rows,
                                  with_target=True))


if __name__ == "__main__":
    main()

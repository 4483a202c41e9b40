"""Benchmark: validating the feature frame against its contract, as a share of the feature stage itself.

The feature stage (``stages.feature_stage``: build the frame, write feature_order.json, feature_schema.json and the
quality report) runs on a synthetic replay of 60 days of minutes; the validation is every rule of
``FEATURE_FRAME`` (the checks the graph runs on the asset: columns, key and order, trainable rows finite).
The contract is kept cheap enough to check on every run: under 5 % of the stage at ~1M rows.
Run from the repo root: ``python benchmarks/bench_contract_validation.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_features import synthetic_replay  # noqa: E402

from trader_core.config import SplitPlan  # noqa: E402
from trader_core.contracts.feature_frame import FEATURE_FRAME  # noqa: E402
from trader_core.splits import build_split_manifest  # noqa: E402
from trader_core.stages import feature_stage  # noqa: E402

DAYS = 60
REPEATS = 3


def validate(frame) -> float:
    """Seconds for every rule of the contract (best of REPEATS); fails loudly if a rule does not pass."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        verdicts = {rule.name: rule.evaluate(frame)[0] for rule in FEATURE_FRAME.rules}
        best = min(best, time.perf_counter() - start)
    if not all(verdicts.values()):
        raise SystemExit(f"feature frame breaks its contract: {verdicts}")
    return best


def main() -> None:
    for symbols in (2, 12):
        replay = synthetic_replay(symbols, DAYS * 1440, seed=7).sort_values(
            ["symbol", "open_time_ms"], kind="mergesort", ignore_index=True)  # SYM10 sorts before SYM2
        manifest = build_split_manifest(replay["open_time_ms"].to_numpy(), SplitPlan(), longest_label_horizon_minutes=45)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            frame, _ = feature_stage(replay, manifest, Path(tmp))
            stage = time.perf_counter() - start
        seconds = validate(frame)
        print(f"feature_frame contract, {len(frame)} rows: validation {seconds:.3f} s, feature stage {stage:.2f} s, "
              f"ratio {seconds / stage:.3f}")


if __name__ == "__main__":
    main()

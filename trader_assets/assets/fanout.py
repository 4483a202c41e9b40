"""Per-symbol fan-out ops shared by the graph-backed assets (features, path statistics).

``replay_by_symbol`` yields one dynamic output per symbol; the per-symbol op is mapped over them and stores its
symbol's part of the asset, and the merge op collects the parts' digests and produces the asset's manifest
(``trader_core.parts``; the run IO manager reads the parts back as the single frame). Under the
in-process executor the symbols run one after another; under the multiprocess or Dask executor
(``trader_assets.executors``) they run in parallel.
"""

import dagster as dg
import pandas as pd

from trader_assets.metadata import stage_dynamic_outputs
from trader_core import stages

FANOUT_IO = "fanout_io_manager"


@dg.op(out=dg.DynamicOut(io_manager_key=FANOUT_IO),
       description="One output per symbol: that symbol's replay rows.")
def replay_by_symbol(replay_1m: pd.DataFrame):
    yield from stage_dynamic_outputs(stages.replay_slices_stage(replay=replay_1m))


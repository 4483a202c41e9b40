"""Per-symbol fan-out ops shared by the graph-backed assets (features, path statistics).

``replay_by_symbol`` yields one dynamic output per symbol (a ``ReplaySlice``: the stored replay is not loaded,
only its symbol column is read); the per-symbol op is mapped over them, reads its symbol's rows of the stored
replay and stores its symbol's part of the asset, and the merge op collects the parts' digests and produces the
asset's manifest
(``trader_core.parts``; the run IO manager reads the parts back as the single frame). Under the
in-process executor the symbols run one after another; under the multiprocess or Dask executor
(``trader_assets.executors``) they run in parallel.
"""

import dagster as dg

from trader_assets.metadata import stage_dynamic_outputs
from trader_core import stages
from trader_core.fanout import StoredReplay

FANOUT_IO = "fanout_io_manager"


@dg.op(out=dg.DynamicOut(io_manager_key=FANOUT_IO),
       description="One output per symbol: where that symbol's rows of the stored replay are (the replay is not "
                   "loaded; each symbol step reads its own rows).")
def replay_by_symbol(replay_1m: StoredReplay):
    yield from stage_dynamic_outputs(stages.replay_slices_stage(replay=replay_1m))


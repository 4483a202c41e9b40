"""Walk-forward group: the stitched out-of-sample record of the monthly retraining loop.

Not a run partition: it reads every ``retrain-YYYY-MM`` run of the walk-forward home (the ``TRADER_HOME`` that
``trader walk-forward`` drives; docs/retraining.md, "Walk-forward") and writes its files there itself.
"""

import dagster as dg

from trader_assets.metadata import stage_materialization
from trader_assets.resources import TraderHome
from trader_core import stages

WALK_FORWARD_GROUP = "walk_forward"


@dg.asset(group_name=WALK_FORWARD_GROUP, owners=["team:research"], kinds={"python", "markdown"},
          description="The monthly retraining loop backtested month by month: for each month the champion at its "
                      "start traded it (shadow trades with costs), beside a first champion frozen (train once) and "
                      "no trading; the gate, decision, promotion and drift of every retrain; stitched equity curves.")
def walk_forward_report(trader_home: TraderHome) -> dg.MaterializeResult:
    return stage_materialization(stages.walk_forward_report_stage(home=trader_home.path))


WALK_FORWARD_ASSETS = [walk_forward_report]

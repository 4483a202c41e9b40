"""Runs created from the UI: the ``register_run`` job, and the run partition every registration adds.

The job's launchpad config is the run spec (its sections with their defaults, generated from
``trader_core.config.RunSpec``) plus the run id. It registers the run through the same function as the CLI
and the sensor (``trader_core.registration.register_run``), so it is refused with the CLI's one-line
message, and adds the run partition; the person then materializes that partition. See docs/runs.md.
"""

import dagster as dg

from trader_assets.launchpad import launchpad_config
from trader_assets.partitions import RUNS_PARTITION_NAME
from trader_assets.resources import TraderHome
from trader_core.config import RunSpec
from trader_core.errors import ConfigError
from trader_core.registration import register_run

#: The run id and every run spec section, at their defaults; the spec version is not the person's to set.
RunSpecConfig = launchpad_config(RunSpec, exclude=("version",), allow_unknown=True)


def ensure_run_partition(instance: dg.DagsterInstance, run_id: str) -> None:
    """Add ``run_id`` to the runs partitions unless it is there."""
    if not instance.has_dynamic_partition(RUNS_PARTITION_NAME, run_id):
        instance.add_dynamic_partitions(RUNS_PARTITION_NAME, [run_id])


@dg.op(description="Writes the run spec of a new run id (or reuses the identical stored one) and adds its "
                   "partition; refused like `trader run` for a changed spec, unknown keys or a missing data path.")
def register_run_spec(context: dg.OpExecutionContext, config: RunSpecConfig, trader_home: TraderHome) -> None:
    sections = {key: value for key, value in context.op_config.items() if key != "run_id"}
    try:
        registration = register_run(run_id=config.run_id, sections=sections, home=trader_home.path)
    except ConfigError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    ensure_run_partition(context.instance, config.run_id)
    spec = registration.spec
    verb = "new spec written" if registration.created else "reusing its spec"
    context.log.info(f"run {spec.run_id}: {verb} (hash {spec.spec_hash[:12]}) in {trader_home.run_dir(spec.run_id)}; "
                     f"materialize its partition next")


@dg.job(name="register_run", description="Create a run from the UI: its run spec (the launchpad shows every section with its default) "
                    "and its partition of the runs dimension. Then materialize that partition.")
def register_run_job() -> None:
    register_run_spec()

"""Monthly retraining as data lands: a sensor on the landing folder and a monthly schedule as safety net; the
weekly decision report on Mondays."""

import json

import dagster as dg

from trader_assets.assets.decisions import WEEKLY_REPORT
from trader_assets.jobs import butterfly_job, retrain_job, weekly_monitoring_job
from trader_assets.partitions import RUNS_PARTITION_NAME, runs_partitions
from trader_core.errors import ConfigError
from trader_core.layout import trader_home
from trader_core.market.landing import complete_months
from trader_core.registration import register_run, spec_sections
from trader_core.retrain import retrain_spec
from trader_core.strategies import PERP, strategy_of, strategy_of_retrain_run


@dg.sensor(jobs=[retrain_job, butterfly_job], minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Registers every newly complete landed month (any source) as run partition retrain-YYYY-MM "
                       "(retrain-butterfly-YYYY-MM for butterfly months) with its run spec, and requests the "
                       "strategy's job once (run_key = run id).")
def landed_month_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    home = trader_home()
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    new = [m for m in complete_months(home) if f"{m['source']}/{m['month']}" not in seen]
    if not new:
        return dg.SkipReason("no newly complete month in the landing folder")
    requests, partitions = [], []
    for marker in new:
        spec = retrain_spec(marker, home=home)
        try:
            register_run(run_id=spec.run_id, sections=spec_sections(spec), home=home)
        except ConfigError as exc:
            context.log.warning(f"{marker['source']} {marker['month']} is registered without a new run: {exc}")
            seen.add(f"{marker['source']}/{marker['month']}")
            continue
        if not context.instance.has_dynamic_partition(RUNS_PARTITION_NAME, spec.run_id) and spec.run_id not in partitions:
            partitions.append(spec.run_id)
        requests.append(dg.RunRequest(partition_key=spec.run_id, run_key=spec.run_id, job_name=strategy_of(spec).job,
                                      tags={"trader/trigger": "landed-month", "trader/strategy": spec.strategy}))
        seen.add(f"{marker['source']}/{marker['month']}")
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(sorted(seen)),
                           dynamic_partitions_requests=[runs_partitions.build_add_request(partitions)] if partitions else [])


@dg.schedule(job=retrain_job, cron_schedule="0 6 2 * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Safety net on the 2nd of each month: re-requests the newest perp retrain-YYYY-MM partition "
                         "when it has no successful run (schedules cannot add partitions; the sensor creates them).")
def monthly_retrain_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    keys = sorted(k for k in context.instance.get_dynamic_partitions(RUNS_PARTITION_NAME)
                  if strategy_of_retrain_run(k) is PERP)
    if not keys:
        return dg.SkipReason("no retrain partition yet: nothing has landed")
    latest = keys[-1]
    done = context.instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": latest},
                                                           statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1)
    if done:
        return dg.SkipReason(f"{latest} already has a successful run")
    stamp = context.scheduled_execution_time.strftime("%Y-%m-%d") if context.scheduled_execution_time else "now"
    return dg.RunRequest(partition_key=latest, run_key=f"schedule-{latest}-{stamp}",
                         tags={"trader/trigger": "monthly-schedule"})


@dg.schedule(job=weekly_monitoring_job, cron_schedule="0 9 * * 1", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Mondays 09:00 UTC: the weekly decision report of every line (its decisions of the last 30 "
                         "days joined with their realized outcomes), as of the tick.")
def weekly_monitoring_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    tick = context.scheduled_execution_time
    at = tick.isoformat() if tick else None
    return dg.RunRequest(run_key=f"weekly-{at}" if at else None, tags={"trader/trigger": "weekly-schedule"},
                         run_config={"ops": {WEEKLY_REPORT: {"config": {"at": at}}}})


SENSORS = [landed_month_sensor]
SCHEDULES = [monthly_retrain_schedule, weekly_monitoring_schedule]

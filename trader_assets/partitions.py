"""The one partition dimension: a training run (``demo``, ``retrain-2026-11``, ...)."""

import dagster as dg

RUNS_PARTITION_NAME = "runs"
runs_partitions = dg.DynamicPartitionsDefinition(name=RUNS_PARTITION_NAME)

"""The one partition dimension: a training run (``demo``, ``retrain-2026-11``, ...)."""

import warnings

import dagster as dg

# Partitioned asset checks (one result per run partition) are a Dagster 1.13 preview feature we rely on.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")

RUNS_PARTITION_NAME = "runs"
runs_partitions = dg.DynamicPartitionsDefinition(name=RUNS_PARTITION_NAME)

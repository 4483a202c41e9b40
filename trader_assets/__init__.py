"""trader_assets: the Dagster layer (assets, checks, partitions, resources, IO manager, jobs, CLI).

Thin by design: asset bodies call ``trader_core`` and attach metadata.
"""

"""trader_core: the pure library behind trader (never imports dagster).

Every stage is a function: frames and typed configs in, frames and small result objects out.
"""

__version__ = "0.1.0"

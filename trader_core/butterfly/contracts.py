"""The butterfly contracts moved to ``trader_core.contracts.butterfly`` (below the run spec, which validates
against them). The Dagster layer still imports the model version from here."""

from trader_core.contracts.butterfly import BUTTERFLY_MODEL_VERSION

__all__ = ["BUTTERFLY_MODEL_VERSION"]

"""Error types. Every error names the table, column, file or key it is about."""

from __future__ import annotations


class TraderError(Exception):
    """Base class for errors the CLI reports as one clear line."""


class DataContractError(TraderError, ValueError):
    """Input data violates a table contract (missing/mistyped column, bad values, bad grid)."""


class ConfigError(TraderError, ValueError):
    """A run spec or stage config is invalid (unknown key, out-of-range value, wrong type)."""


class LockedSplitError(TraderError):
    """An attempt to change the sealed split boundaries of an existing run."""


class ArtifactError(TraderError):
    """An artifact on disk is missing, corrupt, or does not match its manifest."""


def require(cond: bool, key: str, message: str) -> None:
    """Raise ``ConfigError("<key>: <message>")`` unless ``cond`` (the config validators' one check)."""
    if not cond:
        raise ConfigError(f"{key}: {message}")

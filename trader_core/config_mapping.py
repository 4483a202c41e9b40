"""Dataclass configs to and from JSON objects: strict loading (unknown keys and wrong types refused with their
dotted path), canonical hashing and section-by-section merging. Every config of the package goes through here."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Mapping, TypeVar

from trader_core.contracts.features import sha256_json
from trader_core.errors import ConfigError

T = TypeVar("T")


def _key(f: dataclasses.Field) -> str:
    return f.metadata.get("key", f.name)


#: Field metadata of an option added after specs were stored: left out of the mapping while it holds its default,
#: so a stored spec (and its hash) that does not use the option stays what it was.
OMIT_DEFAULT = {"omit_default": True}


def _omitted(obj: Any, f: dataclasses.Field) -> bool:
    return bool(f.metadata.get("omit_default")) and getattr(obj, f.name) == f.default


def to_mapping(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {_key(f): to_mapping(getattr(obj, f.name)) for f in dataclasses.fields(obj) if not _omitted(obj, f)}
    if isinstance(obj, tuple):
        return [to_mapping(v) for v in obj]
    return obj


def config_hash(obj: Any) -> str:
    return sha256_json(to_mapping(obj))


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], key)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected an object, got {type(value).__name__}")
        return from_mapping(tp, value, prefix=key)
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {type(value).__name__}")
        (item_tp, *_rest) = typing.get_args(tp)
        return tuple(_coerce(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{key}: must be finite, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    return value


def from_mapping(cls: type[T], data: Mapping[str, Any], *, prefix: str = "") -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys raise ConfigError with their dotted path."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix or cls.__name__}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {_key(f): f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(f"unknown config key(s) {[where + k for k in unknown]}; known: {sorted(fields)}")
    kwargs = {}
    for key, f in fields.items():
        if key in data:
            kwargs[f.name] = _coerce(data[key], hints[f.name], f"{prefix}.{key}" if prefix else key)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field without default
        raise ConfigError(f"{prefix or cls.__name__}: {exc}") from exc


def merge_sections(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of config sections: nested objects merge key by key, other values replace."""
    out = dict(base)
    for key, value in update.items():
        out[key] = (merge_sections(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), Mapping)
                    else value)
    return out


def read_json_object(path: Path | str, what: str) -> dict[str, Any]:
    """A JSON object from ``path``; ConfigError naming ``what`` and the file when missing or invalid."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{what}: {path} not found") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what}: {path} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{what}: {path} must hold a JSON object")
    return data

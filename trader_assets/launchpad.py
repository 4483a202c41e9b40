"""Launchpad config classes generated from trader_core's frozen dataclasses, so nothing is typed twice.

``launchpad_config(cls)`` mirrors a dataclass as a ``dg.Config``: the same keys (a field's ``metadata["key"]``
becomes its alias, e.g. ``labels.continue``), types (tuples as lists, nested dataclasses as nested config
classes, ``X | None`` optional) and defaults, which the launchpad shows. The dataclass stays the validator:
the config's values go through ``trader_core.config_mapping.from_mapping``. With ``allow_unknown`` every level
accepts keys it does not declare, so an unknown key reaches ``from_mapping`` and is refused with the same
message the CLI prints for it instead of Dagster's own.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Optional

import dagster as dg
import pydantic

from trader_core.config_mapping import to_mapping


def launchpad_config(cls: type, *, exclude: tuple[str, ...] = (), allow_unknown: bool = False) -> type[dg.Config]:
    """A dg.Config class mirroring dataclass ``cls`` (fields in ``exclude`` left out)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in exclude:
            continue
        annotation = _config_type(hints[f.name], allow_unknown=allow_unknown)
        key = f.metadata.get("key", f.name)
        fields[f.name] = (annotation, pydantic.Field(default=_default(f, annotation),
                                                     alias=key if key != f.name else None))
    model = pydantic.create_model(f"{cls.__name__}Config", __base__=dg.Config, **fields)
    if allow_unknown:
        model.model_config["extra"] = "allow"  # dagster maps this to a Permissive config shape
    return model


def _config_type(tp: Any, *, allow_unknown: bool) -> Any:
    """Launchpad type of a field: tuples become lists, dataclasses config classes, ``X | None`` stays optional."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return launchpad_config(tp, allow_unknown=allow_unknown)
    if origin is tuple:
        return list[args[0]]
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in args if a is not type(None)]
        tuple_arm = next((a for a in arms if typing.get_origin(a) is tuple), None)
        chosen = _config_type(tuple_arm or arms[0], allow_unknown=allow_unknown)
        return Optional[chosen] if type(None) in args else chosen
    return tp


def _default(f: dataclasses.Field, annotation: Any) -> Any:
    """The field's dataclass default as a launchpad value; ``...`` (required) when it has none."""
    if f.default is not dataclasses.MISSING:
        return list(f.default) if isinstance(f.default, tuple) else f.default
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        return annotation(**to_mapping(value)) if dataclasses.is_dataclass(value) else value
    return ...

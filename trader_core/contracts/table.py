"""Declarative table contracts: one object per table, validated in one place.

A contract lists columns with a dtype *kind* (not an exact numpy dtype, because pandas 3 infers the
datetime resolution and string storage), unit, nullability and a description. ``validate`` raises
``DataContractError`` naming the table and column; ``as_table_schema`` feeds the Dagster UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

import numpy as np
import pandas as pd

from trader_core.errors import DataContractError

Kind = Literal["timestamp", "float", "int", "str", "bool"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    unit: str = ""
    nullable: bool = False
    description: str = ""

    def as_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "unit": self.unit, "nullable": self.nullable,
                "description": self.description}


@dataclass(frozen=True)
class TableContract:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    optional: bool = False
    description: str = ""
    positive: tuple[str, ...] = field(default=())  # columns that must be > 0 where not null

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def validate(self, df: pd.DataFrame, *, extra_ok: bool = True) -> None:
        """Raise DataContractError if ``df`` does not satisfy this contract."""
        validate_frame(df, self.name, self.columns, key=self.key, positive=self.positive, extra_ok=extra_ok)

    def as_json(self) -> dict:
        return {"name": self.name, "optional": self.optional, "key": list(self.key),
                "description": self.description, "columns": [c.as_json() for c in self.columns]}


def _kind_ok(series: pd.Series, kind: Kind) -> bool:
    dtype = series.dtype
    if kind == "timestamp":
        return isinstance(dtype, pd.DatetimeTZDtype)
    if kind == "float":
        return pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
    if kind == "int":
        return pd.api.types.is_integer_dtype(dtype)
    if kind == "bool":
        return pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
    if kind == "str":
        return pd.api.types.is_string_dtype(dtype) or dtype == object
    raise ValueError(kind)


def validate_frame(df: pd.DataFrame, table: str, columns: Iterable[Column], *, key: tuple[str, ...] = (),
                   positive: tuple[str, ...] = (), extra_ok: bool = True) -> None:
    """Check presence, dtype kind, nulls, finiteness, positivity and key uniqueness of ``df``."""
    if not isinstance(df, pd.DataFrame):
        raise DataContractError(f"{table}: expected a DataFrame, got {type(df).__name__}")
    columns = list(columns)
    missing = [c.name for c in columns if c.name not in df.columns]
    if missing:
        raise DataContractError(f"{table}: missing required column(s) {missing}")
    for col in columns:
        s = df[col.name]
        if not _kind_ok(s, col.kind):
            if col.kind == "timestamp" and pd.api.types.is_datetime64_dtype(s.dtype):
                raise DataContractError(
                    f"{table}.{col.name}: timestamps are naive (no time zone); localize them to UTC first")
            raise DataContractError(f"{table}.{col.name}: expected {col.kind}, got dtype {s.dtype}")
        if not col.nullable and s.isna().any():
            n = int(s.isna().sum())
            raise DataContractError(f"{table}.{col.name}: {n} null/NaN value(s) in a non-nullable column")
        if col.kind == "float" and len(s):
            values = s.to_numpy(dtype="float64", na_value=np.nan)
            if np.isinf(values).any():
                raise DataContractError(f"{table}.{col.name}: {int(np.isinf(values).sum())} infinite value(s)")
        if col.kind == "timestamp" and len(s) and str(s.dt.tz) != "UTC":
            raise DataContractError(f"{table}.{col.name}: time zone is {s.dt.tz}, expected UTC")
    for name in positive:
        values = df[name].to_numpy(dtype="float64", na_value=np.nan)
        bad = values <= 0
        if bad.any():
            raise DataContractError(f"{table}.{name}: {int(bad.sum())} value(s) <= 0 (prices must be positive)")
    if key and len(df):
        dup = df.duplicated(list(key))
        if dup.any():
            first = df.loc[dup, list(key)].iloc[0].to_dict()
            raise DataContractError(f"{table}: {int(dup.sum())} duplicate row(s) on key {list(key)}, first {first}")
    if not extra_ok:
        extra = [c for c in df.columns if c not in {col.name for col in columns}]
        if extra:
            raise DataContractError(f"{table}: unexpected column(s) {extra}")

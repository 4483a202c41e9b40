"""Declarative table contracts: one object per stored table, validated in one place.

A contract lists columns with a dtype *kind* (pandas 3 infers the datetime resolution and string storage, so
the kind is what every source must meet), optionally the exact stored dtype where the writer fixes it
(``float32`` features, ``int8`` targets), unit, nullability, value range or allowed values, and a description.
It also declares the key (unique), the sort order of the rows and named cross-row invariants
(``trader_core.contracts.invariants``).

Two ways to use it: ``validate`` raises ``DataContractError`` naming the table and column (the stages guard
their inputs with it); ``column_report`` and ``key_report`` count every violation without raising (the asset
checks generated from the contract report them as metadata). Both are vectorized: no per-row Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from trader_core.errors import DataContractError

Kind = Literal["timestamp", "float", "int", "str", "bool"]
#: A rule's verdict: (passed, details for the check's metadata).
Verdict = tuple[bool, dict[str, Any]]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    unit: str = ""
    nullable: bool = False
    description: str = ""
    dtype: str = ""  # exact stored dtype (``str(series.dtype)``) where the writer fixes it; "" = any of the kind
    values: tuple[Any, ...] = ()  # the only values allowed (where not null); () = any
    low: float | None = None  # inclusive bounds where not null
    high: float | None = None

    def as_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "unit": self.unit, "nullable": self.nullable,
                "description": self.description}

    def renamed(self, name: str, description: str = "") -> Column:
        """The same declaration under another name (a pivoted or prefixed copy of a column)."""
        return Column(name, self.kind, self.unit, self.nullable, description or self.description, self.dtype,
                      self.values, self.low, self.high)


@dataclass(frozen=True)
class Invariant:
    """A named rule over the whole table: ``rule(frame, **context) -> (passed, details)``.

    ``needs`` names the context a rule reads besides the frame (``split_manifest``, ``label_config``);
    ``blocking`` False makes it a warning (e.g. a one-class target). A rule that can be decided from counts
    that add up over row sets gives ``part_counts`` (a dict of numbers and dicts of numbers) and
    ``counts_verdict``: a table stored as per-symbol parts is then checked from its parts' counts
    (``trader_core.part_checks``).
    """

    name: str
    description: str
    rule: Callable[..., Verdict]
    needs: tuple[str, ...] = ()
    blocking: bool = True
    part_counts: Callable[[pd.DataFrame], dict[str, Any]] | None = None
    counts_verdict: Callable[[Mapping[str, Any]], Verdict] | None = None

    def evaluate(self, frame: pd.DataFrame, context: Mapping[str, Any] | None = None) -> Verdict:
        context = context or {}
        return self.rule(frame, **{name: context[name] for name in self.needs})


@dataclass(frozen=True)
class TableContract:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    optional: bool = False
    description: str = ""
    positive: tuple[str, ...] = field(default=())  # columns that must be > 0 where not null
    #: Row order: ascending by these columns (``key_report`` counts rows out of order).
    sort: tuple[str, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    #: Name of the key-and-order rule in reports and checks.
    key_rule: str = "unique_sorted_keys"

    def __post_init__(self) -> None:
        names = self.names
        duplicated = sorted({n for n in names if names.count(n) > 1})
        unknown = [c for c in (*self.key, *self.sort, *self.positive) if c not in names]
        if duplicated or unknown:
            raise ValueError(f"{self.name}: duplicated column(s) {duplicated}, undeclared column(s) {unknown}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def validate(self, df: pd.DataFrame, *, extra_ok: bool = True) -> None:
        """Raise DataContractError if ``df`` does not satisfy this contract's columns and key."""
        validate_frame(df, self.name, self.columns, key=self.key, positive=self.positive, extra_ok=extra_ok)

    def column_report(self, df: pd.DataFrame) -> Verdict:
        """Every column rule at once: presence and order, dtype, nulls, infinities, range and allowed values."""
        return column_report(df, self.columns, positive=self.positive)

    def key_report(self, df: pd.DataFrame) -> Verdict:
        """Duplicate keys and rows out of the declared order (a key or order column missing counts as failed)."""
        return key_report(df, key=self.key, sort=self.sort)

    @property
    def rules(self) -> tuple[Invariant, ...]:
        """Every rule of the contract, one check each: the column rules, the key and order rule, the invariants."""
        columns = Invariant("matches_contract", f"The columns of {self.name} as declared, in order: dtype, nulls, "
                                                "no infinities, value ranges and allowed values.", self.column_report)
        key = (Invariant(self.key_rule, f"No duplicate key {list(self.key)}; rows sorted by {list(self.sort)}.",
                         self.key_report),) if self.key or self.sort else ()
        return (columns, *key, *self.invariants)

    def as_json(self) -> dict:
        return {"name": self.name, "optional": self.optional, "key": list(self.key), "sort": list(self.sort),
                "description": self.description, "columns": [c.as_json() for c in self.columns],
                "invariants": [i.name for i in self.invariants]}


def names(columns: Iterable[Column]) -> tuple[str, ...]:
    """The names of declared columns, in order (the column tuples the builders select with)."""
    return tuple(c.name for c in columns)


def select(columns: Iterable[Column], *wanted: str) -> tuple[Column, ...]:
    """The declarations of ``wanted`` columns, in that order (a table that reuses another table's columns)."""
    by_name = {c.name: c for c in columns}
    return tuple(by_name[name] for name in wanted)


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
        if isinstance(dtype, pd.CategoricalDtype):  # constant label columns are stored dictionary-encoded
            return pd.api.types.is_string_dtype(dtype.categories.dtype) or dtype.categories.dtype == object
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
        numbers = s.to_numpy() if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf" else None
        # plain numpy integers hold neither NaN nor infinities; plain floats are checked on their own array
        if not col.nullable and (s.isna().any() if numbers is None else
                                 numbers.dtype.kind == "f" and np.isnan(numbers).any()):
            n = int(s.isna().sum())
            raise DataContractError(f"{table}.{col.name}: {n} null/NaN value(s) in a non-nullable column")
        if col.kind == "float" and len(s) and (numbers is None or numbers.dtype.kind == "f"):
            values = numbers if numbers is not None else s.to_numpy(dtype="float64", na_value=np.nan)
            if np.isinf(values).any():
                raise DataContractError(f"{table}.{col.name}: {int(np.isinf(values).sum())} infinite value(s)")
        if col.kind == "timestamp" and len(s) and str(s.dtype.tz) != "UTC":
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


def _column_problems(s: pd.Series, col: Column, positive: bool) -> dict[str, Any]:
    """Counts of one column's violations (only the non-zero ones)."""
    if not _kind_ok(s, col.kind) or (col.dtype and str(s.dtype) != col.dtype):
        return {"dtype": str(s.dtype)}
    if col.kind == "timestamp":
        problems = {"time_zone": str(s.dt.tz)} if str(s.dt.tz) != "UTC" else {}
        nulls = int(s.isna().sum())
        return problems | ({"nulls": nulls} if nulls and not col.nullable else {})
    if col.kind == "str" or col.values and not pd.api.types.is_numeric_dtype(s.dtype):
        nulls = int(s.isna().sum())
        problems = {"nulls": nulls} if nulls and not col.nullable else {}
        if col.values:
            unknown = sorted({str(v) for v in _distinct(s)} - {str(v) for v in col.values})
            problems |= {"unknown_values": unknown[:5]} if unknown else {}
        return problems
    values = s.to_numpy()
    if values.dtype.kind != "f":  # integers, nullable dtypes: compare as float64 with NaN for missing
        values = s.to_numpy(dtype="float64", na_value=np.nan)
    null = np.isnan(values)
    counts = {"nulls": int(null.sum()) if not col.nullable else 0, "infinite": int(np.isinf(values).sum())}
    with np.errstate(invalid="ignore"):
        if col.low is not None or col.high is not None:
            low = -np.inf if col.low is None else col.low
            high = np.inf if col.high is None else col.high
            counts["out_of_range"] = int(np.sum(~null & ((values < low) | (values > high))))
        if col.values:
            counts["unknown_values"] = int(np.sum(~null & ~np.isin(values, np.asarray(col.values, dtype=float))))
        if positive:
            counts["not_positive"] = int(np.sum(values <= 0))
    return {k: v for k, v in counts.items() if v}


def _distinct(s: pd.Series) -> np.ndarray:
    """The distinct non-null values of a column (a categorical's used categories, without decoding every row)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        return np.asarray(s.cat.categories[np.unique(codes[codes >= 0])])
    return np.asarray([v for v in s.unique() if not pd.isna(v)], dtype=object)


def column_report(df: pd.DataFrame, columns: Iterable[Column], *, positive: tuple[str, ...] = ()) -> Verdict:
    """(passed, details): the declared columns present in order, each meeting its dtype, nulls and values."""
    columns = list(columns)
    declared = names(columns)
    missing = [n for n in declared if n not in df.columns]
    present = [n for n in df.columns if n in declared]
    problems = {c.name: p for c in columns if c.name in df.columns
                for p in [_column_problems(df[c.name], c, c.name in positive)] if p}
    in_order = present == [n for n in declared if n in df.columns]
    passed = not missing and in_order and not problems
    return passed, {"rows": int(len(df)), "missing_columns": missing, "columns_in_order": in_order,
                    "extra_columns": [n for n in df.columns if n not in declared], "column_problems": problems}


def key_report(df: pd.DataFrame, *, key: tuple[str, ...], sort: tuple[str, ...]) -> Verdict:
    """(passed, details): no duplicate key and no adjacent pair of rows out of the declared order."""
    missing = [c for c in (*key, *sort) if c not in df.columns]
    if missing:
        return False, {"rows": int(len(df)), "missing_columns": missing}
    unsorted, ties = order_counts(df, sort)
    if key and tuple(key) == tuple(sort) and unsorted == 0:
        duplicates = ties  # sorted by the key: equal keys are adjacent
    else:
        duplicates = int(df.duplicated(list(key)).sum()) if key and len(df) else 0
    return duplicates == 0 and unsorted == 0, {"rows": int(len(df)), "key": list(key), "duplicate_keys": duplicates,
                                               "sort": list(sort), "unsorted_pairs": unsorted}


def unsorted_pairs(df: pd.DataFrame, sort: tuple[str, ...]) -> int:
    """Adjacent row pairs (i, i + 1) where row i + 1 sorts before row i by ``sort`` (lexicographic, ascending)."""
    return order_counts(df, sort)[0]


def order_counts(df: pd.DataFrame, sort: tuple[str, ...]) -> tuple[int, int]:
    """(adjacent pairs out of order, adjacent pairs equal on every ``sort`` column)."""
    if len(df) < 2 or not sort:
        return 0, 0
    before = np.zeros(len(df) - 1, dtype=bool)  # row i+1 < row i on the columns compared so far
    tied = np.ones(len(df) - 1, dtype=bool)  # rows i and i+1 equal on the columns compared so far
    for name in sort:
        values = _sortable(df[name])
        before |= tied & (values[1:] < values[:-1])
        tied &= values[1:] == values[:-1]
    return int(before.sum()), int(tied.sum())


def _sortable(s: pd.Series) -> np.ndarray:
    """Integers or numbers that order like the column (text by its sorted codes, timestamps as instants)."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        return s.to_numpy()
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.to_numpy(dtype="datetime64[ns]")
    text = s.astype(str) if isinstance(s.dtype, pd.CategoricalDtype) else s
    return pd.factorize(text, sort=True)[0]

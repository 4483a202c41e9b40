"""Helpers turning frames and contracts into Dagster metadata (schemas, previews, reports)."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandas as pd

from trader_core.contracts.table import Column, TableContract
from trader_core.report import jsonable, markdown_table

_KIND_TO_TYPE = {"timestamp": "timestamp", "float": "float", "int": "int", "str": "string", "bool": "bool"}


def table_schema(contract: TableContract) -> dg.MetadataValue:
    return dg.MetadataValue.table_schema(dg.TableSchema(columns=[
        dg.TableColumn(c.name, c.dtype or _KIND_TO_TYPE[c.kind], description=" ".join(x for x in (c.unit, c.description) if x),
                       constraints=dg.TableColumnConstraints(nullable=c.nullable, other=_constraints(c)))
        for c in contract.columns]))


def _constraints(column: Column) -> list[str]:
    """The column's declared values or range, as the UI lists them."""
    bounds = [f"{op} {v:g}" for op, v in ((">=", column.low), ("<=", column.high)) if v is not None]
    return ([f"in {list(column.values)}"] if column.values else []) + bounds


def preview(df: pd.DataFrame, rows: int = 5, max_columns: int = 14) -> dg.MetadataValue:
    """First ``rows`` rows (first ``max_columns`` columns) as a markdown table."""
    return dg.MetadataValue.md(markdown_table(df.head(rows).iloc[:, :max_columns]))


def json_value(obj: Any) -> dg.MetadataValue:
    return dg.MetadataValue.json(jsonable(obj))

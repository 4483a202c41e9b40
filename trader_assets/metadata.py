"""Helpers turning stage results, frames and contracts into Dagster output and metadata."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from trader_core.contracts.table import Column, TableContract
from trader_core.report import jsonable, png_markdown
from trader_core.stages.result import StageResult

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


def json_value(obj: Any) -> dg.MetadataValue:
    return dg.MetadataValue.json(jsonable(obj))


def _figure(value: Any) -> Any:
    """Scalars stay scalars (Dagster types them); containers become JSON."""
    if isinstance(value, (Mapping, list, tuple)):
        return json_value(value)
    return jsonable(value)


def stage_metadata(result: StageResult) -> dict[str, Any]:
    """Figures as values or JSON, reports as markdown, images as inline markdown, paths as links."""
    return {**{k: _figure(v) for k, v in result.figures.items()},
            **{k: dg.MetadataValue.md(text) for k, text in result.reports.items()},
            **{k: dg.MetadataValue.md(png_markdown(path, alt=k.replace("_", " "))) for k, path in result.images.items()},
            **{k: dg.MetadataValue.path(str(path)) for k, path in result.paths.items()}}


def stage_output(result: StageResult, *, output_name: str = "result", log: Any = None) -> dg.Output:
    """The asset's (or op's) Dagster output: the stage's value with its metadata; the stage's notes and warnings
    go to ``log`` (the step's ``context.log``) when given."""
    if log is not None:
        for line in result.notes:
            log.info(line)
        for line in result.warnings:
            log.warning(line)
    return dg.Output(result.value, output_name=output_name, metadata=stage_metadata(result))


def stage_materialization(result: StageResult) -> dg.MaterializeResult:
    """The result of an asset that writes its own files (no IO manager): the stage's metadata only."""
    return dg.MaterializeResult(metadata=stage_metadata(result))


def stage_outputs(result: StageResult) -> Iterator[dg.Output]:
    """One output per entry of ``result.outputs``, for a multi-asset fed by one stage."""
    for name, part in result.outputs.items():
        yield stage_output(part, output_name=name)


def stage_dynamic_outputs(result: StageResult) -> Iterator[dg.DynamicOutput]:
    """One dynamic output per entry of ``result.outputs`` (its key is the mapping key), for a fan-out op."""
    for key, part in result.outputs.items():
        yield dg.DynamicOutput(part.value, mapping_key=key, metadata=stage_metadata(part))

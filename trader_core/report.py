"""One markdown helper for every report (tables, number formatting, JSON-safe values)."""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd


def fmt(value: Any, digits: int = 4) -> str:
    """Format a scalar for a markdown cell (floats to ``digits`` significant decimals, NaN as 'nan')."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.{digits}f}".rstrip("0").rstrip(".") if abs(v) < 1e12 else f"{v:.4g}"
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value).replace("|", "\\|")


def markdown_table(rows: Iterable[Mapping[str, Any]] | pd.DataFrame, columns: Sequence[str] | None = None,
                   digits: int = 4) -> str:
    """Render rows (dicts or a DataFrame) as a GitHub markdown table."""
    if isinstance(rows, pd.DataFrame):
        records = rows.to_dict(orient="records")
        columns = list(columns or rows.columns)
    else:
        records = list(rows)
        columns = list(columns or (records[0].keys() if records else []))
    if not columns:
        return "_(no rows)_\n"
    out = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for rec in records:
        out.append("| " + " | ".join(fmt(rec.get(c), digits) for c in columns) + " |")
    return "\n".join(out) + "\n"


#: Rows of a table preview (``frame_preview``).
PREVIEW_ROWS = 5


def frame_preview(df: pd.DataFrame, rows: int = PREVIEW_ROWS, max_columns: int = 14) -> str:
    """The first ``rows`` rows (first ``max_columns`` columns) of a table as markdown."""
    return markdown_table(df.head(rows).iloc[:, :max_columns])


def png_markdown(path: Path, alt: str) -> str:
    """A PNG file as a markdown image with the bytes inline, so a report or the UI needs no file access."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(Path(path).read_bytes()).decode('ascii')})"


def jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON types (NaN/inf -> None)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value

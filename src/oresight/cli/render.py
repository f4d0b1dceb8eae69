"""Rendering of library results for the terminal: rich tables, JSON and CSV on stdout.

One mechanism for every listing command: a ``--format table|json|csv`` option (:data:`FormatOption`) and
:func:`emit_frame`. JSON is always valid (a missing value is ``null``, never a bare ``NaN``); CSV leaves a missing
value blank; a table shows it as ``–`` and says so in its caption. Identifiers (a cell without spaces: ids,
codes, scenario names, dates) are never broken across lines; text with spaces wraps at its spaces.
"""

from __future__ import annotations

import enum
import json
import math
import sys
from collections.abc import Sequence
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from oresight.formatting import MISSING, format_number, format_share, is_missing

console = Console()
err_console = Console(stderr=True)

#: how a missing number reads in a terminal table (the caption says what it means)
MISSING_CELL = "–"
_MISSING_CAPTION = f"{MISSING_CELL} {MISSING} (no source gives a value)"


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


#: the ``--format`` option of every listing command
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or csv.")]


def _plain(value):
    """A JSON-safe Python value: NaN and infinities become null, numpy scalars become Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def plain_json(data):
    """``data`` with every float that JSON cannot carry (NaN, ±inf) replaced by None, at any depth.

    >>> plain_json({"a": [1.0, float("nan")], "b": {"c": float("inf")}})
    {'a': [1.0, None], 'b': {'c': None}}
    """
    if isinstance(data, dict):
        return {k: plain_json(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [plain_json(v) for v in data]
    return _plain(data)


def records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def emit_json(data) -> None:
    """Write ``data`` as JSON; never writes a bare NaN or Infinity (``allow_nan=False`` would raise instead)."""
    sys.stdout.write(json.dumps(plain_json(data), ensure_ascii=False, indent=1, default=_default, allow_nan=False))
    sys.stdout.write("\n")


def _default(value):
    value = _plain(value)
    if isinstance(value, pd.DataFrame):
        return records(value)
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def emit_frame(
    frame: pd.DataFrame,
    fmt: OutputFormat,
    *,
    title: str = "",
    columns: Sequence[str] | None = None,
    formatters: dict | None = None,
    caption: str = "",
) -> None:
    """Write a table as JSON (a list of objects), CSV (all columns) or a rich table of the given columns."""
    if fmt == OutputFormat.json:
        emit_json(records(frame))
    elif fmt == OutputFormat.csv:
        frame.to_csv(sys.stdout, index=False)
    else:
        console.print(rich_table(frame, title=title, columns=columns, formatters=formatters, caption=caption))


def rich_table(
    frame: pd.DataFrame,
    *,
    title: str = "",
    columns: Sequence[str] | None = None,
    formatters: dict | None = None,
    caption: str = "",
    keep_whole: Sequence[str] = (),
) -> Table:
    """A rich table of a frame. Cells of the ``keep_whole`` columns, and every cell without a space, are never
    broken; a missing number shows as ``–``, explained in the caption."""
    columns = list(columns or frame.columns)
    formatters = formatters or {}
    numeric = {col: col in frame and pd.api.types.is_numeric_dtype(frame[col]) for col in columns}
    cells = {
        col: [_cell(v, formatters.get(col), numeric[col]) for v in frame[col]] if col in frame else [""] * len(frame)
        for col in columns
    }
    missing = any(text == MISSING_CELL for col in columns for text in cells[col])
    caption = "; ".join(part for part in (caption, _MISSING_CAPTION if missing else "") if part)
    table = Table(
        title=title or None, caption=caption or None, show_lines=False, header_style="bold", title_justify="left"
    )
    for col in columns:
        whole = col in keep_whole or all(" " not in text for text in cells[col])
        table.add_column(col, justify="right" if numeric[col] else "left", overflow="ellipsis", no_wrap=whole)
    for number in range(len(frame)):
        table.add_row(*[cells[col][number] for col in columns])
    return table


def _cell(value, formatter, numeric: bool) -> str:
    """A value as table text: a missing number reads ``–``, a missing text is blank."""
    if not isinstance(value, list | tuple | np.ndarray | dict) and is_missing(value):
        return MISSING_CELL if numeric or isinstance(value, float) else ""
    if formatter:
        return formatter(value)
    value = _plain(value)
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def pct(value) -> str:
    return format_share(value, missing=MISSING_CELL)


def number(value) -> str:
    return format_number(value)

"""Rendering of library results for the terminal: rich tables, JSON and CSV on stdout."""

from __future__ import annotations

import enum
import json
import math
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _plain(value):
    """A JSON-safe Python value (NaN becomes null, numpy scalars become Python numbers)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def emit_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=_plain) + "\n")


def emit_frame(
    frame: pd.DataFrame,
    fmt: OutputFormat,
    *,
    title: str = "",
    columns: Sequence[str] | None = None,
    formatters: dict | None = None,
) -> None:
    """Write a table as JSON (a list of objects), CSV or a rich table with the given columns."""
    if fmt == OutputFormat.json:
        emit_json(records(frame))
    elif fmt == OutputFormat.csv:
        frame.to_csv(sys.stdout, index=False)
    else:
        console.print(rich_table(frame, title=title, columns=columns, formatters=formatters))


def rich_table(
    frame: pd.DataFrame,
    *,
    title: str = "",
    columns: Sequence[str] | None = None,
    formatters: dict | None = None,
    caption: str = "",
    keep_whole: Sequence[str] = (),
) -> Table:
    """A rich table of a frame; cells of the ``keep_whole`` columns (ids, dates, codes) are never broken."""
    columns = list(columns or frame.columns)
    formatters = formatters or {}
    table = Table(
        title=title or None, caption=caption or None, show_lines=False, header_style="bold", title_justify="left"
    )
    for col in columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) if col in frame else False
        table.add_column(col, justify="right" if numeric else "left", overflow="fold", no_wrap=col in keep_whole)
    for _, row in frame.iterrows():
        table.add_row(*[_cell(row.get(col), formatters.get(col)) for col in columns])
    return table


def _cell(value, formatter) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if formatter:
        return formatter(value)
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return str(value)


def pct(value) -> str:
    value = _plain(value)
    return "" if value is None else f"{100 * value:.1f}%"


def number(value) -> str:
    value = _plain(value)
    if value is None:
        return "not attested"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.4g}"

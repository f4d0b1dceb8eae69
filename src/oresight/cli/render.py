"""Rendering of library results for the terminal: rich tables, JSON and CSV on stdout.

One mechanism for every listing command: a ``--format table|json|csv`` option (:data:`FormatOption`; a result of
several tables offers :class:`NestedFormat`, table or json) and
:func:`emit_frame`. JSON is always valid (a missing value is ``null``, never a bare ``NaN``); CSV leaves a missing
value blank; a table shows it as ``–`` and says so in its caption. Identifiers (a cell without spaces: ids,
codes, scenario names, dates) are never broken across lines; text with spaces wraps at its spaces.

``console`` and ``err_console`` (rich consoles for stdout and stderr) are made when first used, so that output
as JSON or CSV never imports rich.
"""

from __future__ import annotations

import enum
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import numpy as np
import pandas as pd
import typer

from oresight.formatting import MISSING, format_number, format_share, is_missing
from oresight.jsonable import json_safe, plain_value


def _width_of_output() -> int | None:
    """Piped or redirected output (no terminal, no ``COLUMNS``) is not cut to 80 columns: tables get
    :data:`PIPED_WIDTH` there, so that little is wrapped or left out for a file or ``grep``."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return None
    return PIPED_WIDTH


#: the width of output that goes to a file or a pipe
PIPED_WIDTH = 160

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    console: Console
    err_console: Console


def __getattr__(name: str):
    """``console`` (stdout, :func:`_width_of_output` wide) and ``err_console`` (stderr), made when first used."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    made = Console(width=_width_of_output()) if name == "console" else Console(stderr=True)
    globals()[name] = made
    return made


def _console() -> Console:
    return sys.modules[__name__].console


#: how a missing number reads in a terminal table (the caption says what it means)
MISSING_CELL = "–"
_MISSING_CAPTION = f"{MISSING_CELL} {MISSING} (no source gives a value)"


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class NestedFormat(enum.StrEnum):
    """Formats of a result made of several tables (a brief, a plan, a run): the terminal shows them, JSON carries
    them all; CSV is for one table, so it is not offered."""

    table = "table"
    json = "json"


#: the ``--format`` option of every listing command
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or csv.")]


def records(frame: pd.DataFrame) -> list[dict]:
    return json_safe(frame)


def emit_json(data) -> None:
    """Write ``data`` as JSON; never writes a bare NaN or Infinity (``allow_nan=False`` would raise instead)."""
    sys.stdout.write(json.dumps(json_safe(data), ensure_ascii=False, indent=1, default=str, allow_nan=False))
    sys.stdout.write("\n")


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
        _console().print(rich_table(frame, title=title, columns=columns, formatters=formatters, caption=caption))


def rich_table(
    frame: pd.DataFrame,
    *,
    title: str = "",
    columns: Sequence[str] | None = None,
    formatters: dict | None = None,
    caption: str = "",
    keep_whole: Sequence[str] = (),
    width: int | None = None,
) -> Table:
    """A rich table of a frame that fits ``width`` (default: the terminal's).

    Cells of the ``keep_whole`` columns, and every cell without a space (ids, codes, scenario names, dates), are
    never broken; text wraps at its spaces, down to a readable width. Where the columns cannot all fit, the last
    ones are left out and the caption names them (``--format csv`` has them all). A missing number shows as
    ``–``, explained in the caption.
    """
    columns = list(columns or frame.columns)
    formatters = formatters or {}
    numeric = {col: col in frame and pd.api.types.is_numeric_dtype(frame[col]) for col in columns}
    cells = {
        col: [_cell(v, formatters.get(col), numeric[col]) for v in frame[col]] if col in frame else [""] * len(frame)
        for col in columns
    }
    whole = {col: col in keep_whole or all(" " not in text for text in cells[col]) for col in columns}
    narrowest = {col: _min_width(col, cells[col], whole[col]) for col in columns}
    from rich.table import Table

    width = width or _console().width
    shown = _fitting(columns, narrowest, width)
    widths = _widths({c: _natural_width(c, cells[c]) for c in shown}, narrowest, width)
    missing = any(text == MISSING_CELL for col in shown for text in cells[col])
    notes = [caption, _MISSING_CAPTION if missing else ""]
    if len(shown) < len(columns):
        left_out = ", ".join(c for c in columns if c not in shown)
        notes.append(f"not shown at this width: {left_out} (a wider terminal or --format csv shows them)")
    table = Table(
        title=title or None,
        caption="; ".join(n for n in notes if n) or None,
        show_lines=False,
        header_style="bold",
        title_justify="left",
        min_width=min(len(title), width),  # a title is read whole: the table is widened rather than the title wrapped
    )
    for col in shown:
        table.add_column(
            col.replace("_", " "),
            justify="right" if numeric[col] else "left",
            overflow="fold",
            width=widths.get(col),  # never narrower than a whole identifier: it is never broken
        )
    for number in range(len(frame)):
        table.add_row(*[cells[col][number] for col in shown])
    return table


#: text with spaces wraps, but not narrower than this (or its longest word)
_TEXT_MIN_WIDTH = 20
#: a column's borders and padding
_COLUMN_EDGE = 3


def _min_width(header: str, texts: list[str], whole: bool) -> int:
    """The narrowest a column may be: its longest cell where cells stay whole, else its longest word (at least
    :data:`_TEXT_MIN_WIDTH` where it holds that much); the header wraps at its word breaks."""
    lines = [line for text in texts for line in text.splitlines()] or [""]
    header_word = max(len(w) for w in header.replace("_", " ").split() or [""])  # shown with spaces, wraps at them
    if whole:
        return max(header_word, *(len(line) for line in lines))
    longest_word = max((len(w) for line in lines for w in line.split()), default=0)
    return max(header_word, longest_word, min(_TEXT_MIN_WIDTH, max(len(line) for line in lines)))


def _natural_width(header: str, texts: list[str]) -> int:
    return max(len(header), *(len(line) for text in texts for line in text.splitlines() or [""]))


def _widths(natural: dict[str, int], narrowest: dict[str, int], width: int) -> dict[str, int]:
    """Column widths within ``width``: natural where all fit (then left to rich), else each column's narrowest
    plus a share of the room left, in proportion to how much wider it would like to be."""
    edges = 1 + _COLUMN_EDGE * len(natural)
    if sum(natural.values()) + edges <= width:
        return {}
    spare = width - edges - sum(narrowest[c] for c in natural)
    wanted = {c: natural[c] - narrowest[c] for c in natural}
    total = sum(wanted.values()) or 1
    return {c: narrowest[c] + (spare * wanted[c]) // total for c in natural}


def _fitting(columns: list[str], narrowest: dict[str, int], width: int) -> list[str]:
    """The leading columns that fit the width at their narrowest (always the first)."""
    shown, used = [], 1
    for col in columns:
        used += narrowest[col] + _COLUMN_EDGE
        if used > width and shown:
            break
        shown.append(col)
    return shown


def _cell(value, formatter, numeric: bool) -> str:
    """A value as table text: a missing number reads ``–``, a missing text is blank."""
    if not isinstance(value, list | tuple | np.ndarray | dict) and is_missing(value):
        return MISSING_CELL if numeric or isinstance(value, float) else ""
    if formatter:
        return formatter(value)
    value = plain_value(value)
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def as_of_caption(years, year: int | None) -> str:
    """The note a table "as of" a year needs where later data stand in (the "as of" rule takes the latest year no
    later than the one asked, else the earliest after it: docs/methods.md, "As of a year"); empty otherwise.

    >>> as_of_caption([2020, 2024, 2017, 2023, 2024], 2020)
    'year 2023, 2024: later data stand in where no source gives 2020 or earlier'
    >>> as_of_caption([2024], None), as_of_caption([2019, float("nan")], 2020)
    ('', '')
    """
    if year is None:
        return ""
    later = sorted({int(y) for y in years if not is_missing(y) and int(y) > year})
    if not later:
        return ""
    return f"year {', '.join(map(str, later))}: later data stand in where no source gives {year} or earlier"


def pct(value) -> str:
    return format_share(value, missing=MISSING_CELL)


def number(value) -> str:
    return format_number(value)

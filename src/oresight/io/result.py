"""What an importer returns: facts, the sources they cite, and the rows it passed over (with why)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oresight.facts import FACT_COLUMNS, KEY_COLUMNS, normalise_facts
from oresight.sources import Source

from .values import ParsedValue, parse_value

__all__ = ["FactRows", "ImportResult", "Skipped", "calc_repeats"]

#: where each fact came from in its file: line number (None where the format has none) and field
ORIGIN_COLUMNS = ("line", "field")


@dataclass(frozen=True)
class Skipped:
    """A row (or column) an importer did not turn into a fact, and why."""

    path: str
    line: int | None
    reason: str


@dataclass
class ImportResult:
    """Facts read from one file, the sources they cite, what was passed over, and where each fact came from
    (``origins``: line and field per fact, aligned with ``facts``) so that checks can name them."""

    facts: pd.DataFrame
    sources: list[Source]
    skipped: list[Skipped] = field(default_factory=list)
    format: str = ""
    path: str = ""
    origins: pd.DataFrame | None = None
    #: what the plausibility rules found and what the errata changed (:func:`oresight.plausibility.review_import`)
    findings: pd.DataFrame | None = None
    corrections: pd.DataFrame | None = None

    def skipped_summary(self, top: int = 10) -> list[tuple[str, int]]:
        """The most common reasons for skipping, with counts."""
        return Counter(s.reason for s in self.skipped).most_common(top)

    def origin(self, position: int) -> tuple[int | None, str | None]:
        """(line, field) of the fact at ``position``, as far as the importer knew them."""
        if self.origins is None or position >= len(self.origins):
            return None, None
        line, field_name = self.origins.iloc[position]
        return (None if pd.isna(line) else int(line)), (field_name or None)


class FactRows:
    """Accumulates fact rows as plain dicts and turns them into a normalised facts table once.

    Each row remembers its line and field: those given to :meth:`add`, else those of the cell :meth:`value`
    parsed last (importers parse a cell, then add the fact it gives).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.rows: list[dict] = []
        self.skipped: list[Skipped] = []
        self._cell: tuple[int | None, str] = (None, "")

    def add(self, *, line: int | None = None, field: str | None = None, **row) -> None:
        row["_line"] = line if line is not None else self._cell[0]
        row["_field"] = field if field is not None else self._cell[1]
        self.rows.append(row)

    def skip(self, line: int | None, reason: str) -> None:
        self.skipped.append(Skipped(self.path, line, reason))

    def value(self, cell: object, line: int | None, field: str, *, estimated: bool = False) -> ParsedValue | None:
        """Parse a value cell; a cell that is not a value is reported as skipped (file, line, field)."""
        self._cell = (line, field)
        try:
            return parse_value(cell, estimated=estimated)
        except ValueError:
            self.skip(line, f"field {field!r}: not a value: {str(cell)[:60]!r}")
            return None

    def result(self, sources: list[Source], fmt: str) -> ImportResult:
        frame = pd.DataFrame(self.rows)
        if len(frame):
            frame = self._without_repeats(frame)
            frame = _separate_clashes(frame)
        origins = (
            frame[["_line", "_field"]].set_axis(list(ORIGIN_COLUMNS), axis=1).reset_index(drop=True)
            if len(frame)
            else pd.DataFrame(columns=list(ORIGIN_COLUMNS))
        )
        return ImportResult(normalise_facts(frame), sources, self.skipped, fmt, self.path, origins)

    def _without_repeats(self, frame: pd.DataFrame) -> pd.DataFrame:
        columns = [c for c in (*FACT_COLUMNS, "qualifier") if c in frame]
        repeated, skipped = calc_repeats(frame, columns, frame["_line"], self.path)
        self.skipped.extend(skipped)
        return frame[~repeated].reset_index(drop=True)


def calc_repeats(frame: pd.DataFrame, columns: list[str], lines: pd.Series, path: str) -> tuple[np.ndarray, list]:
    """Which rows repeat an earlier one in every one of ``columns`` (a repeated row must not double the data),
    and a skipped entry for each naming the line it repeats."""
    repeated = frame.duplicated(columns, keep="first").to_numpy()
    if not repeated.any():
        return repeated, []
    first_line = lines.groupby([frame[c] for c in columns], dropna=False, sort=False).transform("first")
    skipped = [
        Skipped(
            path,
            None if pd.isna(line) else int(line),
            f"the same fact as {'an earlier row' if pd.isna(original) else f'line {int(original)}'} (kept once)",
        )
        for line, original in zip(lines[repeated], first_line[repeated], strict=True)
    ]
    return repeated, skipped


def _separate_clashes(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep rows apart that would share a key.

    The publisher's qualifier tells most apart (two US helium rows, "from natural gas" and "from Cliffside
    Field") and becomes part of their basis. Where a release repeats a statistic without naming the product
    (two blocks of US mica imports), the repeats are numbered in file order and say so in their note.
    """
    key = [c for c in (*KEY_COLUMNS, "source") if c in frame]
    for column in ("basis", "note"):
        frame[column] = frame[column].fillna("") if column in frame else ""
    if "qualifier" in frame:
        clash = frame.duplicated(key, keep=False) & frame["qualifier"].fillna("").ne("")
        frame.loc[clash, "basis"] = frame.loc[clash, "basis"] + " (" + frame.loc[clash, "qualifier"] + ")"
    repeat = frame.groupby(key, dropna=False).cumcount()
    clash = frame.duplicated(key, keep=False)
    if clash.any():
        frame.loc[clash, "basis"] = frame.loc[clash, "basis"] + " (block " + (repeat[clash] + 1).astype(str) + ")"
        frame.loc[clash, "note"] = frame.loc[clash, "note"].fillna("") + (
            "; the release repeats this statistic without naming the product, blocks numbered in file order"
        )
    return frame

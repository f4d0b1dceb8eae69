"""What an importer returns: facts, the sources they cite, and the rows it passed over (with why)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from oresight.facts import KEY_COLUMNS, normalise_facts
from oresight.sources import Source

from .values import ParsedValue, parse_value

__all__ = ["FactRows", "ImportResult", "Skipped"]


@dataclass(frozen=True)
class Skipped:
    """A row (or column) an importer did not turn into a fact, and why."""

    path: str
    line: int | None
    reason: str


@dataclass
class ImportResult:
    facts: pd.DataFrame
    sources: list[Source]
    skipped: list[Skipped] = field(default_factory=list)
    format: str = ""

    def skipped_summary(self, top: int = 10) -> list[tuple[str, int]]:
        """The most common reasons for skipping, with counts."""
        return Counter(s.reason for s in self.skipped).most_common(top)


class FactRows:
    """Accumulates fact rows as plain dicts and turns them into a normalised facts table once."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.rows: list[dict] = []
        self.skipped: list[Skipped] = []

    def add(self, **row) -> None:
        self.rows.append(row)

    def skip(self, line: int | None, reason: str) -> None:
        self.skipped.append(Skipped(self.path, line, reason))

    def value(self, cell: object, line: int, field: str, *, estimated: bool = False) -> ParsedValue | None:
        """Parse a value cell; a cell that is not a value is reported as skipped (file, line, field)."""
        try:
            return parse_value(cell, estimated=estimated)
        except ValueError:
            self.skip(line, f"field {field!r}: not a value: {str(cell)[:60]!r}")
            return None

    def result(self, sources: list[Source], fmt: str) -> ImportResult:
        frame = pd.DataFrame(self.rows)
        if len(frame):
            frame = _separate_clashes(frame)
        return ImportResult(normalise_facts(frame), sources, self.skipped, fmt)


def _separate_clashes(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep rows apart that would share a key.

    The publisher's qualifier tells most apart (two US helium rows, "from natural gas" and "from Cliffside
    Field") and becomes part of their basis. Where a release repeats a statistic without naming the product
    (two blocks of US mica imports), the repeats are numbered in file order and say so in their note.
    """
    key = [c for c in (*KEY_COLUMNS, "source") if c in frame]
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

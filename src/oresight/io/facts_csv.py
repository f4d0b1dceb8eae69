"""oresight's own long format: a CSV of facts (the columns of :mod:`oresight.facts`) and a YAML list of the
sources they cite.

This is how hand-researched figures enter the bundled data (``data/curated/``), and how a user adds numbers of
their own with ``oresight data import FILE.csv --format facts`` (the sources file is ``FILE.sources.yaml`` beside
it unless given). Every row is validated: known commodity, stage, sector, measure, status and unit; a country
name or ISO3 code; numbers where numbers belong; low <= value <= high; a source that the sources file defines.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import ValidationError

from oresight.errors import InputError, UnknownNameError
from oresight.facts import FACT_COLUMNS, STATUSES, VALUELESS_STATUSES
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult
from .text import clean_cell, parse_yaml, read_csv_table, read_text

__all__ = ["read_facts_csv", "read_sources_yaml"]

_REQUIRED = ("commodity", "country", "year", "measure", "value", "unit", "source")
_UNITS = (
    "t",
    "kg",
    "USD",
    "percent",
    "share",
    "index",
    "days",
    "number",
    "factor",
    "carat",
    "m3",
    "l",
    "USD/kg",
    "USD/t",
)


def read_sources_yaml(path: str | Path) -> list[Source]:
    """A YAML list of sources (the fields of :class:`oresight.sources.Source`)."""
    path = Path(path)
    entries = parse_yaml(read_text(path), path)
    if not isinstance(entries, list):
        raise InputError("expected a list of sources", path=path, expected="- id: ...\n  publisher: ...")
    sources = []
    for i, entry in enumerate(entries):
        try:
            sources.append(Source(**entry))
        except (ValidationError, TypeError) as exc:
            field = exc.errors()[0]["loc"][0] if isinstance(exc, ValidationError) else None
            message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise InputError(
                f"source #{i + 1} ({(entry or {}).get('id', '?')}): {message}",
                path=path,
                field=str(field) if field else None,
            ) from None
    return sources


def read_facts_csv(
    path: str | Path, *, sources_path: str | Path | None = None, known_sources: list[Source] = ()
) -> ImportResult:
    """Read a facts CSV; its sources come from ``sources_path`` (default ``<stem>.sources.yaml``) and
    ``known_sources``."""
    path = Path(path)
    sources_path = Path(sources_path) if sources_path else path.with_suffix(".sources.yaml")
    sources = read_sources_yaml(sources_path) if sources_path.exists() else []
    by_id = {s.id: s for s in [*known_sources, *sources]}
    table = read_csv_table(path, required=_REQUIRED)
    unknown_columns = [c for c in table.header if c not in FACT_COLUMNS]
    if unknown_columns:
        raise InputError(
            f"unknown column(s) {unknown_columns}", path=path, line=1, expected=f"columns among {list(FACT_COLUMNS)}"
        )
    out = FactRows(path)
    validator = _RowValidator(path, by_id)
    for line, row in table:
        out.add(**validator(line, row), line=line, field="value")
    used = {r["source"] for r in out.rows}
    return out.result([by_id[s] for s in sorted(used)], "facts")


class _RowValidator:
    def __init__(self, path: Path, sources: dict[str, Source]) -> None:
        self.path = path
        self.sources = sources
        self.tax = load_taxonomy()

    def fail(self, line: int, field: str, message: str, expected: str) -> None:
        raise InputError(message, path=self.path, line=line, field=field, expected=expected)

    def name(self, line, field, value, lookup, kind) -> str:
        if not value:
            return ""
        try:
            return lookup(value)
        except UnknownNameError as exc:
            self.fail(line, field, str(exc), f"a {kind} oresight knows")
            return ""

    def __call__(self, line: int, row: dict[str, str]) -> dict:
        cell = {c: clean_cell(row.get(c, "")) for c in FACT_COLUMNS}
        tax = self.tax
        out = dict(cell)
        out["commodity"] = self.name(line, "commodity", cell["commodity"], lambda v: tax.commodity(v).id, "commodity")
        out["stage"] = self.name(line, "stage", cell["stage"], tax.stage, "stage")
        out["sector"] = self.name(line, "sector", cell["sector"], tax.sector, "sector")
        for field in ("country", "partner"):
            out[field] = self.name(line, field, cell[field], tax.country, "country")
        if cell["country"] == "":
            self.fail(line, "country", "empty country", "an ISO3 code, a country name, WLD or ROW")
        if cell["measure"] not in tax.measures and not any(cell["measure"].startswith(m + "_") for m in tax.measures):
            self.fail(line, "measure", f"unknown measure {cell['measure']!r}", "a measure of measures.csv")
        status = cell["status"] or "reported"
        if status not in STATUSES:
            self.fail(line, "status", f"unknown status {status!r}", f"one of {list(STATUSES)}")
        if cell["unit"] not in _UNITS:
            self.fail(line, "unit", f"unknown unit {cell['unit']!r}", f"one of {list(_UNITS)}")
        if cell["source"] not in self.sources:
            self.fail(
                line,
                "source",
                f"source {cell['source']!r} is not defined",
                f"an id of the sources file ({len(self.sources)} known)",
            )
        try:
            out["year"] = int(cell["year"])
        except ValueError:
            self.fail(line, "year", f"not a year: {cell['year']!r}", "YYYY")
        numbers = {f: self.number(line, f, cell[f]) for f in ("value", "low", "high")}
        if math.isnan(numbers["value"]) and status not in VALUELESS_STATUSES and math.isnan(numbers["high"]):
            self.fail(line, "value", "no value", "a number (or status withheld / net_exporter)")
        low, value, high = numbers["low"], numbers["value"], numbers["high"]
        if (not math.isnan(low) and not math.isnan(value) and low > value) or (
            not math.isnan(high) and not math.isnan(value) and value > high
        ):
            self.fail(line, "value", f"value {value:g} outside [{low:g}, {high:g}]", "low <= value <= high")
        if cell["unit"] == "share" and any(v < 0 or v > 1 for v in (low, value, high) if not math.isnan(v)):
            self.fail(line, "value", "share outside [0, 1]", "a share between 0 and 1")
        out.update(numbers, status=status, flag="")  # flags are the plausibility rules' to set, not the file's
        return out

    def number(self, line: int, field: str, text: str) -> float:
        if text == "":
            return math.nan
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.fail(line, field, f"not a number: {text[:30]!r}", "a finite number")
        return number

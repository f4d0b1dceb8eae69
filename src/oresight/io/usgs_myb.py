"""USGS Minerals Yearbook tables (Excel workbooks, "tables-only release"): world production by country.

The table is laid out for print: title rows, a unit line such as ``(Metric tons, rare-earth oxide
equivalent)``, a header row of years, one row per country with footnote letters and digits glued to the
name (``Australiae``, ``Indiae, 4``, ``China3``), and a marker column after each value (``e`` estimated,
``r`` revised). ``--`` is zero. The row ``Total`` is the world total.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult

__all__ = ["myb_source", "read_myb_world_production"]


def myb_source(commodity_title: str, edition: int, table: str, obtained_from: str = "") -> Source:
    return Source(
        id=f"usgs-myb-{edition}-{commodity_title.lower().replace(' ', '-')}-{table.lower()}",
        series=f"usgs-myb-{commodity_title.lower().replace(' ', '-')}",
        edition=str(edition),
        publisher="U.S. Geological Survey",
        title=f"Minerals Yearbook {edition}: {commodity_title} (tables-only release), table {table}",
        year=edition,
        url="https://www.usgs.gov/centers/national-minerals-information-center/minerals-yearbook-metals-and-minerals",
        licence="Public domain (U.S. Government work)",
        table=table,
        obtained_from=obtained_from,
    )


def _country(label: str, tax) -> tuple[str | None, str]:
    """A country label without its footnote markers, and the status a glued marker gives.

    "Indiae, 4" is India, estimated; "China3" is China; "Ukraine" stays Ukraine although it ends in "e".
    """
    base = re.sub(r"[\d,\s]+$", "", re.sub(r"\s+", " ", str(label)).strip())
    if code := tax.countries.exact(base):
        return code, ""
    if base[-1:] in ("e", "r") and (code := tax.countries.exact(base[:-1])):
        return code, "estimated" if base.endswith("e") else ""
    return tax.countries.resolve(base), ""


def read_myb_world_production(
    path: str | Path, *, sheet: str, commodity: str, stage: str = "mining", edition: int, obtained_from: str = ""
) -> ImportResult:
    """Read a Minerals Yearbook world-production table (one sheet of the workbook)."""
    import openpyxl

    path = Path(path)
    tax = load_taxonomy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # print-area warnings of the USGS workbooks
        try:
            book = openpyxl.load_workbook(path, data_only=True, read_only=True)
        except Exception as exc:
            raise InputError(f"not an Excel workbook ({type(exc).__name__})", path=path) from None
    if sheet not in book.sheetnames:
        raise InputError(f"no sheet {sheet!r}", path=path, expected=f"one of {book.sheetnames}")
    rows = list(book[sheet].iter_rows(values_only=True))
    title = " ".join(str(c) for r in rows[:3] for c in r if c)
    unit_line = next((str(r[0]) for r in rows[:8] if r and isinstance(r[0], str) and r[0].startswith("(")), "")
    factor, basis = _unit(unit_line, path)
    header_index = next(
        (i for i, r in enumerate(rows) if sum(isinstance(c, int) and 1900 < c < 2100 for c in r) >= 2), None
    )
    if header_index is None:
        raise InputError("no header row of years", path=path, field=sheet)
    year_columns = [(j, c) for j, c in enumerate(rows[header_index]) if isinstance(c, int) and 1900 < c < 2100]
    source = myb_source(tax.commodity(commodity).en, edition, sheet, obtained_from)
    out = FactRows(f"{path}:{sheet}")
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        label = row[0]
        if not isinstance(label, str) or not label.strip():
            continue
        if label.strip().lower().startswith(("e", "1", "2", "3", "4", "5", "6")) and "estimated" in label.lower():
            break  # the footnote block
        country, label_status = ("WLD", "") if label.strip().lower() == "total" else _country(label, tax)
        if country is None:
            out.skip(offset, f"row label not a country: {label.strip()[:50]!r}")
            continue
        for j, year in year_columns:
            marker = str(row[j + 1]).strip() if j + 1 < len(row) and row[j + 1] is not None else ""
            parsed = out.value(row[j], offset, str(year), estimated=marker == "e" or label_status == "estimated")
            if parsed is None:
                continue
            parsed = parsed.scaled(factor)
            out.add(
                commodity=commodity,
                stage=stage,
                country=country,
                year=year,
                measure="production",
                value=parsed.value,
                unit="t",
                basis=basis,
                status=parsed.status,
                low=parsed.low,
                high=parsed.high,
                source=source.id,
                note="; ".join(n for n in (parsed.note, "revised" if marker == "r" else "", title[:80]) if n),
            )
    return out.result([source], "usgs-myb")


def _unit(line: str, path: Path) -> tuple[float, str]:
    text = line.strip("() ").lower()
    if text.startswith("metric tons"):
        return 1.0, "t " + text.removeprefix("metric tons").strip(" ,")
    if text.startswith("thousand metric tons"):
        return 1000.0, "t " + text.removeprefix("thousand metric tons").strip(" ,")
    raise InputError(f"unit line not understood: {line!r}", path=path, expected="(Metric tons, ...)")

"""USGS Minerals Yearbook tables (Excel workbooks, "tables-only release"): world production by country, and
the rare-earth contents of source minerals by deposit.

A world-production table is laid out for print: title rows, a unit line such as ``(Metric tons, rare-earth oxide
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

__all__ = ["myb_source", "read_myb_element_contents", "read_myb_world_production"]


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
    path = Path(path)
    tax = load_taxonomy()
    rows = _sheet_rows(path, sheet)
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


def _sheet_rows(path: Path, sheet: str) -> list[tuple]:
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # print-area warnings of the USGS workbooks
        try:
            book = openpyxl.load_workbook(path, data_only=True, read_only=True)
        except Exception as exc:
            raise InputError(f"not an Excel workbook ({type(exc).__name__})", path=path) from None
    if sheet not in book.sheetnames:
        raise InputError(f"no sheet {sheet!r}", path=path, expected=f"one of {book.sheetnames}")
    return list(book[sheet].iter_rows(values_only=True))


def read_myb_element_contents(
    path: str | Path, *, sheet: str = "T2", edition: int, obtained_from: str = ""
) -> ImportResult:
    """Read the table "Rare earth contents of selected source minerals" (percent of total REO by deposit).

    Each deposit row gives, per element, ``mass_fraction`` facts at the mining stage: commodity = the element,
    country = the deposit's, basis "t <oxide> per t REO: <mineral>, <location>", value = percent / 100. "Do."
    repeats the row above; a location continues on the next line; a blank cell is not available (no fact); "<x"
    is an upper bound. The original source of each row (the table's footnotes) goes into the note.
    """
    from oresight.elements import element_oxides

    path = Path(path)
    tax = load_taxonomy()
    rows = _sheet_rows(path, sheet)
    header = next((i for i, r in enumerate(rows) if r and "La" in r and "Dy" in r), None)
    if header is None:
        raise InputError("no header row of element symbols (La ... Y)", path=path, field=sheet)
    symbols = {j: str(c) for j, c in enumerate(rows[header]) if isinstance(c, str) and tax.find_commodity(c)}
    footnotes = {
        m.group(1): m.group(2).strip()
        for r in rows[header:]
        if r and isinstance(r[0], str) and (m := re.match(r"^(\d+)\s*Source:\s*(.+)$", r[0].strip()))
    }
    oxides = element_oxides()
    source = myb_source("Rare earths", edition, sheet, obtained_from)
    source = source.model_copy(
        update={"table": f"{sheet}: rare earth contents of selected source minerals (percentage of total REO)"}
    )
    out = FactRows(f"{path}:{sheet}")
    deposits: list[dict] = []
    mineral = country = ""
    for line, row in enumerate(rows[header + 1 :], start=header + 2):
        label, place = (str(row[0] or "").strip(), str(row[4] or "").strip()) if len(row) > 4 else ("", "")
        values = {s: row[j] for j, s in symbols.items() if j < len(row) and row[j] not in (None, "")}
        if label.lower().startswith(("do., do.", "1table")) or re.match(r"^\d", label):
            break  # the footnote block
        if values:
            mineral = mineral if label.lower() == "do." else label
            named = str(row[2] or "").strip()
            country = country if named.lower() == "do." else (tax.countries.resolve(named) or "")
            if not country:
                out.skip(line, f"not a country: {named[:50]!r}")
                continue
            deposits.append({"line": line, "mineral": mineral, "country": country, "place": place, "values": values})
        elif place and deposits:
            deposits[-1]["place"] += " " + place
    for deposit in deposits:
        place = re.sub(r"\s*\d+$", "", deposit["place"]).strip()
        mark = re.search(r"(\d+)$", deposit["place"])
        origin = footnotes.get(mark.group(1), "") if mark else ""
        for symbol, cell in deposit["values"].items():
            commodity = tax.commodity(symbol).id
            parsed = out.value(cell, deposit["line"], symbol)
            if parsed is None:
                continue
            parsed = parsed.scaled(0.01)
            oxide = oxides.loc[commodity, "oxide"] if commodity in oxides.index else symbol
            out.add(
                commodity=commodity,
                stage="mining",
                country=deposit["country"],
                year=edition,
                measure="mass_fraction",
                value=parsed.value,
                unit="share",
                basis=f"t {oxide} per t REO: {deposit['mineral'].lower()}, {place}",
                status=parsed.status,
                low=parsed.low,
                high=parsed.high,
                source=source.id,
                note="; ".join(n for n in (parsed.note, f"after {origin}" if origin else "") if n),
            )
    return out.result([source], "usgs-myb")


def _unit(line: str, path: Path) -> tuple[float, str]:
    text = line.strip("() ").lower()
    if text.startswith("metric tons"):
        return 1.0, "t " + text.removeprefix("metric tons").strip(" ,")
    if text.startswith("thousand metric tons"):
        return 1000.0, "t " + text.removeprefix("thousand metric tons").strip(" ,")
    raise InputError(f"unit line not understood: {line!r}", path=path, expected="(Metric tons, ...)")

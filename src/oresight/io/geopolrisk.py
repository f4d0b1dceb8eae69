"""The GeoPolRisk method's published test case (a workbook of geopolrisk-py, Koyamparambath et al. 2024).

Sheets read:

* ``Trade Data`` — the importer's imports by exporting country (UN numeric codes), raw material and HS codes:
  trade value (1000 USD), quantity (t) and the normalised political-stability value the method used for the
  exporter (``WGI``: (2.5 − PV)/5 clipped to [0, 1]);
* ``GeoPolRisk`` — the published results per raw material: HHI, domestic production, numerator, total trade,
  weighted trade average, score, characterisation factor.

Imports become ``import_quantity``/``import_value`` facts of the importer by partner, the per-exporter values
``political_risk`` facts, and the results ``geopolrisk_*`` facts, all citing the test case.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult

__all__ = ["geopolrisk_source", "read_geopolrisk_testcase"]

_TRADE_COLUMNS = (
    "Year",
    "Exporting Country",
    "Importing Country",
    "rawMaterial",
    "Resource HSCODE",
    "Trade Value (1000 USD)",
    "Quantity (mTonnes)",
    "WGI",
)
_RESULT_MEASURES = {
    "HHI": "geopolrisk_hhi",
    "Import Risk (WTA)": "geopolrisk_wta",
    "GeoPolRisk Score": "geopolrisk_score",
    "CF": "geopolrisk_cf",
}


def geopolrisk_source(obtained_from: str = "") -> Source:
    return Source(
        id="geopolrisk-testcase-usa-2022",
        series="geopolrisk-testcase",
        edition="2024",
        publisher="A. Koyamparambath et al. (geopolrisk-py), University of Bordeaux",
        title="GeoPolRisk-py reference test case: USA 2022, nickel, manganese, natural graphite "
        "(Journal of Open Source Software, 2024)",
        year=2024,
        url="https://github.com/akoyamp/geopolrisk-py",
        licence="GPL-3.0 (software and test data of geopolrisk-py); facts cited with attribution",
        table="Testing case - tool.xlsx: sheets GeoPolRisk and Trade Data",
        note="Trade from CEPII BACI; production from World Mining Data 2024; WGI political stability 2022",
        obtained_from=obtained_from,
    )


def _sheet(book, name: str, path: Path):
    if name not in book.sheetnames:
        raise InputError(
            f"no sheet {name!r}", path=path, expected=f"a GeoPolRisk test-case workbook ({book.sheetnames})"
        )
    rows = list(book[name].iter_rows(values_only=True))
    if not rows:
        raise InputError(f"sheet {name!r} is empty", path=path, expected="a header row and data")
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    return header, rows[1:]


class _Cells:
    """The numbers of one worksheet row; a cell that is not one is an error naming sheet, line and column."""

    def __init__(self, path: Path, sheet: str, line: int, row: dict) -> None:
        self.path, self.sheet, self.line, self.row = path, sheet, line, row

    def __call__(self, column: str) -> float:
        cell = self.row.get(column)
        try:
            number = float(cell) if not isinstance(cell, bool) else math.nan
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        if not math.isfinite(number):
            raise InputError(
                f"not a number: {str(cell)[:30]!r}",
                path=f"{self.path}:{self.sheet}",
                line=self.line,
                field=column,
                expected="a number",
            )
        return number

    def year(self, column: str) -> int:
        number = self(column)
        if number != int(number):
            raise InputError(f"not a year: {number:g}", path=f"{self.path}:{self.sheet}", line=self.line, field=column)
        return int(number)


def read_geopolrisk_testcase(path: str | Path, *, obtained_from: str = "") -> ImportResult:
    """Read the GeoPolRisk test-case workbook."""
    import openpyxl

    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(path, data_only=True, read_only=True)
        except Exception as exc:
            raise InputError(f"not an Excel workbook ({type(exc).__name__})", path=path) from None
    source = geopolrisk_source(obtained_from)
    tax = load_taxonomy()
    out = FactRows(f"{path}:Trade Data")
    header, rows = _sheet(book, "Trade Data", path)
    missing = [c for c in _TRADE_COLUMNS if c not in header]
    if missing:
        raise InputError(f"missing column(s) {missing}", path=path, line=1, field="Trade Data")
    risk_seen: set[tuple[str, int]] = set()
    for line, values in enumerate(rows, start=2):
        row = dict(zip(header, values, strict=False))
        if row["Year"] is None:
            continue
        number = _Cells(path, "Trade Data", line, row)
        commodity = tax.find_commodity(str(row["rawMaterial"]))
        importer = tax.countries.from_un_code(row["Importing Country"])
        partner = tax.countries.from_un_code(row["Exporting Country"])
        if commodity is None or importer is None or partner is None:
            out.skip(line, f"row not resolved: {row['rawMaterial']!r}, {row['Exporting Country']!r}")
            continue
        year, basis = number.year("Year"), f"HS {row['Resource HSCODE']}"
        common = {
            "commodity": commodity.id,
            "stage": "mining",
            "country": importer,
            "partner": partner,
            "year": year,
            "basis": basis,
            "status": "reported",
            "source": source.id,
        }
        out.add(
            **common,
            measure="import_quantity",
            value=number("Quantity (mTonnes)"),
            unit="t",
            line=line,
            field="Quantity (mTonnes)",
        )
        out.add(
            **common,
            measure="import_value",
            value=number("Trade Value (1000 USD)") * 1000,
            unit="USD",
            line=line,
            field="Trade Value (1000 USD)",
        )
        if (partner, year) not in risk_seen:
            risk_seen.add((partner, year))
            note = (
                (
                    "the test case has no governance value for this partner (Comtrade 490, 'Other Asia, nes'); "
                    "geopolrisk-py counts it as zero risk"
                )
                if number("WGI") == 0
                else ""
            )
            out.add(
                country=partner,
                year=year,
                measure="political_risk",
                value=number("WGI"),
                line=line,
                field="WGI",
                unit="index",
                basis="(2.5 − WGI political stability)/5, clipped to [0, 1]",
                status="reported",
                source=source.id,
                note=note,
            )
    header, rows = _sheet(book, "GeoPolRisk", path)
    for line, values in enumerate(rows, start=2):
        row = dict(zip(header, values, strict=False))
        commodity = tax.find_commodity(str(row.get("Raw Material") or ""))
        importer = tax.countries.resolve(str(row.get("Importer") or ""))
        if commodity is None or importer is None:
            continue
        number = _Cells(path, "GeoPolRisk", line, row)
        for column, measure in _RESULT_MEASURES.items():
            out.add(
                commodity=commodity.id,
                stage="mining",
                country=importer,
                year=number.year("Year"),
                measure=measure,
                value=number(column),
                line=line,
                field=column,
                unit="index",
                basis="published GeoPolRisk result",
                status="reported",
                source=source.id,
                note=f"HS {row['HS CODE']}",
            )
    return out.result([source], "geopolrisk-testcase")

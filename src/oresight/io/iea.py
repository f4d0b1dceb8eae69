"""IEA Critical Minerals Data Explorer (2025 edition: base year 2024, outlook 2030-2050).

Accepted inputs:

* the Data Explorer content converted to JSON (``supply``, ``totalDemand``, ``cleantechByMineral`` blocks);
* the flattened supply table ``mineral, stage, country, year, value, unit`` (top three countries per stage,
  "Rest of world", "Total" and "Top 3 share");
* the flattened demand table ``mineral, series, scenario, year, value_kt_or_share`` (``sector:<name>``,
  ``totalClean``, ``otherUses``, ``totalDemand``, ``cleanShare``);
* the clean-technology demand table ``mineral, scenario, year, demand_kt``.

Supply beyond the base year is the IEA's "base case" from announced projects (status ``projected``,
scenario ``base-case``); demand outlooks carry the IEA scenario (STEPS, APS, NZE). "Top 3 share" and
"cleanShare" are derived by the IEA from the other numbers and are not imported.
"""

from __future__ import annotations

import math
from pathlib import Path

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult
from .text import clean_cell, parse_json, read_csv_table, read_text

__all__ = ["iea_source", "read_iea"]

BASE_YEAR = 2024
_SECTORS = {
    "solar pv": "solar-pv",
    "wind": "wind",
    "other low emissions power generation": "low-emission-power",
    "low emissions power generation": "low-emission-power",
    "electric vehicles": "ev-traction",
    "grid battery storage": "grid-storage",
    "electricity networks": "electricity-networks",
    "hydrogen technologies": "hydrogen",
    "otheruses": "other",
    "totalclean": "clean-technologies",
    "totaldemand": "",
}
_DERIVED = {"top 3 share", "cleanshare"}


def iea_source(edition: int = 2025, obtained_from: str = "", table: str = "") -> Source:
    return Source(
        id=f"iea-cmde-{edition}",
        series="iea-cmde",
        edition=str(edition),
        publisher="International Energy Agency",
        title=f"Critical Minerals Data Explorer ({edition} edition, Global Critical Minerals Outlook {edition})",
        year=edition,
        url="https://www.iea.org/data-and-statistics/data-tools/critical-minerals-data-explorer",
        licence="CC BY 4.0",
        table=table or "supply by country (mining, refining); demand by sector and scenario",
        note="Magnet rare earths = Nd, Pr, Dy, Tb. Refining of rare earths = separation to oxides, not metal or "
        "magnets. Only the top three countries per stage are given; the rest is 'Rest of world'.",
        obtained_from=obtained_from,
    )


def _basis(commodity: str, stage: str, mineral: str) -> str:
    if commodity == "rare-earths":
        return "t magnet rare earths (Nd, Pr, Dy, Tb)" + (" separated" if stage == "refining" else "")
    if commodity == "graphite":
        return "t battery-grade graphite" if stage == "refining" else "t natural graphite"
    return f"t {mineral.lower()} (IEA basis)"


class _Reader:
    def __init__(self, path: Path, source: Source) -> None:
        self.tax = load_taxonomy()
        self.out = FactRows(path)
        self.source = source

    def commodity(self, mineral: str, line: int | None) -> str | None:
        found = self.tax.find_commodity(mineral)
        if found is None:
            self.out.skip(line, f"mineral not in the taxonomy: {mineral!r}")
        return found.id if found else None

    def supply(self, mineral, stage, country_name, year, value_kt, line=None, field="value") -> None:
        if clean_cell(country_name).casefold() in _DERIVED or value_kt is None:
            return
        commodity = self.commodity(mineral, line)
        country = self.tax.countries.resolve(country_name)
        if commodity is None:
            return
        if country is None:
            self.out.skip(line, f"not a country: {clean_cell(country_name)[:60]!r}")
            return
        projected = int(year) > BASE_YEAR
        self.out.add(
            commodity=commodity,
            stage=stage,
            country=country,
            year=int(year),
            measure="production",
            value=float(value_kt) * 1000,
            unit="t",
            basis=_basis(commodity, stage, mineral),
            status="projected" if projected else "estimated",
            scenario="base-case" if projected else "",
            source=self.source.id,
            line=line,
            field=field,
        )

    def demand(self, mineral, series, scenario, year, value_kt, line=None, field="value") -> None:
        key = clean_cell(series).removeprefix("sector:").casefold()
        if key in _DERIVED or value_kt is None or (isinstance(value_kt, float) and math.isnan(value_kt)):
            return
        if key not in _SECTORS:
            self.out.skip(line, f"demand series not understood: {series!r}")
            return
        commodity = self.commodity(mineral, line)
        if commodity is None:
            return
        scenario = "" if clean_cell(scenario).casefold().startswith(("base", "2024")) else clean_cell(scenario)
        self.out.add(
            commodity=commodity,
            country="WLD",
            sector=_SECTORS[key],
            scenario=scenario,
            year=int(year),
            measure="demand",
            value=float(value_kt) * 1000,
            unit="t",
            basis=f"t {mineral.lower()} demand (IEA basis)",
            status="projected" if scenario else "estimated",
            source=self.source.id,
            line=line,
            field=field,
        )


def read_iea(path: str | Path, *, edition: int = 2025, obtained_from: str = "") -> ImportResult:
    """Read any of the IEA Data Explorer files described in the module docstring."""
    path = Path(path)
    source = iea_source(edition, obtained_from)
    reader = _Reader(path, source)
    text = read_text(path)
    if text.lstrip().startswith("{"):
        _read_json(reader, path, text)
    else:
        _read_csv(reader, path, text)
    return reader.out.result([source], "iea")


def _read_json(reader: _Reader, path: Path, text: str) -> None:
    data = parse_json(text, path)
    if not isinstance(data, dict) or not ({"supply", "totalDemand"} & set(data)):
        raise InputError("no 'supply' or 'totalDemand' block", path=path, expected="the Data Explorer JSON")
    json = _Json(path)
    for mineral, stages in json.items(data.get("supply", {}), "supply"):
        for stage, block in json.items(stages, f"supply.{mineral}"):
            where = f"supply.{mineral}.{stage}"
            block = json.mapping(block, where)
            countries = dict(json.items(block.get("countries", {}), f"{where}.countries"))
            countries["Total"] = block.get("total", {})
            for country, by_year in countries.items():
                for year, value in json.items(by_year, f"{where}.{country}"):
                    field = f"{where}.{country}.{year}"
                    reader.supply(
                        mineral, stage, country, json.year(year, field), json.number(value, field), None, field
                    )
    for mineral, block in json.items(data.get("totalDemand", {}), "totalDemand"):
        where = f"totalDemand.{mineral}"
        block = json.mapping(block, where)
        series = {f"sector:{k}": v for k, v in json.items(block.get("sectors", {}), f"{where}.sectors")}
        series.update({k: block[k] for k in ("otherUses", "totalClean", "totalDemand") if k in block})
        for name, values in series.items():
            for scenario, year, value in _scenario_values(json, values, f"{where}.{name}"):
                field = f"{where}.{name}.{scenario}.{year}"
                reader.demand(mineral, name, scenario, json.year(year, field), json.number(value, field), None, field)


class _Json:
    """Checks of the Data Explorer JSON's shape: an error names the path of the part that has the wrong one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def mapping(self, value, where: str) -> dict:
        if not isinstance(value, dict):
            raise InputError(
                f"{type(value).__name__} where an object belongs", path=self.path, field=where, expected="an object"
            )
        return value

    def items(self, value, where: str):
        return self.mapping(value, where).items()

    def year(self, key, where: str) -> int:
        text = str(key).strip()
        if not (text.isdigit() and len(text) == 4):
            raise InputError(f"not a year: {text[:20]!r}", path=self.path, field=where, expected="YYYY")
        return int(text)

    def number(self, value, where: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"not a number: {str(value)[:20]!r}", path=self.path, field=where, expected="a number")
        return float(value)


def _scenario_values(json: _Json, values, where: str):
    """(scenario, year, value) from {"2024": v, "STEPS": {"2030": v, ...}, ...}."""
    for key, item in json.items(values, where):
        if isinstance(item, dict):
            for year, value in item.items():
                yield key, year, value
        else:
            yield "base", key, item


def _read_csv(reader: _Reader, path: Path, text: str) -> None:
    table = read_csv_table(path, text=text)
    header = set(table.header)
    if {"mineral", "stage", "country", "year", "value"} <= header:
        for line, row in table:
            if clean_cell(row.get("unit", "kt")) not in ("kt", "fraction"):
                raise InputError(f"unit {row['unit']!r}", path=path, line=line, field="unit", expected="kt")
            reader.supply(
                row["mineral"],
                row["stage"],
                row["country"],
                _int(row["year"], path, line),
                _float(row["value"], path, line),
                line,
            )
    elif {"mineral", "series", "scenario", "year", "value_kt_or_share"} <= header:
        for line, row in table:
            reader.demand(
                row["mineral"],
                row["series"],
                row["scenario"],
                _int(row["year"], path, line),
                _float(row["value_kt_or_share"], path, line, "value_kt_or_share"),
                line,
                "value_kt_or_share",
            )
    elif {"mineral", "scenario", "year", "demand_kt"} <= header:
        for line, row in table:
            reader.demand(
                row["mineral"],
                "totalClean",
                row["scenario"],
                _int(row["year"], path, line),
                _float(row["demand_kt"], path, line, "demand_kt"),
                line,
                "demand_kt",
            )
    else:
        raise InputError(
            f"columns {table.header} are not an IEA Data Explorer table",
            path=path,
            line=1,
            expected="mineral,stage,country,year,value,unit or mineral,series,scenario,year,...",
        )


def _int(text: str, path: Path, line: int) -> int:
    text = clean_cell(text)
    if not (text.isdigit() and len(text) == 4):
        raise InputError(f"not a year: {text[:20]!r}", path=path, line=line, field="year", expected="YYYY")
    return int(text)


def _float(text: str, path: Path, line: int, field: str = "value") -> float | None:
    text = clean_cell(text)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InputError(f"not a number: {text[:20]!r}", path=path, line=line, field=field, expected="a number")
    return number

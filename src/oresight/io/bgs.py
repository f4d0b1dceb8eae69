"""British Geological Survey, World Mineral Statistics: production by country and year, a second source beside
USGS.

Accepted inputs (both as compiled from the BGS OGC API collection ``world-mineral-statistics``):

* one JSON file per BGS series, ``{statistic: {year: {ISO3: quantity}}}``, named after the series
  (``cobalt-refined.json``; a suffix such as ``.PRODUCTION_ONLY`` is ignored); the unit is the series' BGS unit;
* the long table ``bgs_commodity, slug, stage, statistic, year, iso3, quantity, unit``.

Which BGS series is which oresight commodity and stage, in which unit and on which basis, is data
(``taxonomy/bgs_series.csv``); so are the BGS codes that are not current ISO3 codes (``taxonomy/bgs_countries.csv``).
Only the ``Production`` statistic is imported (imports and exports are trade, and come from customs data). A
country-year BGS does not list is not attested (no fact), never zero. Where BGS compiles every producing country
(``world_total = sum``) the importer adds a ``WLD`` row, the sum of the countries; for by-product metals that only
a few countries report it does not, so no share of world output is made from them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy, normalise_name, read_taxonomy_csv

from .result import FactRows, ImportResult
from .text import clean_cell, parse_json, read_csv_table, read_text

__all__ = ["BGS_SERIES", "bgs_source", "read_bgs"]

BGS_SERIES = "bgs-wms"
_PRODUCTION = "production"
_CSV_COLUMNS = ("bgs_commodity", "year", "iso3", "quantity", "unit")


@dataclass(frozen=True)
class BgsSeries:
    bgs_commodity: str
    slug: str
    commodity: str
    stage: str
    publisher_unit: str
    unit: str
    basis: str
    world_total: str


@functools.cache
def _series() -> dict[str, BgsSeries]:
    """The series of ``taxonomy/bgs_series.csv`` keyed by folded BGS commodity name and by slug."""
    specs = [BgsSeries(**row) for row in read_taxonomy_csv("bgs_series.csv")]
    return {key: s for s in specs for key in (normalise_name(s.bgs_commodity), s.slug)}


@functools.cache
def _country_codes() -> dict[str, str]:
    return {row["bgs_code"]: row["iso3"] for row in read_taxonomy_csv("bgs_countries.csv")}


def bgs_source(edition: int, obtained_from: str = "") -> Source:
    return Source(
        id=f"bgs-wms-{edition}",
        series=BGS_SERIES,
        edition=str(edition),
        publisher="British Geological Survey (UKRI)",
        title=f"World Mineral Statistics: production by country, to {edition}",
        year=edition,
        url="https://ogcapi.bgs.ac.uk/collections/world-mineral-statistics",
        licence="BGS data (c) UKRI; the compiled copy used here is CC BY-NC-SA 4.0 (non-commercial, share-alike)",
        table="statistic Production of the series in taxonomy/bgs_series.csv (gallium primary, germanium metal, "
        "indium refinery, cobalt refined, magnesium metal primary, rare earth oxides, antimony/tungsten/vanadium "
        "mine, graphite, lithium minerals, platinum group metals mine, rhenium)",
        note="year = the latest year of data. BGS compiles national returns and its own estimates; the compiled "
        "copy does not say which figure is which. WLD rows are sums of the listed countries, and only for series "
        "where BGS lists every producer.",
        obtained_from=obtained_from,
    )


def _convert(spec: BgsSeries, path: Path) -> float:
    """Factor from the BGS unit to the series' unit (t -> kg where USGS counts the metal in kilograms)."""
    publisher = load_taxonomy().convert_unit(spec.publisher_unit)
    if publisher.unit == spec.unit:
        return publisher.factor
    scale = {("t", "kg"): 1000.0, ("kg", "t"): 0.001}.get((publisher.unit, spec.unit))
    if scale is None:
        raise InputError(f"cannot convert {spec.publisher_unit!r} to {spec.unit!r}", path=path, field="unit")
    return publisher.factor * scale


class _Reader:
    def __init__(self, path: Path, source: Source) -> None:
        self.path = path
        self.tax = load_taxonomy()
        self.out = FactRows(path)
        self.source = source
        self.totals: dict[tuple[BgsSeries, int], list[float]] = {}

    def spec(self, name: str, line: int | None) -> BgsSeries | None:
        spec = _series().get(normalise_name(name)) or _series().get(clean_cell(name))
        if spec is None:
            raise InputError(
                f"BGS series {name!r} is not in taxonomy/bgs_series.csv",
                path=self.path,
                line=line,
                field="bgs_commodity",
            )
        if spec.commodity == "-":
            self.out.skip(line, f"series not imported: {spec.basis}")
            return None
        return spec

    def add(self, spec: BgsSeries, statistic: str, year: object, code: object, cell: object, line: int | None) -> None:
        if normalise_name(statistic) != _PRODUCTION:
            self.out.skip(line, f"statistic {clean_cell(statistic)!r} not imported (trade comes from customs data)")
            return
        year = _year(year, self.path, line)
        code = clean_cell(str(code)).upper()
        country = _country_codes().get(code) or self.tax.countries.resolve(code)
        if country is None:
            self.out.skip(line, f"not a country code: {code[:20]!r}")
            return
        parsed = self.out.value(cell, line or 0, "quantity")
        if parsed is None:
            return
        if not math.isfinite(parsed.value) or parsed.value < 0:
            self.out.skip(line, f"field 'quantity': not a production figure: {str(cell)[:30]!r}")
            return
        value = parsed.value * _convert(spec, self.path)
        self.out.add(
            commodity=spec.commodity,
            stage=spec.stage,
            country=country,
            year=year,
            measure="production",
            value=value,
            unit=spec.unit,
            basis=spec.basis,
            status="reported",
            source=self.source.id,
            note=f"BGS {spec.bgs_commodity}",
        )
        if spec.world_total == "sum":
            self.totals.setdefault((spec, year), []).append(value)

    def result(self) -> ImportResult:
        for (spec, year), values in sorted(self.totals.items(), key=lambda item: (item[0][0].slug, item[0][1])):
            self.out.add(
                commodity=spec.commodity,
                stage=spec.stage,
                country="WLD",
                year=year,
                measure="production",
                value=math.fsum(values),
                unit=spec.unit,
                basis=spec.basis,
                status="estimated",
                source=self.source.id,
                note=f"sum of the {len(values)} countries BGS lists (BGS {spec.bgs_commodity})",
            )
        return self.out.result([self.source], "bgs")


def read_bgs(path: str | Path, *, edition: int | None = None, obtained_from: str = "") -> ImportResult:
    """Read a BGS World Mineral Statistics file (see the module docstring). ``edition``: the source's edition,
    by default the latest year in the file."""
    path = Path(path)
    text = read_text(path)
    parse = _json_records if text.lstrip().startswith("{") else _csv_records
    records = list(parse(path, text))
    if not records:
        raise InputError("no BGS records", path=path, expected="production by country and year")
    years = [_year(r[2], path, r[5]) for r in records]
    reader = _Reader(path, bgs_source(edition or max(years), obtained_from))
    for name, statistic, year, code, cell, line in records:
        spec = reader.spec(name, line)
        if spec is not None:
            reader.add(spec, statistic, year, code, cell, line)
    return reader.result()


def _json_records(path: Path, text: str):
    """(series, statistic, year, code, quantity, line) from ``{statistic: {year: {code: quantity}}}``."""
    data = parse_json(text, path)  # strict: no NaN/Infinity, no repeated keys, deep nesting an error
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InputError("not a BGS series file", path=path, expected='{"Production": {"2024": {"CHN": 1.0}}}')
    name = path.name.split(".")[0]
    for statistic, by_year in data.items():
        for year, by_country in by_year.items():
            if not isinstance(by_country, dict):
                raise InputError(f"year {year!r} of {statistic!r} holds no countries", path=path, field=statistic)
            for code, quantity in by_country.items():
                yield name, statistic, year, code, quantity, None


def _csv_records(path: Path, text: str):
    table = read_csv_table(path, text=text, required=_CSV_COLUMNS)
    for line, row in table:
        spec = _series().get(normalise_name(row["bgs_commodity"]))
        if spec is not None and clean_cell(row["unit"]) != spec.publisher_unit:
            raise InputError(
                f"unit {row['unit']!r} for {row['bgs_commodity']!r}",
                path=path,
                line=line,
                field="unit",
                expected=spec.publisher_unit,
            )
        yield row["bgs_commodity"], row.get("statistic", "Production"), row["year"], row["iso3"], row["quantity"], line


def _year(text: object, path: Path, line: int | None) -> int:
    try:
        year = int(clean_cell(str(text)))
    except ValueError:
        raise InputError(f"not a year: {text!r}", path=path, line=line, field="year", expected="YYYY") from None
    if not 1900 <= year <= 2100:
        raise InputError(f"year {year} out of range", path=path, line=line, field="year", expected="1900-2100")
    return year

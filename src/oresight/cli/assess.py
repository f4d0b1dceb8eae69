"""``oresight assess``: rank commodities and stages by supply risk for an importer, with published methods."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from .render import OutputFormat, as_of_caption, console, emit_frame, emit_json, number, pct, rich_table


class AssessFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


class MethodChoice(enum.StrEnum):
    concentration = "concentration"
    geopolrisk = "geopolrisk"
    eu = "eu"
    usgs = "usgs"
    all = "all"


JSON_COLUMNS = [
    "commodity",
    "stage",
    "year",
    "importer",
    "hhi",
    "hhi_low",
    "hhi_high",
    "effective_suppliers",
    "top_country",
    "top_share",
    "top3_share",
    "n_minus_1",
    "importer_share",
    "governance_hhi",
    "crma_benchmark_exceeded",
    "bottleneck",
    "import_reliance",
    "import_reliance_low",
    "import_reliance_high",
    "import_reliance_method",
    "derived_import_reliance",
    "import_top_partner",
    "import_top_share",
    "import_top_partner_method",
    "dependence_sources",
    "dependence_notes",
    "import_hhi",
    "vulnerability",
    "reason",
    "year_note",
    "source",
]


def assess(
    commodities: Annotated[list[str] | None, typer.Argument(help="Commodities (default: all with data).")] = None,
    importer: Annotated[
        str, typer.Option("--importer", "-i", help="Country or bloc: US, JP, US+JP, EU, G7 ...")
    ] = "US+JP",
    year: Annotated[int | None, typer.Option("--year", "-y", help="Year (default: latest data).")] = None,
    stage: Annotated[str | None, typer.Option("--stage", "-s", help="Only this stage.")] = None,
    method: Annotated[MethodChoice, typer.Option("--method", "-m", help="Scores to compute.")] = MethodChoice.all,
    fmt: Annotated[AssessFormat, typer.Option("--format", "-f", help="Output format.")] = AssessFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File for --format parquet.")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Factor breakdown and sources of one commodity.")] = False,
    edition: Annotated[str | None, typer.Option("--edition", help="Prefer this edition of each publication.")] = None,
    top: Annotated[int, typer.Option("--top", help="Rows in the table view.")] = 25,
    sourcing: Annotated[
        Path | None,
        typer.Option("--sourcing", help="A company's supply mix (CSV: partner, commodity, tonnes): its GeoPolRisk."),
    ] = None,
) -> None:
    """Supply risk per commodity and stage for an importer: concentration (HHI, top shares, N-1), dependence,
    and the GeoPolRisk, EU and USGS-style scores side by side, each with its interval and sources."""
    import oresight
    from oresight.assess import METHOD_CHOICES
    from oresight.assess import assess as run_assess
    from oresight.assess import explain as run_explain
    from oresight.errors import InputError

    methods = list(METHOD_CHOICES) if method == MethodChoice.all else ["concentration", method.value]
    world = oresight.load(year, edition=edition)
    if sourcing is not None:
        _assess_sourcing(world, sourcing, year, fmt)
        return
    if explain:
        if not commodities or len(commodities) != 1:
            raise InputError("--explain needs exactly one commodity", expected="oresight assess rare-earths --explain")
        detail = run_explain(world, commodities[0], importer, year, stage, methods)
        if fmt == AssessFormat.json:
            emit_json(detail)
        else:
            _render_explanation(detail, world)
        return
    table = run_assess(world, importer, year, commodities, [stage] if stage else None, methods)
    scores = [m for m in methods if m != "concentration"]
    columns = JSON_COLUMNS + [c for m in scores for c in (m, f"{m}_low", f"{m}_high")]
    table = table[[c for c in columns if c in table.columns]]
    if fmt == AssessFormat.parquet:
        if output is None:
            raise InputError("--format parquet writes a file", expected="--output PATH")
        table.to_parquet(output, index=False)
        console.print(f"wrote {len(table)} rows to {output}")
        return
    if fmt != AssessFormat.table:
        emit_frame(table, OutputFormat(fmt.value))
        return
    shown = [
        "commodity",
        "stage",
        "year",
        "hhi",
        "top_country",
        "top_share",
        "n_minus_1",
        "import_reliance",
        *scores,
        "reason",
    ]
    console.print(
        rich_table(
            table.head(top),
            title=f"Supply risk for {table['importer'].iat[0] if len(table) else importer}"
            f" — {len(table)} commodity stages, top {min(top, len(table))} by vulnerability",
            columns=shown,
            caption=as_of_caption(table.head(top)["year"], year),
            formatters={
                "top_share": pct,
                "n_minus_1": pct,
                "import_reliance": pct,
                "hhi": lambda v: f"{v:.2f}",
                **dict.fromkeys(scores, number),
            },
        )
    )


def _assess_sourcing(world, path: Path, year: int | None, fmt: AssessFormat) -> None:
    from oresight.io.sourcing import read_sourcing
    from oresight.raw_materials import company_geopolrisk

    table = company_geopolrisk(world, read_sourcing(path), year)
    if fmt in (AssessFormat.json, AssessFormat.csv):
        emit_frame(table, OutputFormat(fmt.value))
        return
    console.print(
        rich_table(
            table,
            title=f"GeoPolRisk of the supply mix in {path.name} (World Mining Data {table['year'].iat[0]})",
            columns=["commodity", "raw_material", "hhi", "wta", "score", "price_usd_per_kg", "cf", "imports_t"],
            formatters=dict.fromkeys(("hhi", "wta", "score", "price_usd_per_kg", "cf"), number),
        )
    )


def _render_explanation(detail: dict, world) -> None:
    names = world.tax.countries
    console.rule(f"[bold]{detail['commodity']}[/] for {detail['importer']} ({', '.join(detail['members'])})")
    for stage in detail["stages"]:
        metrics = stage["metrics"]
        suppliers = ", ".join(f"{names.name(c)} {100 * s:.1f}%" for c, s in stage["top_suppliers"].items())
        console.print(f"[bold]{stage['stage']}[/] ({stage['year']}, {stage['supply_source']}): {suppliers}")
        console.print(
            f"  HHI {metrics['hhi']:.3f}, effective suppliers {metrics['effective_suppliers']:.2f}, "
            f"N-1 {100 * metrics['n_minus_1']:.1f}%, governance-weighted HHI {metrics['governance_hhi']:.2f}"
            + (", above the CRMA 65% benchmark" if metrics["crma_benchmark_exceeded"] else "")
            + (", bottleneck of the chain" if metrics["bottleneck"] else ""),
            highlight=False,
        )
        for result in stage["methods"].values():
            if result["score"] is None:
                console.print(f"  {result['name']}: not attested ({'; '.join(result['notes']) or 'inputs missing'})")
                continue
            factors = ", ".join(f"{k} {number(v)}" for k, v in result["factors"].items() if isinstance(v, float))
            console.print(
                f"  {result['name']} [dim]{result['version']}[/]: [bold]{number(result['score'])}[/] "
                f"[{number(result['low'])}, {number(result['high'])}]; {factors}",
                highlight=False,
            )
            contributions = result.get("contributions") or {}
            if contributions:
                console.print(
                    "    largest contributions: "
                    + ", ".join(f"{names.name(c)} {number(v)}" for c, v in list(contributions.items())[:5]),
                    highlight=False,
                )
            for note in result["notes"]:
                console.print(f"    [dim]note: {note}[/]")
    console.print("[dim]Sources:[/]")
    for source in detail["sources"]:
        console.print(
            f"[dim]  {source['id']}: {source['publisher']}, {source['title']} ({source['year']})[/]", highlight=False
        )

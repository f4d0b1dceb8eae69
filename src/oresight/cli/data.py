"""``oresight data``: list, show, sources, import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .render import OutputFormat, console, emit_frame, emit_json, err_console, number, pct, records, rich_table

app = typer.Typer(help="Browse the bundled data and import newer releases.", no_args_is_help=True)

FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
EditionOption = Annotated[
    str | None,
    typer.Option("--edition", help="Use this edition of each publication that has it (e.g. 2025 for USGS MCS 2025)."),
]


def _world(edition: str | None = None, year: int | None = None):
    import oresight

    return oresight.load(year, edition=edition)


@app.command("list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """Commodities with data: names, stages, years and number of sources."""
    from oresight.tables import commodity_list

    frame = commodity_list(_world())
    emit_frame(
        frame,
        fmt,
        title="Commodities with data",
        columns=["commodity", "name", "name_de", "stages", "years", "facts", "sources"],
    )


@app.command("show")
def show(
    commodity: Annotated[
        str, typer.Argument(help="Commodity id or name, English or German (e.g. rare-earths, Kobalt).")
    ],
    stage: Annotated[str | None, typer.Option("--stage", "-s", help="Stage: mining, refining, metal, magnet.")] = None,
    year: Annotated[int | None, typer.Option("--year", "-y", help="Year (default: latest with data).")] = None,
    edition: EditionOption = None,
    measure: Annotated[
        str, typer.Option("--measure", "-m", help="production, capacity, reserves, share ...")
    ] = "production",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Country values of a commodity by stage, with unit, basis, status, share and source."""
    from oresight.tables import stage_table

    world = _world(edition)
    frame = stage_table(world, commodity, stage, year, measure)
    if fmt != OutputFormat.table:
        emit_frame(frame, fmt)
        return
    for (stage_id, role, series), part in frame.groupby(["stage", "role", "series"], sort=False):
        unit, basis = part["unit"].iat[0], part["basis"].iat[0]
        years = "–".join(str(y) for y in sorted({int(part["year"].min()), int(part["year"].max())}))
        basis = basis if role != "published" else "as each source words it"
        name = world.tax.commodities[part["commodity"].iat[0]].en
        title = f"{name} — {stage_id} — {years} ({unit}; {basis}){_ROLE_TITLES.get(role, '').format(series=series)}"
        columns = ["country", "country_name", "value", "low", "high", "share", "status", "source"]
        if role == "estimate":
            part = part.assign(source=part["source"].str.count(";").add(1).astype(str) + " sources, below")
        if role == "published":
            columns = ["country", "country_name", "year", "value", "low", "high", "status", "source", "note"]
        console.print(
            rich_table(
                part,
                title=title,
                columns=columns,
                formatters={"value": pct if unit == "share" else number, "share": pct}
                | ({"low": pct, "high": pct} if unit == "share" else {"low": number, "high": number}),
            )
        )


_ROLE_TITLES = {
    "preferred": " — {series}, the preferred series; low/high span the other sources",
    "compared": " — {series}, shown beside for comparison",
    "estimate": " — combined estimate of the published figures",
    "published": " — the published figures behind it",
}


@app.command("sources")
def sources(fmt: FormatOption = OutputFormat.table) -> None:
    """The sources registry: publisher, title, edition, year, licence, link and how many facts cite each."""
    from oresight.tables import sources_table

    frame = sources_table(_world())
    if fmt == OutputFormat.table:
        emit_frame(frame, fmt, title="Sources", columns=["id", "publisher", "title", "year", "licence", "facts"])
    else:
        emit_frame(frame, fmt)


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="File to import (a newer release of a supported publication).")],
    fmt: Annotated[str, typer.Option("--format", help="Importer (auto: detect from the header).")] = "auto",
    store: Annotated[
        Path | None, typer.Option("--store", help="Store file (default $ORESIGHT_HOME/oresight.duckdb).")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help="Report format.")] = OutputFormat.table,
) -> None:
    """Load a newer release into your local store; the bundled data stay untouched."""
    from oresight import io as importers
    from oresight.errors import InputError
    from oresight.store import Store

    if fmt != "auto" and fmt not in importers.FORMATS:
        raise InputError(f"unknown format {fmt!r}", expected=f"one of auto, {', '.join(importers.FORMATS)}")
    name = importers.detect_format(path) if fmt == "auto" else fmt
    result = importers.read(path, name)
    if result.facts.empty:
        raise InputError("no facts could be read", path=path, expected=importers.FORMATS[name].description)
    with Store.open(store) as db:
        import_id = db.add_import(path, name, result.facts, result.sources, len(result.skipped))
        store_path = db.path
    report = {
        "import_id": import_id,
        "store": str(store_path),
        "format": name,
        "facts": len(result.facts),
        "sources": [s.id for s in result.sources],
        "skipped": len(result.skipped),
        "skipped_reasons": dict(result.skipped_summary()),
    }
    if output == OutputFormat.json:
        emit_json(report)
        return
    console.print(
        f"imported [bold]{len(result.facts)}[/] facts from {path} as [bold]{name}[/] into {store_path} "
        f"(import #{import_id}); sources: {', '.join(report['sources'])}"
    )
    if result.skipped:
        err_console.print(f"{len(result.skipped)} rows skipped:")
        for reason, count in result.skipped_summary():
            err_console.print(f"  {count:5d}  {reason}")


__all__ = ["app", "records"]


@app.command("projects")
def projects(
    commodity: Annotated[
        str | None, typer.Option("--commodity", "-c", help="Only this planned commodity (ndpr, Dy, gallium ...).")
    ] = None,
    candidates: Annotated[bool, typer.Option("--candidates", help="Only projects the planner may choose.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The project pipeline outside China: stage, capacity in the chain's basis (with the conversion), status,
    start, capex, public finance, offtakes and the source of each figure."""
    from oresight.plan.projects import load_projects
    from oresight.tables import project_table

    frame = project_table(load_projects(candidates_only=candidates), commodity)
    if fmt == OutputFormat.table:
        emit_frame(
            frame,
            fmt,
            title="Project pipeline (capacity in the planning chain's basis; see `--format json` for every field)",
            columns=[
                "project",
                "country",
                "stage",
                "commodity",
                "capacity_t",
                "basis",
                "status",
                "start_year",
                "capex_usd",
                "source",
            ],
            formatters={
                "capacity_t": number,
                "capex_usd": lambda v: f"{v / 1e6:,.0f}m",
                "start_year": lambda v: f"{v:.0f}",
            },
        )
    else:
        emit_frame(frame, fmt)

"""``oresight data``: list, show, sources, import."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer

from . import render
from .render import FormatOption, OutputFormat, emit_frame, emit_json, number, pct, rich_table

app = typer.Typer(help="Browse the bundled data and import newer releases.", no_args_is_help=True)

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
        columns += ["flag"] * bool((part["flag"] != "").any())  # plausibility flags, where a fact has one
        render.console.print(
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


StoreOption = Annotated[
    Path | None, typer.Option("--store", help="Store file (default $ORESIGHT_HOME/oresight.duckdb).")
]


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="File to import (a newer release of a supported publication).")],
    fmt: Annotated[str, typer.Option("--format", help="Importer (auto: detect from the header).")] = "auto",
    store: StoreOption = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help="Report format.")] = OutputFormat.table,
) -> None:
    """Load a newer release into your local store; the bundled data stay untouched. Every number is checked:
    impossible ones are not imported, implausible ones are corrected by a documented erratum or flagged."""
    from oresight import io as importers
    from oresight.errors import InputError
    from oresight.plausibility import review_import
    from oresight.store import Store

    if fmt != "auto" and fmt not in importers.FORMATS:
        raise InputError(f"unknown format {fmt!r}", expected=f"one of auto, {', '.join(importers.FORMATS)}")
    name = importers.detect_format(path) if fmt == "auto" else fmt
    result = importers.read(path, name)
    if result.facts.empty:
        raise InputError("no facts could be read", path=path, expected=importers.FORMATS[name].description)
    result = review_import(result, _world_at(store).all_facts)
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
        "flagged": dict(result.findings["rule"].value_counts()) if len(result.findings) else {},
        "corrected": int((result.corrections["action"] != "drop").sum()),
    }
    if output == OutputFormat.json:
        emit_json(report)
        return
    render.console.print(
        f"imported [bold]{len(result.facts)}[/] facts from {path} as [bold]{name}[/] into {store_path} "
        f"(import #{import_id}); sources: {', '.join(report['sources'])}"
    )
    if report["corrected"] or report["flagged"]:
        flags = ", ".join(f"{count} {rule}" for rule, count in report["flagged"].items()) or "none"
        render.err_console.print(
            f"plausibility: {report['corrected']} facts corrected by errata, flagged: {flags} "
            f"(oresight data problems lists them)"
        )
    if result.skipped:
        render.err_console.print(f"{len(result.skipped)} rows skipped:")
        for reason, count in result.skipped_summary():
            render.err_console.print(f"  {count:5d}  {reason}")


def _world_at(store: Path | None):
    """The World of the bundled data and the given (or default) store, to check an import against."""
    import oresight

    return oresight.load(store=store or True)


@app.command("imports")
def imports(store: StoreOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Your imports: id, file, format, when, how many facts, skipped rows and flagged facts."""
    import pandas as pd

    from oresight.store import Store

    local = Store.open(store, read_only=True)
    columns = ["id", "file", "format", "imported_at", "facts", "skipped", "flagged"]
    if local is None:
        frame = pd.DataFrame(columns=[*columns, "path", "sha256"])
    else:
        with local:
            frame = local.imports()
        frame["imported_at"] = frame["imported_at"].dt.strftime("%Y-%m-%d %H:%M:%S UTC")
        frame.insert(1, "file", [Path(p).name for p in frame["path"]])
    if fmt != OutputFormat.table:
        emit_frame(frame, fmt)
        return
    render.console.print(
        rich_table(frame, title="Imports in your local store", columns=columns, keep_whole=("id", "file", "format"))
    )


@app.command("remove")
def remove(
    import_id: Annotated[int, typer.Argument(help="Id of the import (see `oresight data imports`).")],
    store: StoreOption = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help="Report format.")] = OutputFormat.table,
) -> None:
    """Take one import back: its facts and sources leave the store, which is then as it was before it."""
    from oresight.errors import OresightError
    from oresight.store import Store

    local = Store.open(store, create=False)
    if local is None:
        raise OresightError(f"no local store at {store or 'the default location'}: nothing was imported")
    with local:
        row = local.remove_import(import_id)
    report = {"removed": import_id, "path": row["path"], "facts": int(row["facts"]), "store": str(local.path)}
    if output == OutputFormat.json:
        emit_json(report)
    else:
        render.console.print(
            f"removed import #{import_id} ({row['path']}, {int(row['facts'])} facts) from {local.path}"
        )


@app.command("problems")
def problems(
    commodity: Annotated[str | None, typer.Option("--commodity", "-c", help="Only this commodity.")] = None,
    rule: Annotated[
        str | None, typer.Option("--rule", "-r", help="Only this rule (see taxonomy/plausibility.csv).")
    ] = None,
    store: StoreOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """What the plausibility rules find in the bundled data and in your imports: facts kept but flagged, facts
    an erratum corrected or dropped, each with its rule and what was found."""
    from oresight.plausibility import load_rules, problems_table

    known = {r.rule for r in load_rules()}
    if rule and rule not in known:
        from oresight.errors import UnknownNameError

        raise UnknownNameError("rule", rule, difflib.get_close_matches(rule, sorted(known)))
    world = _world_at(store)
    frame = problems_table(world, _bundled_corrections())
    if commodity:
        frame = frame[frame["commodity"] == world.resolve(commodity)[0]]
    if rule:
        frame = frame[frame["rule"] == rule]
    if fmt != OutputFormat.table:
        emit_frame(frame, fmt)
        return
    counts = frame.groupby(["status", "rule"]).size()
    summary = "; ".join(f"{n} {status} ({r})" for (status, r), n in counts.items()) or "no problems found"
    grouped = _grouped(frame)
    columns = ["origin"] * bool((grouped["origin"] != "bundled").any()) + [
        "status",
        "rule",
        "commodity",
        "measure",
        "facts",
        "example",
    ]
    render.console.print(
        rich_table(
            grouped,
            title="Plausibility: what the rules found (a row per table; --format json lists every fact)",
            caption=summary,
            columns=columns,
            keep_whole=("status", "rule"),
        )
    )


def _grouped(frame):
    """One row per origin, status, rule, commodity, measure and source: how many facts, where, and one example."""
    import pandas as pd

    keys = ["origin", "status", "rule", "commodity", "measure", "source"]
    frame = frame.fillna({k: "" for k in keys})
    rows = []
    for key, group in frame.groupby(keys, sort=False):
        row = dict(zip(keys, key, strict=True))
        places = sorted({str(c) for c in group["country"].dropna() if c})
        where = ", ".join(places[:3]) + (f" +{len(places) - 3}" if len(places) > 3 else "")
        example = "; ".join(t for t in (row["source"], where, str(group["detail"].iat[0])) if t)
        rows.append({**row, "facts": len(group), "example": example})
    return pd.DataFrame(rows, columns=[*keys, "facts", "example"])


def _bundled_corrections() -> list[dict]:
    """The errata the build applied to the bundled data (from its manifest)."""
    import json
    from importlib import resources

    text = resources.files("oresight").joinpath("data/manifest.json").read_text(encoding="utf-8")
    return json.loads(text).get("plausibility", {}).get("errata applied", [])


__all__ = ["app"]


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

"""``oresight brief``: one screen on the rare-earth chain and the most concentrated stages, with sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from oresight.formatting import format_fixed, format_number

from .render import MISSING_CELL, NestedFormat, as_of_caption, console, emit_json, pct, records, rich_table


def brief(
    year: Annotated[int | None, typer.Option("--year", "-y", help="As of this year (default: latest data).")] = None,
    edition: Annotated[str | None, typer.Option("--edition", help="Prefer this edition of each publication.")] = None,
    importer: Annotated[str, typer.Option("--importer", "-i", help="Importer of the vulnerability table.")] = "US+JP",
    fmt: Annotated[NestedFormat, typer.Option("--format", "-f", help="table or json.")] = NestedFormat.table,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Write the brief with its charts to this self-contained HTML file instead.", dir_okay=False
        ),
    ] = None,
    plan: Annotated[
        bool | None,
        typer.Option(
            "--plan/--no-plan",
            help="HTML brief: solve the importer's default plan if need be (--plan) or leave it out (--no-plan); "
            "by default a plan solved before is shown.",
        ),
    ] = None,
) -> None:
    """The main job: where the rare-earth chain is concentrated, stage by stage, and which stages of all
    commodities are the most concentrated — every figure with its source."""
    import oresight
    from oresight.briefing import make_brief

    world = oresight.load(year, edition=edition)
    if html is not None:
        _write_html(world, html, importer, year, plan)
        return
    content = make_brief(world, year, importer)
    if fmt == NestedFormat.json:
        stress = content["stress_test"]
        content["stress_test"] = {k: records(v) if isinstance(v, pd.DataFrame) else v for k, v in stress.items()}
        emit_json({k: records(v) if isinstance(v, pd.DataFrame) else v for k, v in content.items()})
        return
    _render(content)


def _write_html(world, path: Path, importer: str, year: int | None, plan: bool | None) -> None:
    from oresight.errors import OresightError
    from oresight.plan.cache import brief_bundle
    from oresight.report.html import write_brief_html
    from oresight.store import default_home

    if not path.parent.is_dir():
        raise OresightError(f"cannot write {path}: the folder {path.parent} does not exist")
    with console.status("Solving the plan (once; it is kept in the oresight home)…" if plan else "Reading the plan…"):
        bundle = brief_bundle(world, importer, default_home(), plan)
    with console.status("Writing the HTML brief (stress test: 1,000 samples)…"):
        written = write_brief_html(world, path, importer, year, plan=bundle)
    console.print(f"Wrote {written} ({written.stat().st_size / 1e6:.1f} MB); it opens in a browser without a network.")


def _render(content: dict) -> None:
    console.rule(f"[bold]oresight brief[/] — {content['title']}")

    def as_of(table: pd.DataFrame) -> str:
        return as_of_caption(table["year"], content.get("year"))

    console.print(
        rich_table(
            content["chain"],
            title="Rare-earth chain by stage",
            columns=["stage", "year", "top_countries", "china_share", "hhi", "basis", "source"],
            formatters={"china_share": pct, "hhi": format_fixed},
            caption=as_of(content["chain"]),
        )
    )
    console.print(
        rich_table(
            content["concentration"],
            title="Most concentrated stages across all commodities (HHI, 0-1)",
            columns=["commodity", "stage", "year", "hhi", "top_country", "top_share", "source"],
            formatters={"top_share": pct, "hhi": format_fixed},
            caption=as_of(content["concentration"]),
        )
    )
    ranking = (
        "ranked by the largest third-country share × the share of world output the importer does not make; "
        "eu = EU supply risk (JRC 2017 method)"
    )
    console.print(
        rich_table(
            content["vulnerabilities"],
            title=f"Top vulnerabilities for {content['importer']}",
            columns=["commodity", "stage", "year", "reason", "hhi", "eu"],
            formatters={"hhi": format_fixed, "eu": format_fixed},
            caption="; ".join(c for c in (ranking, as_of(content["vulnerabilities"])) if c),
        )
    )
    _render_stress(content["stress_test"])
    console.print("[dim]Sources:[/]")
    for source in content["sources"]:
        console.print(
            f"[dim]  {source['id']}: {source['publisher']}, {source['title']} ({source['year']}); "
            f"{source['licence']}[/]",
            highlight=False,
        )


def _render_stress(test: dict) -> None:
    """The stress-test table: what the latest real export control would cost each importer."""
    table = test["table"].assign(shortfall=lambda f: [_shortfall(row) for row in f.itertuples()])
    console.print(
        rich_table(
            table,
            title=f"Stress test: {test['scenario']} (event of {test['event_date']}), {test['samples']:,} samples",
            columns=["importer", "stage", "shortfall", "shortfall_share_p50", "worst_month_share_p50", "main_cause"],
            formatters={"shortfall_share_p50": pct, "worst_month_share_p50": pct},
            caption="shortfall of final demand over the scenario's horizon, P50 (P5 – P95); "
            f"`oresight simulate {test['scenario']}` for the full run",
        )
    )


def _shortfall(row) -> str:
    """P50 (P5 – P95) with the unit; where the simulator could not model the importer, why."""
    if pd.isna(row.shortfall_p50):
        return row.note or MISSING_CELL
    p5, p50, p95 = (format_number(v) for v in (row.shortfall_p5, row.shortfall_p50, row.shortfall_p95))
    return f"{p50} ({p5} – {p95}) {row.unit}"

"""``oresight brief``: one screen on the rare-earth chain and the most concentrated stages, with sources."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from .render import OutputFormat, console, emit_json, pct, records, rich_table


def brief(
    year: Annotated[int | None, typer.Option("--year", "-y", help="As of this year (default: latest data).")] = None,
    edition: Annotated[str | None, typer.Option("--edition", help="Prefer this edition of each publication.")] = None,
    importer: Annotated[str, typer.Option("--importer", "-i", help="Importer of the vulnerability table.")] = "US+JP",
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json.")] = OutputFormat.table,
) -> None:
    """The main job: where the rare-earth chain is concentrated, stage by stage, and which stages of all
    commodities are the most concentrated — every figure with its source."""
    import oresight
    from oresight.briefing import make_brief

    world = oresight.load(year, edition=edition)
    content = make_brief(world, year, importer)
    if fmt == OutputFormat.json:
        emit_json({k: records(v) if isinstance(v, pd.DataFrame) else v for k, v in content.items()})
        return
    _render(content)


def _render(content: dict) -> None:
    console.rule(f"[bold]oresight brief[/] — {content['title']}")
    console.print(
        rich_table(
            content["chain"],
            title="Rare-earth chain by stage",
            columns=["stage", "year", "top_countries", "china_share", "hhi", "basis", "source"],
            formatters={"china_share": pct, "hhi": lambda v: f"{v:.2f}"},
        )
    )
    console.print(
        rich_table(
            content["concentration"],
            title="Most concentrated stages across all commodities (HHI, 0-1)",
            columns=["commodity", "stage", "year", "hhi", "top_country", "top_share", "source"],
            formatters={"top_share": pct, "hhi": lambda v: f"{v:.2f}"},
        )
    )
    console.print(
        rich_table(
            content["vulnerabilities"],
            title=f"Top vulnerabilities for {content['importer']}",
            columns=["commodity", "stage", "year", "reason", "hhi", "eu"],
            formatters={"hhi": lambda v: f"{v:.2f}", "eu": lambda v: f"{v:.2f}"},
            caption="ranked by the largest third-country share × the share of world output the importer does not make; "
            "eu = EU supply risk (JRC 2017 method)",
        )
    )
    console.print("[dim]Sources:[/]")
    for source in content["sources"]:
        console.print(
            f"[dim]  {source['id']}: {source['publisher']}, {source['title']} ({source['year']}); "
            f"{source['licence']}[/]",
            highlight=False,
        )

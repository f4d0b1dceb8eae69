"""The content of the brief, as data: the CLI renders it in the terminal, the HTML report in a page."""

from __future__ import annotations

import pandas as pd

from oresight.assess import assess
from oresight.tables import concentration_ranking
from oresight.taxonomy.countries import AGGREGATES
from oresight.world import World

__all__ = ["chain_summary", "make_brief", "top_vulnerabilities"]


def chain_summary(world: World, commodity: str = "rare-earths", year: int | None = None) -> pd.DataFrame:
    """One row per stage: year, top countries with shares, China's share, HHI, basis and sources."""
    chain = world.chain(commodity, year)
    names = world.tax.countries
    rows = []
    for view in chain.stages:
        named = view.shares["share"].drop_sel(country=[c for c in AGGREGATES if c in view.shares.country])
        top = ", ".join(f"{names.name(c)} {100 * s:.0f}%" for c, s in view.top(3))
        low, high = view.shares["low"].sel(country="CHN"), view.shares["high"].sel(country="CHN")
        rows.append(
            {
                "stage": view.stage,
                "year": view.year,
                "top_countries": top,
                "china_share": view.share_of("CHN"),
                "china_low": float(low),
                "china_high": float(high),
                "hhi": float((named.fillna(0) ** 2).sum()),
                "method": view.method,
                "basis": view.basis,
                "source": "; ".join(view.sources),
            }
        )
    return pd.DataFrame(rows)


def top_vulnerabilities(world: World, importer: str = "US+JP", year: int | None = None, n: int = 10) -> pd.DataFrame:
    """The commodity stages an importer is most exposed to, by the screening indicator of :func:`assess`."""
    table = assess(world, importer, year)
    columns = [
        "commodity",
        "stage",
        "year",
        "top_third_country",
        "top_third_share",
        "importer_share",
        "vulnerability",
        "hhi",
        "geopolrisk",
        "eu",
        "usgs",
        "reason",
        "source",
    ]
    return table[columns].head(n)


def make_brief(world: World, year: int | None = None, importer: str = "US+JP") -> dict:
    """Everything the brief shows, with the registry entries of every source it cites."""
    chain = chain_summary(world, "rare-earths", year)
    concentration = concentration_ranking(world, year, n=10)
    vulnerabilities = top_vulnerabilities(world, importer, year)
    cells = [*chain["source"], *concentration["source"], *vulnerabilities["source"]]
    cited = sorted({s for cell in cells for s in str(cell).replace(";", " ").split()})
    return {
        "title": "rare-earth chain and supply concentration" + (f", as of {year}" if year else ", latest data"),
        "importer": world.tax.importer(importer).label,
        "chain": chain,
        "concentration": concentration,
        "vulnerabilities": vulnerabilities,
        "sources": [world.source(s) for s in cited],
    }

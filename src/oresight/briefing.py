"""The content of the brief, as data: the CLI renders it in the terminal, the HTML report in a page."""

from __future__ import annotations

import pandas as pd

from oresight.assess import assess
from oresight.tables import concentration_ranking
from oresight.taxonomy.countries import AGGREGATES
from oresight.world import World

__all__ = [
    "STRESS_COLUMNS",
    "chain_flows",
    "chain_summary",
    "make_brief",
    "recent_events",
    "stress_table",
    "stress_test",
    "top_vulnerabilities",
]

#: Monte Carlo samples of the brief's stress test: enough for stable P5/P95, fast enough for the main job
BRIEF_SAMPLES = 1000


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


def top_vulnerabilities(
    world: World, importer: str = "US+JP", year: int | None = None, n: int = 10, table: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The commodity stages an importer is most exposed to, by the screening indicator of :func:`assess`
    (pass ``table``, the assessment, if it is at hand)."""
    table = assess(world, importer, year) if table is None else table
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


def stress_test(world: World, importer: str = "US+JP", samples: int = BRIEF_SAMPLES) -> dict:
    """The most recent real export-control scenario of the library, run for each member of the importer:
    the scenario and its event, a table of shortfalls and causes, and the full summary."""
    from oresight.simulate import latest_export_control, simulate
    from oresight.simulate.runs import demand_by_stage, results_frame, shortfall_fan

    name = latest_export_control()
    members = list(world.tax.importer(importer).members)
    sim = simulate(name, world, importers=members, samples=samples, explain=True)
    summary = sim.summary()
    event = sim.scenario.event
    return {
        "scenario": name,
        "description": sim.scenario.description,
        "event_date": str(event.date) if event else "",
        "event_sources": [c.model_dump(mode="json") for c in event.sources] if event else [],
        "samples": samples,
        "table": stress_table(summary),
        "fan": shortfall_fan(results_frame(sim.dataset), demand_by_stage(summary)),
        "summary": summary,
        "sources": sorted({s for r in sim.runs for s in r.baseline.sources}),
    }


#: columns of the stress-test table; a figure the simulator did not model is NaN, and ``note`` says why
STRESS_COLUMNS = [
    "importer",
    "commodity",
    "stage",
    "unit",
    "demand_per_month",
    "shortfall_p5",
    "shortfall_p50",
    "shortfall_p95",
    "shortfall_share_p50",
    "worst_month_share_p50",
    "main_cause",
    "main_cause_share",
    "note",
]


def stress_table(summary: dict) -> pd.DataFrame:
    """One row per importer, commodity and stage with demand: shortfall percentiles and the main cause. An
    importer the simulator cannot model (no demand data) gets one row per commodity with its figures missing
    and a note, never zeros.

    >>> summary = {"importers": {"EU": {"commodities": {"rare-earths": {"modelled": False, "note": "no demand data"}}}}}
    >>> stress_table(summary)[["importer", "shortfall_p50", "note"]].values.tolist()
    [['EU', nan, 'not modelled: no demand data']]
    """
    rows = []
    for member, entry in summary["importers"].items():
        for commodity, detail in entry["commodities"].items():
            causes = [c for c in entry.get("causes", []) if c["commodity"] == commodity]
            by_stage = detail.get("by_stage", {})
            if not by_stage:
                rows.append(
                    {"importer": member, "commodity": commodity, "note": f"not modelled: {detail.get('note', '')}"}
                )
            for stage, figures in by_stage.items():
                rows.append(
                    {
                        "importer": member,
                        "commodity": commodity,
                        "stage": stage,
                        "unit": figures["unit"],
                        "demand_per_month": figures["demand_per_month"],
                        "shortfall_p5": figures["shortfall_t"]["p5"],
                        "shortfall_p50": figures["shortfall_t"]["p50"],
                        "shortfall_p95": figures["shortfall_t"]["p95"],
                        "shortfall_share_p50": detail["shortfall_share"]["p50"] if len(by_stage) == 1 else None,
                        "worst_month_share_p50": figures["peak_monthly_share"]["p50"],
                        "main_cause": causes[0]["label"] if causes else "",
                        "main_cause_share": causes[0]["share"] if causes else None,
                        "note": "",
                    }
                )
    table = pd.DataFrame(rows, columns=STRESS_COLUMNS)
    numbers = [c for c in STRESS_COLUMNS if c.startswith(("demand", "shortfall", "worst", "main_cause_share"))]
    return table.astype({c: "float64" for c in numbers}).fillna({"stage": "", "unit": "", "main_cause": ""})


def make_brief(world: World, year: int | None = None, importer: str = "US+JP", *, stress: bool = True) -> dict:
    """Everything the brief shows, with the registry entries of every source it cites."""
    chain = chain_summary(world, "rare-earths", year)
    concentration = concentration_ranking(world, year, n=10)
    assessment = assess(world, importer, year)
    vulnerabilities = top_vulnerabilities(world, importer, year, table=assessment)
    test = stress_test(world, importer) if stress else None
    cells = [
        *chain["source"],
        *concentration["source"],
        *assessment["source"].dropna(),
        *(test["sources"] if test else []),
    ]
    cited = sorted({s for cell in cells for s in str(cell).replace(";", " ").split()})
    return {
        "title": "rare-earth chain and supply concentration" + (f", as of {year}" if year else ", latest data"),
        "year": year,
        "importer": world.tax.importer(importer).label,
        "chain": chain,
        "concentration": concentration,
        "assessment": assessment,
        "vulnerabilities": vulnerabilities,
        "stress_test": test,
        "sources": [world.source(s) for s in cited],
    }


def chain_flows(world: World, commodity: str = "rare-earths", importer: str = "US+JP", year: int | None = None):
    """Who supplies whom at each stage of a chain (the simulator's calibrated baseline, each member of the
    importer its own node), as links for a Sankey; and the sources of the baseline."""
    from oresight.report.flows import calc_chain_links
    from oresight.simulate.baseline import calibrate

    members = [world.tax.importer(m) for m in world.tax.importer(importer).members]
    baseline = calibrate(world, world.resolve(commodity)[0], members, year)
    return calc_chain_links(baseline), list(baseline.sources)


def recent_events(store=None, limit: int = 20) -> list[dict]:
    """The newest stored news events (none if nothing was ingested)."""
    from oresight.news.store import events
    from oresight.store import Store

    opened = Store.open(store, read_only=True)
    if opened is None:
        return []
    with opened:
        return events(opened)[:limit]

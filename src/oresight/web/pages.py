"""The HTML pages: Overview, Commodity, Country, Scenarios (and a run), News. Charts are the report's figures."""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from oresight.report import figures
from oresight.report.flows import concentration_matrix
from oresight.report.html import cell_labels, figure_html
from oresight.web.api import (
    COMMODITY,
    COUNTRY,
    EVENT_TYPES,
    IMPORTER,
    NAME_PATTERN,
    NO_SUPPLY_NOTE,
    RUN_ID,
    RUN_ID_PATTERN,
    YEAR,
    ServiceDep,
    checked_commodity,
    checked_importer,
)
from oresight.web.caching import cached_html
from oresight.web.service import WEB_MAX_HORIZON, WEB_MAX_SAMPLES

__all__ = ["error_page", "router"]

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

NAV = [("/", "Overview"), ("/commodity/rare-earths", "Commodity"), ("/country/CHN", "Country"),
       ("/scenarios", "Scenarios"), ("/sweeps", "Sweeps"), ("/plan", "Plan"), ("/news", "News")]  # fmt: skip


@cache
def _environment() -> Environment:
    from oresight.report.html import template_environment

    base = template_environment()
    environment = Environment(
        loader=ChoiceLoader([PackageLoader("oresight", "web/templates"), base.loader]),
        autoescape=select_autoescape(default_for_string=True, default=True),
    )
    environment.filters.update(base.filters)
    environment.tests.update(base.tests)
    environment.globals.update(nav=NAV, country_link=country_link)
    return environment


def country_link(code) -> Markup:
    """A link to a country's page, or the code as text where it names no country (WLD, ROW, the EU, blank).

    >>> str(country_link("CHN")), str(country_link("ROW"))
    ('<a href="/country/CHN">CHN</a>', 'ROW')
    """
    from oresight.taxonomy import load_taxonomy
    from oresight.taxonomy.countries import AGGREGATES, EUROPEAN_UNION

    code = "" if code is None else str(code)
    if code in AGGREGATES or code == EUROPEAN_UNION or code not in load_taxonomy().countries.iso3_codes:
        return escape(code)
    return Markup('<a href="/country/{0}">{0}</a>').format(code)


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    page = _environment().get_template(template).render(request=request, path=request.url.path, **context)
    return HTMLResponse(page, status_code=status_code)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html.j2", status, title=f"Error {status}", status=status, message=message)


@router.get("/")
@cached_html()
def overview(request: Request, svc: ServiceDep, importer: IMPORTER = "US+JP", year: YEAR = None):
    label = checked_importer(svc, importer)
    table = svc.assessment(label, year)
    heatmap = figures.concentration_heatmap(
        concentration_matrix(table),
        cell_labels(table),
        "Supply concentration by commodity and stage (HHI, 0–1)",
        sorted(set(table["source"].dropna())),
    )
    return render(
        request,
        "overview.html.j2",
        title="Overview",
        importer=label,
        year=year,
        vulnerabilities=table.head(12),
        heatmap=figure_html(heatmap, "chart-heatmap"),
        commodities=svc.commodities(),
        events=svc.events()[:6],
    )


@router.get("/commodity/{commodity}")
async def commodity(
    request: Request, svc: ServiceDep, commodity: COMMODITY, importer: IMPORTER = "US+JP", year: YEAR = None
):
    """A commodity's page; by any other of its names (Kobalt, Seltene Erden, NdFeB) it redirects to its id."""
    cid = svc.commodity_id(commodity)
    if cid != commodity:
        return _redirect(request, f"/commodity/{quote(cid)}")
    return await _commodity(request=request, svc=svc, commodity=cid, importer=importer, year=year)


@cached_html()
def _commodity(request: Request, svc, commodity: str, importer: str, year: int | None):
    from oresight.errors import OresightError

    cid = svc.commodity_id(commodity)
    label = checked_importer(svc, importer)
    stages = svc.commodity_stages(cid, label, year)
    try:
        links, link_sources = svc.chain(cid, label, year)
        sankey, chain_note = _sankey(svc, cid, links, link_sources), None
    except OresightError as exc:  # a chain the simulator cannot calibrate still has its stage table
        sankey, link_sources, chain_note = None, [], str(exc)
    facts = svc.commodity_facts(cid)
    return render(
        request,
        "commodity.html.j2",
        title=svc.world.tax.commodities[cid].en,
        commodity=cid,
        spec=svc.world.tax.commodities[cid],
        importer=label,
        stages=stages,
        no_supply_note=None if len(stages) else NO_SUPPLY_NOTE,
        facts=facts,
        sankey=sankey,
        chain_note=chain_note,
        explanation=svc.explained(cid, label, year),
        sources=svc.sources([*stages["source"].dropna(), *link_sources, *facts["source"].dropna()]),
        commodities=svc.commodities()["commodity"].tolist(),
    )


def _sankey(svc, commodity: str, links, sources) -> str:
    title = f"{commodity}: who supplies whom (t first-stage content per year)"
    return figure_html(figures.supply_sankey(links, svc.world.tax.countries.name, title, sources), "chain-sankey")


@router.get("/country/{country}")
async def country(request: Request, svc: ServiceDep, country: COUNTRY, year: YEAR = None):
    """A country's page; by a name (Japan, Deutschland) or another code (JP) it redirects to its ISO3 code."""
    code = svc.country(country)
    if code != country:
        return _redirect(request, f"/country/{quote(code)}")
    return await _country(request=request, svc=svc, code=code, year=year)


def _redirect(request: Request, path: str) -> RedirectResponse:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(path + query, status_code=307)


@cached_html()
def _country(request: Request, svc, code: str, year: int | None):
    supplies = svc.supplies(code, year)
    depends = svc.assessment(code, year).head(15)
    return render(
        request,
        "country.html.j2",
        title=svc.world.tax.countries.name(code),
        code=code,
        supplies=supplies,
        depends=depends,
        sources=svc.sources([*supplies["source"].dropna(), *depends["source"].dropna()]),
    )


@router.get("/scenarios")
@cached_html(stored=True)
def scenarios(request: Request, svc: ServiceDep):
    return render(
        request,
        "scenarios.html.j2",
        title="Scenarios",
        scenarios=svc.scenarios(),
        runs=svc.runs().sort_values("created", ascending=False).head(30),
        max_samples=WEB_MAX_SAMPLES,
        max_horizon=WEB_MAX_HORIZON,
    )


@router.get("/scenarios/runs/{run_id}")
@cached_html()
def run(request: Request, svc: ServiceDep, run_id: RUN_ID):
    from oresight.errors import DataNotAttestedError

    row = svc.run(run_id)
    try:
        fan, fan_note = svc.run_fan(run_id), None
    except DataNotAttestedError as exc:  # the results file is gone; the summary in the store still shows
        fan, fan_note = [], str(exc)
    title = f"{row['scenario']}: monthly shortfall, P5–P95"
    caption = f"oresight run {run_id} on data version {row['data_version']}"
    chart = figure_html(figures.fan_chart(fan, title, caption), "chart-fan") if len(fan) else None
    return render(
        request,
        "run.html.j2",
        title=f"Run {run_id}",
        row=row,
        summary=row["summary"],
        fan=chart,
        fan_note=fan_note,
    )


@router.get("/sweeps")
@cached_html(stored=True)
def sweeps(
    request: Request,
    svc: ServiceDep,
    run: Annotated[str | None, Query(pattern=RUN_ID_PATTERN, description="A sweep run's id")] = None,
):
    from oresight.sweep.screen import heat_map_frame

    screen = svc.sweep_screen(run)
    charts = {}
    for importer, entry in (screen or {}).get("importers", {}).items():
        if entry["heat_map"]["commodities"]:
            title = f"{importer}: worst mean shortfall share by commodity and exporter"
            caption = f"oresight sweep {screen['sweep']} (run {screen['run']['id']}, data {screen['data_version']})"
            figure = figures.sweep_heatmap(heat_map_frame(entry["heat_map"]), title, caption)
            charts[importer] = figure_html(figure, f"chart-sweep-{importer}")
    runs = svc.sweeps().sort_values("created", ascending=False).head(30)
    return render(request, "sweeps.html.j2", title="Sweeps", runs=runs, screen=screen, charts=charts)


@router.get("/news")
@cached_html(stored=True)
def news(
    request: Request,
    svc: ServiceDep,
    since: Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = None,
    kind: Annotated[EVENT_TYPES | None, Query()] = None,
    commodity: Annotated[str | None, Query(pattern=f"^({NAME_PATTERN})?$")] = None,
):
    from oresight.news.lexicon import load_lexicon

    found = svc.events(since or None, kind, checked_commodity(svc, commodity))[:200]
    texts = svc.article_texts([a["id"] for e in found for a in e["articles"]])
    for event in found:  # events() read them afresh: marking them changes nothing shared
        for article in event["articles"]:
            article["marked"] = highlight(texts.get(article["id"], ""), evidence_sentences(article["evidence"]))
    return render(
        request,
        "news.html.j2",
        title="News",
        events=found,
        timeline=figure_html(figures.event_timeline(found), "chart-timeline") if found else None,
        filters={"since": since or "", "kind": kind or "", "commodity": commodity or ""},
        kinds=load_lexicon().event_types,
    )


def evidence_sentences(evidence: dict) -> list[str]:
    """Every sentence an extraction rests on, whatever field it supports."""
    found: list[str] = []
    for value in evidence.values():
        items = value.values() if isinstance(value, dict) else [value]
        for item in items:
            found.extend([item] if isinstance(item, str) else list(item or []))
    return list(dict.fromkeys(s for s in found if s))


def highlight(text: str, sentences: list[str]) -> Markup:
    """The text, escaped, with the evidence sentences marked.

    >>> str(highlight("Ga <b>ban</b>. Prices rose.", ["Prices rose."]))
    'Ga &lt;b&gt;ban&lt;/b&gt;. <mark>Prices rose.</mark>'
    """
    if not sentences:
        return escape(text)
    pattern = re.compile("|".join(re.escape(s) for s in sorted(sentences, key=len, reverse=True)))
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts += [escape(text[last : match.start()]), Markup("<mark>"), escape(match.group()), Markup("</mark>")]
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)

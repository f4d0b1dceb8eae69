"""The brief as one self-contained HTML file: plotly.js is embedded, so the file opens without a network."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from oresight.formatting import MISSING, format_fixed, format_number, format_share, is_missing
from oresight.report import figures
from oresight.report.flows import concentration_matrix

__all__ = ["brief_figures", "figure_html", "render_brief_html", "template_environment", "write_brief_html"]

#: plotly's mode bar without the link to plotly's cloud and the logo
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
#: rows of the brief's heat map: the most concentrated commodities (the web app shows them all)
HEATMAP_COMMODITIES = 25


#: how a missing number reads in a page: a dash that says what it means
MISSING_HTML = Markup('<span class="missing" title="{0}">–</span>').format(MISSING)


def _or_missing(format_value):
    """A template filter: the formatted value, or the missing mark (never a zero, never blank)."""

    def render(value, *args):
        return MISSING_HTML if is_missing(value) else format_value(value, *args)

    return render


@cache
def template_environment() -> Environment:
    """Templates of the brief (and, through the web app, of its pages) with the one number formatter:
    ``num`` (fixed decimals, for scores), ``quantity`` (tonnes and counts), ``pct`` (shares), ``missing``."""
    environment = Environment(loader=PackageLoader("oresight", "report/templates"), autoescape=select_autoescape())
    environment.filters["pct"] = _or_missing(format_share)
    environment.filters["num"] = _or_missing(lambda v, digits=2: format_fixed(v, digits))
    environment.filters["quantity"] = _or_missing(format_number)
    environment.tests["missing"] = is_missing
    return environment


def figure_html(figure, div_id: str) -> str:
    """A figure as a <div> and the script that draws it (plotly.js must be on the page)."""
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOTLY_CONFIG)


def cell_labels(table: pd.DataFrame) -> pd.DataFrame:
    """Heat-map cell text: the largest supplier and its share."""
    text = table.assign(
        label=[f"{c} {100 * s:.0f}%" for c, s in zip(table["top_country"], table["top_share"], strict=True)]
    )
    return text.pivot_table(index="commodity", columns="stage", values="label", aggfunc="first")


def brief_figures(content: dict, links: pd.DataFrame, link_sources: list[str], name) -> dict[str, str]:
    """The brief's charts as HTML fragments: Sankey, heat map and (if the brief has a stress test) fan chart."""
    assessment = content["assessment"]
    charts = {
        "sankey": figures.supply_sankey(
            links, name, "Rare-earth chain: who supplies whom (t REO content per year)", link_sources
        ),
        "heatmap": figures.concentration_heatmap(
            concentration_matrix(assessment, limit=HEATMAP_COMMODITIES),
            cell_labels(assessment),
            f"Supply concentration by commodity and stage (HHI, 0–1): the {HEATMAP_COMMODITIES} most concentrated",
            sorted(set(assessment["source"].dropna())),
        ),
    }
    test = content.get("stress_test")
    if test is not None and len(test["fan"]):
        charts["fan"] = figures.fan_chart(
            test["fan"], f"Stress test {test['scenario']}: monthly shortfall, P5–P95", test["sources"]
        )
    return {key: figure_html(chart, f"chart-{key}") for key, chart in charts.items()}


def sweep_section(world, importer: str, store=None) -> tuple[dict | None, dict[str, str]]:
    """The latest recorded sweep's screen for the importer and its members (all the sweep's importers if it
    studied none of them), and its heat maps; (None, {}) when no sweep was recorded."""
    from oresight.sweep.screen import heat_map_frame, latest_screen

    chosen = world.tax.importer(importer)
    found = latest_screen(world.tax, store, importers=[chosen.label, *chosen.members], top=5)
    if found is None:
        return None, {}
    charts = {}
    for label, entry in found["importers"].items():
        if entry["heat_map"]["commodities"]:
            title = f"{label}: worst mean shortfall share by commodity and exporter"
            caption = f"oresight sweep {found['sweep']} (run {found['run']['id']}, data {found['data_version']})"
            figure = figures.sweep_heatmap(heat_map_frame(entry["heat_map"]).head(HEATMAP_COMMODITIES), title, caption)
            charts[f"sweep-{label}"] = figure_html(figure, f"chart-sweep-{label}")
    return found, charts


def plan_section(world, content: dict, plan: dict | None) -> tuple[dict | None, dict[str, str]]:
    """The plan bundle (:mod:`oresight.plan.cache`) the brief shows, its charts, and its sources added to the
    brief's; (None, {}) when no plan was solved (the section then says how to solve one)."""
    if not plan:
        return None, {}
    from oresight.plan.figures import plan_charts

    cited = {source["id"] for source in content["sources"]}
    content["sources"] += [world.source(s) for s in sorted(set(plan["sources"]) - cited) if s in world.sources.index]
    charts = plan_charts(plan, "chart-plan")
    return plan, {f"plan-{key}": chart for key, chart in charts.items() if chart}


def render_brief_html(content: dict, charts: dict[str, str], events: list[dict], plotly_js: str) -> str:
    template = template_environment().get_template("brief.html.j2")
    return template.render(
        content=content,
        charts=charts,
        events=events,
        plotly_js=plotly_js,
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_brief_html(
    world, path: str | Path, importer: str = "US+JP", year: int | None = None, store=None, plan=False
) -> Path:
    """Write the brief for an importer to ``path``: one HTML file with every chart, table and source.

    ``plan``: a plan bundle (:mod:`oresight.plan.cache`) to show in a plan section, None for a section saying
    how to solve one, False (default) for no plan section."""
    from plotly.offline import get_plotlyjs

    from oresight.briefing import chain_flows, make_brief, recent_events

    content = make_brief(world, year, importer)
    links, link_sources = chain_flows(world, "rare-earths", importer, year)
    charts = brief_figures(content, links, link_sources, world.tax.countries.name)
    cited = {source["id"] for source in content["sources"]}
    content["sources"] += [world.source(s) for s in sorted(set(link_sources) - cited)]
    content["sweep"], sweep_charts = sweep_section(world, importer, store)
    charts.update(sweep_charts)
    if plan is not False:
        content["plan"], plan_charts = plan_section(world, content, plan)
        charts.update(plan_charts)
    html = render_brief_html(content, charts, recent_events(store), get_plotlyjs())
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path

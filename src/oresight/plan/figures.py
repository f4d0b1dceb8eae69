"""Charts of a plan for the web app's Plan page and the HTML brief. Pure: a plan bundle (see
:mod:`oresight.plan.cache`) in, plotly figures out, with the report's layout, stage colours and source captions.

>>> bundle = {"frontier": [
...     {"budget_usd": 0.0, "cost_usd": 0.0, "commodity": "gallium", "in_sample_expected_t": 4.0,
...      "out_of_sample_expected_t": 2.0},
...     {"budget_usd": 1e9, "cost_usd": 5e8, "commodity": "gallium", "in_sample_expected_t": 1.0,
...      "out_of_sample_expected_t": 1.0}], "cost_usd": 5e8, "risk": {"in_sample": {}}, "sources": []}
>>> frontier_chart(bundle).data[0].y.tolist()
[1.0, 0.5]
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

# one look across every chart: the report's layout, stage colours and source captions
from oresight.report.figures import _LAYOUT, FAN_COLOURS, STAGE_COLOURS, _caption

__all__ = ["frontier_chart", "plan_charts", "project_timeline", "stockpile_chart"]

#: fill patterns that tell stock forms of one stage apart
PATTERNS = ("", "/", "x", ".")


def frontier_chart(bundle: dict) -> go.Figure:
    """Cost against risk: for each budget of the frontier, the plan's cost and each commodity's expected annual
    shortfall as a share of the no-plan shortfall (out of sample where validated, else in sample), with the
    risk-target plan as a marker."""
    frontier = pd.DataFrame(bundle.get("frontier") or [])
    figure = go.Figure()
    measure = "out_of_sample_expected_t"
    if frontier.empty or not (frontier[measure].fillna(0) > 0).any():  # nothing short in the fresh futures
        measure = "in_sample_expected_t"
    for number, (commodity, rows) in enumerate(frontier.groupby("commodity", sort=True) if len(frontier) else []):
        rows = rows.sort_values("budget_usd")
        base = rows[measure].iloc[0]
        relative = rows[measure] / base if base and base > 0 else rows[measure] * 0 + 1.0
        figure.add_trace(
            go.Scatter(
                x=rows["cost_usd"] / 1e9,
                y=relative,
                mode="lines+markers",
                name=commodity,
                line={"color": FAN_COLOURS[number % len(FAN_COLOURS)]},
                customdata=rows["budget_usd"] / 1e9,
                hovertemplate=f"{commodity}<br>budget USD %{{customdata:g}}bn, cost USD %{{x:.2f}}bn"
                "<br>expected shortfall %{y:.0%} of the no-plan case<extra></extra>",
            )
        )
    target = bundle.get("risk_target")
    if target is not None and "cost_usd" in bundle:
        figure.add_vline(
            x=bundle["cost_usd"] / 1e9,
            line={"dash": "dot", "color": "#555"},
            annotation_text=f"plan for p95 ≤ {100 * target:.0f}% of demand",
            annotation_position="top",
        )
    basis = "out of sample (the simulator, fresh futures)" if measure.startswith("out") else "in sample"
    figure.update_layout(
        title="Cost against risk: expected annual shortfall by budget, " + basis,
        height=420,
        xaxis_title="public cost, USD bn",
        yaxis_title="expected shortfall, share of the no-plan case",
        yaxis_tickformat=".0%",
        **_LAYOUT,
    )
    return _caption(figure, bundle.get("sources", []))


def project_timeline(bundle: dict) -> go.Figure:
    """The supported projects from their first planned year to the horizon, coloured by stage, with their
    support and source in the hover."""
    projects = pd.DataFrame(bundle.get("projects") or [])
    end = bundle["years"][1] + 1 if "years" in bundle else None
    figure = go.Figure()
    for stage, rows in projects.groupby("stage", sort=False) if len(projects) else []:
        figure.add_trace(
            go.Bar(
                y=rows["name"],
                x=[end - s for s in rows["start_year"]],
                base=rows["start_year"],
                orientation="h",
                name=stage,
                marker={"color": STAGE_COLOURS.get(stage, "#999")},
                customdata=list(zip(rows["support_usd"] / 1e6, rows["commodities"], rows["source"], strict=True)),
                hovertemplate="%{y}<br>from %{base}: %{customdata[1]}<br>support USD %{customdata[0]:,.0f}m"
                "<br>source %{customdata[2]}<extra></extra>",
            )
        )
    figure.update_layout(
        title="Projects supported, from their earliest start",
        height=max(260, 34 * len(projects) + 150),
        xaxis_title="year",
        barmode="overlay",
        **_LAYOUT,
    )
    figure.update_yaxes(autorange="reversed")
    return _caption(figure, sorted(set(projects["source"])) if len(projects) else [])


def stockpile_chart(bundle: dict) -> go.Figure:
    """What each member holds: the cost of its stockpiles by commodity and stage, stacked by holder."""
    stocks = pd.DataFrame(bundle.get("stockpiles") or [])
    figure = go.Figure()
    if len(stocks):
        stocks = stocks.assign(form=stocks["commodity"] + " " + stocks["stage"])
        for number, (form, rows) in enumerate(stocks.groupby("form", sort=True)):
            figure.add_trace(
                go.Bar(
                    x=rows["holder"],
                    y=rows["cost_usd"] / 1e6,
                    name=form,
                    marker={"color": STAGE_COLOURS.get(rows["stage"].iloc[0], "#999")},
                    marker_pattern_shape=PATTERNS[number % len(PATTERNS)],
                    customdata=list(zip(rows["tonnes"], rows["basis"], rows["first_year"], strict=True)),
                    hovertemplate=f"%{{x}} · {form}<br>%{{customdata[0]:,.0f}} %{{customdata[1]}} from "
                    "%{customdata[2]}<br>USD %{y:,.0f}m with holding<extra></extra>",
                )
            )
    figure.update_layout(
        title="Stockpiles by holder (cost with holding to the horizon)",
        height=380,
        barmode="stack",
        yaxis_title="USD m",
        **_LAYOUT,
    )
    return figure


def plan_charts(bundle: dict, prefix: str = "chart") -> dict[str, str | None]:
    """The plan's charts as HTML fragments (plotly.js must be on the page): the frontier, and the project
    timeline and the stockpiles where the plan has any."""
    from oresight.report.html import figure_html

    return {
        "frontier": figure_html(frontier_chart(bundle), f"{prefix}-frontier"),
        "timeline": figure_html(project_timeline(bundle), f"{prefix}-timeline") if bundle["projects"] else None,
        "stockpiles": figure_html(stockpile_chart(bundle), f"{prefix}-stockpiles") if bundle["stockpiles"] else None,
    }

"""Plotly figures built from oresight's tables. Pure: a table in, a figure out; no I/O, no data loading.

Every figure carries its sources in a caption annotation, so a chart copied out of a page still says where
its numbers come from.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

__all__ = ["concentration_heatmap", "event_timeline", "fan_chart", "supply_sankey", "sweep_heatmap"]

#: one palette across charts: stages keep their colour in every figure
STAGE_COLOURS = {
    "mining": "#8c6d31",
    "refining": "#3182bd",
    "metal": "#756bb1",
    "magnet": "#e6550d",
    "battery": "#31a354",
    "end use": "#636363",
}
FAN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
_LAYOUT = {"margin": {"l": 60, "r": 30, "t": 60, "b": 70}, "font": {"size": 12}, "template": "plotly_white"}


def _caption(figure: go.Figure, sources: list[str] | str, width: int = 170) -> go.Figure:
    """Sources under the plot area, wrapped, with the bottom margin grown to hold them."""
    text = sources if isinstance(sources, str) else "; ".join(sorted(set(sources)))
    if not text:
        return figure
    lines = textwrap.wrap(f"Sources: {text}", width)
    figure.add_annotation(
        text="<br>".join(lines),
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-48,
        xanchor="left",
        yanchor="top",
        align="left",
        font={"size": 10, "color": "#555"},
    )
    figure.update_layout(margin={"b": 60 + 14 * len(lines)}, height=figure.layout.height + 14 * len(lines))
    return figure


def supply_sankey(links: pd.DataFrame, name: Callable[[str], str], title: str, sources: list[str]) -> go.Figure:
    """A Sankey of chain links (see :func:`oresight.report.flows.calc_chain_links`): one node per country and
    stage, link widths in tonnes of first-stage content per year."""
    starts = list(zip(links["source_node"], links["source_stage"], strict=True))
    ends = list(zip(links["target_node"], links["target_stage"], strict=True))
    keys = list(dict.fromkeys([*starts, *ends]))
    index = {key: i for i, key in enumerate(keys)}
    labels = [f"{name(node)} · {stage}" for node, stage in keys]
    colours = [STAGE_COLOURS.get(stage, "#999") for _, stage in keys]
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "color": colours, "pad": 12, "thickness": 14},
            link={
                "source": [index[k] for k in starts],
                "target": [index[k] for k in ends],
                "value": links["content_t"].round(1).tolist(),
                "customdata": links["tonnes"].round(1).tolist(),
                "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,.0f} t content/yr"
                " (%{customdata:,.0f} t of product)<extra></extra>",
            },
        )
    )
    figure.update_layout(title=title, height=560, **_LAYOUT)
    return _caption(figure, sources)


def concentration_heatmap(matrix: pd.DataFrame, labels: pd.DataFrame, title: str, sources: list[str]) -> go.Figure:
    """A heat map of a commodity × stage matrix (HHI, 0–1); ``labels`` (same shape) is shown in each cell."""
    hover = "%{y} · %{x}<br>HHI %{z:.2f}<br>%{text}<extra></extra>"
    return _heatmap(matrix, labels.reindex_like(matrix).fillna(""), title, "HHI", hover, sources)


def _heatmap(matrix: pd.DataFrame, text: pd.DataFrame, title: str, scale: str, hover: str, sources) -> go.Figure:
    """A 0–1 heat map of a commodity × something matrix, ``text`` in each cell, rows from the top down."""
    figure = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=list(matrix.columns),
            y=list(matrix.index),
            text=text.to_numpy(),
            texttemplate="%{text}",
            zmin=0,
            zmax=1,
            colorscale="YlOrRd",
            colorbar={"title": scale},
            hovertemplate=hover,
            hoverongaps=False,
        )
    )
    figure.update_layout(title=title, height=max(320, 26 * len(matrix) + 140), **_LAYOUT)
    figure.update_yaxes(autorange="reversed")
    return _caption(figure, sources)


def fan_chart(fan: pd.DataFrame, title: str, sources: list[str] | str, *, share: bool = True) -> go.Figure:
    """Monthly shortfall percentiles (see :func:`oresight.simulate.runs.shortfall_fan`) as fans: P5–P95 and
    P25–P75 bands around the median, one fan per importer, commodity and stage, as shares of demand if asked.
    A fan whose median is missing throughout (an importer the run could not model) is left out, with no legend
    entry; the caption names it."""
    prefix = "share_p" if share and "share_p50" in fan else "p"
    figure = go.Figure()
    groups = fan.groupby(["importer", "commodity", "stage"], sort=True)
    drawn, left_out = 0, []
    for (importer, commodity, stage), one in groups:
        label = f"{importer} · {commodity} · {stage}"
        if one[f"{prefix}50"].isna().all():
            left_out.append(label)
            continue
        colour = FAN_COLOURS[drawn % len(FAN_COLOURS)]
        drawn += 1
        for low, high, opacity in ((5, 95, 0.15), (25, 75, 0.3)):
            figure.add_trace(_band(one["month"], one[f"{prefix}{low}"], one[f"{prefix}{high}"], colour, opacity, label))
        figure.add_trace(
            go.Scatter(
                x=one["month"], y=one[f"{prefix}50"], name=f"{label} (P50)", line={"color": colour, "width": 2.5}
            )
        )
    figure.update_layout(
        title=title,
        height=440,
        xaxis_title="month of the scenario",
        yaxis_title="shortfall, share of monthly demand" if prefix == "share_p" else "shortfall, t per month",
        yaxis_tickformat=".0%" if prefix == "share_p" else ",",
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        **_LAYOUT,
    )
    figure.update_layout(margin_t=110)
    if left_out:
        sources = f"{sources if isinstance(sources, str) else '; '.join(sorted(set(sources)))}. Not modelled (no "
        sources += f"demand data): {', '.join(left_out)}"
    return _caption(figure, sources)


def _band(months, low, high, colour: str, opacity: float, label: str) -> go.Scatter:
    return go.Scatter(
        x=[*months, *reversed(list(months))],
        y=[*high, *reversed(list(low))],
        fill="toself",
        fillcolor=_rgba(colour, opacity),
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
        name=label,
    )


def _rgba(colour: str, opacity: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{opacity})"


def event_timeline(events: list[dict], title: str = "News events") -> go.Figure:
    """Stored news events on a time line, one row per event type; hover shows title, commodities, countries."""
    dated = [e for e in events if e.get("event_date")]
    figure = go.Figure(
        go.Scatter(
            x=[e["event_date"] for e in dated],
            y=[e["type"] for e in dated],
            mode="markers",
            marker={"size": [8 + 3 * min(len(e["articles"]), 6) for e in dated], "color": "#d62728", "opacity": 0.7},
            text=[
                f"{e['title']}<br>{', '.join(e['commodities'])} · {', '.join(e['countries'])}"
                f"<br>{len(e['articles'])} report(s)"
                for e in dated
            ],
            hovertemplate="%{x}<br>%{text}<extra></extra>",
        )
    )
    figure.update_layout(title=title, height=360, xaxis_title="event date", **_LAYOUT)
    return figure


def sweep_heatmap(matrix: pd.DataFrame, title: str, caption: str) -> go.Figure:
    """A sweep's screen as a commodity × exporter heat map of the worst mean shortfall share (0–1) of any
    disruption screened for the pair; blank where none was."""
    text = matrix.map(lambda v: "" if pd.isna(v) else f"{100 * v:.0f}%")
    hover = "%{y} · disrupted by %{x}<br>worst mean shortfall %{z:.1%} of demand<extra></extra>"
    return _heatmap(matrix, text, title, "shortfall share", hover, caption)

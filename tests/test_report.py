"""Charts and the self-contained HTML brief."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oresight.report import figures
from oresight.report.flows import calc_chain_links, concentration_matrix
from oresight.simulate.baseline import MONTHS, calibrate
from oresight.simulate.runs import shortfall_fan


@pytest.fixture(scope="module")
def ree_baseline(world):
    return calibrate(world, "rare-earths", [world.tax.importer("USA"), world.tax.importer("JPN")])


def test_chain_links_carry_each_stage_production_and_nothing_else(ree_baseline):
    links = calc_chain_links(ree_baseline, min_share=0)
    produced = pd.Series(ree_baseline.production.sum(axis=1) * MONTHS, index=list(ree_baseline.stages))
    carried = links.groupby("source_stage")["tonnes"].sum().reindex(produced.index)
    np.testing.assert_allclose(carried.to_numpy(), produced.to_numpy(), rtol=1e-9)
    # a stage's output flows on to the next stage or to end use, never backwards or two stages ahead
    order = {s: i for i, s in enumerate(ree_baseline.stages)}
    onward = links[links["target_stage"] != "end use"]
    assert (onward["target_stage"].map(order) == onward["source_stage"].map(order) + 1).all()


def test_chain_links_into_a_stage_equal_its_input_needs(ree_baseline):
    links = calc_chain_links(ree_baseline, min_share=0)
    stages = list(ree_baseline.stages)
    for k, stage in enumerate(stages[1:], start=1):
        into = links[links["target_stage"] == stage].groupby("target_node")["tonnes"].sum()
        needed = pd.Series(ree_baseline.intermediate[k - 1] * MONTHS, index=list(ree_baseline.nodes))
        np.testing.assert_allclose(into.reindex(needed.index).fillna(0), needed, rtol=1e-9, atol=1e-6)


def test_small_links_are_dropped_for_readability(ree_baseline):
    every, readable = calc_chain_links(ree_baseline, min_share=0), calc_chain_links(ree_baseline)
    assert len(readable) < len(every)
    assert readable["content_t"].min() > 0.002 * every["content_t"].max()


def test_every_commodity_with_supply_data_calibrates_to_a_balanced_chain(world):
    """Withheld figures (no value) once made a chain's demand NaN and its balance fail."""
    from oresight.errors import DataNotAttestedError

    members = [world.tax.importer("USA"), world.tax.importer("JPN")]
    calibrated = 0
    for commodity in ("lithium", "silicon", "tungsten", "selenium", "tellurium", "cobalt", "gallium"):
        try:
            baseline = calibrate(world, commodity, members)
        except DataNotAttestedError:
            continue
        assert np.isfinite(baseline.use).all(), commodity
        calibrated += 1
    assert calibrated >= 6


def test_concentration_matrix_orders_commodities_and_stages():
    table = pd.DataFrame(
        {
            "commodity": ["a", "a", "b", "c"],
            "stage": ["refining", "mining", "mining", "refining"],
            "hhi": [0.2, 0.5, 0.9, 0.1],
        }
    )
    matrix = concentration_matrix(table)
    assert list(matrix.columns) == ["mining", "refining"]
    assert list(matrix.index) == ["b", "a", "c"]
    assert np.isnan(matrix.loc["b", "refining"])
    assert list(concentration_matrix(table, limit=2).index) == ["b", "a"]


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=2, max_value=40),
    st.floats(min_value=1.0, max_value=1e4),
)
def test_fan_bands_are_nested(months, samples, demand):
    rng = np.random.default_rng(months * samples)
    rows = [
        ("shortfall", "x", "JPN", "magnet", m, s, float(v))
        for m in range(1, months + 1)
        for s, v in enumerate(rng.uniform(0, demand, samples))
    ]
    results = pd.DataFrame(rows, columns=["variable", "commodity", "importer", "stage", "month", "sample", "value"])
    fan = shortfall_fan(results, {("x", "JPN", "magnet"): demand})
    assert len(fan) == months
    for low, high in (("p5", "p25"), ("p25", "p50"), ("p50", "p75"), ("p75", "p95")):
        assert (fan[low] <= fan[high] + 1e-9).all()
    assert ((fan["share_p95"] >= 0) & (fan["share_p95"] <= 1 + 1e-9)).all()


def test_fan_chart_draws_two_bands_and_a_median_per_fan():
    fan = pd.DataFrame(
        {
            "importer": ["JPN"] * 3,
            "commodity": ["rare-earths"] * 3,
            "stage": ["magnet"] * 3,
            "month": [1, 2, 3],
            **{f"share_p{q}": [q / 100] * 3 for q in (5, 25, 50, 75, 95)},
        }
    )
    chart = figures.fan_chart(fan, "t", ["src-a", "src-b"])
    assert [trace.type for trace in chart.data] == ["scatter"] * 3
    assert chart.data[0].fill == "toself" and chart.data[2].name.endswith("(P50)")
    assert "src-a; src-b" in chart.layout.annotations[0].text


def test_sankey_has_one_node_per_country_and_stage(ree_baseline):
    links = calc_chain_links(ree_baseline)
    chart = figures.supply_sankey(links, lambda code: code, "chain", ["usgs"])
    labels = chart.data[0].node.label
    assert "CHN · mining" in labels and "CHN · magnet" in labels and "JPN · end use" in labels
    assert len(labels) == len(set(labels))


@pytest.fixture(scope="module")
def brief_file(tmp_path_factory, world):
    from oresight.report.html import write_brief_html

    return write_brief_html(world, tmp_path_factory.mktemp("brief") / "brief.html", "US+JP")


def test_html_brief_is_self_contained(brief_file):
    html = brief_file.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html), "every script is inline"
    assert not re.search(r"<link[^>]+href=\"https?:", html), "no external style sheet"
    assert "Plotly.newPlot" in html and len(html) > 3_000_000  # plotly.js itself is inside
    for section in ("chain", "concentration", "vulnerabilities", "stress-test", "news", "sources"):
        assert f'id="{section}"' in html
    for chart in ("chart-sankey", "chart-heatmap", "chart-fan"):
        assert f'id="{chart}"' in html


def test_html_brief_cites_the_sources_of_its_charts(brief_file, world):
    html = brief_file.read_text(encoding="utf-8")
    assert "usgs-mcs-2026-world" in html and "iea-cmde-2025" in html
    cited = set(re.findall(r"<li><b>([a-z0-9-]+)</b>", html))
    assert cited <= set(world.sources.index)
    assert len(cited) >= 10

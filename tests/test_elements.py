"""Rare earths by element and the magnet stage in the bundled data: the cited figures the issue asks for, the
element facts schema (docs/data.md) and BGS beside USGS."""

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from oresight.cli import app
from oresight.elements import calc_oxide_to_metal, element_oxides

runner = CliRunner()


def show_json(*args):
    import json

    result = runner.invoke(app, ["data", "show", *args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_china_magnet_share_includes_the_iea_94_percent_with_its_source(world):
    view = world.stage_view("rare-earths", "magnet", 2024)
    assert "iea-gcmo-2025" in view.sources and view.year == 2024
    assert view.shares["high"].sel(country="CHN") == pytest.approx(0.94)
    iea = world.select(commodity="rare-earths", stage="magnet", measure="share", year=2024, country="CHN")
    assert iea["value"].tolist() == [0.94]
    assert world.source("iea-gcmo-2025")["publisher"] == "International Energy Agency"


def test_japan_magnet_share_is_an_upper_bound_never_a_value(world):
    shares = world.shares("rare-earths", "magnet", 2024).sel(country="JPN")
    assert math.isnan(float(shares["share"])) and float(shares["low"]) == 0 and float(shares["high"]) == 0.09
    row = world.select(commodity="rare-earths", stage="magnet", measure="share", country="JPN", year=2022)
    assert row["status"].tolist() == ["upper_bound"] and math.isnan(row["value"].iat[0])


def test_metal_stage_does_not_cite_mine_output_and_says_it_is_bridged(world):
    metal = world.select(commodity="rare-earths", stage="metal", measure="share")
    assert "vc-2024-ree-metals" not in set(metal["source"])  # its "metals production" is mine output in REO
    assert metal["note"].str.startswith("BRIDGE, not a measurement of metal").all()


def test_element_fractions_in_magnets_stay_below_the_rare_earth_total(world):
    fractions = world.select(stage="magnet", measure="mass_fraction", country="WLD")
    total = fractions[fractions["commodity"] == "rare-earths"]
    lowest_total = np.nanmin(np.r_[total["value"], total["low"]])
    elements = fractions[fractions["commodity"] != "rare-earths"]
    assert not elements.empty and {"dysprosium"} <= set(elements["commodity"])
    assert (elements[["value", "low", "high"]].max(axis=1) <= lowest_total).all()
    assert (elements["low"].fillna(0) <= elements["value"]).all()
    assert (elements["value"] <= elements["high"].fillna(1)).all()


def test_dysprosium_and_terbium_separation_shares_sum_to_at_most_one(world):
    for element in ("dysprosium", "terbium"):
        view = world.stage_view(element, "refining", 2024)
        assert float(view.shares["share"].sum()) <= 1 + 1e-9
        assert view.share_of("CHN") == 1.0 and view.sources == ["wsj-2024-lynas-heavy-rare-earths"]
    assert [s.stage for s in world.chain("dysprosium", 2024).stages] == ["refining"]


def test_element_contents_of_mined_ree_by_deposit(world):
    rows = world.select(measure="mass_fraction", stage="mining")
    longnan = rows[rows["basis"].str.contains("Longnan")].set_index("commodity")
    assert longnan.loc["dysprosium", "value"] == pytest.approx(0.0748) and longnan.loc["yttrium", "value"] == 0.649
    assert longnan.loc["cerium", "status"] == "upper_bound" and longnan.loc["cerium", "high"] == pytest.approx(0.0109)
    bayan_obo = rows[rows["basis"].str.contains("Bayan Obo")].set_index("commodity")
    assert bayan_obo.loc["dysprosium", "value"] < longnan.loc["dysprosium", "value"] / 50  # light vs ionic ore
    rows = rows.assign(deposit=rows["basis"].str.split(": ").str[1])
    assert rows["deposit"].nunique() == 13 and set(rows["country"]) == {"CHN", "USA", "RUS", "AUS", "IND"}
    sums = rows.groupby("deposit")["value"].sum()
    assert sums.between(0.97, 1.04).all()  # as published: "rows may not add to 100 percent" (Xunwu 103.5%)


def test_oxide_to_metal_factors_are_stoichiometric(world):
    oxides = element_oxides()
    assert len(oxides) == 16
    dy = world.select(commodity="dysprosium", measure="oxide_to_metal")
    assert dy["basis"].tolist() == ["t Dy per t Dy2O3"] and dy["source"].tolist() == ["iupac-ciaaw-2021"]
    assert dy["value"].iat[0] == pytest.approx(float(calc_oxide_to_metal(162.5, 2, 3)), abs=1e-5)
    assert ((oxides["oxide_to_metal"] > 0.6) & (oxides["oxide_to_metal"] < 0.9)).all()


def test_bgs_ranks_last_so_world_shares_stay_on_usgs(world):
    assert world.tax.series_preference("rare-earths", "mining")[-1] == "bgs-wms"
    view = world.stage_view("rare-earths", "mining", 2024)
    assert view.sources == ["usgs-mcs-2026-world"]
    bgs = world.select(commodity="rare-earths", stage="mining", measure="production", year=2024, series="bgs-wms")
    assert bgs.set_index("country").loc["WLD", "value"] == 360_714  # BGS's own world figure, reproduced
    assert world.stage_view("rare-earths", "mining", 2000).sources == ["bgs-wms-2024"]  # only BGS covers 2000


def test_cli_dysprosium_refining_shows_the_cited_figures():
    rows = show_json("dysprosium", "--stage", "refining")
    china = [r for r in rows if r["country"] == "CHN"]
    assert {r["role"] for r in china} == {"estimate", "published"}
    assert all(r["value"] == 1.0 and r["source"] == "wsj-2024-lynas-heavy-rare-earths" for r in china)


def test_cli_magnet_2024_shows_the_iea_figure_and_japan_bound():
    rows = show_json("rare-earths", "--stage", "magnet", "--year", "2024")
    published = [r for r in rows if r["role"] == "published"]
    assert {"country": "CHN", "value": 0.94, "source": "iea-gcmo-2025", "year": 2024} in [
        {k: r[k] for k in ("country", "value", "source", "year")} for r in published
    ]
    japan = next(r for r in rows if r["role"] == "estimate" and r["country"] == "JPN")
    assert japan["status"] == "upper_bound" and japan["value"] is None and japan["high"] == 0.09


def test_cli_shows_bgs_beside_usgs_with_the_span_where_they_disagree():
    rows = show_json("antimony", "--stage", "mining", "--year", "2024")
    russia = {r["role"]: r for r in rows if r["country"] == "RUS" and r["series"] in ("usgs-mcs", "bgs-wms")}
    assert russia["preferred"]["value"] == 40_000 and russia["compared"]["value"] == 15_000
    assert russia["preferred"]["low"] == 15_000 and russia["preferred"]["high"] == 40_000
    assert russia["preferred"]["share"] == pytest.approx(0.336, abs=0.001)  # the World's share stays USGS's


def test_every_curated_source_cites_publisher_title_year_and_table_without_home_page_urls():
    from urllib.parse import urlparse

    from oresight.io.facts_csv import read_sources_yaml

    root = __import__("pathlib").Path(__file__).parent.parent
    for source in read_sources_yaml(root / "data/curated/sources.yaml"):
        assert source.publisher and source.title and 1990 <= source.year <= 2027, source.id
        assert source.table or source.note, source.id  # the page or table, or why there is none
        if source.url:
            parsed = urlparse(source.url)
            assert parsed.path.strip("/") or parsed.query, f"{source.id}: home-page URL {source.url}"

"""Checks on the bundled tables: provenance, consistency with the publishers' totals, and the figures the
issue's users look up first."""

import numpy as np
import pytest

from oresight.facts import problems


def test_every_bundled_fact_has_a_registered_source(world):
    assert problems(world.all_facts.drop(columns=["load_order", "series", "edition"]), set(world.sources["id"])) == []
    assert (world.all_facts["source"] != "").all()


def test_every_source_has_publisher_title_year_licence(world):
    for column in ("publisher", "title", "year", "licence"):
        assert (world.sources[column].astype(str).str.len() > 0).all(), column


def test_supply_shares_in_unit_interval_and_sum_to_at_most_one(world):
    shares = world.supply_shares()
    assert shares["share"].dropna().between(0, 1 + 1e-12).all()
    sums = shares.groupby(["commodity", "stage"])["share"].sum()
    assert (sums <= 1 + 1e-9).all(), sums[sums > 1]
    both = shares.dropna(subset=["low", "share"])
    assert (both["low"] <= both["share"] + 1e-12).all()


def test_no_projection_leaks_into_observed_selections(world):
    assert (world.select(commodity="rare-earths")["scenario"] == "").all()


def test_rare_earth_mining_2024_latest_edition(world):
    volumes = world.production("rare-earths", "mining", 2024)
    assert float(volumes.sel(country="CHN")) == 270_000
    assert float(volumes.sel(country="USA")) == 45_500
    assert float(volumes.sel(country="MMR")) == 27_000
    assert float(volumes.sel(country="WLD")) == 380_000
    assert set(volumes.source.values) == {"usgs-mcs-2026-world"}


def test_rare_earth_mining_2024_earlier_edition():
    import oresight

    volumes = oresight.load(edition=2025, store=False).production("rare-earths", "mining", 2024)
    assert float(volumes.sel(country="USA")) == 45_000
    assert float(volumes.sel(country="MMR")) == 31_000
    assert float(volumes.sel(country="WLD")) == 390_000
    assert set(volumes.source.values) == {"usgs-mcs-2025-world"}


def test_rare_earth_refining_china_share_from_iea(world):
    view = world.stage_view("rare-earths", "refining", 2024)
    assert view.method == "volumes" and view.sources == ["iea-cmde-2025"]
    assert view.share_of("CHN") == pytest.approx(0.91, abs=0.01)


def test_rare_earth_chain_has_all_four_stages_with_sources(world):
    chain = world.chain("rare-earths", 2024)
    assert [s.stage for s in chain.stages] == ["mining", "refining", "metal", "magnet"]
    for stage in chain.stages:
        assert stage.sources and 0.5 < stage.share_of("CHN") <= 1
    mining, magnet = chain.stage("mining"), chain.stage("magnet")
    assert magnet.share_of("CHN") > mining.share_of("CHN")


def test_downstream_shares_carry_ranges(world):
    magnet = world.shares("rare-earths", "magnet", 2024).sel(country="CHN")
    assert float(magnet.low) < float(magnet.share) < float(magnet.high)


def test_japan_import_sources_and_stockpile_facts(world):
    japan = world.import_shares("JPN", "rare-earths", 2024)
    assert 0.6 <= float(japan.share.sel(partner="CHN")) <= 0.8
    target = world.select(country="JPN", measure="stockpile_target_days")
    assert not target.empty and (target["status"] == "target").all()
    assert not world.select(country="USA", measure="stockpile_value").empty


def test_magnet_composition_and_conversion_factors(world):
    factor = world.select(commodity="neodymium", measure="oxide_to_metal")["value"].iat[0]
    assert factor == pytest.approx(2 * 144.242 / (2 * 144.242 + 3 * 15.999), rel=1e-4)
    assert not world.select(commodity="dysprosium", measure="mass_fraction").empty


def test_us_import_reliance_and_sources(world):
    nir = world.select(commodity="rare-earths", country="USA", measure="net_import_reliance", year=2024)
    assert set(nir["status"]) & {"lower_bound", "reported", "estimated"}
    us = world.import_shares("USA", "rare-earths", 2024)
    assert us.attrs["method"] == "published import shares"
    assert float(us.share.sel(partner="CHN")) == pytest.approx(0.71)


def test_us_imports_by_partner_for_the_four_hs_codes(world):
    rows = world.select(country="USA", measure="import_value")
    assert {"HS 2805.30", "HS 2846.10", "HS 2846.90", "HS 8505.11"} <= set(rows["basis"])
    assert set(rows["year"]) >= set(range(2018, 2026))


def test_wgi_2022_all_six_dimensions(world):
    for dim in ("wgi_va", "wgi_pv", "wgi_ge", "wgi_rq", "wgi_rl", "wgi_cc"):
        values = world.indicator(dim, 2022)
        assert len(values) > 190 and np.isfinite(values.values).all()


def test_mcs_coverage_every_chapter_with_world_production_in_both_editions(world):
    f = world.all_facts
    for source in ("usgs-mcs-2025-world", "usgs-mcs-2026-world"):
        commodities = set(f[(f["source"] == source) & (f["measure"] == "production")]["commodity"])
        assert len(commodities) >= 70, source

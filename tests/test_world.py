"""The World on small hand-made facts: edition selection, shares, published-share combination, provenance."""

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oresight.errors import DataNotAttestedError
from oresight.world import World, calc_shares_from_published, calc_shares_from_volumes

SOURCES = pd.DataFrame(
    [
        {
            "id": "pub-2025",
            "series": "pub",
            "edition": "2025",
            "publisher": "P",
            "title": "T 2025",
            "year": "2025",
            "licence": "CC0",
        },
        {
            "id": "pub-2026",
            "series": "pub",
            "edition": "2026",
            "publisher": "P",
            "title": "T 2026",
            "year": "2026",
            "licence": "CC0",
        },
        {
            "id": "survey-a",
            "series": "a",
            "edition": "2024",
            "publisher": "A",
            "title": "A",
            "year": "2024",
            "licence": "x",
        },
        {
            "id": "survey-b",
            "series": "b",
            "edition": "2023",
            "publisher": "B",
            "title": "B",
            "year": "2023",
            "licence": "x",
        },
    ]
)


def fact(country, value, source, year=2024, stage="mining", measure="production", **extra):
    return {
        "commodity": "cobalt",
        "stage": stage,
        "country": country,
        "year": year,
        "measure": measure,
        "value": value,
        "unit": "t" if measure == "production" else "share",
        "basis": "t Co content",
        "status": "reported",
        "source": source,
        **extra,
    }


FACTS = pd.DataFrame(
    [
        fact("COD", 200.0, "pub-2025"),
        fact("IDN", 40.0, "pub-2025"),
        fact("WLD", 250.0, "pub-2025"),
        fact("COD", 180.0, "pub-2026"),
        fact("IDN", 50.0, "pub-2026"),
        fact("ROW", 20.0, "pub-2026"),
        fact("WLD", 250.0, "pub-2026"),
        fact("COD", 190.0, "pub-2026", year=2025),
        fact("WLD", 260.0, "pub-2026", year=2025),
        fact("CHN", 0.80, "survey-a", stage="refining", measure="share"),
        fact("CHN", 0.70, "survey-b", year=2023, stage="refining", measure="share", low=0.65, high=0.75),
        fact("FIN", 0.10, "survey-b", year=2023, stage="refining", measure="share"),
        fact("CHN", 0.99, "survey-b", year=2015, stage="refining", measure="share"),
    ]
)


@pytest.fixture
def small():
    return World(FACTS, SOURCES)


def test_latest_edition_by_default_and_chosen_edition(small):
    latest = small.production("cobalt", "mining", 2024)
    assert float(latest.sel(country="COD")) == 180.0
    assert set(latest.source.values) == {"pub-2026"}
    older = World(FACTS, SOURCES, edition="2025").production("cobalt", "mining", 2024)
    assert float(older.sel(country="COD")) == 200.0
    assert "ROW" not in older.country  # the 2025 edition has no ROW row: it is not invented


def test_shares_from_volumes(small):
    shares = small.shares("cobalt", "mining", 2024)
    assert float(shares.share.sel(country="COD")) == pytest.approx(180 / 250)
    assert float(shares.share.sum()) <= 1.0 + 1e-12


def test_missing_year_is_not_attested_not_zero(small):
    with pytest.raises(DataNotAttestedError):
        small.production("cobalt", "mining", 2019)
    assert small.select(commodity="cobalt", country="FIN", measure="production").empty


def test_published_shares_are_combined_across_sources(small):
    view = small.stage_view("cobalt", "refining", 2024)
    assert view.method == "published shares"
    assert view.sources == ["survey-a", "survey-b"]
    china = view.shares.sel(country="CHN")
    assert float(china.share) == pytest.approx(0.75)  # median of 0.80 and 0.70
    assert float(china.low) == pytest.approx(0.65) and float(china.high) == pytest.approx(0.80)
    assert float(view.shares.share.sum()) == pytest.approx(1.0)
    assert view.shares.attrs["years"] == [2023, 2024]  # the 2015 figure is too old to be combined


def test_source_of(small):
    [entry] = small.source_of("cobalt", "mining", "COD", 2024)
    assert entry["id"] == "pub-2026" and entry["title"] == "T 2026"


def test_world_total_needed_for_shares():
    import xarray as xr

    volumes = xr.DataArray([10.0, 5.0], dims="country", coords={"country": ["USA", "CAN"]})
    with pytest.raises(DataNotAttestedError, match="world total"):
        calc_shares_from_volumes(volumes)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=12),
    st.floats(min_value=0, max_value=2e6, allow_nan=False),
)
def test_volume_shares_lie_in_unit_interval_and_sum_to_at_most_one(values, world_total):
    import xarray as xr

    countries = [f"C{i:02d}" for i in range(len(values))]
    volumes = xr.DataArray([*values, world_total], dims="country", coords={"country": [*countries, "WLD"]})
    if max(sum(values), world_total) == 0:
        return
    shares = calc_shares_from_volumes(volumes).share
    assert float(shares.min()) >= 0 and float(shares.max()) <= 1 + 1e-12
    assert float(shares.sum()) <= 1 + 1e-9


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["CHN", "JPN", "VNM", "DEU"]), st.floats(0, 1), st.integers(2018, 2025)),
        min_size=1,
        max_size=10,
    )
)
def test_published_shares_sum_to_at_most_one(figures):
    rows = pd.DataFrame(
        [
            {
                "country": c,
                "value": v,
                "low": math.nan,
                "high": math.nan,
                "status": "estimated",
                "year": y,
                "source": f"s{i}",
            }
            for i, (c, v, y) in enumerate(figures)
        ]
    )
    shares, _ = calc_shares_from_published(rows, 2025)
    assert float(shares.share.sum()) <= 1 + 1e-9
    assert float(shares.share.min()) >= 0 and float(shares.high.max()) <= 1


def test_single_country_volumes_without_world_total_leave_published_shares_in_use():
    facts = pd.concat(
        [FACTS, pd.DataFrame([fact("CHN", 500.0, "survey-a", stage="refining", year=2024)])], ignore_index=True
    )
    view = World(facts, SOURCES).stage_view("cobalt", "refining", 2024)
    assert view.method == "published shares" and view.share_of("CHN") == pytest.approx(0.75)


def test_a_year_before_all_data_uses_the_earliest_year_after_it(world):
    """docs/methods.md: the latest year no later than the one asked, else the earliest after it."""
    years = world.years("rare-earths", "mining")
    assert world.latest_year("rare-earths", "mining", at_most=years[0] - 10) == years[0]
    assert world.latest_year("rare-earths", "mining", at_most=years[-1] + 10) == years[-1]


def test_stage_view_and_supply_shares_pick_the_same_year_even_before_all_data(world):
    early = 1990
    table = world.supply_shares(early)
    for commodity, stage in (("rare-earths", "mining"), ("rare-earths", "refining"), ("gallium", "refining")):
        rows = table[(table["commodity"] == commodity) & (table["stage"] == stage)]
        assert set(rows["year"]) == {world.stage_view(commodity, stage, early).year}, (commodity, stage)

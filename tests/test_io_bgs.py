"""The BGS World Mineral Statistics importer, on fixtures written for these tests (tests/fixtures/bgs)."""

import json

import pytest

from oresight import io as importers
from oresight.errors import InputError
from oresight.io.bgs import read_bgs


def test_series_json_gives_production_and_a_world_sum(fixtures):
    result = read_bgs(fixtures / "bgs/cobalt-refined.json")
    facts = result.facts.set_index(["year", "country"])
    assert set(result.facts["commodity"]) == {"cobalt"} and set(result.facts["stage"]) == {"refining"}
    assert facts.loc[(2022, "CHN"), "value"] == 100 and facts.loc[(2022, "COD"), "value"] == 5  # ZAR is COD
    assert facts.loc[(2022, "WLD"), "value"] == 125 and facts.loc[(2023, "WLD"), "value"] == 138
    world_2022 = facts.loc[(2022, "WLD")]
    assert world_2022["status"] == "estimated" and "sum of the 3 countries" in world_2022["note"]
    assert result.sources[0].id == "bgs-wms-2023" and result.sources[0].series == "bgs-wms"  # edition: latest year
    assert "CC BY-NC-SA" in result.sources[0].licence
    assert [s.reason for s in result.skipped] == ["statistic 'Imports' not imported (trade comes from customs data)"]


def test_long_csv_converts_units_and_leaves_by_products_without_world_total(fixtures):
    result = read_bgs(fixtures / "bgs/bgs_wms_demo_long.csv", edition=2024)
    gallium = result.facts[result.facts["commodity"] == "gallium"].set_index("country")
    assert gallium.loc["CHN", "value"] == 500_000 and gallium.loc["CHN", "unit"] == "kg"  # t -> kg as USGS counts
    assert gallium.loc["CHN", "basis"] == "kg Ga (primary low-purity)" and "WLD" not in gallium.index
    reo = result.facts[result.facts["commodity"] == "rare-earths"].set_index("country")
    assert reo.loc["WLD", "value"] == 270_000 and "SUN" not in reo.index  # a blank quantity is not attested
    reasons = {s.reason for s in result.skipped}
    assert "not a country code: 'XXX'" in reasons
    assert any(r.startswith("series not imported: BGS sums tantalum and niobium") for r in reasons)
    assert {s.line for s in result.skipped if "XXX" in s.reason} == {8}


def test_a_unit_the_series_is_not_in_names_line_and_field(fixtures, tmp_path):
    bad = tmp_path / "bgs.csv"
    bad.write_text(
        "bgs_commodity,statistic,year,iso3,quantity,unit\nrare earth oxides,Production,2023,CHN,5,kilograms\n"
    )
    with pytest.raises(InputError, match=r"line 2.*unit.*tonnes \(metric\) REO"):
        read_bgs(bad)


def test_unknown_series_and_bad_year_are_clear_errors(tmp_path):
    unknown = tmp_path / "unobtainium.json"
    unknown.write_text(json.dumps({"Production": {"2023": {"CHN": 1.0}}}))
    with pytest.raises(InputError, match=r"not in taxonomy/bgs_series\.csv"):
        read_bgs(unknown)
    bad_year = tmp_path / "graphite.json"
    bad_year.write_text(json.dumps({"Production": {"20x3": {"CHN": 1.0}}}))
    with pytest.raises(InputError, match="not a year"):
        read_bgs(bad_year)


def test_formats_are_detected(fixtures):
    assert importers.detect_format(fixtures / "bgs/cobalt-refined.json") == "bgs"
    assert importers.detect_format(fixtures / "bgs/bgs_wms_demo_long.csv") == "bgs"

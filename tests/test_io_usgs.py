import math

import pytest

from oresight.errors import InputError
from oresight.facts import problems
from oresight.io.usgs_mcs import read_mcs_long, read_mcs_world_wide, series_rule, split_country
from oresight.io.usgs_salient import read_mcs_salient


@pytest.fixture(scope="module")
def wide(fixtures):
    return read_mcs_world_wide(fixtures / "usgs/mcs_world_wide.csv")


@pytest.fixture(scope="module")
def long(fixtures):
    return read_mcs_long(fixtures / "usgs/MCS2026_Commodities_Data_demo.csv")


def value(facts, **where):
    rows = facts
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_wide_layout_reads_years_units_and_countries(wide):
    f = wide.facts
    assert problems(f) == []
    assert wide.sources[0].id == "usgs-mcs-2025-world" and wide.sources[0].doi == "10.5066/P13XCP3R"
    assert value(f, commodity="rare-earths", country="CHN", year=2024, measure="production").value == 260000
    assert value(f, commodity="rare-earths", country="CHN", year=2024, measure="production").status == "estimated"
    assert value(f, commodity="rare-earths", country="USA", year=2023, measure="production").status == "reported"
    # "estimated 2023" marks only 2023
    assert value(f, commodity="rare-earths", country="MMR", year=2023, measure="production").status == "estimated"
    # footnote digits glued to "World total (rounded) 10", stray spaces in "Canada ", the em dash
    assert value(f, commodity="rare-earths", country="WLD", year=2024, measure="production").value == 340000
    assert value(f, commodity="rare-earths", country="CAN", year=2024, measure="production").value == 0
    assert value(f, commodity="rare-earths", country="ROW", year=2024, measure="production").value == 6000


def test_wide_layout_codes_and_bounds(wide):
    f = wide.facts
    withheld = value(f, commodity="cobalt", country="KOR", year=2024, measure="production")
    assert withheld.status == "withheld" and math.isnan(withheld.value)
    reserves = value(f, commodity="rare-earths", country="WLD", measure="reserves")
    assert reserves.status == "lower_bound" and reserves.low == 80_000_000 and reserves.stage == "mining"
    assert value(f, commodity="cobalt", country="COD", year=2024, measure="production").value == 210000
    # kilograms stay kilograms; thousand metric tons become tonnes
    assert value(f, commodity="gallium", country="CHN", year=2024, measure="production").unit == "kg"
    talc = value(f, commodity="talc", country="BRA", year=2024, measure="production")
    assert talc.value == 400_000 and "beneficiated" in talc.note
    # NA is no number at all: no fact
    assert f[(f.commodity == "rare-earths") & (f.country == "MMR") & (f.measure == "reserves")].empty


def test_wide_layout_reports_rows_it_cannot_place(wide):
    reasons = [s.reason for s in wide.skipped]
    assert any("United States and Canada" in r for r in reasons)


def test_long_layout_world_salient_and_import_sources(long):
    f = long.facts
    assert problems(f) == []
    assert {s.id for s in long.sources} == {
        "usgs-mcs-2026-world",
        "usgs-mcs-2026-salient",
        "usgs-mcs-2026-import-sources",
    }
    assert value(f, commodity="rare-earths", country="MMR", year=2024, measure="production").value == 25000
    assert value(f, commodity="rare-earths", country="GRL", year=2024, measure="production").value == 0
    nir = f[(f.measure == "net_import_reliance") & (f.year == 2024)].set_index("basis")
    assert nir.loc["compounds and metals", "status"] == "lower_bound"
    assert nir.loc["mineral concentrates", "status"] == "net_exporter"
    share = value(f, measure="import_share", partner="CHN")
    assert share.value == pytest.approx(0.70) and share.year == 2024 and "2021–2024" in share.note
    assert value(f, commodity="copper", measure="imports").status == "upper_bound"
    assert any("Some Other Section" in s.reason for s in long.skipped)


def test_salient_file_columns(fixtures):
    result = read_mcs_salient(fixtures / "usgs/mcs2025-demo_salient.csv")
    f = result.facts
    assert value(f, measure="net_import_reliance", year=2024).status == "net_exporter"
    assert value(f, measure="price", year=2023).unit == "USD/kg"
    assert value(f, measure="imports", year=2024).status == "withheld"
    assert any("Mystery_column" in s.reason for s in result.skipped)


def test_split_country_and_rules():
    assert split_country("World total (rounded), synthetic") == ("World total", "synthetic")
    assert series_rule("Bauxite", "Mine production, bauxite, dry tons").commodity == "aluminium"
    assert series_rule("Titanium Mineral Concentrates", "Mine production: ilmenite and rutile").skips


def test_missing_column_names_file_line_and_field(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("SOURCE,COMMODITY,COUNTRY,TYPE\nMCS2025,Cobalt,China,Mine production\n")
    with pytest.raises(InputError) as err:
        read_mcs_world_wide(path)
    message = str(err.value)
    assert "broken.csv" in message and "line 1" in message and "UNIT_MEAS" in message


def test_bad_cell_is_skipped_with_file_line_and_field(tmp_path, fixtures):
    text = (fixtures / "usgs/mcs_world_wide.csv").read_bytes().decode("utf-8-sig")
    path = tmp_path / "cell.csv"
    path.write_text(text.replace("260000", "two hundred"), encoding="utf-8")
    result = read_mcs_world_wide(path)
    skipped = [s for s in result.skipped if "two hundred" in s.reason]
    assert skipped and skipped[0].line == 4 and "PROD_EST_ 2024" in skipped[0].reason


def test_unknown_unit_is_an_error_naming_the_line(tmp_path, fixtures):
    text = (fixtures / "usgs/mcs_world_wide.csv").read_bytes().decode("utf-8-sig")
    path = tmp_path / "unit.csv"
    path.write_text(text.replace("kilograms", "bushels", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"line 11.*UNIT_MEAS.*bushels"):
        read_mcs_world_wide(path)


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary", b"   \n"])
def test_empty_and_binary_files(tmp_path, content):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"x\.csv"):
        read_mcs_world_wide(path)

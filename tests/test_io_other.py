import pytest

from oresight.errors import InputError
from oresight.facts import problems
from oresight.io import detect_format, read
from oresight.io.comtrade import read_comtrade
from oresight.io.facts_csv import read_facts_csv
from oresight.io.iea import read_iea
from oresight.io.oecd import read_oecd_crc
from oresight.io.text import read_text_prefix
from oresight.io.usgs_myb import read_myb_world_production
from oresight.io.wgi import read_wgi


def one(facts, **where):
    rows = facts
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_wgi_estimates_with_confidence_interval(fixtures):
    result = read_wgi(fixtures / "wgi/WGIData.csv")
    f = result.facts
    assert problems(f) == []
    pv = one(f, country="CHN", measure="wgi_pv", year=2022)
    assert pv.value == pytest.approx(-0.3)
    assert pv.low == pytest.approx(-0.3 - 1.645 * 0.2) and pv.high == pytest.approx(-0.3 + 1.645 * 0.2)
    assert one(f, country="COD", measure="wgi_rl", year=2021).value == pytest.approx(-1.6)
    assert f[(f.country == "COD") & (f.year == 2022)].empty  # blank cell: not attested, not zero
    assert result.sources[0].id == "wb-wgi-2023"
    assert any("Netherlands Antilles" in s.reason for s in result.skipped)


def test_oecd_crc(fixtures):
    result = read_oecd_crc(fixtures / "oecd/oecd_crc_2026.csv")
    f = result.facts
    assert one(f, country="COD").value == 7 and one(f, country="DEU").value == 0
    assert "Category 0 pricing" in one(f, country="DEU").note
    # a very small country the OECD does not classify is missing, never 0 (the third party wrote '-' as 0)
    assert f[f.country == "MCO"].empty
    assert any(s.line == 4 and "not classified" in s.reason for s in result.skipped)


def test_oecd_out_of_range_is_an_error(tmp_path):
    path = tmp_path / "oecd_crc_2026.csv"
    path.write_text("country,iso3,crc\nChina,CHN,9\n")
    with pytest.raises(InputError, match=r"line 2.*crc"):
        read_oecd_crc(path)


def test_iea_json_supply_and_demand(fixtures):
    result = read_iea(fixtures / "iea/iea_cm_data_explorer_test.json")
    f = result.facts
    assert problems(f) == []
    china = one(f, commodity="rare-earths", stage="refining", country="CHN", year=2024)
    assert china.value == 73000 and china.unit == "t" and "magnet rare earths" in china.basis
    assert one(f, stage="mining", country="ROW", year=2024).value == 18000
    assert one(f, stage="mining", country="WLD", year=2024).value == 75000
    projected = one(f, stage="mining", country="CHN", year=2030)
    assert projected.status == "projected" and projected.scenario == "base-case"
    wind = one(f, measure="demand", sector="wind", year=2030)
    assert wind.scenario == "STEPS" and wind.value == 16000
    assert f[f.measure == "demand"]["sector"].isin(["wind", "ev-traction", "other", ""]).all()


def test_iea_supply_csv(fixtures):
    f = read_iea(fixtures / "iea/iea_supply_test.csv").facts
    assert one(f, country="COD").value == 200000
    assert "Top 3 share" not in set(f.country)


def test_comtrade_api_json(fixtures):
    result = read_comtrade(fixtures / "comtrade/usa_850511_2024.json")
    f = result.facts
    assert problems(f) == []
    values = f[f.measure == "import_value"].set_index("partner")["value"]
    assert values["CHN"] == 800000  # the C01 breakdown row is not added
    assert values["WLD"] == 1000000
    assert values["TWN"] == 50000  # "Other Asia, nes" is Taiwan in Comtrade
    assert one(f, measure="import_quantity", partner="JPN").value == pytest.approx(2.0)
    assert set(f.stage) == {"magnet"} and set(f.commodity) == {"rare-earths"}


def test_comtrade_flat_csv(fixtures):
    f = read_comtrade(fixtures / "comtrade/chn_2846_flat.csv").facts
    assert one(f, measure="import_value", partner="MMR").value == 700
    assert one(f, measure="import_quantity", partner="MMR").value == pytest.approx(50)
    assert one(f, measure="import_value", partner="LAO").country == "CHN"


def test_comtrade_without_fields_is_an_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="missing field"):
        read_comtrade(path)


def test_myb_workbook(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "T8"
    rows = [
        ["TABLE 8"],
        ["RARE EARTHS: WORLD MINE PRODUCTION, BY COUNTRY OR LOCALITY1"],
        [],
        ["(Metric tons, rare-earth oxide equivalent)"],
        [],
        ["Country or locality2", None, 2021, None, 2022],
        ["Australiae", None, 24000, None, 18000],
        ["China3", None, 168000, None, 210000, "e"],
        ["Ukraine", None, 10, None, 20],
        ["Indiae, 4", None, 2900, None, 2900],
        ["Burundi", None, 180, "e", "--"],
        ["Total", None, 290000, "r", 297000],
        ["eEstimated.  rRevised.  -- Zero."],
    ]
    for row in rows:
        sheet.append(row)
    path = tmp_path / "myb.xlsx"
    book.save(path)
    f = read_myb_world_production(path, sheet="T8", commodity="rare-earths", edition=2022).facts
    assert one(f, country="AUS", year=2022).status == "estimated"
    assert one(f, country="UKR", year=2022).status == "reported"  # a name ending in e is not a footnote
    assert one(f, country="CHN", year=2022).status == "estimated"
    assert one(f, country="IND", year=2021).value == 2900
    assert one(f, country="BDI", year=2022).value == 0
    assert one(f, country="WLD", year=2021).value == 290000


def test_facts_csv_resolves_names_and_validates(fixtures):
    result = read_facts_csv(fixtures / "facts/demo_facts.csv")
    f = result.facts
    assert problems(f) == []
    assert one(f, commodity="cobalt").country == "COD"
    assert one(f, country="JPN").value == pytest.approx(0.08)
    assert result.sources[0].publisher == "Test Publisher"


def test_facts_csv_share_above_one_names_line_and_field(fixtures):
    with pytest.raises(InputError) as err:
        read_facts_csv(fixtures / "facts/bad_facts.csv")
    assert "bad_facts.csv, line 3, field 'value'" in str(err.value)


def test_facts_csv_unknown_source(tmp_path, fixtures):
    path = tmp_path / "f.csv"
    path.write_text((fixtures / "facts/demo_facts.csv").read_text().replace("demo-survey-2025", "nobody-2020"))
    with pytest.raises(InputError, match="source 'nobody-2020' is not defined"):
        read_facts_csv(path)


def test_facts_csv_unknown_commodity_suggests(tmp_path, fixtures):
    path = tmp_path / "f.csv"
    path.write_text((fixtures / "facts/demo_facts.csv").read_text().replace("Kobalt", "Kobolt"))
    (tmp_path / "f.sources.yaml").write_text((fixtures / "facts/demo_facts.sources.yaml").read_text())
    with pytest.raises(InputError, match=r"line 4, field 'commodity'.*did you mean: cobalt"):
        read_facts_csv(path)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("usgs/mcs_world_wide.csv", "usgs-mcs-world"),
        ("usgs/MCS2026_Commodities_Data_demo.csv", "usgs-mcs"),
        ("usgs/mcs2025-demo_salient.csv", "usgs-salient"),
        ("wgi/WGIData.csv", "wgi"),
        ("oecd/oecd_crc_2026.csv", "oecd-crc"),
        ("iea/iea_cm_data_explorer_test.json", "iea"),
        ("iea/iea_supply_test.csv", "iea"),
        ("comtrade/usa_850511_2024.json", "comtrade"),
        ("comtrade/chn_2846_flat.csv", "comtrade"),
        ("facts/demo_facts.csv", "facts"),
    ],
)
def test_format_detection(fixtures, name, fmt):
    assert detect_format(fixtures / name) == fmt
    assert len(read(fixtures / name).facts) > 0


def test_unknown_format(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("hello,world\n1,2\n")
    with pytest.raises(InputError, match="--format"):
        detect_format(path)


def test_text_prefix_cut_inside_a_character_stays_utf8(tmp_path):
    path = tmp_path / "umlauts.txt"
    path.write_text("Ausfuhr für Gallium " * 10, encoding="utf-8")
    cut_at = len(b"Ausfuhr f") + 1  # inside the two bytes of "ü"
    text, cut = read_text_prefix(path, cut_at)
    assert (text, cut) == ("Ausfuhr f", True)
    whole, cut = read_text_prefix(path, 10_000)
    assert not cut and whole.startswith("Ausfuhr für")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: " + "[" * 800 + "]" * 800, "nested more than 64 levels"),
        ("a: &a [*a]", "refers to itself"),
        (
            "\n".join(["k0: &k0 [x]", *(f"k{i}: &k{i} [*k{i - 1}, *k{i - 1}, *k{i - 1}]" for i in range(1, 12))]),
            "too large",
        ),
    ],
)
def test_user_yaml_is_bounded_before_it_is_walked(text, message):
    from oresight.io.text import parse_yaml

    # an unbounded walk of the last case would take minutes: the bound is checked on the composed graph
    with pytest.raises(InputError, match=message):
        parse_yaml(text, "upload.yaml")

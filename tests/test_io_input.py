"""Reading untrusted files: bounded, one encoding decision per line, strict CSV headers and JSON, cut files."""

import pytest

from oresight.errors import InputError
from oresight.io import read
from oresight.io import text as text_module
from oresight.io.text import parse_json, read_csv_table, read_text


def test_a_device_is_refused_without_being_read():
    with pytest.raises(InputError, match=r"/dev/zero: not a regular file"):
        read_text("/dev/zero")
    with pytest.raises(InputError, match="not a regular file"):
        read("/dev/zero", "usgs-mcs")


def test_reading_is_bounded(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "1,2\n" * 1000)
    monkeypatch.setattr(text_module, "MAX_TEXT_BYTES", 100)
    with pytest.raises(InputError, match=r"big\.csv: file larger than"):
        read_text(path)


def test_one_latin1_line_in_a_utf8_file_leaves_the_other_lines_intact(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "country,value\nCôte d'Ivoire,1\n".encode() + "Genève,2\n".encode("cp1252") + "Zürich,3\n".encode()
    )
    rows = [r["country"] for _, r in read_csv_table(path)]
    assert rows == ["Côte d'Ivoire", "Genève", "Zürich"]


def test_a_column_named_twice_is_an_error_naming_it(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("country,crc,crc\nChina,2,5\n")
    with pytest.raises(InputError, match=r"twice\.csv, line 1, field 'crc': column name given twice"):
        read_csv_table(path)


@pytest.mark.parametrize("tail", ["China,CHN,2,no", "China,CHN,2", 'China,CHN,2,"(5'])
def test_a_file_cut_inside_its_last_line_is_refused(tmp_path, tail):
    path = tmp_path / "cut.csv"
    path.write_text("country,iso3,crc,notes\nAlbania,ALB,4,\n" + tail)
    with pytest.raises(InputError, match=r"cut\.csv, line 3: the file ends inside this line"):
        read_csv_table(path)


def test_a_whole_last_line_without_a_line_break_is_read(tmp_path):
    path = tmp_path / "whole.csv"
    path.write_text("country,iso3,crc,notes\nAlbania,ALB,4,\nChina,CHN,2,\n  ")
    assert [r["iso3"] for _, r in read_csv_table(path)] == ["ALB", "CHN"]


def test_a_field_over_the_csv_size_limit_is_an_error(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("country,crc\n" + "x" * 200_000 + ",1\n")
    with pytest.raises(InputError, match=r"huge\.csv, line \d+: malformed CSV: field larger"):
        read_csv_table(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a": 1,\n "a": 2}', r"line 2: key 'a' given twice"),
        ('{"a": NaN}', "not a finite number: NaN"),
        ('{"a": [Infinity]}', "not a finite number: Infinity"),
        ('{"a": 1e400}', "not a finite number: 1e400"),
        ('{"a": ', "invalid JSON"),
    ],
)
def test_json_is_read_strictly(text, message):
    with pytest.raises(InputError, match=message):
        parse_json(text, "x.json")


# -- importer regressions: each was a traceback (issues 14 and 15) -------------------------------------------------
def test_a_repeated_iea_row_is_kept_once_and_reported(tmp_path, fixtures):
    from oresight.io.iea import read_iea

    lines = (fixtures / "iea/iea_supply_test.csv").read_text().splitlines(keepends=True)
    path = tmp_path / "iea.csv"
    path.write_text("".join([*lines, lines[1]]))
    result = read_iea(path)
    assert len(result.facts[result.facts["country"] == "COD"]) == 1
    assert any("the same fact as line 2" in s.reason and s.line == len(lines) + 1 for s in result.skipped)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"supply": [1, 2]}', r"field 'supply': list where an object belongs"),
        ('{"supply": {"Cobalt": "x"}}', r"field 'supply.Cobalt': str where an object belongs"),
        ('{"supply": {"Cobalt": {"mining": {"countries": {"China": {"20x4": 1}}}}}}', "not a year: '20x4'"),
        ('{"supply": {"Cobalt": {"mining": {"countries": {"China": {"2024": "many"}}}}}}', "not a number: 'many'"),
        ('{"totalDemand": {"Cobalt": {"totalDemand": [1]}}}', "list where an object belongs"),
        ('{"totalDemand": {"Cobalt": []}}', r"field 'totalDemand.Cobalt': list where an object belongs"),
        ('{"supply": {"Cobalt": {"mining": "x"}}}', r"field 'supply.Cobalt.mining': str where an object belongs"),
        ('{"supply": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
    ],
)
def test_iea_json_of_the_wrong_shape_is_an_error_naming_the_part(tmp_path, document, message):
    path = tmp_path / "iea.json"
    path.write_text(document)
    with pytest.raises(InputError, match=message):
        read(path, "iea")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"data": {"refYear": 2024}}', "no 'data' list"),
        ('{"data": [1]}', r"field 'data\[0\]': int where a record belongs"),
        (
            '{"data": [{"refYear": "soon", "reporterISO": "USA", "partnerDesc": "World", "partnerISO": "W00", '
            '"cmdCode": "850511", "primaryValue": 1, "flowCode": "M"}]}',
            r"field 'data\[0\]\.refYear': not a year",
        ),
        ('{"data": [{"refYear": NaN}]}', "not a finite number: NaN"),
    ],
)
def test_comtrade_json_of_the_wrong_shape_is_an_error(tmp_path, document, message):
    path = tmp_path / "trade.json"
    path.write_text(document)
    with pytest.raises(InputError, match=message):
        read(path, "comtrade")


@pytest.mark.parametrize("year", ["", "nan", "inf", "20x3"])
def test_a_comtrade_csv_year_that_is_not_one_names_line_and_field(tmp_path, fixtures, year):
    lines = (fixtures / "comtrade/chn_2846_flat.csv").read_text().splitlines(keepends=True)
    path = tmp_path / "trade.csv"
    path.write_text("".join([lines[0], lines[1], year + lines[2][4:]]))
    with pytest.raises(InputError, match=r"trade\.csv, line 3, field 'year': not a year"):
        read(path, "comtrade")


def test_wgi_year_columns_in_any_order_give_the_right_vintage(tmp_path, fixtures):
    text = (fixtures / "wgi/WGIData.csv").read_text()
    swapped = text.replace('"2020","2021","2022"', '"2022","2021","2020"')
    path = tmp_path / "WGIData.csv"
    path.write_text(swapped)
    result = read(path, "wgi")
    assert result.sources[0].id == "wb-wgi-2023"
    china = result.facts[(result.facts["country"] == "CHN") & (result.facts["measure"] == "wgi_pv")]
    assert dict(zip(china["year"], china["value"], strict=True)) == {2022: -0.5, 2021: -0.48, 2020: -0.3}


def test_wgi_rows_that_disagree_are_an_error(tmp_path, fixtures):
    lines = (fixtures / "wgi/WGIData.csv").read_text().splitlines(keepends=True)
    path = tmp_path / "WGIData.csv"
    path.write_text("".join([*lines, lines[1].replace('"-0.3"', '"1.5"')]))
    with pytest.raises(InputError, match=r"PV 2022 of CHN is 1\.5 here and -0\.3 on line 2"):
        read(path, "wgi")


def test_an_iea_year_beyond_any_calendar_is_an_error_not_a_database_failure(tmp_path, fixtures):
    text = (fixtures / "iea/iea_supply_test.csv").read_text().replace(",2024,200.0,", ",3000000000,200.0,", 1)
    path = tmp_path / "iea.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=r"iea\.csv, line 2, field 'year': not a year: '3000000000'"):
        read(path, "iea")


def test_a_trade_file_with_every_row_twice_does_not_double_its_trade(tmp_path, fixtures):
    for companion in (fixtures / "trade").iterdir():
        (tmp_path / companion.name).write_bytes(companion.read_bytes())
    path = tmp_path / "BACI_HS92_Y2018_V202601.csv"
    once = read(path, "baci").facts
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([lines[0], *lines[1:], *lines[1:]]))
    twice = read(path, "baci")
    assert len(twice.facts) == len(once) and twice.facts["value"].sum() == once["value"].sum()
    assert sum("the same fact as" in s.reason for s in twice.skipped) == len(once)

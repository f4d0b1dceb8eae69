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

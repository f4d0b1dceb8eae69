"""Fuzzing every importer with mutations of its fixture files (issues 14 and 15).

Each example takes a fixture in a publisher's format, mutates it the way files break or are made hostile — a
flipped byte, a cut, rows or a column given twice, a number replaced by inf, NaN, a negative or a huge value,
JSON of the wrong shape or nested deep, one line in another encoding, columns in another order — and imports
it. Either the importer refuses it with one line naming the file (and line and field where there is one), or
every fact it returns can be true; an accepted file then goes into a store and is taken out again, leaving the
store exactly as it was. Never a traceback. Examples are bounded and derandomised, so CI stays fast and
reproducible; ``ORESIGHT_FUZZ_SCALE=N`` multiplies them for a deeper run.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3

import duckdb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oresight.errors import OresightError
from oresight.facts import problems
from oresight.io import geopolrisk as geopolrisk_io
from oresight.io import read
from oresight.io.usgs_myb import read_myb_world_production
from oresight.io.validate import calc_value_problems, check_values
from oresight.plausibility import review_import
from oresight.store import Store

TEXT_FIXTURES = [
    ("usgs/mcs_world_wide.csv", "usgs-mcs-world"),
    ("usgs/MCS2026_Commodities_Data_demo.csv", "usgs-mcs"),
    ("usgs/mcs2025-demo_salient.csv", "usgs-salient"),
    ("usgs/mcs2025-lead_salient.csv", "usgs-salient"),
    ("wgi/WGIData.csv", "wgi"),
    ("oecd/oecd_crc_2026.csv", "oecd-crc"),
    ("iea/iea_cm_data_explorer_test.json", "iea"),
    ("iea/iea_supply_test.csv", "iea"),
    ("eu_crm/eu_crm_results_demo.csv", "eu-crm"),
    ("eu_crm/eu_crm_trade_parameters_demo.csv", "eu-crm"),
    ("comtrade/usa_850511_2024.json", "comtrade"),
    ("comtrade/chn_2846_flat.csv", "comtrade"),
    ("bgs/bgs_wms_demo_long.csv", "bgs"),
    ("bgs/cobalt-refined.json", "bgs"),
    ("trade/BACI_HS92_Y2018_V202601.csv", "baci"),
    ("trade/comtrade_2024_raw.csv", "comtrade-raw"),
    ("trade/eu27_extra_eu_imports_cn85051110_by_origin_2024.csv", "comext"),
    ("trade/customs_press_figures.csv", "press-trade"),
    ("facts/demo_facts.csv", "facts"),
]
HOSTILE_NUMBERS = [
    "inf",
    "-inf",
    "nan",
    "NaN",
    "Infinity",
    "-5",
    "-0.001",
    "1e400",
    "-1e308",
    "1e308",
    "3000000000",
    "99999999999999999999",
    "",
    "1.5",
    "250",
    "0x1F",
    "1,2,3",
]
NUMBER = re.compile(rb"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


def bounded(examples: int) -> settings:
    """Hypothesis settings for CI: a fixed number of examples, the same ones every run, no deadline.
    ``ORESIGHT_FUZZ_SCALE=10`` runs ten times as many (a deeper search than CI's)."""
    return settings(
        max_examples=examples * int(os.environ.get("ORESIGHT_FUZZ_SCALE", "1")),
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# -- mutations: bytes -> bytes, their parameters drawn by hypothesis ---------------------------------------------
def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [data]


def _at(draw, size: int) -> int:
    """A position in ``size`` items, drawn independently of the size (built files differ in length run to run)."""
    return draw(st.integers(0, 2**31)) % max(size, 1)


def flip(data, draw):
    position = _at(draw, len(data))
    return data[:position] + bytes([draw(st.integers(0, 255))]) + data[position + 1 :]


def cut(data, draw):
    return data[: 1 + _at(draw, len(data) - 1)]


def rows_twice(data, draw):
    lines = _lines(data)
    return b"".join(lines[:1] + lines[1:] + lines[1:])


def one_row_twice(data, draw):
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    repeat = lines[i] if lines[i].endswith(b"\n") else lines[i] + b"\n"
    return b"".join([*lines[: i + 1], repeat, *lines[i + 1 :]])


def column_twice(data, draw):
    k = draw(st.integers(0, 5))
    out = []
    for line in _lines(data):
        cells = line.rstrip(b"\r\n").split(b",")
        j = min(k, len(cells) - 1)
        out.append(b",".join([*cells[: j + 1], cells[j], *cells[j + 1 :]]) + b"\n")
    return b"".join(out)


def columns_swapped(data, draw):
    lines = _lines(data)
    header = lines[0].rstrip(b"\r\n").split(b",")
    i, j = draw(st.integers(0, len(header) - 1)), draw(st.integers(0, len(header) - 1))
    header[i], header[j] = header[j], header[i]
    return b",".join(header) + b"\n" + b"".join(lines[1:])


def hostile_number(data, draw):
    numbers = list(NUMBER.finditer(data))
    if not numbers:
        return data
    for _ in range(draw(st.integers(1, 3))):
        match = numbers[draw(st.integers(0, len(numbers) - 1))]
        replacement = draw(st.sampled_from(HOSTILE_NUMBERS)).encode()
        data = data[: match.start()] + replacement + data[match.end() :]
        numbers = list(NUMBER.finditer(data))
        if not numbers:
            break
    return data


def other_encoding(data, draw):
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    text = lines[i].decode("utf-8", errors="replace")
    extra = draw(st.sampled_from(["Côte d'Ivoire", "Curaçao", "Réunion", "Zürich"]))
    lines[i] = (text.rstrip("\r\n") + extra + "\n").encode("cp1252", errors="replace")
    return b"".join(lines)


def deep_nesting(data, draw):
    depth = draw(st.sampled_from([50, 2_000, 200_000]))
    nested = b"[" * depth + b"]" * depth
    if data.lstrip()[:1] == b"{":
        return b'{"supply": ' + nested + b', "data": ' + nested + b"}"
    lines = _lines(data)
    return lines[0] + b"x," + nested + b"\n" + b"".join(lines[1:])


def wrong_shape(data, draw):
    """A JSON fixture with one object or list somewhere in it replaced by a value of another shape."""
    try:
        document = json.loads(data)
    except ValueError:
        return data
    containers = []

    def walk(node, path):
        if isinstance(node, dict | list):
            containers.append(path)
            for key, child in node.items() if isinstance(node, dict) else enumerate(node):
                walk(child, [*path, key])

    walk(document, [])
    path = containers[draw(st.integers(0, len(containers) - 1))]
    replacement = draw(st.sampled_from([[], {}, "text", 7, None, [1, "x"], {"2024": "many"}, True]))
    if not path:
        return json.dumps(replacement).encode()
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    return json.dumps(document).encode()


MUTATIONS = [
    flip,
    cut,
    rows_twice,
    one_row_twice,
    column_twice,
    columns_swapped,
    hostile_number,
    other_encoding,
    deep_nesting,
    wrong_shape,
]


# -- the property --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store_path(tmp_path_factory, fixtures):
    """A store that already holds one import, so the round trip below has something to leave intact."""
    path = tmp_path_factory.mktemp("fuzz-store") / "oresight.duckdb"
    result = read(fixtures / "oecd/oecd_crc_2026.csv")
    with Store.open(path) as store:
        store.add_import(fixtures / "oecd/oecd_crc_2026.csv", "oecd-crc", result.facts, result.sources, 0)
    return path


def _content(path) -> list:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("imports", "facts", "sources")]
    finally:
        con.close()


def imported_or_refused(path, fmt, store_path, reader=read, *, round_trip=True):
    """Import ``path``: a one-line error naming the file, or facts that can all be true and (``round_trip``) a
    store round trip that leaves the store as it was."""
    try:
        result = reader(path, fmt) if reader is read else reader(path)
    except OresightError as exc:
        message = str(exc)
        assert "\n" not in message, message
        assert path.name in message, message
        return None
    facts = result.facts
    reasons = calc_value_problems(facts)
    assert (reasons == "").all(), reasons[reasons != ""].tolist()[:3]
    assert problems(facts) == []
    if facts.empty or not round_trip:
        return result
    before = _content(store_path)
    with Store.open(store_path) as store:
        import_id = store.add_import(path, fmt, facts, result.sources, len(result.skipped))
        stored = store.con.execute("SELECT * FROM facts WHERE import_id = ?", [import_id]).df()
        assert (calc_value_problems(stored) == "").all()
        store.remove_import(import_id)
    assert _content(store_path) == before
    return result


@bounded(100)
@given(data=st.data())
def test_mutated_publisher_files_are_refused_cleanly_or_imported_true(data, fixtures, tmp_path, store_path):
    name, fmt = data.draw(st.sampled_from(TEXT_FIXTURES), label="fixture")
    mutate = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    original = (fixtures / name).read_bytes()
    mutated = mutate(original, lambda strategy: data.draw(strategy))
    path = tmp_path / (fixtures / name).name
    path.write_bytes(mutated)
    for companion in (fixtures / name).parent.iterdir():  # a facts file's sources, BACI's country codes
        if companion.name != path.name and companion.suffix in (".yaml", ".csv"):
            (tmp_path / companion.name).write_bytes(companion.read_bytes())
    fmt = data.draw(st.sampled_from([fmt, "auto"]), label="format")
    imported_or_refused(path, fmt, store_path, round_trip=data.draw(st.integers(0, 2), label="store") == 0)


@bounded(8)
@given(data=st.data())
def test_the_plausibility_review_takes_whatever_an_importer_accepts(data, fixtures, tmp_path):
    name, fmt = data.draw(st.sampled_from(TEXT_FIXTURES[:6]), label="fixture")
    path = tmp_path / (fixtures / name).name
    path.write_bytes(hostile_number((fixtures / name).read_bytes(), lambda s: data.draw(s)))
    try:
        result = read(path, fmt)
    except OresightError:
        return
    reviewed = review_import(result)
    assert (calc_value_problems(reviewed.facts) == "").all()
    assert len(reviewed.facts) <= len(result.facts)


# -- binary formats: values drawn into a real SQLite database and real workbooks ----------------------------------
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from(["W", "NA", "—", "-5", "1e400", ">95", "", "two"]),
    st.none(),
)


def _wmd(path, cells):
    con = sqlite3.connect(path)
    con.execute(
        'CREATE TABLE "Cobalt" (Country TEXT, Country_Code TEXT, Country_ISO TEXT, "2021" , "2022", unit TEXT, '
        "data_source TEXT)"
    )
    rows = [
        ("Congo, D.R.", "COD", "COD", 130000, 115000, "metr. t", "e"),
        ("Total", "", "", 160000, 190000, "metr. t", "r"),
    ]
    for (country, code, iso, _a, _b, unit, status), (a, b) in zip(rows, cells, strict=False):
        con.execute('INSERT INTO "Cobalt" VALUES (?, ?, ?, ?, ?, ?, ?)', (country, code, iso, a, b, unit, status))
    con.commit()
    con.close()


def _workbook(path, title, rows):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    return book


def _geopolrisk(path, cells):
    book = _workbook(
        path,
        "Trade Data",
        [list(geopolrisk_io._TRADE_COLUMNS), [2022, 710, 842, "Manganese", 260200, cells[0], cells[1], 0.6]],
    )
    results = book.create_sheet("GeoPolRisk")
    results.append(
        ["Year", "Raw Material", "Importer", "HS CODE", "HHI", "Import Risk (WTA)", "GeoPolRisk Score", "CF"]
    )
    results.append([2022, "Manganese", "United States", 2602, 0.2, cells[2], 0.05, 0.01])
    book.save(path)


def _myb(path, cells):
    book = _workbook(
        path,
        "T8",
        [
            ["TABLE 8"],
            ["RARE EARTHS: WORLD MINE PRODUCTION, BY COUNTRY OR LOCALITY1"],
            [],
            ["(Metric tons, rare-earth oxide equivalent)"],
            [],
            ["Country or locality2", None, 2021, None, 2022],
            ["Australiae", None, cells[0], None, cells[1]],
            ["Total", None, cells[2], "r", 297000],
        ],
    )
    book.save(path)


BINARY = {
    "WMD2024_demo.db": ("wmd", _wmd, read),
    "geopolrisk_testcase.xlsx": ("geopolrisk-testcase", _geopolrisk, read),
    # not an `oresight data import` format: the build reads it, and passes its output through check_values
    "myb_rare_earths.xlsx": (
        "usgs-myb",
        _myb,
        lambda p: check_values(read_myb_world_production(p, sheet="T8", commodity="rare-earths", edition=2022)),
    ),
}


@bounded(18)
@given(data=st.data())
def test_binary_formats_with_hostile_values_or_bytes(data, tmp_path, store_path):
    pytest.importorskip("openpyxl")
    name = data.draw(st.sampled_from(sorted(BINARY)), label="file")
    fmt, build, reader = BINARY[name]
    cells = data.draw(st.lists(st.one_of(CELLS, st.tuples(CELLS, CELLS)), min_size=3, max_size=3), label="cells")
    if name.endswith(".db"):
        cells = [c if isinstance(c, tuple) else (c, c) for c in cells]
    else:
        cells = [c[0] if isinstance(c, tuple) else c for c in cells]
        cells = [c if not (isinstance(c, float) and not np.isfinite(c)) else str(c) for c in cells]
    path = tmp_path / name
    path.unlink(missing_ok=True)
    build(path, cells)
    if data.draw(st.booleans(), label="damage the bytes"):
        path.write_bytes(data.draw(st.sampled_from([flip, cut]))(path.read_bytes(), lambda s: data.draw(s)))
    imported_or_refused(path, fmt, store_path, reader)

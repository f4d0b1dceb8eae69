"""The store's import log: `data imports` lists imports, `data remove` takes one back leaving the store exactly as
before it, a failed import changes nothing, and `data problems` lists what the rules found."""

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import oresight
from oresight.cli import app
from oresight.errors import InputError, OresightError
from oresight.io import read
from oresight.store import Store

runner = CliRunner()
TABLES = ("imports", "facts", "sources", "runs")


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def snapshot(path) -> dict[str, pd.DataFrame]:
    """Every table of the store, rows in a fixed order."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in TABLES}
    finally:
        con.close()


def assert_same(before: dict, after: dict) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(before[table], after[table], check_dtype=False, obj=table)


@pytest.fixture
def store_with_one_import(fixtures, isolated_home):
    result = run("data", "import", fixtures / "usgs/mcs_world_wide.csv", "--output", "json")
    assert result.exit_code == 0, result.output
    return isolated_home / "oresight.duckdb"


def test_imports_are_listed_with_their_flags(store_with_one_import, fixtures):
    run("data", "import", fixtures / "wgi/WGIData.csv")
    rows = json.loads(run("data", "imports", "--format", "json").stdout)
    assert [r["id"] for r in rows] == [1, 2] and [r["format"] for r in rows] == ["usgs-mcs-world", "wgi"]
    assert rows[0]["facts"] > 0 and rows[0]["flagged"] >= 1 and rows[1]["flagged"] == 0
    assert "mcs_world_wide.csv" in run("data", "imports").stdout


def test_removing_an_import_leaves_the_store_exactly_as_before_it(store_with_one_import, fixtures):
    before = snapshot(store_with_one_import)
    world_before = oresight.load().all_facts
    assert run("data", "import", fixtures / "usgs/MCS2026_Commodities_Data_demo.csv").exit_code == 0
    assert float(oresight.load().production("rare-earths", "mining", 2024).sel(country="CHN")) == 260_000
    result = run("data", "remove", 2, "--output", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["removed"] == 2
    assert_same(before, snapshot(store_with_one_import))
    pd.testing.assert_frame_equal(oresight.load().all_facts, world_before)


def test_removing_the_only_import_gives_back_the_bundled_data(store_with_one_import):
    assert run("data", "remove", 1).exit_code == 0
    assert len(oresight.load().all_facts) == len(oresight.load(store=False).all_facts)
    assert json.loads(run("data", "imports", "--format", "json").stdout) == []


def test_removing_an_unknown_import_names_the_ones_there_are(store_with_one_import):
    with Store.open(store_with_one_import) as store, pytest.raises(OresightError, match=r"no import 7 .*imports: 1"):
        store.remove_import(7)


def test_a_failed_import_leaves_the_store_unchanged(store_with_one_import, tmp_path, fixtures):
    before = snapshot(store_with_one_import)
    twice = tmp_path / "WGIData.csv"
    twice.write_text((fixtures / "wgi/WGIData.csv").read_text().replace('"2021"', '"2020"'))
    with pytest.raises(InputError, match="column name given twice"):
        run("data", "import", twice)
    assert_same(before, snapshot(store_with_one_import))


def test_the_store_refuses_impossible_numbers_and_stays_as_it_was(store_with_one_import, fixtures):
    before = snapshot(store_with_one_import)
    result = read(fixtures / "wgi/WGIData.csv")
    poisoned = result.facts.copy()
    poisoned.loc[0, "value"] = np.inf
    with Store.open(store_with_one_import) as store, pytest.raises(InputError, match="cannot be true"):
        store.add_import(fixtures / "wgi/WGIData.csv", "wgi", poisoned, result.sources, 0)
    assert_same(before, snapshot(store_with_one_import))


def test_an_impossible_number_is_skipped_with_its_line_and_field(isolated_home, tmp_path, fixtures):
    path = tmp_path / "WGIData.csv"
    path.write_text((fixtures / "wgi/WGIData.csv").read_text().replace('"-0.48"', '"-1e308"'))
    report = json.loads(run("data", "import", path, "--output", "json").stdout)
    assert any("field '2021': value -1e+308 below -5" in reason for reason in report["skipped_reasons"])
    stored = oresight.load().all_facts
    assert stored[stored["load_order"] == 1]["value"].abs().max() < 5


def test_problems_lists_the_bundled_findings_and_the_users(store_with_one_import):
    rows = json.loads(run("data", "problems", "--format", "json").stdout)
    statuses = {(r["origin"], r["status"], r["rule"], r["commodity"]) for r in rows}
    assert ("bundled", "corrected", "reserves-cover-output", "vanadium") in statuses
    assert ("bundled", "dropped", "reserves-not-capacity", "magnesium") in statuses
    assert ("bundled", "flagged", "world-total-matches-countries", "kaolin") in statuses
    assert ("import 1", "flagged", "edition-change", "rare-earths") in statuses
    table = run("data", "problems", "--commodity", "Vanadium", "--rule", "reserves-cover-output")
    assert table.exit_code == 0 and "vanadium" in table.stdout and "kaolin" not in table.stdout


def test_problems_with_an_unknown_rule_suggests_the_rules():
    result = runner.invoke(app, ["data", "problems", "--rule", "edition-changes"])
    assert result.exit_code != 0 and "edition-change" in str(result.exception)


def test_a_store_made_before_flags_existed_is_migrated(tmp_path, fixtures):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    columns = ", ".join(f'"{c}" VARCHAR' for c in ("commodity", "stage", "country", "partner", "sector", "scenario"))
    con.execute(
        f"CREATE TABLE facts (import_id INTEGER, {columns}, year INTEGER, measure VARCHAR, value DOUBLE, "
        "unit VARCHAR, basis VARCHAR, status VARCHAR, low DOUBLE, high DOUBLE, source VARCHAR, note VARCHAR)"
    )
    con.close()
    result = read(fixtures / "wgi/WGIData.csv")
    with Store.open(path) as store:
        store.add_import(fixtures / "wgi/WGIData.csv", "wgi", result.facts, result.sources, 0)
    assert len(oresight.load(store=path).all_facts) == len(oresight.load(store=False).all_facts) + len(result.facts)


def test_data_show_carries_each_facts_flag():
    rows = json.loads(run("data", "show", "vanadium", "--measure", "reserves", "--format", "json").stdout)
    assert rows and {r["flag"] for r in rows} == {"corrected"}
    assert all(r["value"] >= 50_000 for r in rows if r["country"] != "USA")

import pytest

import oresight
from oresight.io import read
from oresight.store import Store, default_home


def test_default_home_follows_environment(isolated_home):
    assert default_home() == isolated_home


def test_import_round_trip_and_precedence(fixtures, isolated_home):
    result = read(fixtures / "usgs/MCS2026_Commodities_Data_demo.csv")
    with Store.open() as store:
        first = store.add_import(
            fixtures / "usgs/MCS2026_Commodities_Data_demo.csv",
            "usgs-mcs",
            result.facts,
            result.sources,
            len(result.skipped),
        )
        log = store.imports()
    assert first == 1 and log["facts"].iat[0] == len(result.facts) and len(log["sha256"].iat[0]) == 64
    world = oresight.load()
    # the same table and edition loaded later than the bundled copy takes precedence
    assert float(world.production("rare-earths", "mining", 2024).sel(country="CHN")) == 260_000
    # the bundled data are untouched and still there without the store
    assert float(oresight.load(store=False).production("rare-earths", "mining", 2024).sel(country="CHN")) == 270_000


def test_a_later_import_wins_over_an_earlier_one(fixtures, tmp_path):
    result = read(fixtures / "usgs/MCS2026_Commodities_Data_demo.csv")
    changed = result.facts.copy()
    changed.loc[(changed["country"] == "CHN") & (changed["measure"] == "production"), "value"] = 111.0
    with Store.open(tmp_path / "s.duckdb") as store:
        store.add_import(tmp_path, "usgs-mcs", result.facts, result.sources, 0)
        store.add_import(tmp_path, "usgs-mcs", changed, result.sources, 0)
    world = oresight.load(store=tmp_path / "s.duckdb")
    assert float(world.production("rare-earths", "mining", 2024).sel(country="CHN")) == 111.0


def test_failed_import_leaves_the_store_as_it_was(fixtures, tmp_path, monkeypatch):
    result = read(fixtures / "usgs/MCS2026_Commodities_Data_demo.csv")
    path = tmp_path / "s.duckdb"
    with Store.open(path) as store:
        store.add_import(tmp_path, "usgs-mcs", result.facts, result.sources, 0)
        before = store.con.execute("SELECT count(*) FROM facts").fetchone()[0]
        original = Store._insert

        def fail_on_sources(self, table, frame):
            if table == "sources":
                raise RuntimeError("disk full")  # after the log row and the facts went in
            original(self, table, frame)

        monkeypatch.setattr(Store, "_insert", fail_on_sources)
        with pytest.raises(RuntimeError, match="disk full"):
            store.add_import(tmp_path, "usgs-mcs", result.facts, result.sources, 0)
        after = store.con.execute("SELECT count(*) FROM facts").fetchone()[0]
        imports = store.con.execute("SELECT count(*) FROM imports").fetchone()[0]
    assert before == after and imports == 1


def test_missing_store_is_not_created_by_loading(isolated_home):
    oresight.load()
    assert not (isolated_home / "oresight.duckdb").exists()
    assert Store.open(create=False) is None


@pytest.fixture(scope="module")
def home_seen_by_a_module_fixture():
    from oresight.store import default_home

    return default_home()


def test_no_fixture_of_any_scope_sees_the_users_home(home_seen_by_a_module_fixture):
    """A module-scoped fixture runs before the per-test home; it still never reaches ~/.oresight."""
    from pathlib import Path

    assert not home_seen_by_a_module_fixture.is_relative_to(Path.home() / ".oresight")
    assert home_seen_by_a_module_fixture.name == "home"


def test_a_reader_lists_the_imports_of_a_store_made_before_facts_had_flags(fixtures, tmp_path):
    result = read(fixtures / "usgs/MCS2026_Commodities_Data_demo.csv")
    path = tmp_path / "old.duckdb"
    with Store.open(path) as store:
        store.add_import(tmp_path, "usgs-mcs", result.facts, result.sources, 0)
        store.con.execute("ALTER TABLE facts DROP COLUMN flag")  # as an earlier version wrote it
    with Store.open(path, read_only=True) as reader:
        log = reader.imports()
    assert log["id"].tolist() == [1] and log["flagged"].tolist() == [0]

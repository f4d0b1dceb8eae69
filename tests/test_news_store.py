"""News in the DuckDB store: idempotent, atomic ingest; events regrouped as reports arrive; filters; scenario
links."""

import pytest

from oresight.news import read_articles
from oresight.news.store import events, ingest
from oresight.store import Store


@pytest.fixture(scope="module")
def reports(fixtures):
    articles, _ = read_articles([fixtures / "news" / "reports.jsonl"])
    return {a.id: a for a in articles}


@pytest.fixture(scope="module")
def ban_and_lifting(fixtures):
    articles, _ = read_articles([fixtures / "news" / "latin1.txt", fixtures / "news" / "feed.xml"])
    return articles


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "store.duckdb") as opened:
        yield opened


def counts(store):
    return tuple(
        store.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("news_articles", "news_events", "news_event_articles")
    )


def test_the_same_articles_twice_are_stored_once(store, reports):
    first = ingest(list(reports.values()), store)
    assert (first.stored, first.skipped) == (9, 0)
    before = counts(store)
    again = ingest(list(reports.values()), store)
    assert (again.stored, again.skipped, again.events) == (0, 9, first.events)
    assert counts(store) == before


def test_a_changed_text_replaces_the_stored_article(store, reports):
    ingest([reports["sb-price"]], store)
    corrected = type(reports["sb-price"])(**{**vars(reports["sb-price"]), "text": reports["sb-price"].text + " Fixed."})
    report = ingest([corrected], store)
    assert (report.stored, report.skipped) == (1, 0)
    assert counts(store)[0] == 1


def test_articles_extracted_with_other_rules_are_extracted_again(store, reports, monkeypatch):
    import oresight.news.store as news_store

    ingest([reports["g-en"], reports["g-de"]], store)
    assert ingest([], store).refreshed == 0
    monkeypatch.setattr(news_store, "_extracted_with", lambda lexicon: "oresight next; lexicon changed")
    report = ingest([reports["g-en"]], store)
    assert (report.stored, report.skipped, report.refreshed) == (0, 1, 2)
    versions = store.con.execute("SELECT DISTINCT extracted_with FROM news_articles").fetchall()
    assert versions == [("oresight next; lexicon changed",)]
    assert len(events(store)) == 1


def test_a_later_report_joins_the_stored_event(store, reports):
    ingest([reports["g-en"]], store)
    ingest([reports["g-de"], reports["g-licence"]], store)
    found = {e["type"]: e for e in events(store)}
    assert sorted(a["id"] for a in found["export_control"]["articles"]) == ["g-de", "g-en"]
    assert [a["id"] for a in found["other"]["articles"]] == ["g-licence"]


class _FailingConnection:
    """A connection that breaks down while the event members are written."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args):
        return self._con.execute(sql, *args)

    def executemany(self, sql, *args):
        if "news_event_articles" in sql:
            raise KeyboardInterrupt
        return self._con.executemany(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_an_interrupted_ingest_leaves_the_store_as_it_was(store, reports):
    ingest([reports["g-en"]], store)
    before = counts(store)
    real = store.con
    store.con = _FailingConnection(real)
    with pytest.raises(KeyboardInterrupt):
        ingest([reports["ree-en"], reports["ree-de"]], store)
    store.con = real
    assert counts(store) == before
    assert store.con.execute("SELECT id FROM news_articles").fetchall() == [("g-en",)]


def test_event_filters(store, reports):
    ingest(list(reports.values()), store)
    assert [e["type"] for e in events(store, kind="price_shock")] == ["price_shock"]
    assert {e["event_date"] for e in events(store, since="2025-01-01")} == {"2025-01-06", "2025-10-28"}
    graphite = events(store, commodity="Graphite")
    assert {e["type"] for e in graphite} == {"export_control", "other"}
    newest_first = [e["event_date"] for e in events(store)]
    assert newest_first == sorted(newest_first, reverse=True)


def test_event_articles_carry_flags_and_evidence(store, reports):
    ingest(list(reports.values()), store)
    (agreement,) = events(store, kind="agreement_partnership")
    assert agreement["countries"] == ["JPN", "USA"]
    flags = {a["id"]: a["flags"] for a in agreement["articles"]}
    assert "machine_translated" in flags["ree-de"] and flags["ree-en"] == []
    assert all(a["evidence"]["commodities"] for a in agreement["articles"])
    assert agreement["scenario"] is None  # no scenario models an agreement


def test_export_ban_and_its_suspension_link_to_the_scenario(store, ban_and_lifting):
    ingest(ban_and_lifting, store)
    by_type = {e["type"]: e for e in events(store)}
    ban, lifting = by_type["export_control"], by_type["export_control_suspension"]
    assert ban["scenario"]["scenario"] == lifting["scenario"]["scenario"] == "cn-2024-12-ga-ge-sb-us-ban"
    assert ban["scenario"]["match"] == "models this event"
    assert lifting["scenario"]["match"] == "suspends the measure this scenario models"
    parameters = ban["scenario"]["parameters"]
    assert parameters["country"] == "CHN" and parameters["targets"] == ["USA"]
    assert parameters["commodities"] == ["antimony", "gallium", "germanium"]


def test_export_control_without_a_library_scenario_says_so(store, reports):
    ingest([reports["g-en"]], store)
    (graphite,) = events(store)
    link = graphite["scenario"]
    assert link["scenario"] is None and "no library scenario" in link["match"]
    assert link["parameters"]["effective_date"] == "2023-12-01"

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


# -- robustness, incremental grouping, names (issues 14 and 15) ----------------------------------------------
@pytest.fixture(scope="module")
def multilingual(fixtures):
    articles, _ = read_articles([fixtures / "news" / "reports-ml.jsonl"])
    return {a.id: a for a in articles}


def _mixed_file(path, good):
    """A JSON Lines file: good lines, and bad ones of every kind the issue names; one line in Latin-1."""
    import json

    lines = [json.dumps(good[0]).encode()]
    lines.append(b'{"id": "surrogate", "text": "Gallium \\ud800 exports"}')
    lines.append(json.dumps({"id": "far-future", "published": "9999-12-31", "text": good[1]["text"]}).encode())
    lines.append(b"[" * 100_000 + b"]" * 100_000)
    lines.append('{"id": "latin1", "text": "Kupferpreise in Zürich gestiegen"}'.encode("latin-1"))
    lines.append(json.dumps(good[1], ensure_ascii=False).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_one_bad_line_loses_only_itself(tmp_path, store, multilingual):
    good = [
        {"id": a.id, "title": a.title, "text": a.text, "published": a.published}
        for a in (multilingual["ga-ko"], multilingual["ga-ja"])
    ]
    _mixed_file(tmp_path / "mixed.jsonl", good)
    articles, problems = read_articles([tmp_path / "mixed.jsonl"])
    assert [a.id for a in articles] == ["ga-ko", "latin1", "ga-ja"]
    assert next(a for a in articles if a.id == "latin1").text == "Kupferpreise in Zürich gestiegen"
    messages = [str(p) for p in problems]
    assert [p.line for p in problems] == [2, 3, 4]
    assert "not valid Unicode" in messages[0] and "9999-12-31" in messages[1] and "nests too deeply" in messages[2]
    assert all("\n" not in m for m in messages)
    report = ingest(articles, store)
    assert report.stored == 3 and not report.problems


def test_a_long_text_is_cut_and_flagged(tmp_path):
    import json

    from oresight.news.reader import MAX_ARTICLE_CHARS

    (tmp_path / "long.jsonl").write_text(json.dumps({"id": "long", "text": "Gallium. " * 10_000}) + "\n")
    (article,), _ = read_articles([tmp_path / "long.jsonl"])
    assert len(article.text) == MAX_ARTICLE_CHARS and article.flags == ["text_truncated"]


def test_a_title_is_read_as_the_headline(tmp_path, store):
    import json

    row = {
        "id": "t1",
        "title": "China restricts graphite exports",
        "published": "2023-10-20",
        "text": "The commerce ministry said on Friday that exporters will need permits from December 1.",
    }
    (tmp_path / "t.jsonl").write_text(json.dumps(row) + "\n")
    articles, _ = read_articles([tmp_path / "t.jsonl"])
    assert articles[0].title == row["title"]
    ingest(articles, store)
    (event,) = events(store)
    assert event["title"] == row["title"] and event["commodities"] == ["graphite"]


def test_nothing_new_writes_nothing(store, reports, monkeypatch):
    import oresight.news.store as news_store

    ingest(list(reports.values()), store)
    monkeypatch.setattr(news_store, "_write", lambda *a, **k: pytest.fail("a no-op ingest wrote"))
    monkeypatch.setattr(news_store, "extract", lambda *a, **k: pytest.fail("a no-op ingest extracted"))
    again = ingest(list(reports.values()), store)
    assert (again.stored, again.skipped, again.changed_events) == (0, len(reports), [])


def test_a_new_report_regroups_only_the_events_near_it(store, reports, multilingual):
    ingest([reports["g-en"], multilingual["ga-ko"]], store)  # graphite 2023, gallium 2025
    stamp = dict(store.con.execute("SELECT event, updated_at FROM news_events").fetchall())
    report = ingest([multilingual["ga-ja"]], store)
    after = dict(store.con.execute("SELECT event, updated_at FROM news_events").fetchall())
    graphite = next(e["event"] for e in events(store) if e["commodities"] == ["graphite"])
    assert after[graphite] == stamp[graphite]  # two years away: not regrouped
    (gallium,) = [e for e in events(store) if "gallium" in e["commodities"]]
    assert sorted(a["id"] for a in gallium["articles"]) == ["ga-ja", "ga-ko"]
    assert report.changed_events == [gallium["event"]]


def test_events_by_any_name_of_a_commodity_or_its_group(store, reports, multilingual):
    ingest([*reports.values(), multilingual["co-de"], multilingual["co-en"]], store)
    assert {e["event"] for e in events(store, commodity="Kobalt")} == {
        e["event"] for e in events(store, commodity="cobalt")
    }
    assert len(events(store, commodity="Kobalt")) == 1
    german = events(store, commodity="Seltene Erden")
    assert german and german == events(store, commodity="rare-earths")
    assert all(e["commodities"] for e in german)
    # the taxonomy's one rule: an abbreviation names the group it abbreviates, not the wider group it is in
    assert events(store, commodity="HREE") == events(store, commodity="heavy-rare-earths") != german


def test_the_kachin_outage_links_to_its_scenario(store, multilingual):
    ingest([multilingual["kachin-en"]], store)
    (outage,) = events(store)
    assert outage["type"] == "disruption_outage"
    assert outage["scenario"]["scenario"] == "mm-2024-kachin-ree-outage"
    assert outage["scenario"]["match"] == "models this event"


def test_ingest_by_path_opens_the_store_only_to_read_and_write(tmp_path, reports, monkeypatch):
    import oresight.news.store as news_store

    path = tmp_path / "by-path.duckdb"
    opened = []
    real_extract = news_store.extract

    def extract_checking(*args, **kwargs):
        assert not opened or opened[-1] == "closed", "the store is open during extraction"
        return real_extract(*args, **kwargs)

    real_open = Store.open

    def open_tracking(*args, **kwargs):
        store = real_open(*args, **kwargs)
        if store is not None:
            opened.append("open")
            real_close = store.close

            def close():
                opened.append("closed")
                real_close()

            store.close = close
        return store

    monkeypatch.setattr(news_store, "extract", extract_checking)
    monkeypatch.setattr(Store, "open", staticmethod(open_tracking))
    report = ingest(list(reports.values()), path)
    assert report.stored == len(reports) and opened[-1] == "closed"


def test_a_store_of_the_previous_version_is_read_and_upgraded(tmp_path, reports):
    """A store written before titles and impacts were kept: its articles are extracted again with the current
    rules and the tables gain the new columns."""
    import duckdb

    path = tmp_path / "old.duckdb"
    with Store.open(path) as store:
        ingest([reports["g-en"]], store)
        store.con.execute("ALTER TABLE news_articles DROP COLUMN title")
        store.con.execute("ALTER TABLE news_events DROP COLUMN impact")
        store.con.execute("UPDATE news_articles SET extracted_with = 'oresight 0.1.0; lexicon old'")
    report = ingest([], path)
    assert report.refreshed == 1
    con = duckdb.connect(str(path), read_only=True)
    columns = {row[0] for row in con.execute("SELECT column_name FROM information_schema.columns").fetchall()}
    con.close()
    assert {"title", "impact"} <= columns

"""News in the local store: articles with their extraction, and the events they group into.

``ingest`` is idempotent (an article already stored with the same text is skipped) and atomic (one
transaction: an interrupted ingest leaves the store as it was). Events are regrouped from all stored reports
on every ingest, so a later report can join, date or split an earlier event. Each article records what it was
extracted with (oresight version, lexicon digest); articles extracted otherwise are extracted again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from oresight.news.extract import Extraction, extract
from oresight.news.group import group, mark_duplicates
from oresight.news.lexicon import Lexicon, load_lexicon
from oresight.news.link import consensus, link_event
from oresight.news.reader import Article
from oresight.news.text import prepare
from oresight.store import Store

__all__ = ["IngestReport", "article_texts", "events", "ingest"]

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS news_articles (
        id VARCHAR PRIMARY KEY, url VARCHAR, outlet VARCHAR, published VARCHAR, language VARCHAR,
        text_sha256 VARCHAR, text VARCHAR, source VARCHAR, ingested_at TIMESTAMP, extraction VARCHAR,
        extracted_with VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS news_events (
        event VARCHAR PRIMARY KEY, type VARCHAR, commodities VARCHAR, countries VARCHAR, event_date VARCHAR,
        title VARCHAR, articles INTEGER, scenario_link VARCHAR, updated_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS news_event_articles (
        event VARCHAR, article VARCHAR, event_date VARCHAR, flags VARCHAR)""",
]


@dataclass
class IngestReport:
    stored: int
    skipped: int
    events: int
    refreshed: int = 0  # stored articles extracted again because the rules or word lists changed


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _extracted_with(lexicon: Lexicon) -> str:
    from oresight import __version__

    return f"oresight {__version__}; lexicon {lexicon.version}"


def _prepare(store: Store) -> None:
    for statement in _SCHEMA:
        store.con.execute(statement)


@dataclass
class _Stored:
    article: Article
    digest: str
    extraction: Extraction
    extracted_with: str


def _stored(store: Store) -> dict[str, _Stored]:
    rows = store.con.execute(
        """SELECT id, text, url, outlet, published, source, text_sha256, extraction, extracted_with
           FROM news_articles ORDER BY ingested_at, id"""
    ).fetchall()
    return {
        row[0]: _Stored(
            Article(id=row[0], text=row[1], url=row[2], outlet=row[3], published=row[4], source=row[5]),
            row[6],
            Extraction.from_json(json.loads(row[7])),
            row[8],
        )
        for row in rows
    }


def _event_rows(extractions: list[Extraction], lexicon: Lexicon, now: datetime):
    """Group all reports; rows of news_events and news_event_articles."""
    mark_duplicates(extractions)
    events_rows, member_rows = [], []
    for members in group(extractions, lexicon):
        first = members[0]
        lead = max(members, key=lambda m: (m.headline, m.date_confidence))
        commodities, countries = consensus(members, "commodities"), consensus(members, "countries")
        link = link_event(first.type, first.event_date, members, lexicon)
        events_rows.append(
            [
                first.event,
                first.type,
                json.dumps(commodities),
                json.dumps(countries),
                first.event_date,
                lead.title,
                len(members),
                json.dumps(link),
                now,
            ]
        )
        member_rows += [[m.event, m.id, m.event_date, json.dumps(m.flags)] for m in members]
    return events_rows, member_rows


def _to_extract(articles: list[Article], stored: dict[str, _Stored], version: str):
    """New or changed articles, stored ones made with other rules (to extract again), and the number skipped."""
    fresh, skipped = {}, 0
    for article in articles:
        digest = _digest(article.text)
        if article.id in stored and stored[article.id].digest == digest:
            skipped += 1
        else:
            fresh[article.id] = (article, digest)
    stale = {
        key: (entry.article, entry.digest)
        for key, entry in stored.items()
        if key not in fresh and entry.extracted_with != version
    }
    return fresh, stale, skipped


def ingest(
    articles: list[Article], store: Store, *, progress: Callable[[int, int], None] | None = None
) -> IngestReport:
    """Store new articles with their extraction and regroup the events, in one transaction. Stored articles
    extracted with other rules or word lists are extracted again, so that all events rest on the same ones."""
    lexicon = load_lexicon()
    version = _extracted_with(lexicon)
    _prepare(store)
    stored = _stored(store)
    now = datetime.now(UTC).replace(tzinfo=None)
    fresh, stale, skipped = _to_extract(articles, stored, version)
    extracted = {}
    todo = fresh | stale
    for number, (key, (article, digest)) in enumerate(todo.items(), 1):
        extracted[key] = (article, digest, extract(prepare(article, lexicon), lexicon))
        if progress is not None:
            progress(number, len(todo))
    reports = {key: entry.extraction for key, entry in stored.items()}
    reports.update({key: extraction for key, (_, _, extraction) in extracted.items()})
    # group copies: grouping sets event keys, dates and flags that must not leak into what is stored per article
    copies = [Extraction.from_json(e.to_json()) for e in reports.values()]
    events_rows, member_rows = _event_rows(copies, lexicon, now)
    _write(store, extracted.values(), version, now, events_rows, member_rows)
    return IngestReport(stored=len(fresh), skipped=skipped, events=len(events_rows), refreshed=len(stale))


def _write(store: Store, extracted, version: str, now: datetime, events_rows, member_rows) -> None:
    store.con.execute("BEGIN TRANSACTION")
    try:
        for article, digest, extraction in extracted:
            store.con.execute("DELETE FROM news_articles WHERE id = ?", [article.id])
            store.con.execute(
                "INSERT INTO news_articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    article.id,
                    article.url,
                    article.outlet,
                    article.published,
                    extraction.language,
                    digest,
                    article.text,
                    article.source,
                    now,
                    json.dumps(extraction.to_json()),
                    version,
                ],
            )
        store.con.execute("DELETE FROM news_event_articles")
        store.con.execute("DELETE FROM news_events")
        if events_rows:
            store.con.executemany("INSERT INTO news_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", events_rows)
            store.con.executemany("INSERT INTO news_event_articles VALUES (?, ?, ?, ?)", member_rows)
        store.con.execute("COMMIT")
    except BaseException:
        store.con.execute("ROLLBACK")
        raise


def events(
    store: Store, *, since: str | None = None, kind: str | None = None, commodity: str | None = None
) -> list[dict]:
    """Stored events, newest first, each with its articles (title, outlet, url, flags, evidence)."""
    _prepare(store)
    frame = store.con.execute("SELECT * FROM news_events ORDER BY event_date DESC NULLS LAST, event").df()
    members = store.con.execute(
        """SELECT m.event, m.article, m.flags, a.url, a.outlet, a.published, a.extraction
           FROM news_event_articles m JOIN news_articles a ON a.id = m.article ORDER BY m.article"""
    ).df()
    wanted = commodity.lower().replace("-", " ") if commodity else None  # a news name or a taxonomy id
    articles_of: dict[str, list[dict]] = {}
    for m in members.itertuples(index=False):
        extraction = json.loads(m.extraction)
        articles_of.setdefault(m.event, []).append(
            {
                "id": m.article,
                "title": extraction["title"],
                "outlet": m.outlet,
                "url": m.url,
                "published": m.published,
                "flags": json.loads(m.flags),
                "evidence": extraction["evidence"],
            }
        )
    out = []
    for row in frame.itertuples(index=False):
        commodities = json.loads(row.commodities)
        if since and (row.event_date is None or row.event_date < since):
            continue
        if kind and row.type != kind:
            continue
        if wanted and wanted not in commodities:
            continue
        out.append(
            {
                "event": row.event,
                "type": row.type,
                "commodities": commodities,
                "countries": json.loads(row.countries),
                "event_date": row.event_date,
                "title": row.title,
                "scenario": json.loads(row.scenario_link),
                "articles": articles_of.get(row.event, []),
            }
        )
    return out


def article_texts(store: Store, ids: list[str]) -> dict[str, str]:
    """The stored main text of the given articles, by id."""
    _prepare(store)
    if not ids:
        return {}
    rows = store.con.execute("SELECT id, text FROM news_articles WHERE list_contains(?, id)", [ids]).fetchall()
    return dict(rows)

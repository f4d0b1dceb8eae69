"""News in the local store: articles with their extraction, and the events they group into.

``ingest`` is idempotent (an article already stored with the same text is skipped: nothing is extracted, grouped
or written when nothing is new) and atomic (one write transaction: an interrupted ingest leaves the store as it
was). The store is opened only to read what is stored and to write the result, never while articles are
extracted (the agreed store-access design). Grouping is incremental: the new reports are grouped again together
with the stored events near their dates, so a later report can join, date or split an earlier event; events far
from every new report stay as they are, and only events whose reports changed are linked to scenarios again.
Each article records what it was extracted with (oresight version, rules version, lexicon digest); articles
extracted otherwise are extracted again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from oresight.news.extract import ARTICLE_ERRORS, Extraction, extract
from oresight.news.group import LOOSE_TOLERANCE_DAYS, group, mark_duplicates
from oresight.news.lexicon import Lexicon, load_lexicon
from oresight.news.link import consensus, link_event
from oresight.news.reader import Article, ReadProblem
from oresight.news.text import prepare
from oresight.store import Store

__all__ = ["RULES_VERSION", "IngestReport", "article_texts", "events", "ingest", "open_store", "set_impact"]

#: the version of the extraction rules in code; stored articles extracted with another are extracted again
RULES_VERSION = 2

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS news_articles (
        id VARCHAR PRIMARY KEY, url VARCHAR, outlet VARCHAR, published VARCHAR, language VARCHAR,
        text_sha256 VARCHAR, text VARCHAR, source VARCHAR, ingested_at TIMESTAMP, extraction VARCHAR,
        extracted_with VARCHAR)""",
    "ALTER TABLE news_articles ADD COLUMN IF NOT EXISTS title VARCHAR",
    """CREATE TABLE IF NOT EXISTS news_events (
        event VARCHAR PRIMARY KEY, type VARCHAR, commodities VARCHAR, countries VARCHAR, event_date VARCHAR,
        title VARCHAR, articles INTEGER, scenario_link VARCHAR, updated_at TIMESTAMP)""",
    "ALTER TABLE news_events ADD COLUMN IF NOT EXISTS impact VARCHAR",
    """CREATE TABLE IF NOT EXISTS news_event_articles (
        event VARCHAR, article VARCHAR, event_date VARCHAR, flags VARCHAR)""",
]
_ARTICLE_COLUMNS = (
    "id, url, outlet, published, language, text_sha256, text, source, ingested_at, extraction, extracted_with, title"
)
_EVENT_COLUMNS = "event, type, commodities, countries, event_date, title, articles, scenario_link, updated_at, impact"


@dataclass
class IngestReport:
    stored: int
    skipped: int
    events: int
    refreshed: int = 0  # stored articles extracted again because the rules or word lists changed
    #: events created or changed by this ingest (new reports joined them, or their date or type changed)
    changed_events: list[str] = field(default_factory=list)
    #: articles that could not be read (each named, the others stored)
    problems: list[ReadProblem] = field(default_factory=list)


def _digest(article: Article) -> str:
    text = f"{article.title}\n{article.text}" if article.title else article.text
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _extracted_with(lexicon: Lexicon) -> str:
    from oresight import __version__

    return f"oresight {__version__}; rules {RULES_VERSION}; lexicon {lexicon.version}"


def _prepare(store: Store) -> None:
    for statement in _SCHEMA:
        store.con.execute(statement)


def _has_news(store: Store) -> bool:
    rows = store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'news_event_articles'"
    ).fetchone()
    return bool(rows and rows[0])


# -- reading what is stored ----------------------------------------------------------------------------------
def _column(store: Store, table: str, column: str) -> str:
    """The column's name, or NULL where a store written by an earlier version lacks it (until the next write
    adds it)."""
    found = store.con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?", [table, column]
    ).fetchone()[0]
    return column if found else "NULL"


@dataclass
class _State:
    """What an ingest needs to know of the store: each article's digest and rules, and the stored events."""

    digests: dict[str, tuple[str, str]]  # id -> (digest, extracted with)
    #: event -> (date, members, link, impact, type)
    events: dict[str, tuple[str | None, frozenset[str], str, str | None, str]]

    @classmethod
    def read(cls, store: Store) -> _State:
        if not _has_news(store):
            return cls({}, {})
        digests = {
            row[0]: (row[1], row[2])
            for row in store.con.execute("SELECT id, text_sha256, extracted_with FROM news_articles").fetchall()
        }
        members: dict[str, set[str]] = {}
        for event, article in store.con.execute("SELECT event, article FROM news_event_articles").fetchall():
            members.setdefault(event, set()).add(article)
        events = {
            row[0]: (row[1], frozenset(members.get(row[0], ())), row[2], row[3], row[4])
            for row in store.con.execute(
                f"SELECT event, event_date, scenario_link, {_column(store, 'news_events', 'impact')}, type "
                "FROM news_events"
            ).fetchall()
        }
        return cls(digests, events)


def _stored_articles(store: Store, ids: Iterable[str]) -> list[Article]:
    ids = list(ids)
    if not ids:
        return []
    title = _column(store, "news_articles", "title")
    rows = store.con.execute(
        f"SELECT id, text, url, outlet, published, source, {title} FROM news_articles WHERE list_contains(?, id)",
        [ids],
    ).fetchall()
    return [
        Article(id=r[0], text=r[1], url=r[2], outlet=r[3], published=r[4], source=r[5], title=r[6] or "") for r in rows
    ]


def _stored_extractions(store: Store, ids: Iterable[str]) -> list[Extraction]:
    ids = list(ids)
    if not ids:
        return []
    rows = store.con.execute("SELECT extraction FROM news_articles WHERE list_contains(?, id)", [ids]).fetchall()
    return [Extraction.from_json(json.loads(row[0])) for row in rows]


# -- what changes -------------------------------------------------------------------------------------------
def _to_extract(articles: list[Article], state: _State, version: str):
    """New or changed articles (each once: the last one given with an id wins), the ids of stored ones made with
    other rules (to extract again), and the number skipped."""
    fresh: dict[str, tuple[Article, str]] = {}
    skipped = 0
    for article in articles:
        digest = _digest(article)
        if article.id in state.digests and state.digests[article.id][0] == digest:
            skipped += 1
        else:
            fresh[article.id] = (article, digest)
    stale = [key for key, (_, made_with) in state.digests.items() if key not in fresh and made_with != version]
    return fresh, stale, skipped


def _extract_each(todo: list[tuple[Article, str]], lexicon: Lexicon, problems: list[ReadProblem], progress):
    """(article, digest, extraction) of each article; an article the extractor fails on is reported, not stored."""
    done = []
    for number, (article, digest) in enumerate(todo, 1):
        try:
            done.append((article, digest, extract(prepare(article, lexicon), lexicon)))
        except ARTICLE_ERRORS as exc:
            problems.append(ReadProblem(article.source or article.id, None, f"{article.id}: not read ({exc})"))
        if progress is not None:
            progress(number, len(todo))
    return done


def _span(extraction: Extraction) -> tuple[date, date] | None:
    """The days an event this report may join can have: its date within the grouping's loosest tolerance, or
    the month around a report that gives only its month (None: a report without any date)."""
    margin = timedelta(days=LOOSE_TOLERANCE_DAYS + 1)
    text = extraction.event_date or extraction.reference_date
    if text:
        day = date.fromisoformat(text)
        return day - margin, day + margin
    if extraction.month:
        year, month = extraction.month
        first = date(year, month, 1)
        return first - timedelta(days=31) - margin, first + timedelta(days=62) + margin
    return None


def _affected(state: _State, new: list[Extraction], changed_ids: set[str]) -> set[str]:
    """The stored events a new report may join or change: those of its type near its date (every one of its
    type, where a new report has no date at all), undated ones of its type, and those with a report that
    changed. Events of other types or other weeks cannot take the report in, so they stay as they are."""
    affected = {event for event, (_, members, _, _, _) in state.events.items() if members & changed_ids}
    spans: dict[str, list[tuple[date, date] | None]] = {}
    for extraction in new:
        if extraction.is_event:
            spans.setdefault(extraction.type, []).append(_span(extraction))
    for event, (day, _, _, _, kind) in state.events.items():
        if kind not in spans:
            continue
        if day is None or any(span is None or span[0] <= date.fromisoformat(day) <= span[1] for span in spans[kind]):
            affected.add(event)
    return affected


def _event_rows(regrouped: list[Extraction], lexicon: Lexicon, state: _State, now: datetime):
    """Rows of news_events and news_event_articles for the regrouped reports; an event whose reports and date did
    not change keeps its scenario link and impact. Also returns the keys of the events that changed."""
    events_rows, member_rows, changed = [], [], []
    for members in group(regrouped, lexicon):
        first = members[0]
        lead = max(members, key=lambda m: (m.headline, m.date_confidence))
        ids = frozenset(m.id for m in members)
        before = state.events.get(first.event)
        if before is not None and before[0] == first.event_date and before[1] == ids:
            link, impact = before[2], before[3]
        else:
            # the same key is the same type, commodities and date: a new report joined; its impact stands
            link = json.dumps(link_event(first.type, first.event_date, members, lexicon))
            impact = before[3] if before is not None else None
            changed.append(first.event)
        events_rows.append(
            [
                first.event,
                first.type,
                json.dumps(consensus(members, "commodities")),
                json.dumps(consensus(members, "countries")),
                first.event_date,
                lead.title,
                len(members),
                link,
                now,
                impact,
            ]
        )
        member_rows += [[m.event, m.id, m.event_date, json.dumps(m.flags)] for m in members]
    return events_rows, member_rows, changed


# -- ingest ---------------------------------------------------------------------------------------------------
def ingest(
    articles: list[Article],
    store: Store | str | Path | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Store new articles with their extraction and regroup the events near them, in one write transaction.
    Stored articles extracted with other rules or word lists are extracted again, so that all events rest on the
    same ones. ``store``: an open :class:`Store`, or the path of one (default: the user's), which is then opened
    only to read what is stored and to write the result."""
    lexicon = load_lexicon()
    version = _extracted_with(lexicon)
    with open_store(store, read_only=True) as opened:
        state = _State.read(opened) if opened is not None else _State({}, {})
        fresh, stale, skipped = _to_extract(articles, state, version)
        stale_articles = _stored_articles(opened, stale) if opened is not None and stale else []
    problems: list[ReadProblem] = []
    if not fresh and not stale:
        return IngestReport(stored=0, skipped=skipped, events=len(state.events))
    todo = list(fresh.values()) + [(a, _digest(a)) for a in stale_articles]
    extracted = _extract_each(todo, lexicon, problems, progress)
    new = [extraction for _, _, extraction in extracted]
    changed_ids = {article.id for article, _, _ in extracted}
    now = datetime.now(UTC).replace(tzinfo=None)
    with open_store(store) as opened:
        _prepare(opened)
        state = _State.read(opened)  # what another ingest may have written meanwhile is grouped too
        affected = _affected(state, new, changed_ids)
        members = {m for event in affected for m in state.events[event][1]} - changed_ids
        regrouped = [Extraction.from_json(e.to_json()) for e in new] + _stored_extractions(opened, members)
        mark_duplicates(regrouped)
        events_rows, member_rows, changed = _event_rows(regrouped, lexicon, state, now)
        _write(opened, extracted, version, now, affected, changed_ids, events_rows, member_rows)
        total = opened.con.execute("SELECT count(*) FROM news_events").fetchone()[0]
    return IngestReport(
        stored=len([1 for a, _, _ in extracted if a.id in fresh]),
        skipped=skipped,
        events=total,
        refreshed=len([1 for a, _, _ in extracted if a.id not in fresh]),
        changed_events=changed,
        problems=problems,
    )


@contextmanager
def open_store(store: Store | str | Path | None = None, *, read_only: bool = False) -> Iterator[Store | None]:
    """A store for one short piece of work: an open :class:`Store` is used as it is (not closed); a path (default:
    the user's store) is opened and closed again. Read-only, a store that does not exist yet is None."""
    if isinstance(store, Store):
        yield store
        return
    opened = Store.open(store, create=not read_only, read_only=read_only)
    if opened is None:
        yield None
        return
    with opened:
        yield opened


def _write(store: Store, extracted, version, now, affected, changed_ids, events_rows, member_rows) -> None:
    con = store.con
    rows = [
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
            article.title,
        ]
        for article, digest, extraction in extracted
    ]
    con.execute("BEGIN TRANSACTION")
    try:
        if rows:
            con.execute("DELETE FROM news_articles WHERE list_contains(?, id)", [[row[0] for row in rows]])
            placeholders = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO news_articles ({_ARTICLE_COLUMNS}) VALUES ({placeholders})", rows)
        gone = sorted(affected)
        if gone:
            con.execute("DELETE FROM news_event_articles WHERE list_contains(?, event)", [gone])
            con.execute("DELETE FROM news_events WHERE list_contains(?, event)", [gone])
        if changed_ids:
            con.execute("DELETE FROM news_event_articles WHERE list_contains(?, article)", [sorted(changed_ids)])
        if events_rows:
            placeholders = ", ".join("?" * 10)
            con.executemany(f"INSERT INTO news_events ({_EVENT_COLUMNS}) VALUES ({placeholders})", events_rows)
            con.executemany("INSERT INTO news_event_articles VALUES (?, ?, ?, ?)", member_rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def set_impact(store: Store, event: str, impact: dict) -> None:
    """Store the impact of an event (from its linked scenario's run) on the event."""
    _prepare(store)
    store.con.execute("UPDATE news_events SET impact = ? WHERE event = ?", [json.dumps(impact), event])


# -- reading events -------------------------------------------------------------------------------------------
def _within(commodities: list[str], wanted: set[str], lexicon: Lexicon) -> bool:
    """Whether an event's commodities (news names) are any of the wanted taxonomy commodities or their members."""
    from oresight.taxonomy import load_taxonomy

    tax = load_taxonomy()
    for name in commodities:
        cid = (lexicon.commodities.get(name) or {}).get("taxonomy") or name.replace(" ", "-")
        while cid:
            if cid in wanted:
                return True
            found = tax.commodities.get(cid)
            cid = found.parent if found is not None else None
    return False


def _commodity_id(name: str) -> str:
    """The taxonomy's one rule for a commodity's name (``Taxonomy.commodity``: "Bentonite" is bentonite, not the
    clays the EU's list files it under); a name it does not know is kept as written."""
    from oresight.errors import UnknownNameError
    from oresight.taxonomy import load_taxonomy

    try:
        return load_taxonomy().commodity(name).id
    except UnknownNameError:
        return name.replace(" ", "-").lower()


def events(
    store: Store,
    *,
    since: str | None = None,
    kind: str | None = None,
    commodity: str | None = None,
    event_ids: list[str] | None = None,
) -> list[dict]:
    """Stored events, newest first, each with its articles (title, outlet, url, flags, evidence), its scenario
    link and, where an alert ran it, its impact. ``commodity``: a commodity name the taxonomy knows (id, English or
    German name, alias: "rare-earths", "Seltene Erden"); an event about it or one of its members matches (rare
    earths: dysprosium too)."""
    if not _has_news(store):
        return []
    wanted = _commodity_id(commodity) if commodity else None
    frame = store.con.execute("SELECT * FROM news_events ORDER BY event_date DESC NULLS LAST, event").df()
    members = store.con.execute(
        """SELECT m.event, m.article, m.flags, a.url, a.outlet, a.published, a.extraction
           FROM news_event_articles m JOIN news_articles a ON a.id = m.article ORDER BY m.article"""
    ).df()
    lexicon = load_lexicon()
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
                "language": extraction.get("language"),
                "flags": json.loads(m.flags),
                "evidence": extraction["evidence"],
            }
        )
    out = []
    for row in frame.itertuples(index=False):
        commodities = json.loads(row.commodities)
        if since and (row.event_date is None or row.event_date < since):
            continue
        if (kind and row.type != kind) or (event_ids is not None and row.event not in event_ids):
            continue
        if wanted and not _within(commodities, {wanted}, lexicon):
            continue
        impact = getattr(row, "impact", None)
        out.append(
            {
                "event": row.event,
                "type": row.type,
                "commodities": commodities,
                "countries": json.loads(row.countries),
                "event_date": row.event_date,
                "title": row.title,
                "scenario": json.loads(row.scenario_link),
                "impact": json.loads(impact) if isinstance(impact, str) else None,
                "articles": articles_of.get(row.event, []),
            }
        )
    return out


def article_texts(store: Store, ids: list[str]) -> dict[str, str]:
    """The stored main text of the given articles, by id."""
    if not ids or not _has_news(store):
        return {}
    rows = store.con.execute("SELECT id, text FROM news_articles WHERE list_contains(?, id)", [ids]).fetchall()
    return dict(rows)

"""Watching feeds: RSS and Atom feeds polled with conditional requests (ETag, Last-Modified), each new item's page
fetched and its main text read (trafilatura; the item's summary where the page cannot be had), new articles
ingested idempotently (an item seen before is skipped without fetching its page), a failing feed retried with
exponential backoff, alerts run for the events that changed. Runs once (``once``) or as a long-lived service
that polls every ``every`` seconds until it is stopped.

What is remembered between polls lives in the store (``news_feeds``: each feed's validators and failures;
``news_feed_items``: the items seen), so a restarted service carries on where it stopped.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from oresight.news.reader import Article, ReadProblem

__all__ = ["FeedState", "PollReport", "fetch", "parse_every", "poll", "watch"]

log = logging.getLogger(__name__)

#: the most bytes read of a feed or a page
MAX_BYTES = 5_000_000
#: seconds to wait for a server
TIMEOUT = 20.0
#: a failing feed is tried again after RETRY_BASE · 2^(failures - 1) seconds, at most MAX_BACKOFF
RETRY_BASE, MAX_BACKOFF = 60.0, 6 * 3600.0
#: attempts within one poll for a transient failure (connection, HTTP 429 or 5xx), waiting 1 s, 2 s, …
ATTEMPTS = 3
USER_AGENT = "oresight-news-watch (+https://github.com/oresight)"

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS news_feeds (
        url VARCHAR PRIMARY KEY, etag VARCHAR, modified VARCHAR, checked_at TIMESTAMP, failures INTEGER,
        next_try DOUBLE, title VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS news_feed_items (
        feed VARCHAR, item VARCHAR, seen_at TIMESTAMP, PRIMARY KEY (feed, item))""",
]


class FetchError(Exception):
    """A request that failed: ``transient`` where trying again may help."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass
class FeedState:
    url: str
    etag: str | None = None
    modified: str | None = None
    failures: int = 0
    next_try: float = 0.0  # epoch seconds before which a failing feed is not tried
    title: str = ""
    seen: set[str] = field(default_factory=set)


@dataclass
class PollReport:
    """What one poll did, per feed and in total."""

    feeds: dict[str, str] = field(default_factory=dict)  # url -> "new items: 3", "not modified", "failed: …"
    stored: int = 0
    skipped: int = 0
    changed_events: list[str] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)


def parse_every(text: str) -> float:
    """Seconds of an interval such as ``15m``, ``1h``, ``30s`` or ``900``.

    >>> parse_every("15m"), parse_every("1h"), parse_every("90")
    (900.0, 3600.0, 90.0)
    """
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise ValueError(f"not an interval: {text!r} (expected e.g. 15m, 1h, 30s)") from None
    if not 1 <= seconds <= 7 * 86400 or seconds != seconds:
        raise ValueError(f"an interval between 1 s and 7 days, not {text!r}")
    return seconds


# -- HTTP -----------------------------------------------------------------------------------------------------
def fetch(url: str, headers: dict[str, str] | None = None, *, timeout: float = TIMEOUT):
    """(status, response headers, body) of a GET; a 304 comes back as status 304 with no body. Raises
    :class:`FetchError` (transient for connection failures, 429 and 5xx)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)[:MAX_BYTES]
            return response.status, dict(response.headers.items()), body
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return 304, dict(exc.headers.items()), b""
        raise FetchError(f"HTTP {exc.code} {exc.reason}", transient=exc.code == 429 or exc.code >= 500) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"cannot reach the server ({reason})", transient=True) from None
    except ValueError as exc:  # not a URL urllib can request
        raise FetchError(str(exc), transient=False) from None


def _fetch_retrying(url: str, headers: dict[str, str], sleep: Callable[[float], None]):
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return fetch(url, headers)
        except FetchError as exc:
            if not exc.transient or attempt == ATTEMPTS:
                raise
            log.info("%s: %s; trying again in %d s", url, exc, 2 ** (attempt - 1))
            sleep(2 ** (attempt - 1))
    raise AssertionError("unreachable")


# -- feeds and pages ------------------------------------------------------------------------------------------
def _item_key(entry) -> str | None:
    return entry.get("id") or entry.get("link") or entry.get("title") or None


def _page_text(url: str) -> str | None:
    """The main text of an item's page, or None where it cannot be had."""
    import trafilatura

    try:
        _, _, body = fetch(url)
    except FetchError as exc:
        log.info("%s: page not read (%s); using the feed's summary", url, exc)
        return None
    from oresight.io.text import decode_bytes

    return trafilatura.extract(decode_bytes(body), include_comments=False, include_tables=False) if body else None


def _article(entry, feed: FeedState) -> Article | None:
    from oresight.news.reader import cut_text, strip_tags

    title = entry.get("title", "")
    link = entry.get("link", "")
    summary = entry.get("content", [{}])[0].get("value") if entry.get("content") else entry.get("summary", "")
    text = (_page_text(link) if link.startswith(("http://", "https://")) else None) or strip_tags(summary or "")
    if not (text or title).strip():
        return None
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    flags: list[str] = []
    return Article(
        id=str(_item_key(entry)),
        text=cut_text(text, flags),
        title=title,
        url=link,
        outlet=feed.title,
        published=f"{published.tm_year:04d}-{published.tm_mon:02d}-{published.tm_mday:02d}" if published else None,
        source=feed.url,
        flags=flags,
    )


def _poll_feed(feed: FeedState, now: float, sleep) -> tuple[list[Article], set[str], str]:
    """New articles of one feed, the keys of its new items, and what happened."""
    import feedparser

    headers = {}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.modified:
        headers["If-Modified-Since"] = feed.modified
    try:
        status, response, body = _fetch_retrying(feed.url, headers, sleep)
    except FetchError as exc:
        feed.failures += 1
        feed.next_try = now + min(MAX_BACKOFF, RETRY_BASE * 2 ** (feed.failures - 1))
        log.warning("%s: %s (failure %d; next try in %.0f s)", feed.url, exc, feed.failures, feed.next_try - now)
        return [], set(), f"failed: {exc}"
    feed.failures, feed.next_try = 0, 0.0
    if status == 304:
        log.info("%s: not modified", feed.url)
        return [], set(), "not modified"
    feed.etag = response.get("ETag") or response.get("Etag") or feed.etag
    feed.modified = response.get("Last-Modified") or feed.modified
    parsed = feedparser.parse(body)
    if parsed.bozo and not parsed.entries:
        log.warning("%s: not a readable RSS or Atom feed (%s)", feed.url, parsed.get("bozo_exception"))
        return [], set(), "failed: not a readable RSS or Atom feed"
    feed.title = parsed.feed.get("title", feed.title)
    new = [e for e in parsed.entries if _item_key(e) and _item_key(e) not in feed.seen]
    articles = [a for a in (_article(e, feed) for e in new) if a is not None]
    log.info("%s: %d items, %d new", feed.url, len(parsed.entries), len(new))
    return articles, {_item_key(e) for e in new}, f"new items: {len(new)}"


# -- state in the store ---------------------------------------------------------------------------------------
def _read_states(store, urls: list[str]) -> dict[str, FeedState]:
    from oresight.news.store import open_store

    states = {url: FeedState(url) for url in urls}
    with open_store(store, read_only=True) as opened:
        if opened is None or not _has_tables(opened):
            return states
        for row in opened.con.execute(
            "SELECT url, etag, modified, failures, next_try, title FROM news_feeds WHERE list_contains(?, url)",
            [urls],
        ).fetchall():
            states[row[0]] = FeedState(row[0], row[1], row[2], row[3] or 0, row[4] or 0.0, row[5] or "")
        for feed, item in opened.con.execute(
            "SELECT feed, item FROM news_feed_items WHERE list_contains(?, feed)", [urls]
        ).fetchall():
            states[feed].seen.add(item)
    return states


def _has_tables(store) -> bool:
    found = store.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'news_feeds'")
    return bool(found.fetchone()[0])


def _write_states(store, states: list[FeedState], seen: dict[str, set[str]]) -> None:
    from oresight.news.store import open_store

    now = datetime.now(UTC).replace(tzinfo=None)
    with open_store(store) as opened:
        con = opened.con
        for statement in _SCHEMA:
            con.execute(statement)
        con.execute("BEGIN TRANSACTION")
        try:
            for state in states:
                con.execute("DELETE FROM news_feeds WHERE url = ?", [state.url])
                con.execute(
                    "INSERT INTO news_feeds VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [state.url, state.etag, state.modified, now, state.failures, state.next_try, state.title],
                )
            rows = [[feed, item, now] for feed, items in seen.items() for item in sorted(items)]
            if rows:
                con.executemany("INSERT OR IGNORE INTO news_feed_items VALUES (?, ?, ?)", rows)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


# -- polling --------------------------------------------------------------------------------------------------
def poll(feeds: list[str], store=None, *, alerts=None, sleep: Callable[[float], None] = time.sleep) -> PollReport:
    """Poll each feed that is due once: fetch what changed, ingest the new items (one write), remember what was
    seen, run the alerts for the events that changed."""
    from oresight.news.store import ingest

    report = PollReport()
    now = time.time()
    states = _read_states(store, list(dict.fromkeys(feeds)))
    articles: list[Article] = []
    seen: dict[str, set[str]] = {}
    for state in states.values():
        if state.next_try > now:
            report.feeds[state.url] = f"waiting: next try in {state.next_try - now:.0f} s"
            continue
        found, keys, outcome = _poll_feed(state, now, sleep)
        report.feeds[state.url] = outcome
        articles += found
        seen[state.url] = keys
    if articles:
        result = ingest(articles, store)
        report.stored, report.skipped = result.stored, result.skipped
        report.changed_events, report.problems = result.changed_events, result.problems
        log.info("stored %d new articles; %d events changed", result.stored, len(result.changed_events))
    _write_states(store, list(states.values()), seen)
    if alerts is not None and report.changed_events:
        from oresight.news.alerts import run_alerts

        report.alerts = run_alerts(alerts, report.changed_events, store)
        for alert in report.alerts:
            log.warning("alert %s: %s %s (%s)", alert["alert"], alert["type"], alert["title"], alert["event"])
    return report


def watch(
    feeds: list[str],
    store=None,
    *,
    every: float = 900.0,
    alerts=None,
    stop: threading.Event | None = None,
    on_poll: Callable[[PollReport], None] | None = None,
) -> None:
    """Poll the feeds every ``every`` seconds until ``stop`` is set (a long-lived service: a failing poll is
    logged and the next one runs on time)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        started = time.monotonic()
        try:
            report = poll(feeds, store, alerts=alerts, sleep=lambda s: stop.wait(s))
        except Exception:  # a service keeps running: the next poll may succeed (the store was busy, …)
            log.exception("poll failed; trying again in %.0f s", every)
        else:
            if on_poll is not None:
                on_poll(report)
        stop.wait(max(0.0, every - (time.monotonic() - started)))

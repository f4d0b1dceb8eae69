"""Read news articles from files: JSON Lines, plain text, HTML pages (main text by trafilatura) and RSS/Atom feeds
(feedparser). Problems are reported per file and line; the rest of the input is still read.

A JSON Lines file holds one object per line with the fields of :data:`JSONL_FIELDS`: ``text`` (required), ``id``,
``title``, ``url``, ``outlet``, ``published`` (YYYY-MM-DD, YYYY-MM or YYYY). Each line is decoded on its own
(UTF-8, else cp1252 or latin-1: one line of another encoding does not garble the others) and checked on its own:
a line that is not valid JSON, nests too deeply, lacks its text, has an impossible date or characters that
cannot be stored is reported with its line number and left out; the other lines are read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from oresight.errors import InputError
from oresight.io.text import decode_bytes, read_bytes_prefix

__all__ = ["DEFAULT_MAX_BYTES", "JSONL_FIELDS", "MAX_ARTICLE_CHARS", "Article", "ReadProblem", "read_articles"]

#: the fields of a JSON Lines article and what each holds (others are ignored)
JSONL_FIELDS = {
    "text": "the article text (required; its first line is read as the headline unless a title is given)",
    "id": "a stable identifier (default: file name and line)",
    "title": "the headline",
    "url": "where the article was published",
    "outlet": "the publisher",
    "published": "the publication date, YYYY-MM-DD (or YYYY-MM, YYYY)",
}
#: a publication date outside these years is a mistake, not news
YEARS = (1900, 2100)
_PUBLISHED = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ][\d:.+Z-]*)?\s*$")

#: larger inputs are cut to this many bytes (the cut is flagged on the articles)
DEFAULT_MAX_BYTES = 20_000_000
#: an article's text beyond this many characters is not read (long pages are mostly furniture at the end)
MAX_ARTICLE_CHARS = 60_000


@dataclass
class Article:
    id: str
    text: str
    url: str = ""
    outlet: str = ""
    published: str | None = None
    source: str = ""  # file (and line) it was read from
    title: str = ""  # the headline, where given apart from the text (it is read as the text's first line)
    flags: list[str] = field(default_factory=list)


@dataclass
class ReadProblem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}" + (f", line {self.line}" if self.line else "") + f": {self.message}"


def _kind(path: Path, head: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".html", ".htm"):
        return "html"
    if suffix in (".xml", ".rss", ".atom"):
        return "feed"
    stripped = head.lstrip()
    if stripped.startswith("{"):
        return "jsonl"
    if stripped.startswith("<?xml") or "<rss" in stripped[:500] or "<feed" in stripped[:500]:
        return "feed"
    if stripped[:200].lower().startswith(("<!doctype html", "<html")):
        return "html"
    return "text"


def _jsonl_lines(raw: bytes) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line, each line decoded on its own."""
    for number, line in enumerate(raw.split(b"\n"), 1):
        if line.strip():
            yield number, decode_bytes(line.rstrip(b"\r"))


def _published(value) -> str | None:
    """The publication date as given, if it is one (None if absent); raises ValueError if it is not."""
    if value in (None, ""):
        return None
    match = _PUBLISHED.match(str(value))
    if not match:
        raise ValueError(f"published: expected a date YYYY-MM-DD, not {str(value)[:40]!r}")
    year, month, day = (int(g) if g else None for g in match.groups())
    if not YEARS[0] <= year <= YEARS[1] or (month is not None and not 1 <= month <= 12):
        raise ValueError(f"published: {str(value)[:40]!r} is not a date between {YEARS[0]} and {YEARS[1]}")
    if day is not None:
        from datetime import date

        date(year, month, day)  # ValueError for 2025-02-30
    return str(value).strip()


def _storable(text: str, name: str) -> str:
    """The text, if it can be stored as UTF-8 (a lone surrogate from a "\\ud800" escape cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name}: contains a character that is not valid Unicode (position {exc.start})") from None
    return text


def cut_text(text: str, flags: list[str]) -> str:
    """The text up to :data:`MAX_ARTICLE_CHARS`; a longer one is cut and flagged ``text_truncated``."""
    if len(text) > MAX_ARTICLE_CHARS:
        flags.append("text_truncated")
        return text[:MAX_ARTICLE_CHARS]
    return text


def _article_of(row, path: Path, number: int) -> Article:
    """The article of one JSON Lines object; ValueError names the field that is wrong."""
    if not isinstance(row, dict):
        raise ValueError(f"expected an object with the fields {', '.join(JSONL_FIELDS)}")
    text, title = row.get("text"), row.get("title")
    if not isinstance(text, str) or not text.strip():
        raise ValueError('text: expected the article text as a string (field "text")')
    if title is not None and not isinstance(title, str):
        raise ValueError("title: expected a string")
    flags: list[str] = []
    fields = {name: _storable(str(row.get(name) or ""), name) for name in ("id", "url", "outlet")}
    return Article(
        id=fields["id"] or f"{path.stem}-{number}",
        text=cut_text(_storable(text, "text"), flags),
        title=_storable(title or "", "title")[:1000],
        url=fields["url"],
        outlet=fields["outlet"],
        published=_published(row.get("published")),
        source=f"{path}:{number}",
        flags=flags,
    )


def _from_jsonl(path: Path, raw: bytes, problems: list[ReadProblem]) -> Iterator[Article]:
    for number, line in _jsonl_lines(raw):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(ReadProblem(str(path), number, f"not valid JSON ({exc.msg}, column {exc.colno})"))
            continue
        except RecursionError:
            problems.append(ReadProblem(str(path), number, "not read: the JSON nests too deeply"))
            continue
        try:
            yield _article_of(row, path, number)
        except ValueError as exc:
            problems.append(ReadProblem(str(path), number, str(exc)))


def _from_html(path: Path, text: str, problems: list[ReadProblem]) -> Iterator[Article]:
    import trafilatura

    body = trafilatura.extract(text, include_comments=False, include_tables=False)
    if not body:
        problems.append(ReadProblem(str(path), None, "no article text found in the page"))
        return
    meta = trafilatura.extract_metadata(text)
    yield Article(
        id=path.stem,
        text=body,
        url=(meta.url if meta and meta.url else ""),
        outlet=(meta.sitename if meta and meta.sitename else ""),
        published=(meta.date if meta and meta.date else None),
        source=str(path),
    )


def _from_feed(path: Path, text: str, problems: list[ReadProblem]) -> Iterator[Article]:
    import feedparser

    feed = feedparser.parse(text)
    if feed.bozo and not feed.entries:
        problems.append(ReadProblem(str(path), None, f"not a readable RSS or Atom feed ({feed.bozo_exception})"))
        return
    outlet = feed.feed.get("title", "")
    for number, entry in enumerate(feed.entries, 1):
        content = entry.get("content", [{}])[0].get("value") if entry.get("content") else None
        html = content or entry.get("summary", "")
        body = strip_tags(html)
        title = entry.get("title", "")
        if not (title or body):
            problems.append(ReadProblem(str(path), None, f"feed entry {number} has neither title nor text"))
            continue
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        yield Article(
            id=str(entry.get("id") or entry.get("link") or f"{path.stem}-{number}"),
            text=body,
            title=title,
            url=entry.get("link", ""),
            outlet=outlet,
            published=(
                f"{published.tm_year:04d}-{published.tm_mon:02d}-{published.tm_mday:02d}" if published else None
            ),
            source=f"{path}#{number}",
        )


def strip_tags(html: str) -> str:
    if "<" not in html:
        return html
    import lxml.html

    try:
        return lxml.html.fromstring(html).text_content()
    except Exception:  # a feed summary that is not HTML after all
        return html


def _from_text(path: Path, text: str, problems: list[ReadProblem]) -> Iterator[Article]:
    yield Article(id=path.stem, text=text, source=str(path))


_READERS = {"html": _from_html, "feed": _from_feed, "text": _from_text}


def read_articles(paths, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Article], list[ReadProblem]]:
    """Articles from the files, and the problems met (a file or line that could not be read, a file cut at
    ``max_bytes``: of JSON Lines only whole lines are read; a cut page or feed flags its articles
    ``input_truncated``; an article text longer than :data:`MAX_ARTICLE_CHARS` is cut and flagged
    ``text_truncated``)."""
    articles: list[Article] = []
    problems: list[ReadProblem] = []
    for raw_path in paths:
        path = Path(raw_path)
        try:
            raw, cut = read_bytes_prefix(path, max_bytes)
        except InputError as exc:
            problems.append(ReadProblem(str(path), exc.line, exc.reason))
            continue
        kind = _kind(path, decode_bytes(raw[:1000], cut=True))
        if kind == "jsonl":
            if cut:
                raw = raw[: raw.rfind(b"\n") + 1]
            found = list(_from_jsonl(path, raw, problems))
        else:
            found = _read_document(kind, path, decode_bytes(raw, cut), problems)
        if cut:
            lines = raw.count(b"\n")
            read_up_to = f"line {lines}" if kind == "jsonl" else f"{max_bytes:,} bytes"
            problems.append(ReadProblem(str(path), None, f"larger than {max_bytes:,} bytes; read up to {read_up_to}"))
            if kind != "jsonl":
                for article in found:
                    article.flags.append("input_truncated")
        articles.extend(found)
    return articles, problems


def _read_document(kind: str, path: Path, text: str, problems: list[ReadProblem]) -> list[Article]:
    """The articles of a page, feed or text file, each cut to :data:`MAX_ARTICLE_CHARS` (flagged) and checked
    to be storable."""
    found = []
    for article in _READERS[kind](path, text, problems):
        try:
            article.text = cut_text(_storable(article.text, "text"), article.flags)
            article.title = _storable(article.title, "title")
        except ValueError as exc:
            problems.append(ReadProblem(str(path), None, f"{article.id}: {exc}"))
            continue
        found.append(article)
    return found

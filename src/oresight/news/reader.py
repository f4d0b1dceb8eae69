"""Read news articles from files: JSON Lines (``{"id", "url", "outlet", "published", "text"}``), plain text, HTML
pages (main text by trafilatura) and RSS/Atom feeds (feedparser). Problems are reported per file and line;
the rest of the input is still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from oresight.errors import InputError
from oresight.io.text import read_text_prefix

__all__ = ["DEFAULT_MAX_BYTES", "Article", "ReadProblem", "read_articles"]

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


def _from_jsonl(path: Path, text: str, problems: list[ReadProblem]) -> Iterator[Article]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(ReadProblem(str(path), number, f"not valid JSON ({exc.msg}, column {exc.colno})"))
            continue
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            problems.append(ReadProblem(str(path), number, 'expected an object with a "text" string'))
            continue
        yield Article(
            id=str(row.get("id") or f"{path.stem}-{number}"),
            text=row["text"][:MAX_ARTICLE_CHARS],
            url=str(row.get("url") or ""),
            outlet=str(row.get("outlet") or ""),
            published=str(row["published"]) if row.get("published") else None,
            source=f"{path}:{number}",
        )


def _from_html(path: Path, text: str, problems: list[ReadProblem]) -> Iterator[Article]:
    import trafilatura

    body = trafilatura.extract(text, include_comments=False, include_tables=False)
    if not body:
        problems.append(ReadProblem(str(path), None, "no article text found in the page"))
        return
    meta = trafilatura.extract_metadata(text)
    yield Article(
        id=path.stem,
        text=body[:MAX_ARTICLE_CHARS],
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
        body = _strip_tags(html)
        title = entry.get("title", "")
        if not (title or body):
            problems.append(ReadProblem(str(path), None, f"feed entry {number} has neither title nor text"))
            continue
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        yield Article(
            id=str(entry.get("id") or entry.get("link") or f"{path.stem}-{number}"),
            text=(f"{title}\n{body}" if title else body)[:MAX_ARTICLE_CHARS],
            url=entry.get("link", ""),
            outlet=outlet,
            published=(
                f"{published.tm_year:04d}-{published.tm_mon:02d}-{published.tm_mday:02d}" if published else None
            ),
            source=f"{path}#{number}",
        )


def _strip_tags(html: str) -> str:
    if "<" not in html:
        return html
    import lxml.html

    try:
        return lxml.html.fromstring(html).text_content()
    except Exception:  # a feed summary that is not HTML after all
        return html


def _from_text(path: Path, text: str, problems: list[ReadProblem]) -> Iterator[Article]:
    yield Article(id=path.stem, text=text[:MAX_ARTICLE_CHARS], source=str(path))


_READERS = {"jsonl": _from_jsonl, "html": _from_html, "feed": _from_feed, "text": _from_text}


def read_articles(paths, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Article], list[ReadProblem]]:
    """Articles from the files, and the problems met (a file or line that could not be read, a file cut at
    ``max_bytes``: of JSON Lines only whole lines are read; a cut page or feed flags its articles
    ``input_truncated``)."""
    articles: list[Article] = []
    problems: list[ReadProblem] = []
    for raw in paths:
        path = Path(raw)
        try:
            text, cut = read_text_prefix(path, max_bytes)
        except InputError as exc:
            problems.append(ReadProblem(str(path), exc.line, exc.reason))
            continue
        kind = _kind(path, text[:1000])
        if cut and kind == "jsonl":
            text = text[: text.rfind("\n") + 1]
        found = list(_READERS[kind](path, text, problems))
        if cut:
            read_up_to = f"line {text.count(chr(10))}" if kind == "jsonl" else f"{max_bytes:,} bytes"
            problems.append(ReadProblem(str(path), None, f"larger than {max_bytes:,} bytes; read up to {read_up_to}"))
            if kind != "jsonl":
                for article in found:
                    article.flags.append("input_truncated")
        articles.extend(found)
    return articles, problems

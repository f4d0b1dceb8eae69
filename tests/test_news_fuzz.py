"""Fuzzing news files: mutated JSON Lines (wrong types, impossible dates, lone surrogates, deep nesting, cut lines,
bytes of other encodings) give one line of error per bad article and never a traceback; the good articles are
read, extracted and stored."""

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oresight.news import extract_articles, read_articles
from oresight.news.store import ingest
from oresight.store import Store

_BASE = [
    {
        "id": "a",
        "published": "2025-01-06",
        "text": "Antimony prices hit a record after China's export ban.\n"
        "Antimony prices climbed to an all-time high in Rotterdam on Monday.",
    },
    {
        "id": "b",
        "published": "2023-10-20",
        "title": "China to require permits for graphite exports",
        "text": "China will require export permits for some graphite products from December 1, the ministry said.",
    },
    {"id": "c", "text": "中国商务部4日宣布，加强对镓和锗的出口管制。"},
]

_odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["9999-12-31", "0000-00-00", "2025-02-30", "2025-13-01", "20250101", "  ", "1e400", "\ud800"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def mutated_line(draw, row: dict) -> bytes:
    row = dict(row)
    kind = draw(st.sampled_from(["field", "field", "drop", "cut", "bytes", "nest", "keep", "not-object"]))
    if kind == "field":
        row[draw(st.sampled_from(["id", "text", "title", "url", "outlet", "published"]))] = draw(_odd_values)
    elif kind == "drop":
        row.pop(draw(st.sampled_from(sorted(row))))
    encoded = json.dumps(row, ensure_ascii=draw(st.booleans()), allow_nan=True).encode("utf-8", "surrogatepass")
    if kind == "cut":
        encoded = encoded[: draw(st.integers(0, max(0, len(encoded) - 1)))]
    elif kind == "bytes":
        at = draw(st.integers(0, len(encoded)))
        encoded = encoded[:at] + draw(st.binary(min_size=1, max_size=6)).replace(b"\n", b"") + encoded[at:]
    elif kind == "nest":
        depth = draw(st.integers(10, 50_000))
        encoded = b'{"id": "deep", "text": ' + b"[" * depth + b"]" * depth + b"}"
    elif kind == "not-object":
        encoded = json.dumps(draw(_odd_values), allow_nan=True).encode("utf-8", "surrogatepass")
    return encoded


@st.composite
def news_file(draw) -> list[bytes]:
    return [draw(mutated_line(draw(st.sampled_from(_BASE)))) for _ in range(draw(st.integers(1, 6)))]


def _check(path: Path, lines: list[bytes]):
    articles, problems = read_articles([path])
    if not any(line.strip() for line in lines):
        assert not articles and [str(p) for p in problems] == [f"{path}: file is empty"]
        return articles
    if b"\x00" in b"\n".join(lines)[:4096]:  # a NUL byte near the start: a binary file, refused whole
        assert not articles and "file is binary" in str(problems[0])
        return articles
    for problem in problems:
        text = str(problem)
        assert "\n" not in text and str(path) in text
        assert problem.line is not None and 1 <= problem.line <= len(lines)
    bad_lines = {p.line for p in problems}
    assert len(bad_lines) == len(problems)  # one error per bad line
    read_lines = {int(a.source.rsplit(":", 1)[1]) for a in articles}
    assert not read_lines & bad_lines
    assert read_lines | bad_lines == {n for n, line in enumerate(lines, 1) if line.strip()}
    return articles


def _read_written(lines: list[bytes], folder: str):
    """The lines written as a file in the folder, read and checked."""
    path = Path(folder) / "news.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return _check(path, lines)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(news_file())
def test_mutated_news_files_give_one_line_per_bad_article(lines):
    with tempfile.TemporaryDirectory() as folder:
        articles = _read_written(lines, folder)
        results = extract_articles(articles)
        assert [r.id for r in results] == [a.id for a in articles]
        json.dumps([r.record() for r in results], allow_nan=False)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(news_file())
def test_mutated_news_files_store_their_good_articles(lines):
    with tempfile.TemporaryDirectory() as folder:
        articles = _read_written(lines, folder)
        report = ingest(articles, Path(folder) / "store.duckdb")
        assert not report.problems
        if not articles:
            return
        with Store.open(Path(folder) / "store.duckdb", read_only=True) as store:
            stored = {row[0] for row in store.con.execute("SELECT id FROM news_articles").fetchall()}
        assert stored == {a.id for a in articles}

"""Benchmark: ingesting into a store that already holds many articles (issue 15: a no-op re-ingest over 20,000
stored articles must take under 10 s; it took 870 s when every ingest regrouped and relinked everything).

    python benchmarks/news_ingest.py [--articles 20000]

Builds a store of ``--articles`` articles (copies of the labelled development articles, or of the test fixtures
without ../shared, under new ids and spread over several years so that they form many events), then measures:
ingesting the same file again (nothing new: read, hash, compare), and ingesting ten new articles (extract them,
regroup the stored events near their dates, relink those that changed). The first ingest is timed too.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import tempfile
import time
from pathlib import Path

from load_and_show import machine
from news import FIXTURES, SPLITS
from oresight.news import read_articles
from oresight.news.store import ingest

_YEAR = re.compile(r"\b20\d\d\b")


def _earlier(text: str, years: int) -> str:
    return _YEAR.sub(lambda m: str(int(m.group()) - years), text)


def _copies(count: int):
    base, _ = read_articles([p for p in SPLITS if p.exists()] or FIXTURES)
    out = []
    for number in range(count):
        article = base[number % len(base)]
        shift = number // len(base) % 6  # the same report, years apart: other events
        text = _earlier(article.text, shift)
        published = _earlier(article.published, shift) if article.published else None
        out.append(dataclasses.replace(article, id=f"{article.id}-{number}", text=text, published=published, flags=[]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=20_000)
    args = parser.parse_args()
    stream = _copies(args.articles + 10)
    stored, new = stream[: args.articles], stream[args.articles :]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.duckdb"
        start = time.perf_counter()
        first = ingest(stored, path)
        built = time.perf_counter() - start
        start = time.perf_counter()
        again = ingest(stored, path)
        noop = time.perf_counter() - start
        start = time.perf_counter()
        more = ingest(stored + new, path)
        incremental = time.perf_counter() - start
    print(f"machine: {machine()}")
    print(f"first ingest: {first.stored} articles, {first.events} events in {built:.1f} s")
    print(f"again, nothing new: {again.skipped} skipped in {noop:.2f} s (target < 10 s)")
    print(
        f"ten new among {len(stored):,} stored: {more.stored} stored, {len(more.changed_events)} events changed "
        f"in {incremental:.2f} s"
    )


if __name__ == "__main__":
    main()

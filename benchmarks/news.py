"""Benchmark: the news intake end to end (read, prepare, extract, deduplicate, group), on one core.

    python benchmarks/news.py [--articles ../shared/eval/news/dev/articles.jsonl] [--copies 10]

Pins the process to one core, then measures: the start-up (lexicon, language models, lemma dictionaries), a
first pass over the
articles (cold word caches), and a stream of ``--copies`` copies of them under new ids (steady state; copies
also load the duplicate detection and the grouping with many near-identical reports). Prints articles per
second and the process's peak resident memory. Target: at least 200 articles per second on one core.
Without ../shared it runs on the test fixtures.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import time
from pathlib import Path

from load_and_show import machine
from oresight.news import extract_articles, read_articles
from oresight.news.lexicon import load_lexicon
from oresight.news.text import detect_language, lemmatise

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "news" / "dev" / "articles.jsonl"
FIXTURES = ROOT / "tests" / "fixtures" / "news" / "reports.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=Path, default=DEV if DEV.exists() else FIXTURES)
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    start = time.perf_counter()
    lexicon = load_lexicon()
    detect_language("warm up the language models", tuple(lexicon.languages))
    for code in lexicon.languages:
        lemmatise("Wörter words", code)  # simplemma loads a language's dictionary on first use
    import datasketch  # noqa: F401 - imports scipy, once

    startup = time.perf_counter() - start

    start = time.perf_counter()
    articles, _ = read_articles([args.articles])
    extract_articles(articles)
    first = time.perf_counter() - start

    stream = [
        dataclasses.replace(article, id=f"{article.id}-{copy}") for copy in range(args.copies) for article in articles
    ]
    start = time.perf_counter()
    extract_articles(stream)
    steady = time.perf_counter() - start

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {machine()}, pinned to one core")
    print(f"input: {args.articles} ({len(articles)} articles)")
    print(f"start-up (lexicon, language models, dictionaries): {startup:.2f} s")
    print(f"first pass, cold caches: {len(articles)} articles in {first:.2f} s = {len(articles) / first:.0f} /s")
    print(f"stream of {len(stream)} articles: {steady:.2f} s = {len(stream) / steady:.0f} /s")
    print(f"peak memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()

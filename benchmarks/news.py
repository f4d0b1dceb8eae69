"""Benchmark: the news intake end to end (read, prepare, extract, deduplicate, group), on one core, on a
mixed-language stream (the German and English dev split and the dev-ml split in eight languages).

    python benchmarks/news.py [--articles A.jsonl --articles B.jsonl] [--copies 10]

Pins the process to one core, then measures: the start-up (lexicon, language models, lemma dictionaries), a
first pass over the
articles (cold word caches), and a stream of ``--copies`` copies of them under new ids (steady state; copies
also load the duplicate detection and the grouping with many near-identical reports). Prints articles per
second and the process's peak resident memory. Target: at least 200 articles per second on one core.
Also prints the rate per language. Without ../shared it runs on the test fixtures.
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
EVAL = ROOT.parent / "shared" / "eval" / "news"
SPLITS = [EVAL / "dev" / "articles.jsonl", EVAL / "dev-ml" / "articles.jsonl"]
FIXTURES = [
    ROOT / "tests" / "fixtures" / "news" / "reports.jsonl",
    ROOT / "tests" / "fixtures" / "news" / "reports-ml.jsonl",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=Path, action="append")
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    paths = args.articles or ([p for p in SPLITS if p.exists()] or FIXTURES)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    start = time.perf_counter()
    lexicon = load_lexicon()
    detect_language("warm up the language models", tuple(lexicon.languages))
    for code, lang in lexicon.languages.items():
        if lang.lemmatise:
            lemmatise("Wörter words", code)  # simplemma loads a language's dictionary on first use
    import datasketch  # noqa: F401 - imports scipy, once

    startup = time.perf_counter() - start

    start = time.perf_counter()
    articles, _ = read_articles(paths)
    first_results = extract_articles(articles)
    first = time.perf_counter() - start

    stream = [
        dataclasses.replace(article, id=f"{article.id}-{copy}") for copy in range(args.copies) for article in articles
    ]
    start, cpu = time.perf_counter(), time.process_time()
    extract_articles(stream)
    steady, steady_cpu = time.perf_counter() - start, time.process_time() - cpu

    per_language = _per_language(articles, first_results, lexicon)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {machine()}, pinned to one core")
    print(f"input: {', '.join(str(p) for p in paths)} ({len(articles)} articles)")
    print(f"start-up (lexicon, language models, dictionaries): {startup:.2f} s")
    print(f"first pass, cold caches: {len(articles)} articles in {first:.2f} s = {len(articles) / first:.0f} /s")
    print(
        f"stream of {len(stream)} articles: {steady:.2f} s = {len(stream) / steady:.0f} /s "
        f"({steady_cpu:.2f} s of CPU = {len(stream) / steady_cpu:.0f} per CPU-second; on a busy machine the CPU "
        "figure is the one to compare)"
    )
    print(
        "per language (prepare + extract, warm, per CPU-second):",
        ", ".join(f"{k} {v:.0f}/s" for k, v in per_language.items()),
    )
    print(f"peak memory: {peak_mb:.0f} MB")


def _per_language(articles, results, lexicon) -> dict[str, float]:
    """Articles per second of each language, read again with warm caches."""
    from oresight.news.extract import extract
    from oresight.news.text import prepare

    by_language: dict[str, list] = {}
    for article, result in zip(articles, results, strict=True):
        by_language.setdefault(result.language, []).append(article)
    rates = {}
    for code, group in sorted(by_language.items()):
        start = time.process_time()
        for _ in range(5):
            for article in group:
                extract(prepare(article, lexicon), lexicon)
        rates[code] = 5 * len(group) / (time.process_time() - start)
    return rates


if __name__ == "__main__":
    main()

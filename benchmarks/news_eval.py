"""Evaluation of the news intake on the labelled development split (when ../shared is present).

    python benchmarks/news_eval.py [--articles ../shared/eval/news/dev/articles.jsonl] [--details] [--check]

Writes the predictions to a temporary file, runs the project's scorer on them and prints its figures; with
``--details``, every article whose prediction differs from its label; with ``--check``, exits with status 1
when the score is below 0.90 or any metric below 0.85 (the acceptance bar of the news intake; CI runs this
when ../shared is present).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from oresight.news import extract_articles, read_articles

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "news"
MIN_SCORE, MIN_METRIC = 0.90, 0.85
METRICS = ("detection_f1", "type_acc", "commodity_f1", "country_f1", "date_acc", "bcubed_f1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=Path, default=EVAL / "dev" / "articles.jsonl")
    parser.add_argument("--labels", type=Path, default=EVAL / "dev" / "labels.jsonl")
    parser.add_argument("--details", action="store_true")
    parser.add_argument("--check", action="store_true", help="fail below the acceptance bar")
    args = parser.parse_args()
    if not args.articles.exists():
        sys.exit(f"no evaluation data at {args.articles}")
    articles, problems = read_articles([args.articles])
    results = extract_articles(articles)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        for result in results:
            handle.write(json.dumps(result.record(), ensure_ascii=False) + "\n")
    scorer = EVAL / "score.py"
    command = [sys.executable, str(scorer), handle.name, str(args.labels), "--json"]
    figures = json.loads(
        subprocess.run(command, capture_output=True, text=True, check=True).stdout.split("\nscore:")[0]
    )
    for key, value in figures.items():
        print(f"{key:>14}: {value:.3f}" if isinstance(value, float) else f"{key:>14}: {value}")
    if problems:
        print(f"{len(problems)} input problems: " + "; ".join(str(p) for p in problems))
    if args.details:
        _details(results, args.labels)
    if args.check:
        low = [m for m in METRICS if figures[m] < MIN_METRIC]
        if figures["score"] < MIN_SCORE or low:
            sys.exit(f"below the bar: score {figures['score']:.3f} (needs {MIN_SCORE}), low metrics: {low or 'none'}")


def _details(results, labels_path: Path) -> None:
    labels = {json.loads(line)["id"]: json.loads(line) for line in labels_path.open(encoding="utf-8")}
    for result in results:
        gold = labels.get(result.id)
        if gold is None:
            continue
        predicted = (
            result.event is not None,
            result.type,
            sorted(_iso2(c) for c in result.countries),
            sorted(result.commodities),
            result.event_date,
        )
        expected = (
            gold["event_id"] is not None,
            gold["event_type"],
            sorted(gold["countries"] or []),
            sorted(gold["commodities"] or []),
            gold["event_date"],
        )
        if predicted != expected:
            print(
                f"{result.id} [{gold['event_id']}] pred={predicted} {result.event}\n       gold={expected} "
                f"scores={dict(list(result.type_scores.items())[:3])} date_src={result.date_source}"
            )


_ISO2 = None


def _iso2(code: str) -> str:
    global _ISO2
    if _ISO2 is None:
        import csv
        from importlib import resources

        text = resources.files("oresight.taxonomy").joinpath("country_codes.csv").read_text()
        rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
        _ISO2 = {row["iso3"]: row["iso2"].strip("^$").split("$|^")[0] for row in rows}
    return _ISO2.get(code, code)


if __name__ == "__main__":
    main()

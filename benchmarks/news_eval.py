"""Evaluation of the news intake on the labelled development splits (when ../shared is present): each split,
each language, and leave-one-event-out.

    python benchmarks/news_eval.py [--split dev --split dev-ml] [--details] [--check] [--no-loeo]
    python benchmarks/news_eval.py --articles A.jsonl --labels L.jsonl      # any other labelled split

Prints the scorer's figures (../shared/eval/news/score.py) for every split, then per language (the labels'
``lang``), then the leave-one-event-out (LOEO) figures.

Leave-one-event-out, for a system of word lists and rules: an event's articles are scored by the intake as it
would be had its lexicon never seen that event. Every *tunable* lexicon entry — a type cue, a background,
context, venue or "affected" cue, a trap, a paired-generic rule, a not-a-country phrase, a boilerplate or
machine-translation pattern — is matched against every labelled article of every split; an entry that matches
the articles of one event only (or of one distractor only) is evidence of that event alone, so it is removed
while that event's articles are read. The articles of the other events are read as before (by construction
the removed entries do not match them) and everything is grouped again. Names of commodities and countries,
month and weekday names, date formats and relative days are not removed: they are closed vocabularies taken
from dictionaries, not rules drawn from articles. A rule added because one article needed it shows up as a
LOEO drop; a rule of a general idea matches other events' articles too and stays.

With ``--check``, exits with status 1 when a split misses the acceptance bar of issue 13 (:data:`BARS`).
CI runs this where ../shared is present.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from oresight.news import Article, read_articles
from oresight.news.extract import Extraction, extract
from oresight.news.group import group, mark_duplicates
from oresight.news.lexicon import load_lexicon
from oresight.news.text import normalise, prepare

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "news"
METRICS = ("detection_f1", "type_acc", "commodity_f1", "country_f1", "date_acc", "bcubed_f1")
#: acceptance bars (issue 13): split -> figure -> least value; "lang:detection_f1" applies to every language
BARS = {
    "dev": {"score": 0.94, "loeo:score": 0.85},
    "dev-ml": {"score": 0.85, "detection_f1": 0.85, "lang:detection_f1": 0.75},
}


def _scorer():
    spec = importlib.util.spec_from_file_location("news_score", EVAL / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Split:
    name: str
    articles: list[Article]
    labels: dict[str, dict]

    def events(self) -> dict[str, list[str]]:
        """Article ids per labelled event; each distractor is a group of its own ("-" + id)."""
        out: dict[str, list[str]] = defaultdict(list)
        for aid, label in self.labels.items():
            out[label["event_id"] or f"-{aid}"].append(aid)
        return dict(out)


def _load(name: str, articles: Path, labels: Path) -> Split:
    found, problems = read_articles([articles])
    if problems:
        print(f"{len(problems)} input problems: " + "; ".join(str(p) for p in problems))
    gold = {json.loads(line)["id"]: json.loads(line) for line in labels.open(encoding="utf-8") if line.strip()}
    return Split(name, found, gold)


def _records(results: list[Extraction]) -> dict[str, dict]:
    return {r.id: r.record() for r in results}


def _figures(scorer, predictions: dict[str, dict], labels: dict[str, dict]) -> dict:
    return scorer.score(predictions, labels)


def _by_language(scorer, predictions, split: Split, results: list[Extraction]) -> dict[str, dict]:
    detected = {r.id: r.language for r in results}
    languages: dict[str, dict] = defaultdict(dict)
    for aid, label in split.labels.items():
        languages[label.get("lang") or detected.get(aid, "?")][aid] = label
    return {lang: _figures(scorer, predictions, labels) for lang, labels in sorted(languages.items())}


# -- leave-one-event-out --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One tunable item of a lexicon file: its place (language, file, path of keys and list index) and pattern."""

    language: str
    file: str
    path: tuple
    pattern: str


_TUNABLE = {
    "events": ("types", "venue", "affected", "follow_up", "context", "background"),
    "commodities": ("traps", "paired_generic"),
    "countries": ("not_countries",),
    "text": ("boilerplate", "machine_translation"),
}


def _entries(root: Path) -> list[Entry]:
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "events.yaml").is_file()):
        for file, keys in _TUNABLE.items():
            data = yaml.safe_load((folder / f"{file}.yaml").read_text(encoding="utf-8")) or {}
            for key in keys:
                value = data.get(key)
                groups = value.items() if isinstance(value, dict) else [(None, value or [])]
                for sub, items in groups:
                    for index, item in enumerate(items or []):
                        pattern = item["re"] if isinstance(item, dict) else item
                        path = (key, sub, index) if sub is not None else (key, index)
                        out.append(Entry(folder.name, file, path, pattern.removeprefix("raw:")))
    return out


def _hits(entries: list[Entry], splits: list[Split]) -> dict[Entry, set[str]]:
    """Which articles (split:id) each entry matches, on the article's normalised lowercased text and lemmas."""
    import re

    from oresight.news.lexicon import _bounded  # the loader's own boundary rule

    lexicon = load_lexicon()
    texts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for split in splits:
        for article in split.articles:
            document = prepare(article, lexicon)
            lang = lexicon.languages[document.language]
            lowered = normalise(article.text, lang).lower()
            lemmas = " ".join(s.lemmas for s in document.sentences)
            texts[document.language].append((f"{split.name}:{article.id}", f"{lowered}\n{lemmas}"))
    hits: dict[Entry, set[str]] = {}
    for entry in entries:
        spaced = lexicon.languages[entry.language].spaced
        try:
            regex = re.compile(_bounded(entry.pattern, spaced) if entry.file != "text" else entry.pattern)
        except re.error:
            continue
        hits[entry] = {key for key, text in texts[entry.language] if regex.search(text)}
    return hits


def _ablated_root(root: Path, removed: list[Entry], into: Path) -> Path:
    """A copy of the lexicon folder without the given entries."""
    target = into / "lexicon"
    shutil.copytree(root, target)
    by_file: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in removed:
        by_file[(entry.language, entry.file)].append(entry)
    for (language, file), entries in by_file.items():
        path = target / language / f"{file}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in sorted(entries, key=lambda e: e.path[-1], reverse=True):
            container = data
            for key in entry.path[:-1]:
                container = container[key]
            del container[entry.path[-1]]
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def _read_each(articles: list[Article], lexicon) -> list[Extraction]:
    """Each article's own extraction, before grouping."""
    return [extract(prepare(article, lexicon), lexicon) for article in articles]


def _grouped(extractions: list[Extraction]) -> list[Extraction]:
    """Copies, deduplicated and grouped as :func:`oresight.news.extract_articles` does."""
    copies = [Extraction.from_json(e.to_json()) for e in extractions]
    mark_duplicates(copies)
    group(copies, load_lexicon())
    return copies


def _loeo(split: Split, hits: dict[Entry, set[str]], own: list[Extraction], root: Path):
    """Predictions with each event's articles read by a lexicon without the entries only that event matches;
    returns (predictions, {event: removed entries})."""
    reread: dict[str, Extraction] = {}
    removed_of: dict[str, list[Entry]] = {}
    for event, ids in split.events().items():
        keys = {f"{split.name}:{i}" for i in ids}
        removed = [entry for entry, found in hits.items() if found and found <= keys]
        if not removed:
            continue
        removed_of[event] = removed
        with tempfile.TemporaryDirectory() as scratch:
            lexicon = load_lexicon(_ablated_root(root, removed, Path(scratch)))
            wanted = [a for a in split.articles if a.id in set(ids)]
            reread.update({e.id: e for e in _read_each(wanted, lexicon)})
        load_lexicon.cache_clear()
    combined = [reread.get(e.id, e) for e in own]
    return _records(_grouped(combined)), removed_of


# -- reporting ------------------------------------------------------------------------------------------------
def _line(label: str, figures: dict) -> str:
    parts = " ".join(f"{m.split('_')[0][:6]} {figures[m]:.3f}" for m in METRICS)
    return f"{label:<18} score {figures['score']:.3f}  {parts}  (n={figures['articles']})"


def _failures(split: Split, figures: dict, languages: dict, loeo: dict | None) -> list[str]:
    bars, low = BARS.get(split.name, {}), []
    for key, least in bars.items():
        if key.startswith("lang:"):
            metric = key.split(":", 1)[1]
            low += [
                f"{split.name} {lang} {metric} {f[metric]:.3f} < {least}"
                for lang, f in languages.items()
                if f[metric] < least
            ]
        elif key.startswith("loeo:"):
            metric = key.split(":", 1)[1]
            if loeo is not None and loeo[metric] < least:
                low.append(f"{split.name} leave-one-event-out {metric} {loeo[metric]:.3f} < {least}")
        elif figures[key] < least:
            low.append(f"{split.name} {key} {figures[key]:.3f} < {least}")
    return low


def _details(results: list[Extraction], labels: dict[str, dict], scorer) -> None:
    """Every article whose prediction differs from its label, compared as the scorer compares (ISO codes and
    commodity synonyms normalised, dates within a day)."""

    def countries(codes):
        return sorted({scorer.norm_country(c) for c in codes or []})

    def commodities(names):
        return sorted({scorer.norm_commodity(c) for c in names or []})

    for result in results:
        gold = labels.get(result.id)
        if gold is None:
            continue
        predicted = (
            result.event is not None,
            result.type,
            countries(result.countries),
            commodities(result.commodities),
            result.event_date,
        )
        expected = (
            gold["event_id"] is not None,
            gold["event_type"],
            countries(gold["countries"]),
            commodities(gold["commodities"]),
            gold["event_date"],
        )
        day, gold_day = scorer.parse_day(result.event_date), scorer.parse_day(gold["event_date"])
        if day and gold_day and abs((day - gold_day).days) <= 1:
            predicted = (*predicted[:4], gold["event_date"])
        if predicted != expected:
            print(
                f"  {result.id} [{gold['event_id']}] {result.language} pred={predicted} {result.event}\n"
                f"  {' ' * len(result.id)} gold={expected} scores={dict(list(result.type_scores.items())[:3])}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", action="append", help="dev, dev-ml (default: both)")
    parser.add_argument("--articles", type=Path, help="another labelled split: its articles …")
    parser.add_argument("--labels", type=Path, help="… and its labels")
    parser.add_argument("--details", action="store_true", help="every article whose prediction differs")
    parser.add_argument("--no-loeo", action="store_true", help="skip leave-one-event-out")
    parser.add_argument("--check", action="store_true", help="fail below the acceptance bars")
    args = parser.parse_args()
    if args.articles:
        labels = args.labels or args.articles.with_name("labels.jsonl")
        splits = [_load(args.articles.parent.name, args.articles, labels)]
    else:
        names = args.split or ["dev", "dev-ml"]
        if not (EVAL / names[0] / "articles.jsonl").exists():
            sys.exit(f"no evaluation data at {EVAL}")
        splits = [_load(n, EVAL / n / "articles.jsonl", EVAL / n / "labels.jsonl") for n in names]
    scorer = _scorer()
    root = Path(str(resources.files("oresight.news.lexicon")))
    hits = None if args.no_loeo else _hits(_entries(root), splits)
    low = []
    for split in splits:
        own = _read_each(split.articles, load_lexicon())
        results = _grouped(own)
        predictions = _records(results)
        figures = _figures(scorer, predictions, split.labels)
        languages = _by_language(scorer, predictions, split, results)
        print(_line(split.name, figures))
        for lang, lang_figures in languages.items():
            print(_line(f"  {lang}", lang_figures))
        loeo = None
        if hits is not None:
            loeo_predictions, removed = _loeo(split, hits, own, root)
            loeo = _figures(scorer, loeo_predictions, split.labels)
            print(_line("  leave-one-out", loeo))
            dependent = sorted(removed, key=lambda e: -len(removed[e]))
            if args.details:
                for event in dependent:
                    print(
                        f"    {event}: {len(removed[event])} entries matched only its articles: "
                        + "; ".join(f"{e.language}/{e.file} {e.pattern}" for e in removed[event][:6])
                    )
        if args.details:
            _details(results, split.labels, scorer)
        low += _failures(split, figures, languages, loeo)
    if args.check and low:
        sys.exit("below the bar: " + "; ".join(low))


if __name__ == "__main__":
    main()

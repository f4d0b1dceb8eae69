"""``oresight news``: read reports into events (``extract``), keep them (``ingest``), list them (``events``)."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape

from oresight.news.reader import DEFAULT_MAX_BYTES

from .render import FormatOption, OutputFormat, console, emit_frame, emit_json, err_console, rich_table

app = typer.Typer(
    help="News intake: reports in German, English … to deduplicated supply-chain events.", no_args_is_help=True
)


class ExtractFormat(enum.StrEnum):
    jsonl = "jsonl"
    table = "table"


Files = Annotated[list[Path], typer.Argument(help="JSON Lines, text, HTML or RSS/Atom files.")]
MaxBytes = Annotated[
    int, typer.Option("--max-bytes", min=1, help="Read at most this many bytes of a file (the rest is cut).")
]


def _report_problems(problems) -> None:
    for problem in problems:
        err_console.print(f"[yellow]skipped:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)


def _progress(total: int, what: str = "reading"):
    from rich.progress import BarColumn, Progress, TextColumn

    return Progress(
        TextColumn(what),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} articles"),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal or total < 50,
    )


@app.command("extract")
def extract(
    files: Files,
    fmt: Annotated[
        ExtractFormat, typer.Option("--format", "-f", help="jsonl (one object per article) or table.")
    ] = ExtractFormat.jsonl,
    max_bytes: MaxBytes = DEFAULT_MAX_BYTES,
) -> None:
    """Extract events from articles without storing anything: one JSON object per article with its event key,
    type, commodities, countries (ISO3), date, flags and the sentences each rests on.

    JSON Lines files hold one object per line: "text" (required), "id", "title", "url", "outlet", "published"
    (YYYY-MM-DD)."""
    from oresight.news import extract_articles, read_articles

    articles, problems = read_articles(files, max_bytes=max_bytes)
    with _progress(len(articles)) as bar:
        task = bar.add_task("extract", total=len(articles))
        results = extract_articles(
            articles, progress=lambda done, total: bar.update(task, completed=done), problems=problems
        )
    if fmt == ExtractFormat.jsonl:
        for result in results:
            sys.stdout.write(json.dumps(result.record(), ensure_ascii=False) + "\n")
    else:
        console.print(_extraction_table(results))
    _report_problems(problems)
    if problems:
        raise typer.Exit(1)


_SHORT_FLAGS = {
    "machine_translated": "MT",
    "boilerplate": "boilerplate",
    "markup_artifact": "markup",
    "input_truncated": "cut",
}


def _short_flag(flag: str) -> str:
    kind, _, detail = flag.partition(":")
    if kind == "duplicate_of":
        return f"copy of {detail}"
    return "name variant" if kind == "name_variant" else _SHORT_FLAGS.get(kind, kind)


def _extraction_table(results):
    """Reports of one event on adjacent rows, events numbered in order of appearance, flags in short."""
    numbers: dict[str, int] = {}
    for result in results:
        if result.event:
            numbers.setdefault(result.event, len(numbers) + 1)
    ordered = sorted(results, key=lambda r: numbers.get(r.event, len(numbers) + 1))
    rows = [
        {
            "event": numbers.get(r.event, "–"),
            "id": r.id,
            "type, date": f"{r.type}\n{r.event_date or 'date unknown'}" if r.type else "no event",
            "about": _about(r.commodities, r.countries, [_short_flag(f) for f in r.flags]),
        }
        for r in ordered
    ]
    return rich_table(
        pd.DataFrame(rows),
        title=f"{len(results)} articles, {len(numbers)} events",
        keep_whole=("event", "id", "type, date"),
    )


def _about(commodities: list[str], countries: list[str], notes: list[str]) -> str:
    lines = [", ".join(commodities), ", ".join(countries), "; ".join(notes)]
    return escape("\n".join(line for line in lines if line))


@app.command("ingest")
def ingest(
    files: Files, max_bytes: MaxBytes = DEFAULT_MAX_BYTES, alerts: AlertsFile = None, alerts_log: AlertsLog = None
) -> None:
    """Store articles and their events in the local store ($ORESIGHT_HOME); the same article twice is stored
    once, and an interrupted ingest stores nothing. A bad article (line) is reported and the others are stored.
    With --alerts, the events new or changed by this ingest are checked against the rules, as `news watch` does.

    JSON Lines files hold one object per line: "text" (required), "id", "title", "url", "outlet", "published"
    (YYYY-MM-DD)."""
    from oresight.news import read_articles
    from oresight.news.store import ingest as run_ingest

    rules = _alert_rules(alerts, alerts_log)  # a bad rules file stops the ingest before anything is stored
    articles, problems = read_articles(files, max_bytes=max_bytes)
    with _progress(len(articles), "extracting") as bar:
        task = bar.add_task("ingest", total=len(articles))
        report = run_ingest(articles, progress=lambda done, total: bar.update(task, completed=done, total=total))
    again = f"; {report.refreshed} stored articles extracted again with the current rules" if report.refreshed else ""
    console.print(f"stored {report.stored} articles ({report.skipped} already stored){again}; {report.events} events")
    if rules is not None:
        from oresight.news.alerts import run_alerts

        _print_alerts(run_alerts(rules, report.changed_events))
    problems = problems + report.problems
    _report_problems(problems)
    if problems:
        raise typer.Exit(1)


@app.command("events")
def events(
    since: Annotated[
        str | None, typer.Option("--since", help="Only events on or after this date (YYYY-MM-DD).")
    ] = None,
    kind: Annotated[str | None, typer.Option("--type", help="Only this event type (export_control, …).")] = None,
    commodity: Annotated[
        str | None,
        typer.Option("--commodity", help="Only events about this commodity or its members (any name: Kobalt, REE)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Stored events, newest first, with their articles and the scenario that models each."""
    from oresight.news.store import events as stored_events
    from oresight.store import Store

    _check_filters(since, kind, commodity)
    store = Store.open(create=False)
    found, any_stored = [], False
    if store is not None:
        with store:
            found = stored_events(store, since=since, kind=kind, commodity=commodity)
            any_stored = bool(found or stored_events(store))
    if fmt == OutputFormat.json:
        emit_json(found)
    elif fmt == OutputFormat.csv:
        emit_frame(pd.DataFrame([_event_record(e) for e in found], columns=list(EVENT_COLUMNS)), fmt)
    elif found:
        rows = [_event_row(e) for e in found]
        console.print(rich_table(pd.DataFrame(rows), title="News events", keep_whole=("date", "type")))
    elif any_stored:
        console.print("no stored event matches the filters")
    else:
        console.print("no events stored yet; `oresight news ingest FILE…` reads articles into the store")


def _check_filters(since: str | None, kind: str | None, commodity: str | None) -> None:
    from oresight.errors import InputError, UnknownNameError
    from oresight.news.lexicon import load_lexicon
    from oresight.taxonomy import load_taxonomy

    lexicon = load_lexicon()
    if kind and kind not in lexicon.event_types:
        raise InputError(f"unknown event type {kind!r}", field="--type", expected=", ".join(lexicon.event_types))
    if since and not _is_date(since):
        raise InputError(f"not a date: {since!r}", field="--since", expected="YYYY-MM-DD")
    if commodity:
        try:
            load_taxonomy().commodity(commodity)  # English, German, aliases; "did you mean" for an unknown name
        except UnknownNameError as exc:
            raise InputError(str(exc), field="--commodity") from None


#: the columns of ``news events --format csv``: one row per event, lists joined by "; " (JSON has every field)
EVENT_COLUMNS = ("event", "event_date", "type", "title", "commodities", "countries", "reports", "scenario", "match")


def _event_record(event: dict) -> dict:
    link = event["scenario"] or {}
    return {
        "event": event["event"],
        "event_date": event["event_date"] or "",
        "type": event["type"],
        "title": event["title"],
        "commodities": "; ".join(event["commodities"]),
        "countries": "; ".join(event["countries"]),
        "reports": len(event["articles"]),
        "scenario": link.get("scenario") or "",
        "match": link.get("match") or "",
    }


def _event_row(event: dict) -> dict:
    reports = len(event["articles"])
    notes = [f"{reports} report" + ("s" if reports != 1 else "")]
    if (event["scenario"] or {}).get("scenario"):
        notes.append(f"scenario {event['scenario']['scenario']}")
    return {
        "date": event["event_date"] or "",
        "type": event["type"],
        "event": escape(event["title"]) + "\n" + _about(event["commodities"], event["countries"], notes),
    }


def _is_date(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


AlertsFile = Annotated[
    Path | None,
    typer.Option(
        "--alerts",
        help="Rules file (YAML): for each new event that matches, run its linked scenario and append the alert "
        "with its impact to the rules' JSON Lines log.",
    ),
]
AlertsLog = Annotated[Path | None, typer.Option("--alerts-log", help="Append alerts to this JSON Lines file instead.")]


def _alert_rules(alerts: Path | None, alerts_log: Path | None):
    if alerts is None:
        return None
    from oresight.news.alerts import load_rules

    rules = load_rules(alerts)
    return rules.model_copy(update={"path": alerts_log}) if alerts_log is not None else rules


@app.command("watch")
def watch(
    feeds: Annotated[list[str], typer.Argument(metavar="FEED_URL...", help="RSS or Atom feed URLs (http or https).")],
    every: Annotated[str, typer.Option("--every", help="Poll interval, e.g. 15m, 1h, 30s.")] = "15m",
    once: Annotated[bool, typer.Option("--once", help="Poll once and exit.")] = False,
    alerts: AlertsFile = None,
    alerts_log: AlertsLog = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings only.")] = False,
) -> None:
    """Poll feeds (conditional requests), fetch each new item's page, ingest new articles into the store; as a
    long-lived service until stopped (Ctrl-C, SIGTERM), or once. A failing feed is retried with backoff."""
    import logging
    import signal
    import threading

    from rich.logging import RichHandler

    from oresight.errors import InputError
    from oresight.news import watch as watching

    try:
        seconds = watching.parse_every(every)
    except ValueError as exc:
        raise InputError(str(exc), field="--every") from None
    for url in feeds:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"not a feed URL: {url!r}", field="FEED_URL", expected="an http:// or https:// URL")
    rules = _alert_rules(alerts, alerts_log)
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, markup=False)],
        force=True,
    )
    if once:
        _print_poll(watching.poll(feeds, alerts=rules))
        return
    stop = threading.Event()
    for name in ("SIGTERM", "SIGINT"):
        signal.signal(getattr(signal, name), lambda *_: stop.set())
    watching.watch(feeds, every=seconds, alerts=rules, stop=stop, on_poll=_print_poll)


def _print_poll(report) -> None:
    for url, outcome in report.feeds.items():
        console.print(f"{escape(url)}: {escape(outcome)}", highlight=False, soft_wrap=True)
    console.print(f"stored {report.stored} new articles; {len(report.changed_events)} events new or changed")
    _print_alerts(report.alerts)
    _report_problems(report.problems)


def _print_alerts(alerts: list[dict]) -> None:
    for alert in alerts:
        impact = alert["impact"] or {}
        shortfalls = ", ".join(
            f"{code} P50 {entry['shortfall_t']['p50']:,.0f} t / P95 {entry['shortfall_t']['p95']:,.0f} t"
            for code, entry in (impact.get("importers") or {}).items()
            if "shortfall_t" in entry
        )
        what = shortfalls or impact.get("error") or "no scenario models this event"
        console.print(f"alert {escape(alert['alert'])}: {escape(alert['title'])} — {escape(what)}", soft_wrap=True)

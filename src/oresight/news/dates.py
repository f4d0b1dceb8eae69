"""Dates in news text: explicit dates in the lexicon's month names, weekdays and relative days ("am Donnerstag",
"yesterday", "vor 4 Stunden") resolved against a reference date, and the reference date itself from metadata,
a header line, a publication stamp or the URL.

>>> from oresight.news.lexicon import load_lexicon
>>> de = load_lexicon().languages["de"]
>>> [m.day.isoformat() for m in find_dates("Das Ministerium teilte am Donnerstag mit", de, date(2025, 10, 31))]
['2025-10-30']
>>> found = find_dates("ab dem 1. August gilt: am 3. Juli 2023 beschlossen", de, date(2023, 7, 4))
>>> [(m.day.isoformat(), m.effective) for m in found]
[('2023-08-01', True), ('2023-07-03', False)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from oresight.news.lexicon import LanguageLexicon

__all__ = [
    "DateMention",
    "Reference",
    "find_dates",
    "reference_date",
    "resolve_month_day",
    "resolve_weekday",
    "url_date",
]

_URL_DATES = [
    re.compile(r"/(20\d\d)/(\d{1,2})/(\d{1,2})(?:/|-)"),
    re.compile(r"/(20\d\d)-(\d\d)-(\d\d)"),
    re.compile(r"[/_-](20\d\d)(\d\d)(\d\d)(?:[/_.-]|$)"),
    re.compile(r"/(20\d\d)/(\d\d)-(\d\d)-"),
]
_ISO = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)(?:t\d\d:\d\d)?\b")
_NUMERIC = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(20\d\d)\b")


@dataclass(frozen=True)
class DateMention:
    day: date | None  # None: a weekday or a day without year that no reference date resolves
    kind: str  # explicit, weekday, relative, iso
    effective: bool  # a start or end date ("from 1 August", "since") or an earlier measure's date
    announced: bool  # right after "said on", "teilte … mit am": most likely the day of the event
    year_given: bool
    start: int
    weekday: int | None = None
    month_day: tuple[int, int] | None = None  # (month, day) of a date given without year


@dataclass(frozen=True)
class Reference:
    """The date a report speaks from; ``day`` is None when only its month is known."""

    day: date | None
    month: tuple[int, int] | None
    source: str


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def url_date(url: str) -> date | None:
    for pattern in _URL_DATES:
        match = pattern.search(url or "")
        if match:
            found = _safe(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            if found:
                return found
    return None


def resolve_weekday(weekday: int, reference: date, *, next_day: bool = True) -> date:
    """The day with that weekday nearest before the reference. With ``next_day`` (the reference is the report's
    own date), the day after it counts too: a US page dated Thursday reports Beijing's Friday announcement.

    >>> resolve_weekday(4, date(2023, 10, 19)).isoformat()  # Friday, seen from a Thursday
    '2023-10-20'
    >>> resolve_weekday(4, date(2023, 10, 19), next_day=False).isoformat()
    '2023-10-13'
    """
    delta = (reference.weekday() - weekday) % 7
    return reference + timedelta(days=1) if (delta == 6 and next_day) else reference - timedelta(days=delta)


def resolve_month_day(month_day: tuple[int, int], anchor: date) -> date | None:
    """A day given without year: in the year that puts it nearest the anchor.

    >>> resolve_month_day((12, 30), date(2025, 1, 6)).isoformat()
    '2024-12-30'
    """
    candidates = [_safe(year, *month_day) for year in (anchor.year - 1, anchor.year, anchor.year + 1)]
    return min((c for c in candidates if c), key=lambda c: abs((c - anchor).days), default=None)


@dataclass
class _Patterns:
    day_month_year: re.Pattern
    month_day_year: re.Pattern
    weekday: re.Pattern


_CACHE: dict[tuple[str, int], _Patterns] = {}


def _patterns(lang: LanguageLexicon) -> _Patterns:
    key = (lang.code, id(lang))
    if key not in _CACHE:
        month, weekday = lang.month_regex, lang.weekday_regex
        edge = r"\b" if lang.spaced else ""
        _CACHE[key] = _Patterns(
            re.compile(rf"\b(\d{{1,2}})(?:\.|th|st|nd|rd)?\s*(?:\.\s*)?({month})(?:\.)?(?:\s*,?\s*(20\d\d))?\b", re.I),
            re.compile(rf"\b({month})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(20\d\d))?", re.I),
            re.compile(rf"{edge}({weekday}){edge}", re.I),
        )
    return _CACHE[key]


def _month_number(token: str, lang: LanguageLexicon) -> int | None:
    token = token.lower().rstrip(",")
    return next((n for n, pattern in enumerate(lang.months, 1) if pattern.match(token)), None)


def _infer_year(month: int, day: int, reference: date | None) -> date | None:
    """The year of a date given without one: the one that puts it nearest the reference date, but not more than
    45 days after it (a report speaks of days past and of plans close ahead; "1 January" seen on 31 December is
    the next day). Without a reference date it stays open (the event's other reports may tell)."""
    if reference is None:
        return None
    candidates = [_safe(year, month, day) for year in (reference.year - 1, reference.year, reference.year + 1)]
    candidates = [c for c in candidates if c and c <= reference + timedelta(days=45)]
    return min(candidates, key=lambda c: abs((c - reference).days), default=None)


def _cued(pattern: re.Pattern | None, text: str, start: int) -> bool:
    return bool(pattern is not None and pattern.search(text[max(0, start - 25) : start].lower()))


def _day_of_month(day: int, reference: date | None) -> date | None:
    """A day given without month ("2日", "15일"): in the reference date's month, or the month before where that
    would lie after the reference (a report speaks of days past)."""
    if reference is None or not 1 <= day <= 31:
        return None
    found = _safe(reference.year, reference.month, day)
    if found is None or found > reference + timedelta(days=1):
        previous = reference.replace(day=1) - timedelta(days=1)
        found = _safe(previous.year, previous.month, day)
    return found


def _formatted(match: re.Match, lang: LanguageLexicon, reference: date | None):
    """(day, year given, month_day) of a match of one of the lexicon's date formats."""
    parts = match.groupdict()
    day = int(parts["day"]) if parts.get("day") else None
    month_text, year = parts.get("month"), int(parts["year"]) if parts.get("year") else None
    if day is None:
        return None, False, None
    if month_text is None:
        return _day_of_month(day, reference), False, None
    month = int(month_text) if month_text.isdigit() else _month_number(month_text, lang)
    if not month or not 1 <= month <= 12:
        return None, False, None
    if year:
        return _safe(year, month, day), True, None
    return _infer_year(month, day, reference), False, (month, day)


def find_dates(text: str, lang: LanguageLexicon, reference: date | None) -> list[DateMention]:
    """Every date a sentence names, in order of appearance. Without a reference date, weekdays and dates without
    a year come back unresolved (``day`` None, with ``weekday`` or ``month_day`` set)."""
    patterns = _patterns(lang)
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def add(day, kind, span, year_given, weekday=None, month_day=None):
        if (day is None and weekday is None and month_day is None) or any(a <= span[0] < b for a, b in taken):
            return
        taken.append(span)
        start = span[0]
        effective = _cued(lang.effective, text, start) or _cued(lang.earlier, text, start)
        after = lang.effective_after
        effective = effective or bool(after is not None and after.match(text, span[1]))
        found.append(
            DateMention(day, kind, effective, _cued(lang.announced, text, start), year_given, start, weekday, month_day)
        )

    for match in _ISO.finditer(text.lower()):
        add(_safe(*(int(g) for g in match.groups())), "iso", match.span(), True)
    for pattern in lang.date_formats:
        for match in pattern.finditer(text):
            value, given, month_day = _formatted(match, lang, reference)
            if value is not None or month_day is not None:
                add(value, "explicit", match.span(), given, month_day=month_day)
    for match in _NUMERIC.finditer(text):
        add(_safe(int(match.group(3)), int(match.group(2)), int(match.group(1))), "explicit", match.span(), True)
    named = [(x, (1, 2, 3)) for x in patterns.day_month_year.finditer(text)] + [
        (x, (2, 1, 3)) for x in patterns.month_day_year.finditer(text)
    ]
    for match, (d, m, y) in named if lang.spaced else ():
        month = _month_number(match.group(m), lang)
        if month and 1 <= int(match.group(d)) <= 31:
            day, given = int(match.group(d)), match.group(y)
            value = _safe(int(given), month, day) if given else _infer_year(month, day, reference)
            add(value, "explicit", match.span(), bool(given), month_day=None if given else (month, day))
    for match in patterns.weekday.finditer(text):
        weekday = next(i for i, p in enumerate(lang.weekdays) if p.match(match.group(1).lower()))
        add(resolve_weekday(weekday, reference) if reference else None, "weekday", match.span(), False, weekday)
    if reference is not None:
        lowered = text.lower()
        for pattern, days in lang.relative:
            for match in pattern.finditer(lowered):
                add(reference + timedelta(days=days), "relative", match.span(), False)
    return sorted(found, key=lambda m: m.start)


def _parts(text: str | None) -> list[int]:
    return [int(p) for p in re.findall(r"\d+", text or "")[:3]]


def reference_date(published: str | None, header, stamps: list[str], url: str, lang: LanguageLexicon) -> Reference:
    """The date a report speaks from: the publication date of the metadata, else the article's date header,
    else a publication stamp in the page ("Veröffentlicht: 13.11.2024"), else the URL. Where only a month is
    known, it is kept as ``month``."""
    month = None
    parts = _parts(published)
    if len(parts) == 3 and _safe(*parts):
        return Reference(_safe(*parts), (parts[0], parts[1]), "published")
    if len(parts) == 2:
        month = (parts[0], parts[1])
    if header is not None:
        year, header_month, day = header
        if day and _safe(year, header_month, day):
            return Reference(_safe(year, header_month, day), (year, header_month), "header")
        month = month or (year, header_month)
    for stamp in stamps:
        mentions = [m for m in find_dates(stamp, lang, None) if m.year_given and m.day]
        if mentions:
            return Reference(mentions[0].day, (mentions[0].day.year, mentions[0].day.month), "stamp")
    from_url = url_date(url)
    if from_url:
        return Reference(from_url, (from_url.year, from_url.month), "url")
    return Reference(None, month, "month" if month else "none")

"""Reports of the same event, across outlets and languages: near-duplicate texts (MinHash over word shingles,
datasketch) and grouping of event reports by type, commodity family, date and countries. Follow-ups — a licence
approval after new controls, a suspension, a later report of halted shipments — have another type or another
date and stay separate events. Each event takes the best-supported date of its reports, and spellings of a
person's name that differ from the one most reports use are flagged.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from oresight.news.dates import resolve_month_day, resolve_weekday
from oresight.news.extract import DATE_TRUST, Extraction
from oresight.news.fingerprint import PERMUTATIONS, minhash
from oresight.news.lexicon import Lexicon

__all__ = ["DUPLICATE_THRESHOLD", "group", "mark_duplicates"]

#: Jaccard similarity of word 5-shingles above which two texts are near-duplicates
DUPLICATE_THRESHOLD = 0.8
#: LSH misses some pairs near its threshold: candidates are found at a lower one and then checked
CANDIDATE_THRESHOLD = 0.5
#: days two reports' dates may differ and still be one event (confident dates / a guessed date involved)
TOLERANCE_DAYS, LOOSE_TOLERANCE_DAYS = 3, 10
#: least overlap (Jaccard) of the countries of two reports of one event, where both name countries
MIN_COUNTRY_OVERLAP = 0.4
#: dates read from the text (not the report's own date) decide an event's date where there are any
FIRM = min(DATE_TRUST["relative"], DATE_TRUST["weekday"], DATE_TRUST["explicit"])


def mark_duplicates(extractions: list[Extraction]) -> None:
    """Flag ``duplicate_of:ID`` on texts that nearly repeat an earlier one (same or other outlet)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=CANDIDATE_THRESHOLD, num_perm=PERMUTATIONS)
    signatures = {}
    exact: dict[tuple, str] = {}  # hash values -> what the first text with them repeats (or itself)
    order = _order(extractions)
    for extraction in extractions:
        if extraction.signature is None or extraction.id in signatures:
            continue
        values = tuple(extraction.signature)
        if values in exact:  # the same text again: it repeats what its first copy repeats
            extraction.flags.append(f"duplicate_of:{exact[values]}")
            signatures[extraction.id] = None
            continue
        signature = minhash(extraction.signature)
        # the earliest candidate that is a near-duplicate
        first = next(
            (
                key
                for key in sorted(lsh.query(signature), key=order.get)
                if signature.jaccard(signatures[key]) >= DUPLICATE_THRESHOLD
            ),
            None,
        )
        if first is not None:
            extraction.flags.append(f"duplicate_of:{first}")
        exact[values] = first if first is not None else extraction.id
        lsh.insert(extraction.id, signature)
        signatures[extraction.id] = signature


def _order(extractions: list[Extraction]) -> dict[str, int]:
    return {e.id: i for i, e in enumerate(extractions)}


@dataclass
class _Cluster:
    kind: str
    families: set[str]
    countries: set[str]
    generic: bool = False  # a report of it names the generic "critical minerals"
    follow_up: bool = False  # the extension of an earlier measure (never one event with the measure)
    members: list[Extraction] = field(default_factory=list)
    firm: Counter = field(default_factory=Counter)  # dates read from text, weighted by trust
    loose: Counter = field(default_factory=Counter)  # reports' own dates

    country_counts: Counter = field(default_factory=Counter)  # reports naming each country

    def add(self, extraction: Extraction, families: set[str], generic_named: bool) -> None:
        self.members.append(extraction)
        self.families |= families
        self.countries |= set(extraction.countries)
        self.country_counts.update(set(extraction.countries))
        self.generic = self.generic or generic_named
        if extraction.event_date:
            self.vote(extraction.event_date, extraction.date_confidence)

    def core_countries(self) -> set[str]:
        """The countries at least a third of the event's reports name (a report in another language may name
        a buyer or a rival the others do not; the union of all would grow with every report)."""
        core = {c for c, n in self.country_counts.items() if n >= len(self.members) / 3}
        return core or self.countries

    def vote(self, day: str, confidence: float) -> None:
        (self.firm if confidence >= FIRM else self.loose)[day] += confidence

    def date(self) -> date | None:
        votes = self.firm or self.loose
        return date.fromisoformat(votes.most_common(1)[0][0]) if votes else None


#: the family of "critical minerals": a report naming only that may belong to an event about any mineral
GENERIC = "critical-minerals"


def _families(extraction: Extraction, lexicon: Lexicon) -> set[str]:
    families = {lexicon.family(c) for c in extraction.commodities}
    return families - {GENERIC} or families


def _day(extraction: Extraction) -> date | None:
    return date.fromisoformat(extraction.event_date) if extraction.event_date else None


def _names_generic(extraction: Extraction, lexicon: Lexicon) -> bool:
    return any(lexicon.family(c) == GENERIC for c in extraction.commodities)


def _fits(cluster: _Cluster, extraction: Extraction, families: set[str], generic_named: bool = False) -> float:
    """How well a report fits an event: 0 if it cannot belong to it. Reports in different languages share no
    words, so this rests on what was extracted: the type, the commodities (a report that names "critical
    minerals" beside some of them may belong to an event whose other reports name others), the date and the
    countries."""
    generic = families == {GENERIC} or cluster.families == {GENERIC} or (generic_named and cluster.generic)
    if extraction.type != cluster.kind or not (families & cluster.families or generic):
        return 0.0
    if extraction.follow_up != cluster.follow_up:
        return 0.0
    own, theirs = _day(extraction), cluster.date()
    if own and theirs:
        tolerance = TOLERANCE_DAYS if extraction.date_confidence >= 0.8 else LOOSE_TOLERANCE_DAYS
        if abs((own - theirs).days) > tolerance:
            return 0.0
    countries, core = set(extraction.countries), cluster.core_countries()
    if countries and core and len(countries & core) < MIN_COUNTRY_OVERLAP * len(countries | core):
        return 0.0
    if (
        not own
        and extraction.month
        and theirs
        and abs((extraction.month[0] * 12 + extraction.month[1]) - (theirs.year * 12 + theirs.month)) > 1
    ):
        return 0.0
    # how much of what the report names the event covers, then how alike they are, then the bigger event
    shared = len(families & cluster.families) or (0.5 if generic else 0)
    covered = shared / len(families)
    alike = shared / len(families | cluster.families)
    return covered + 0.5 * alike + (0.5 if own and theirs and own == theirs else 0.0) + 0.01 * len(cluster.members)


def _event_key(cluster: _Cluster) -> str:
    day = cluster.date()
    text = f"{cluster.kind}|{','.join(sorted(cluster.families))}|{day.isoformat() if day else ''}"
    text += "|follow-up" if cluster.follow_up else ""
    return "ev-" + hashlib.sha1(text.encode()).hexdigest()[:10]


def group(extractions: list[Extraction], lexicon: Lexicon) -> list[list[Extraction]]:
    """Group event reports into events (most trusted dates first, so that events form around firm dates; then by
    id, so that the input order does not matter); set each report's ``event`` key and the event's date; returns
    the events' members."""
    reports = sorted((e for e in extractions if e.is_event), key=lambda e: (-e.date_confidence, e.id))
    clusters: list[_Cluster] = []
    of_kind: dict[str, list[_Cluster]] = {}  # a report can only join an event of its type
    for extraction in reports:
        families = _families(extraction, lexicon)
        generic_named = _names_generic(extraction, lexicon)
        candidates = of_kind.setdefault(extraction.type, [])
        scored = [(_fits(c, extraction, families, generic_named), c) for c in candidates]
        best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
        cluster = best[1] if best[0] > 0 else None
        if cluster is None:
            cluster = _Cluster(extraction.type, set(families), set(extraction.countries))
            cluster.follow_up = extraction.follow_up
            clusters.append(cluster)
            candidates.append(cluster)
        cluster.add(extraction, families, generic_named)
    events: dict[str, list[Extraction]] = {}
    for cluster in clusters:
        _resolve_pending(cluster)
        key, day = _event_key(cluster), cluster.date()
        _agree_on_countries(cluster)
        for member in cluster.members:
            member.event = key
            if day is not None:
                member.event_date = day.isoformat()
        # two groups with the same type, commodities and date are one event (reports without dates may have
        # formed a group of their own before the dated ones)
        events.setdefault(key, []).extend(cluster.members)
    for members in events.values():
        _flag_name_variants(members)
    return list(events.values())


#: an event with this many reports has its parties agreed among them
AGREEING_REPORTS = 3


def _agree_on_countries(cluster: _Cluster) -> None:
    """The parties of an event reported often are those its reports agree on: a country that fewer than two
    in five of them name is one report's aside (the rival a deal seeks independence from, the place of a remark that
    angered a government), and is dropped from the reports that name it."""
    if len(cluster.members) < AGREEING_REPORTS:
        return
    agreed = {c for c, n in cluster.country_counts.items() if 5 * n >= 2 * len(cluster.members)}
    for member in cluster.members:
        kept = [c for c in member.countries if c in agreed]
        if kept:
            member.countries = kept


def _resolve_pending(cluster: _Cluster) -> None:
    """A report that says "on Friday" or "9 November" without a date of its own: resolved against the dates of
    the event's other reports (the Friday before them; the 9 November nearest them)."""
    anchor = cluster.date()
    if anchor is None:
        return
    for member in cluster.members:
        if member.pending is None or member.date_confidence >= FIRM:
            continue
        kind, value = member.pending
        if kind == "weekday":
            resolved, trust = resolve_weekday(value, anchor, next_day=False), DATE_TRUST["weekday"]
        else:
            resolved, trust = resolve_month_day(value, anchor), DATE_TRUST["explicit"]
        if resolved is None:
            continue
        member.event_date, member.date_source, member.date_confidence = resolved.isoformat(), f"{kind} (event)", trust
        cluster.vote(member.event_date, trust)


def _flag_name_variants(members: list[Extraction]) -> None:
    """Flag reports that spell a person's name unlike most reports of the event ("Sane Takaichi" beside
    "Sanae Takaichi"): same surname, a first name one or two letters off."""
    counts: Counter = Counter(name for m in members for name in set(m.persons))
    by_surname: dict[str, list[str]] = defaultdict(list)
    for name in counts:
        by_surname[name.split()[-1]].append(name)
    for names in by_surname.values():
        if len(names) < 2:
            continue
        usual = max(names, key=counts.get)
        for name in names:
            if name != usual and _close(name.split()[0], usual.split()[0]):
                for member in members:
                    if name in member.persons and f"name_variant:{name}~{usual}" not in member.flags:
                        member.flags.append(f"name_variant:{name}~{usual}")


def _close(a: str, b: str) -> bool:
    """Edit distance of at most two, and not a different word altogether."""
    if abs(len(a) - len(b)) > 2 or a[:1] != b[:1]:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 0 < previous[-1] <= 2

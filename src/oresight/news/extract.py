"""What one article reports: whether it is a supply-chain event, its type, commodities, countries and date,
each with the sentences it rests on.

Every sentence is weighed by where it stands (headline ×3, lead ×2, body ×1) and whether it recaps earlier
events (a background cue such as "last month" or "bereits" ×0.35). Type cues (lexicon ``events.yaml``) are
summed over sentences, counting fully where the sentence names a commodity. An article reports an event when a
commodity in its supply-chain sense is named where the event is reported and the best type scores at least
:data:`MIN_EVENT_SCORE`. Commodities and countries are kept where they are named in the headline, the lead or a
sentence that carries the event's type, unless they appear only in background sentences.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date

from oresight.news.dates import DateMention, Reference, find_dates, reference_date
from oresight.news.fingerprint import fingerprint
from oresight.news.lexicon import LanguageLexicon, Lexicon, first_match
from oresight.news.text import Document, Sentence, person_names

__all__ = ["ARTICLE_ERRORS", "MIN_EVENT_SCORE", "Extraction", "extract"]

#: what reading a malformed article can raise: such an article is reported and left out, the others are read
ARTICLE_ERRORS = (ValueError, OverflowError, RecursionError, UnicodeError)

#: the least type score (weighted cue matches) that makes an article report an event
MIN_EVENT_SCORE = 4.5
HEADLINE, LEAD, BODY, BACKGROUND = 3.0, 2.0, 1.0, 0.35
#: the least cue weight of a lead sentence that ties an event to a commodity named in another lead sentence
ANCHOR_CUE = 3.0
#: a date more than this many days before the report's own counts RECALLED as much
RECALL_DAYS, RECALLED = 14, 0.5
#: kinds of date mention, most trusted first
DATE_TRUST = {"explicit": 1.0, "weekday": 0.9, "relative": 0.8, "iso": 0.5}


@dataclass
class Extraction:
    id: str
    language: str
    is_event: bool
    type: str | None
    commodities: list[str]
    countries: list[str]
    event_date: str | None
    date_source: str | None
    date_confidence: float
    effective_date: str | None
    reference_date: str | None
    title: str
    flags: list[str]
    evidence: dict
    type_scores: dict[str, float] = field(default_factory=dict)
    persons: list[str] = field(default_factory=list)
    event: str | None = None
    signature: list[int] | None = None  # MinHash of the text, for near-duplicates
    headline: bool = False  # the title is the article's headline (not just its first sentence)
    follow_up: bool = False  # the report leads with the extension of an earlier measure: an event of its own
    #: the report's month where only that is known (year, month), for grouping
    month: tuple[int, int] | None = None
    #: a date the event sentence names that the report alone cannot resolve — ("weekday", 0..6) or
    #: ("month_day", (month, day)); resolved against the dates of the event's other reports
    pending: tuple[str, object] | None = None

    def to_json(self) -> dict:
        """Everything, for the store (reports are grouped again, with newer ones, from these)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Extraction:
        data = dict(data)
        data["month"] = tuple(data["month"]) if data.get("month") else None
        if data.get("pending"):
            kind, value = data["pending"]
            data["pending"] = (kind, tuple(value) if isinstance(value, list) else value)
        return cls(**data)

    def record(self) -> dict:
        """The JSON object of ``oresight news extract`` (the shape ../shared/eval/news/score.py reads)."""
        return {
            "id": self.id,
            "event": self.event,
            "type": self.type,
            "commodities": self.commodities,
            "countries": self.countries,
            "event_date": self.event_date,
            "effective_date": self.effective_date,
            "language": self.language,
            "title": self.title,
            "flags": self.flags,
            "evidence": self.evidence,
        }


@dataclass
class _Reading:
    """One sentence as the extractor sees it."""

    sentence: Sentence
    weight: float
    commodities: list[str]
    countries: list[str]
    cues: dict[str, float]
    affected: bool = False


def _weight(sentence: Sentence) -> float:
    position = HEADLINE if sentence.headline else LEAD if sentence.lead else BODY
    return position * (BACKGROUND if (sentence.background or sentence.context) else 1.0)


def _cue_scores(sentence: Sentence, lang: LanguageLexicon, present: dict[str, set[str]]) -> dict[str, float]:
    scores: dict[str, float] = {}
    cues = lang.cue_list
    for raw, text in ((False, sentence.lemmas), (True, sentence.lowered)):
        # the lowered text was scanned for its gate literals already; the lemmas are scanned here, once
        for index in lang.cue_gates(raw).open(text, present["lowered"] if raw else None):
            kind, cue = cues[raw][index]
            if cue.pattern.regex.search(text):
                scores[kind] = scores.get(kind, 0.0) + cue.weight
    return scores


def _is_not_party(text: str, span: tuple[int, int], lang: LanguageLexicon) -> bool:
    """A country named as the place of a meeting ("talks in South Korea", "in Busan, South Korea",
    "im südkoreanischen Busan") or as what a deal seeks independence from ("Abhängigkeit von China"), not as a
    party to the event (the lexicon's ``not_party`` and ``dependence`` words)."""
    before = text[max(0, span[0] - 120) : span[0]]
    after = text[span[1] : span[1] + 20]
    for before_rule, after_rule, needs_meeting in lang.not_party:
        if not before_rule.search(before) or (after_rule is not None and not after_rule.match(after)):
            continue
        if not needs_meeting or lang.mentions_meeting(before.lower()):
            return True
    return bool(lang.dependence is not None and lang.dependence.search(before[-40:].lower()))


def _read(document: Document, lang: LanguageLexicon, lexicon: Lexicon) -> list[_Reading]:
    """The sentences with what they name and the type cues they carry; none if no sentence names a commodity
    (such an article reports no supply-chain event, and most articles of a news stream are such)."""
    voided = lang.voided_commodities(document.text.lower())
    named = [
        [name for name, _ in lang.find_commodities(sentence.lowered, sentence.present["lowered"]) if name not in voided]
        for sentence in document.sentences
    ]
    if not any(named):
        return []
    readings = []
    dateline = _dateline(document, lang, None)
    for sentence, commodities in zip(document.sentences, named, strict=True):
        present = sentence.present
        # the place of a dateline ("HONG KONG, Feb 4 —") is where the report was filed, not a party
        filed = dateline[1] if dateline and dateline[0] == sentence.index else 0
        countries = [
            iso
            for iso, span in lang.find_countries(sentence.text, present)
            if span[0] >= filed and not _is_not_party(sentence.text, span, lang)
        ]
        countries += [iso for iso, names in lexicon.actors.items() if any(n in sentence.lowered for n in names)]
        affected = lang.names_affected(sentence.lowered, present["lowered"])
        cues = _cue_scores(sentence, lang, present)
        readings.append(_Reading(sentence, _weight(sentence), commodities, countries, cues, affected))
    return readings


def _type_scores(readings: list[_Reading], context_commodity: bool) -> dict[str, float]:
    scores: dict[str, float] = defaultdict(float)
    for position, reading in enumerate(readings):
        if reading.commodities or _names_next_to(readings, position):
            relevance = 1.0
        else:
            relevance = 0.4 if context_commodity else 0.15
        for kind, score in reading.cues.items():
            scores[kind] += reading.weight * relevance * score
    return dict(scores)


def _names_next_to(readings: list[_Reading], position: int) -> bool:
    """Whether a lead sentence's measure has its commodity in the lead sentence before or after it: a report
    often names the metal in one sentence and what was done to it in the next ("Congo supplies most of the
    world's cobalt. It now suspends exports for four months")."""
    sentence = readings[position].sentence
    if not sentence.lead or sentence.background or sentence.context:
        return False
    neighbours = readings[max(0, position - 1) : position] + readings[position + 1 : position + 2]
    return any(
        n.commodities and n.sentence.lead and not n.sentence.background and not n.sentence.context for n in neighbours
    )


def _leads_with(readings: list[_Reading], kind: str, threshold: float, where: str) -> bool:
    """Whether a lead sentence that is not background carries the type strongly: anywhere in the lead
    (``lead``), in the headline or first sentence (``opening``), or in the lead as its strongest cue
    (``dominant``)."""
    for reading in readings:
        sentence, score = reading.sentence, reading.cues.get(kind, 0)
        if not sentence.lead or sentence.background or score < threshold:
            continue
        if where == "lead" or (where == "opening" and sentence.opening):
            return True
        if where == "dominant" and score >= max(reading.cues.values()):
            return True
    return False


def _choose_type(scores: dict[str, float], readings: list[_Reading]) -> str | None:
    """The best-scoring type, with precedence for what a report leads with: a suspension, a licence approval or
    production start ("other") and a price shock are reported against the background of the controls they follow.
    A price shock takes precedence only where the report opens with it (prices are a usual aside of other news),
    an outage only where a lead sentence is more about it than about a control ("suspends exports for four
    months" is a measure)."""
    if not scores:
        return None
    precedence = (
        ("export_control_suspension", 5, 0.35, "lead"),
        ("other", 4, 0.35, "lead"),
        ("price_shock", 4, 0.35, "opening"),
        ("disruption_outage", 3, 0.5, "dominant"),
    )
    best = max(scores.values())
    for kind, threshold, share, where in precedence:
        if scores.get(kind, 0) >= share * best and _leads_with(readings, kind, threshold, where):
            return kind
    return max(scores, key=scores.get)


def _is_event_sentence(reading: _Reading, kind: str | None) -> bool:
    return reading.sentence.lead or (kind is not None and reading.cues.get(kind, 0) > 0)


def _pick_names(readings: list[_Reading], kind: str | None, attribute: str) -> dict[str, list[str]]:
    """Names (commodities or countries) with the sentences that support them, from event sentences; names that
    only background sentences mention are left out."""
    support: dict[str, list[str]] = defaultdict(list)
    for reading in readings:
        affected = attribute == "countries" and reading.affected
        if not (_is_event_sentence(reading, kind) or affected):
            continue
        if reading.sentence.context or (reading.sentence.background and not reading.sentence.headline):
            continue
        for name in dict.fromkeys(getattr(reading, attribute)):
            support[name].append(reading.sentence.text)
    return dict(support)


def _generic_only_if_named_as_such(
    names: dict[str, list[str]], lexicon: Lexicon, lang: LanguageLexicon, headlines: set[str]
) -> dict[str, list[str]]:
    """A generic name ("critical minerals") is kept when nothing more specific is named, when the headline
    names it, or when a sentence pairs it with a specific one ("critical minerals and rare earths"); otherwise
    it is the background of the event."""
    specific = [n for n in names if n not in lexicon.generic]
    if not specific:
        return names
    kept = dict(names)
    for generic in lexicon.generic:
        sentences = names.get(generic, [])
        paired = any(first_match(lang.paired_generic, s.lower()) for s in sentences)
        headline = any(s in headlines and not _labels(generic, s, lexicon, lang) for s in sentences)
        if generic in kept and not paired and not headline:
            del kept[generic]
    return kept


def _labels(generic: str, sentence: str, lexicon: Lexicon, lang: LanguageLexicon) -> bool:
    """Whether the generic name only labels the specific names right after it ("rare metals tungsten and
    gallium", "metalli rari tungsteno e gallio"): then it names no commodity of its own."""
    found = lang.find_commodities(sentence.lower())
    for (name, (_, end)), (following, (start, _)) in itertools.pairwise(found):
        if name == generic and following not in lexicon.generic and start - end <= 2:
            return True
    return False


def _correct_commodities(names: dict[str, list[str]], lexicon: Lexicon) -> dict[str, list[str]]:
    """Rare earths and the other minor metals (gallium, germanium, antimony …) are often named together, one as
    the event and the other as its background — or a source calls gallium a rare earth. Where one group is named
    in far more event sentences than the other, the other is dropped."""
    ree = {n: s for n, s in names.items() if lexicon.family(n) == "rare-earths"}
    other = {n: s for n, s in names.items() if n in lexicon.minor_metals}
    if not ree or not other:
        return names
    ree_sentences = {x for s in ree.values() for x in s}
    other_sentences = {x for s in other.values() for x in s}
    if ree_sentences & other_sentences:
        return names  # named together: both are what the event concerns
    ree_count, other_count = len(ree_sentences), len(other_sentences)
    if other_count >= 2 * ree_count:
        return {n: s for n, s in names.items() if n not in ree}
    if ree_count >= 2.5 * other_count:
        return {n: s for n, s in names.items() if n not in other}
    return names


def _dateline(document: Document, lang: LanguageLexicon, reference: date | None):
    """The dateline of a wire report ("SYDNEY, May 18 —"): (sentence index, where it ends, its date)."""
    if lang.dateline is None:
        return None
    for sentence in document.sentences[:3]:
        match = lang.dateline.match(sentence.text)
        if match:
            mentions = find_dates(match.group("date"), lang, reference)
            if mentions:
                return sentence.index, match.end("date"), mentions[0]
    return None


def _choose_date(readings: list[_Reading], kind: str | None, lang: LanguageLexicon, reference, skip=None):
    """The event's date: the most trusted date named in the best event sentence (a date right after "said on" /
    "teilte … mit" counts more; start and end dates and future dates do not count), an unresolved weekday if
    that is all there is, and the first start or end date as the effective date."""
    best: tuple[float, DateMention, str] | None = None
    pending: tuple[float, DateMention] | None = None
    effective: DateMention | None = None
    for reading in readings:
        if not _is_event_sentence(reading, kind):
            continue
        relevance = reading.weight * (1.5 if kind and reading.cues.get(kind) else 1.0)
        for mention in find_dates(reading.sentence.text, lang, reference):
            if skip and reading.sentence.index == skip[0] and mention.start < skip[1]:
                continue  # the dateline: when the report was filed
            score = (
                relevance
                * DATE_TRUST[mention.kind]
                * (1.3 if mention.announced else 1.0)
                * _recency(mention, reference)
            )
            if mention.effective:
                effective = effective or (mention if mention.day else None)
            elif mention.day is None:
                pending = pending if pending and pending[0] >= score else (score, mention)
            elif reference is None or (mention.day - reference).days <= (1 if mention.kind == "weekday" else 0):
                # a later date is a plan, not news (a weekday may be the day after: time zones)
                best = best if best and best[0] >= score else (score, mention, reading.sentence.text)
    return best, pending, effective


def _recency(mention: DateMention, reference: date | None) -> float:
    """News is about what just happened: a date weeks before the report's own is more likely a measure it
    recalls than the event it reports."""
    if reference is None or mention.day is None or (reference - mention.day).days <= RECALL_DAYS:
        return 1.0
    return RECALLED


def _pending(mention: DateMention) -> tuple[str, object]:
    return ("weekday", mention.weekday) if mention.weekday is not None else ("month_day", mention.month_day)


def _flags(document: Document, lang: LanguageLexicon) -> list[str]:
    flags = list(document.article.flags)
    artefacts = document.artefacts
    mt = lang.machine_translated(document.text.lower())
    if mt or artefacts.get("first_person", 0) >= 1:
        flags.append("machine_translated")
    if document.boilerplate_share >= 0.15 or artefacts.get("ads"):
        flags.append("boilerplate")
    if artefacts.get("missing_space", 0) + artefacts.get("merged_words", 0) >= 2:
        flags.append("markup_artifact")
    return flags


@dataclass
class _Dating:
    event_date: str | None
    source: str | None
    confidence: float
    evidence: list[str]
    effective: str | None
    reference: Reference
    pending: tuple[str, object] | None


def _date_event(document: Document, readings: list[_Reading], kind: str, lang: LanguageLexicon) -> _Dating:
    """The event's date from its sentences, else the report's own date (metadata, header, stamp, URL or
    dateline); a weekday or day without year that nothing resolves is left pending for the event's other reports."""
    article = document.article
    reference = reference_date(article.published, document.header_date, document.metadata_lines, article.url, lang)
    dateline = _dateline(document, lang, reference.day)
    if reference.day is None and dateline and dateline[2].day:
        reference = Reference(dateline[2].day, (dateline[2].day.year, dateline[2].day.month), "dateline")
    best, pending, effective = _choose_date(readings, kind, lang, reference.day, dateline)
    if pending is None and best is None and reference.day is None and dateline and dateline[2].month_day:
        pending = (0.0, dateline[2])
    effective_day = effective.day.isoformat() if effective else None
    unresolved = _pending(pending[1]) if (pending and best is None) else None
    if best is not None:
        _, mention, sentence = best
        return _Dating(
            mention.day.isoformat(),
            mention.kind,
            DATE_TRUST[mention.kind],
            [sentence],
            effective_day,
            reference,
            unresolved,
        )
    if reference.day is not None:
        return _Dating(reference.day.isoformat(), "reference", 0.5, [], effective_day, reference, unresolved)
    return _Dating(None, None, 0.0, [], effective_day, reference, unresolved)


def _reports_follow_up(readings: list[_Reading], kind: str, lang: LanguageLexicon) -> bool:
    """Whether a lead sentence about the event says it extends or renews an earlier measure ("extended its
    suspension of cobalt exports by three months"): the labelling rules make a follow-up its own event."""
    return any(
        r.sentence.lead
        and not r.sentence.background
        and (r.cues.get(kind) or r.commodities)
        and lang.reports_follow_up(r.sentence.lowered, r.sentence.present["lowered"])
        for r in readings
    )


def _anchored(readings: list[_Reading], kind: str | None) -> bool:
    """Whether the event is tied to a commodity: a sentence that is not background names one and carries a type
    cue, or — in a short wire report whose lead names the commodity in one sentence and what happened to it in the
    next — a lead sentence carries the type's cue strongly and another lead sentence names a commodity."""
    if any(r.commodities and r.cues for r in readings if not r.sentence.background):
        return True
    lead = [r for r in readings if r.sentence.lead and not r.sentence.background and not r.sentence.context]
    return any(r.cues.get(kind, 0) >= ANCHOR_CUE for r in lead) and any(r.commodities for r in lead)


def _classify(readings: list[_Reading], lexicon: Lexicon, lang: LanguageLexicon):
    """Type scores, the type, and the commodities and countries of the event with their sentences."""
    context = any(r.commodities for r in readings if r.sentence.lead)
    scores = _type_scores(readings, context)
    kind = _choose_type(scores, readings)
    commodities = _correct_commodities(_pick_names(readings, kind, "commodities"), lexicon)
    headlines = {r.sentence.text for r in readings if r.sentence.headline}
    commodities = _generic_only_if_named_as_such(commodities, lexicon, lang, headlines)
    countries = {k: v for k, v in _pick_names(readings, kind, "countries").items() if k != "EUU"}
    is_event = bool(kind and commodities and _anchored(readings, kind) and scores[kind] >= MIN_EVENT_SCORE)
    return scores, kind, commodities, countries, is_event


def extract(document: Document, lexicon: Lexicon) -> Extraction:
    """Read one prepared article."""
    lang = lexicon.languages[document.language]
    readings = _read(document, lang, lexicon)
    scores, kind, commodities, countries, is_event = _classify(readings, lexicon, lang)
    first = document.sentences[0] if document.sentences else None
    report = Extraction(
        id=document.article.id,
        language=document.language,
        is_event=False,
        type=None,
        commodities=[],
        countries=[],
        event_date=None,
        date_source=None,
        date_confidence=0.0,
        effective_date=None,
        reference_date=None,
        title=first.text[:200] if first else "",
        flags=_flags(document, lang),
        evidence={},
        type_scores={k: round(v, 2) for k, v in sorted(scores.items(), key=lambda kv: -kv[1])},
        signature=fingerprint(document.text),
        headline=bool(first and first.headline),
    )
    if not is_event:
        return report
    dating = _date_event(document, readings, kind, lang)
    report.is_event, report.type = True, kind
    report.commodities, report.countries = sorted(commodities), sorted(countries)
    report.event_date, report.date_source, report.date_confidence = dating.event_date, dating.source, dating.confidence
    report.effective_date = dating.effective
    report.reference_date = dating.reference.day.isoformat() if dating.reference.day else None
    report.month, report.pending = dating.reference.month, dating.pending
    report.follow_up = _reports_follow_up(readings, kind, lang)
    report.persons = person_names(document.text, tuple(dict.fromkeys((document.language, "en"))), lang.titles)
    report.evidence = {
        "type": [r.sentence.text for r in readings if r.cues.get(kind)][:3],
        "commodities": {name: sentences[:2] for name, sentences in commodities.items()},
        "countries": {name: sentences[:2] for name, sentences in countries.items()},
        "event_date": dating.evidence,
    }
    return report

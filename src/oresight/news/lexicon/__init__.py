"""The news intake's language data, loaded once: one folder of YAML files per language (commodities, countries,
events, dates, text), plus ``common.yaml``. Adding a language means adding a folder; no code changes. A
language's folder is compiled when the language is first asked for.

Every pattern carries a *gate*: literal strings of which at least one must occur in a text for the pattern to
match there, derived from the pattern itself (:func:`required_literals`). Checking a few substrings is far
cheaper than running hundreds of regular expressions over every sentence.

>>> lexicon = load_lexicon()
>>> sorted(lexicon.languages)
['de', 'en', 'es', 'fr', 'it', 'ja', 'ko', 'pt', 'zh']
>>> lexicon.languages["de"].commodity_names("Ausfuhrkontrollen für Gallium und Seltene Erden")
['gallium', 'rare earths']
>>> lexicon.languages["zh"].commodity_names("对镓和稀土实施出口管制")  # no spaces: names match anywhere
['gallium', 'rare earths']
>>> required_literals("export (ban|curb)s?")
['export ']
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["GateSet", "Gated", "LanguageLexicon", "Lexicon", "first_match", "load_lexicon", "required_literals"]

_FILES = ("commodities", "countries", "events", "dates", "text")
_WORD = re.compile(r"\w+")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: country names of the taxonomy that are also common words or first names (or, like German "Island" for Iceland,
#: a common word of another language)
_AMBIGUOUS_NAMES = {"jordan", "chad", "georgia", "dominica", "guinea", "niger", "turkey", "china", "japan", "us"}
_AMBIGUOUS_NAMES |= {"island"}


# -- patterns with literal gates ------------------------------------------------------------------------------
#: gate literals shorter than this occur almost everywhere and would only slow the scan down
MIN_GATE = 3


def _gate_length(literal: str) -> int:
    """How selective a literal is: a character of a script written without spaces (a CJK ideograph, kana or
    hangul syllable) counts as two letters (稀土 is as rare in a text as "ree" is)."""
    return sum(2 if ord(char) >= 0x3000 else 1 for char in literal)


def required_literals(pattern: str) -> list[str] | None:
    """Literal strings of which at least one occurs in every text the pattern matches (None: no such set of
    strings of at least :data:`MIN_GATE` characters could be derived, so the pattern must always be tried)."""
    from re import _constants as c
    from re import _parser

    try:
        return _required(_parser.parse(pattern), c)
    except re.error:
        return None


def _required(items, c) -> list[str] | None:
    best: list[str] | None = None
    run = ""

    def consider(candidates: list[str] | None) -> None:
        nonlocal best
        shortest = min(map(_gate_length, candidates)) if candidates else 0
        if shortest >= MIN_GATE and (best is None or shortest > min(map(_gate_length, best))):
            best = sorted(set(candidates))

    for op, av in items:
        if op is c.LITERAL:
            run += chr(av)
            continue
        consider([run] if run else None)
        run = ""
        if op is c.SUBPATTERN:
            consider(_required(av[-1], c))
        elif op is c.BRANCH:
            alternatives = [_required(alt, c) for alt in av[1]]
            if all(alternatives):
                consider([a for alt in alternatives for a in alt])
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
            consider(_required(av[2], c))
    consider([run] if run else None)
    return best


@dataclass
class Gated:
    """A compiled pattern and the literals that must occur for it to match."""

    regex: re.Pattern
    gate: tuple[str, ...] | None

    @classmethod
    def of(cls, pattern: str, flags: int = 0) -> Gated:
        gate = required_literals(pattern)
        if gate and flags & re.IGNORECASE:
            gate = [g.lower() for g in gate]
        return cls(re.compile(pattern, flags), tuple(gate) if gate else None)

    def open(self, text: str) -> bool:
        return self.gate is None or any(literal in text for literal in self.gate)

    def search(self, text: str):
        return self.regex.search(text) if self.open(text) else None

    def finditer(self, text: str):
        return self.regex.finditer(text) if self.open(text) else iter(())


def _trie_regex(words: list[str]) -> str:
    """One regular expression for many literals, as a trie ("export", "expert" -> "exp(?:ort|ert)"): matching
    follows one path per position instead of trying every literal. At a position it matches the longest one.

    >>> _trie_regex(["export", "expert", "ex"])
    'ex(?:p(?:ert|ort))?'
    """
    root: dict = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict) -> str:
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        group = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{group})?" if "" in node else group

    return render(root)


class GateSet:
    """The gates of many patterns checked at once: one scan of a text for all their literals (a regular
    expression of literals, longest first, found at every position) tells which patterns can match."""

    def __init__(self, patterns: list[Gated]) -> None:
        self.patterns = patterns
        self.always = [i for i, p in enumerate(patterns) if p.gate is None]
        literals = sorted({lit for p in patterns if p.gate for lit in p.gate}, key=lambda x: (-len(x), x))
        self.by_literal: dict[str, list[int]] = {}
        for i, p in enumerate(patterns):
            for lit in p.gate or ():
                self.by_literal.setdefault(lit, []).append(i)
        # a literal found also reveals every literal inside it ("export control" contains "export ")
        self.inside = {lit: [other for other in literals if other in lit] for lit in literals}
        self.scan = re.compile(f"(?=({_trie_regex(literals)}))") if literals else None

    def literals_in(self, text: str) -> set[str]:
        """The gate literals that occur in a text (one scan, every start position, so overlaps are seen)."""
        if self.scan is None:
            return set()
        return {inner for found in set(self.scan.findall(text)) for inner in self.inside[found]}

    def open(self, text: str, present: set[str] | None = None) -> list[int]:
        """Indices of the patterns that can match in the text, in their order. ``present``: the literals found
        by an earlier scan of the same text (a scanner that covers this set's literals)."""
        if present is None:
            present = self.literals_in(text)
        indices = set(self.always)
        for literal in present:
            indices.update(self.by_literal.get(literal, ()))
        return sorted(indices)


def _bounded(pattern: str, spaced: bool = True) -> str:
    """The pattern as whole words; in a language written without spaces (Japanese, Chinese, Korean with its
    attached particles) as it is: there a pattern that needs a boundary writes it."""
    return rf"(?<![\w])(?:{pattern})(?![\w])" if spaced else f"(?:{pattern})"


def _alternation(patterns: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


def _noncapturing(pattern: str) -> str:
    """The pattern with its groups made non-capturing, so that it can sit inside a pattern with numbered groups."""
    return re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern)


def _gated_list(patterns: list[str] | None, spaced: bool = True) -> list[Gated]:
    return [Gated.of(_bounded(p, spaced)) for p in patterns or []]


def first_match(patterns: GateSet | None, text: str, present: set[str] | None = None) -> bool:
    """Whether any of the patterns matches the text (``present``: gate literals found by an earlier scan)."""
    return patterns is not None and any(patterns.patterns[i].regex.search(text) for i in patterns.open(text, present))


@dataclass
class Cue:
    pattern: Gated
    weight: float
    raw: bool  # match the sentence text instead of its lemmas


@dataclass(eq=False)
class LanguageLexicon:
    code: str
    commodities: list[tuple[str, Gated]]  # in priority order: specific names first
    commodity_traps: list[Gated]
    document_traps: dict[str, Gated]  # commodity -> a phrase that voids all its mentions in an article
    countries: list[tuple[str, Gated, bool]]  # ISO3, pattern, case-sensitive
    country_names: dict[str, list[tuple[str, str]]]  # first word -> (whole name, ISO3), longest first
    not_countries: list[Gated]
    types: dict[str, list[Cue]]
    affected: GateSet
    follow_up: GateSet
    venue: GateSet
    context: GateSet
    dependence: re.Pattern | None
    background: GateSet
    months: list[re.Pattern]
    weekdays: list[re.Pattern]
    relative: list[tuple[re.Pattern, int]]
    effective: re.Pattern
    announced: re.Pattern | None
    earlier: re.Pattern | None
    dateline: re.Pattern | None
    boilerplate: GateSet
    short_line_words: int
    machine_translation: GateSet
    first_person: frozenset[str]
    titles: frozenset[str]
    ads: re.Pattern | None
    month_regex: str = field(default="")
    weekday_regex: str = field(default="")
    #: written with spaces between words (patterns match whole words)
    spaced: bool = True
    #: type cues are matched on simplemma lemmas (else on the lowercased text, like "raw:" cues)
    lemmatise: bool = True
    #: text normalisations before reading: "nfkc" (full-width digits and letters), "t2s" (traditional Chinese
    #: to simplified, OpenCC)
    normalise: tuple[str, ...] = ()
    sentence_split: re.Pattern | None = None
    #: a first line of at most this many words (characters, where written without spaces) is a headline
    headline_max: int = 25
    #: a generic name paired with a specific one in a sentence like these is meant ("X and other critical
    #: minerals")
    paired_generic: GateSet | None = None
    #: (text before, text after, needs a meeting word) of a country named as a place or a rival, not a party
    not_party: list[tuple[re.Pattern, re.Pattern | None, bool]] = field(default_factory=list)
    #: right after a date: it is when something starts ("1月1日起", "1일부터")
    effective_after: re.Pattern | None = None
    #: further date forms, with named groups year, month (digits or a month name) and day
    date_formats: list[re.Pattern] = field(default_factory=list)
    #: a sentence piece ending with one of these abbreviations ("Dr.", "bzw.") does not end the sentence
    abbreviations: re.Pattern | None = None
    #: words of a publication stamp ("veröffentlicht", "publié le", "发布时间")
    stamp: re.Pattern | None = None

    # -- simple questions about a text --------------------------------------------------------------------
    def is_boilerplate(self, lowered: str) -> bool:
        return first_match(self.boilerplate, lowered)

    def is_background(self, lowered: str, present: set[str] | None = None) -> bool:
        return first_match(self.background, lowered, present)

    def is_context(self, lowered: str, present: set[str] | None = None) -> bool:
        return first_match(self.context, lowered, present)

    def names_affected(self, lowered: str, present: set[str] | None = None) -> bool:
        return first_match(self.affected, lowered, present)

    def reports_follow_up(self, lowered: str, present: set[str] | None = None) -> bool:
        return first_match(self.follow_up, lowered, present)

    def mentions_meeting(self, lowered: str) -> bool:
        return first_match(self.venue, lowered)

    def machine_translated(self, lowered: str) -> bool:
        return first_match(self.machine_translation, lowered)

    # -- commodities and countries ------------------------------------------------------------------------
    def commodity_names(self, text: str) -> list[str]:
        """Commodities named in a text (traps excluded), sorted."""
        return sorted({name for name, _ in self.find_commodities(text.lower())})

    def voided_commodities(self, lowered_document: str) -> set[str]:
        """Commodities whose every mention in this article means something else ("Cobalt Strike")."""
        return {name for name, trap in self.document_traps.items() if trap.search(lowered_document)}

    @functools.cached_property
    def _commodity_gates(self) -> GateSet:
        return GateSet([pattern for _, pattern in self.commodities])

    @functools.cached_property
    def _country_gates(self) -> GateSet:
        return GateSet([pattern for _, pattern, _ in self.countries])

    @functools.cached_property
    def _first_words(self) -> frozenset[str]:
        return frozenset(self.country_names)

    @functools.cached_property
    def _not_country_gates(self) -> GateSet:
        return GateSet(self.not_countries)

    @functools.cached_property
    def _trap_gates(self) -> GateSet:
        return GateSet(self.commodity_traps)

    @functools.cached_property
    def scanner(self) -> dict[str, GateSet]:
        """One scan per text variant serves every gate set: "lowered" sentence text, original "text"."""
        raw_cues = [c.pattern for _, c in self.cue_list[True]]
        plain = [p for _, p, case in self.countries if not case]
        exact = [p for _, p, case in self.countries if case]
        return {
            "lowered": GateSet(
                [p for _, p in self.commodities]
                + self.commodity_traps
                + plain
                + raw_cues
                + [*self.background.patterns, *self.context.patterns, *self.affected.patterns]
                + self.follow_up.patterns
                + self.not_countries
            ),
            "text": GateSet(exact),
        }

    def scan(self, lowered: str, text: str) -> dict[str, set[str]]:
        """Gate literals in a sentence's lowered and original text (its lemmas are scanned when needed)."""
        return {
            "lowered": self.scanner["lowered"].literals_in(lowered),
            "text": self.scanner["text"].literals_in(text),
        }

    @functools.cached_property
    def cue_list(self) -> dict[bool, list[tuple[str, Cue]]]:
        """Type cues split by what they are matched on: lemmas (False) or the sentence text (True)."""
        return {raw: [(k, c) for k, cues in self.types.items() for c in cues if c.raw == raw] for raw in (False, True)}

    @functools.cache  # noqa: B019 - one lexicon per language, loaded once
    def cue_gates(self, raw: bool) -> GateSet:
        return GateSet([cue.pattern for _, cue in self.cue_list[raw]])

    def find_commodities(self, lowered: str, present: set[str] | None = None) -> list[tuple[str, tuple[int, int]]]:
        """Commodity mentions, leftmost first and the more specific name first where two start at one place.
        ``present``: gate literals of the lowered text, from :meth:`scan`."""
        matches = sorted(
            (m.start(), priority, m.end(), self.commodities[priority][0])
            for priority in self._commodity_gates.open(lowered, present)
            for m in self.commodities[priority][1].regex.finditer(lowered)
        )
        if not matches:
            return []
        trap_indices = self._trap_gates.open(lowered, present)
        traps = [m.span() for i in trap_indices for m in self.commodity_traps[i].regex.finditer(lowered)]
        found, end_taken = [], -1
        for start, _, end, name in matches:
            if start < end_taken or any(a <= start < b or a < end <= b for a, b in traps):
                continue
            found.append((name, (start, end)))
            end_taken = end
        return found

    def find_countries(
        self, text: str, present: dict[str, set[str]] | None = None
    ) -> list[tuple[str, tuple[int, int]]]:
        lowered = text.lower()
        present = present or {
            "lowered": self.scanner["lowered"].literals_in(lowered),
            "text": self.scanner["text"].literals_in(text),
        }
        found = []
        for index in self._country_gates.open(lowered, present["lowered"] | present["text"]):
            iso3, pattern, case = self.countries[index]
            found += [(iso3, m.span()) for m in pattern.regex.finditer(text if case else lowered)]
        # the language's own words decide where they overlap a translated ISO name ("コンゴ" is the DR Congo
        # in this domain, as the taxonomy's "Congo" is)
        found += [
            (iso, (a, b))
            for iso, (a, b) in self._named_countries(lowered, text)
            if not any(a < d and c < b for _, (c, d) in found)
        ]
        blocked = [
            m.span()
            for i in self._not_country_gates.open(lowered, present["lowered"])
            for m in self.not_countries[i].regex.finditer(lowered)
        ]
        return [(iso, span) for iso, span in found if not any(a <= span[0] < b for a, b in blocked)]

    @functools.cached_property
    def _country_name_scan(self) -> re.Pattern | None:
        names = [name for entries in self.country_names.values() for name, _ in entries]
        return re.compile(_trie_regex(sorted(names))) if names else None

    @functools.cached_property
    def _country_of_name(self) -> dict[str, str]:
        return {name: iso3 for entries in self.country_names.values() for name, iso3 in entries}

    def _named_countries(self, lowered: str, text: str = "") -> list[tuple[str, tuple[int, int]]]:
        """Countries by their full names (hundreds of them: looked up by first word, not by one huge regex;
        in a language written without spaces, by one scan for all names). Where words are spaced, a name is a
        proper noun: one that starts in lowercase in the text is a common word ("una reunión" is no Réunion)."""
        if not self.spaced:
            scan = self._country_name_scan
            return [(self._country_of_name[m.group()], m.span()) for m in scan.finditer(lowered)] if scan else []
        if self._first_words.isdisjoint(_WORD.findall(lowered)):
            return []  # the common case, decided in C
        cased = len(text) == len(lowered)
        found = []
        for word in _WORD.finditer(lowered):
            if cased and not text[word.start()].isupper():
                continue
            for name, iso3 in self.country_names.get(word.group(), ()):
                end = word.start() + len(name)
                if lowered.startswith(name, word.start()) and (end == len(lowered) or not lowered[end].isalnum()):
                    found.append((iso3, (word.start(), end)))
                    break
        return found


class _Languages(Mapping):
    """The language lexicons by code, each loaded when first asked for (a stream in two languages does not pay
    for compiling the word lists of ten)."""

    def __init__(self, folders: dict[str, Any], country_names: Callable[[], dict[str, set[str]]]) -> None:
        self._folders = folders
        self._country_names = country_names
        self._loaded: dict[str, LanguageLexicon] = {}

    def __getitem__(self, code: str) -> LanguageLexicon:
        if code not in self._loaded:
            if code not in self._folders:
                raise KeyError(code)
            self._loaded[code] = _language(self._folders[code], code, self._country_names())
        return self._loaded[code]

    def __iter__(self):
        return iter(self._folders)

    def __len__(self) -> int:
        return len(self._folders)


@dataclass
class Lexicon:
    languages: Mapping[str, LanguageLexicon]
    event_types: list[str]
    commodities: dict[str, dict[str, Any]]
    generic: list[str]
    actors: dict[str, list[str]]
    #: metals often named beside rare earths, one of them the event and the other its background
    minor_metals: frozenset[str] = frozenset()
    version: str = ""  # digest of the lexicon's files: which word lists an extraction was made with

    def family(self, commodity: str) -> str:
        return self.commodities.get(commodity, {}).get("family", commodity)


# -- loading --------------------------------------------------------------------------------------------------
def _read(path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}


def _taxonomy_country_names() -> dict[str, set[str]]:
    """Country names of the taxonomy (English short names, German and publisher spellings), by ISO3."""
    from oresight.taxonomy import load_taxonomy

    tax = load_taxonomy()
    names: dict[str, set[str]] = {}
    for iso3, name in tax.countries._names.items():
        names.setdefault(iso3, set()).add(name.lower())
    for folded, iso3 in tax.countries._table.items():
        names.setdefault(iso3, set()).add(folded)
    return {
        iso3: {n for n in found if n not in _AMBIGUOUS_NAMES and len(n) > 3 and "(" not in n}
        for iso3, found in names.items()
        if re.fullmatch(r"[A-Z]{3}", iso3) and iso3 not in ("WLD", "ROW")
    }


def _first_words(names: dict[str, set[str]]) -> dict[str, list[tuple[str, str]]]:
    index: dict[str, list[tuple[str, str]]] = {}
    for iso3, found in names.items():
        for name in found:
            first = _WORD.match(name)
            if first:
                index.setdefault(first.group(), []).append((name, iso3))
    return {word: sorted(entries, key=lambda e: -len(e[0])) for word, entries in index.items()}


def _countries(words: dict[str, list[str]], spaced: bool = True) -> list[tuple[str, Gated, bool]]:
    """Per country one case-insensitive pattern over the lowered text and, for words marked ``=`` (US, EU),
    one case-sensitive pattern over the original text."""
    out = []
    for iso3, patterns in sorted(words.items()):
        plain = [p for p in patterns if not p.startswith("=")]
        exact = [p[1:] for p in patterns if p.startswith("=")]
        if plain:
            out.append((iso3, Gated.of(_bounded(_alternation(plain), spaced)), False))
        if exact:
            out.append((iso3, Gated.of(_bounded(_alternation(exact), spaced)), True))
    return out


#: articles that may stand between a cue and the date or name it introduces
_ARTICLES = ["a", "an", "the", "dem", "der", "den", "die", "des"]


def _cue_before(
    words: list[str] | None, *, regex: bool = False, articles: list[str] | None = None, spaced: bool = True
) -> re.Pattern | None:
    """Words that, right before a date or a name, say what it is (``… from``, ``… announced on``,
    ``dependence on …``); matched at the end of the text before it."""
    if not words:
        return None
    ordered = sorted(words, key=len, reverse=True)
    parts = ordered if regex else [re.escape(w) for w in ordered]
    between = _alternation([re.escape(a) for a in sorted({*_ARTICLES, *(articles or [])}, key=len, reverse=True)])
    if not spaced:
        return re.compile(rf"(?:{_alternation(parts)})\s*$")
    return re.compile(rf"(?:^|\W)(?:{_alternation(parts)})\s+(?:(?:{between})\s+)?\s*$")


def _traps(entries: dict, spaced: bool = True) -> tuple[list[Gated], dict[str, Gated]]:
    local = [Gated.of(_bounded(p, spaced)) for patterns in entries.values() for p in patterns if isinstance(p, str)]
    document = {
        name: Gated.of(_bounded(_alternation([p["re"] for p in patterns if isinstance(p, dict)]), spaced))
        for name, patterns in entries.items()
        if any(isinstance(p, dict) for p in patterns)
    }
    return local, document


def _cues(types: dict, spaced: bool = True) -> dict[str, list[Cue]]:
    return {
        kind: [
            Cue(
                Gated.of(_bounded(cue["re"].removeprefix("raw:"), spaced)),
                float(cue["w"]),
                cue["re"].startswith("raw:"),
            )
            for cue in cues
        ]
        for kind, cues in types.items()
    }


def _not_party(rules: list[dict] | None) -> list[tuple[re.Pattern, re.Pattern | None, bool]]:
    return [
        (re.compile(rule["before"]), re.compile(rule["after"]) if rule.get("after") else None, bool(rule.get("venue")))
        for rule in rules or []
    ]


def _date_formats(formats: list[str] | None, month_regex: str) -> list[re.Pattern]:
    return [re.compile(f.replace("{month}", f"(?:{month_regex})"), re.IGNORECASE) for f in formats or []]


def _language(folder, code: str, country_names: dict[str, set[str]]) -> LanguageLexicon:
    data = {name: _read(folder / f"{name}.yaml") for name in _FILES}
    commodities, countries, events, dates, text = (data[n] for n in _FILES)
    spaced = bool(text.get("spaced", True))
    local_traps, document_traps = _traps(commodities.get("traps") or {}, spaced)
    names = _local_country_names(code, country_names, spaced)
    month_regex = _noncapturing(_alternation(dates["months"]))
    articles = dates.get("articles")
    return LanguageLexicon(
        code=code,
        commodities=[(name, Gated.of(_bounded(_alternation(p), spaced))) for name, p in commodities["names"].items()],
        commodity_traps=local_traps,
        document_traps=document_traps,
        countries=_countries(countries["words"], spaced),
        country_names=_first_words(names),
        not_countries=_gated_list(countries.get("not_countries"), spaced),
        types=_cues(events["types"], spaced),
        affected=GateSet(_gated_list(events.get("affected"), spaced)),
        follow_up=GateSet(_gated_list(events.get("follow_up"), spaced)),
        venue=GateSet(_gated_list(events.get("venue"), spaced)),
        context=GateSet(_gated_list(events.get("context"), spaced)),
        dependence=_cue_before(events.get("dependence"), regex=True, articles=articles, spaced=spaced),
        background=GateSet([Gated.of(p) for p in events.get("background", [])]),
        months=[re.compile(rf"^(?:{m})$") for m in dates["months"]],
        weekdays=[re.compile(rf"^(?:{w})$") for w in dates["weekdays"]],
        relative=[(re.compile(r["re"]), int(r["days"])) for r in dates["relative"]],
        effective=_cue_before(dates["effective"], articles=articles, spaced=spaced),
        announced=_cue_before(dates.get("announced"), articles=articles, spaced=spaced),
        earlier=_cue_before(dates.get("earlier"), articles=articles, spaced=spaced),
        dateline=re.compile(dates["dateline"]) if dates.get("dateline") else None,
        boilerplate=GateSet([Gated.of(p) for p in text["boilerplate"]]),
        short_line_words=int(text.get("short_line_words", 3)),
        machine_translation=GateSet([Gated.of(p) for p in text.get("machine_translation", [])]),
        first_person=frozenset(text.get("first_person", [])),
        titles=frozenset(text.get("titles", [])),
        ads=re.compile(_alternation([re.escape(a) for a in text["ads"]]), re.IGNORECASE) if text.get("ads") else None,
        month_regex=month_regex,
        weekday_regex=_noncapturing(_alternation(dates["weekdays"])),
        spaced=spaced,
        lemmatise=bool(text.get("lemmatise", True)),
        normalise=tuple(text.get("normalise") or ()),
        sentence_split=re.compile(text["sentence_split"]) if text.get("sentence_split") else None,
        headline_max=int(text.get("headline_max", 25)),
        paired_generic=GateSet(_gated_list(commodities.get("paired_generic"), spaced)),
        not_party=_not_party(countries.get("not_party")),
        effective_after=re.compile(rf"\s*(?:{_alternation(dates['effective_after'])})")
        if dates.get("effective_after")
        else None,
        date_formats=_date_formats(dates.get("formats"), month_regex),
        abbreviations=re.compile(rf"\b(?:{_alternation(text['abbreviations'])})\.$", re.IGNORECASE)
        if text.get("abbreviations")
        else None,
        stamp=re.compile(_alternation(text["stamp_words"])) if text.get("stamp_words") else None,
    )


def _local_country_names(code: str, taxonomy_names: dict[str, set[str]], spaced: bool) -> dict[str, set[str]]:
    """Country names in the language (ISO 3166 translations shipped with pycountry) added to the taxonomy's
    English and German ones; a language written without spaces takes only its own (Latin names would match
    inside words there)."""
    local = _translated_country_names(code)
    if not spaced:
        return local
    merged = {iso3: set(found) for iso3, found in taxonomy_names.items()}
    # a name the taxonomy gives one country is not taken for another from a translation (Italian "Congo")
    owner = {name: iso3 for iso3, found in taxonomy_names.items() for name in found}
    for iso3, found in local.items():
        merged.setdefault(iso3, set()).update(
            n for n in found if n not in _AMBIGUOUS_NAMES and len(n) > 3 and owner.get(n, iso3) == iso3
        )
    return merged


#: pycountry's locale of a lexicon language
_LOCALES = {"zh": "zh_CN", "pt": "pt"}


def _translated_country_names(code: str) -> dict[str, set[str]]:
    if code in ("en", "de"):
        return {}
    import gettext

    import pycountry

    try:
        translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[_LOCALES.get(code, code)])
    except OSError:
        return {}
    whole: dict[str, set[str]] = {}  # a country's whole name, by ISO3
    parts: dict[str, set[str]] = {}  # pieces of a name split at its parentheses and commas
    for country in pycountry.countries:
        for english in {country.name, getattr(country, "common_name", country.name)}:
            local = translation.gettext(english)
            if local == english and code not in ("es", "pt", "fr", "it"):
                continue  # not translated
            whole.setdefault(country.alpha_3, set()).add(local.lower())
            for part in re.split(r"\s*[(),]\s*", local):
                if len(part) >= 2 and not re.search(r"\d", part):
                    parts.setdefault(country.alpha_3, set()).add(part.lower())
    # a piece is a name only where no other country owns it ("États-Unis" of the US, not of "Îles Vierges des
    # États-Unis"), and pieces several countries share are no names ("Corée")
    owners: dict[str, set[str]] = {}
    for iso3, found in parts.items():
        for name in found:
            owners.setdefault(name, set()).add(iso3)
    whole_owner = {name: iso3 for iso3, found in whole.items() for name in found}
    names: dict[str, set[str]] = {}
    for iso3, found in parts.items():
        for name in found:
            if whole_owner.get(name, iso3) == iso3 and (len(owners[name]) == 1 or whole_owner.get(name) == iso3):
                names.setdefault(iso3, set()).add(name)
    return names


def _digest(root) -> str:
    """SHA-256 (first 12 digits) over the lexicon's YAML files, by relative path."""
    digest = hashlib.sha256()
    files = [(f.name, f) for f in root.iterdir() if f.name.endswith(".yaml")]
    files += [
        (f"{d.name}/{f.name}", f) for d in root.iterdir() if d.is_dir() for f in d.iterdir() if f.name.endswith(".yaml")
    ]
    for name, path in sorted(files, key=lambda item: item[0]):
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def load_lexicon(root: Path | None = None) -> Lexicon:
    """The lexicon: the package's language folders, or those of ``root`` (a folder laid out like this package:
    ``common.yaml`` and one folder per language)."""
    root = resources.files(__package__) if root is None else Path(root)
    common = _read(root / "common.yaml")
    folders = {
        folder.name: folder
        for folder in sorted(root.iterdir(), key=lambda f: f.name)
        if folder.is_dir() and (folder / "events.yaml").is_file()
    }
    languages = _Languages(folders, functools.cache(_taxonomy_country_names))
    return Lexicon(
        version=_digest(root),
        languages=languages,
        event_types=list(common["event_types"]),
        commodities=dict(common["commodities"]),
        generic=list(common.get("generic", [])),
        actors={k: list(v) for k, v in (common.get("actors") or {}).items()},
        minor_metals=frozenset(common.get("minor_metals") or ()),
    )

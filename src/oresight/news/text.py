"""From raw article text to a document: page furniture removed, language detected, sentences (with lemmas on
demand).

Boilerplate lines (cookie banners, photo credits and captions, share buttons, tickers, reading-time notes,
navigation fragments, repeated lines, ad fragments) are removed and counted; the share of the text they made up
is a quality signal. Metadata lines (a ``date`` header, "Veröffentlicht: …", ISO timestamps) are kept aside as
dates.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from oresight.news.lexicon import LanguageLexicon, Lexicon
from oresight.news.reader import Article

__all__ = ["Document", "Sentence", "detect_language", "person_names", "prepare"]

#: characters of an article the language is detected on (its first paragraphs are enough for lingua)
LANGUAGE_SAMPLE = 400
_HEADER_DATE = re.compile(r"^\s*date\s+(\d{4})-(\d{2})(?:-(\d{2}))?\b\s*")
#: a year: a short furniture line with one may be a publication stamp (the lexicon's ``stamp_words`` too)
_YEAR = re.compile(r"(?<!\d)20\d\d(?!\d)")
_TOKEN = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*|\d+(?:[.,]\d+)*", re.UNICODE)
_MISSING_SPACE = re.compile(r"([a-zäöüß]{2})\.([A-ZÄÖÜ][a-zäöüß])")
_MERGED_WORDS = re.compile(r"\b[a-zäöüß]{3,}[A-ZÄÖÜ][a-zäöüß]{2,}\b")
#: a parenthesised credit right after a sentence ("… aus. (dpa-Bildfunk / AP)")
_CREDIT_AFTER = re.compile(r"(?<=[.!?。])\s*(?=[(（])")
_SPLIT = re.compile(r"(?<=[.!?…])[\"'“”»«]?\s+(?=[\"„“«»(¿¡]?[A-Z0-9À-ÖØ-Þ])")
#: a piece ending like this ends with an initial or a number, not a sentence
_INITIAL = re.compile(r"(?:\b[a-z]|\d)\.$", re.IGNORECASE)
_NAME_PAIR = re.compile(r"(?=\b([A-ZÄÖÜ][a-zäöüß]{1,15}) ([A-ZÄÖÜ][a-zäöüß]{2,20})\b)")
_QUOTED = re.compile(r"[„\"“«»][^„\"“”«»]{0,400}[“”\"»«]")


@dataclass
class Sentence:
    index: int
    text: str
    lowered: str
    language: str
    headline: bool = False
    lead: bool = False
    opening: bool = False  # the headline or the first sentence of the body
    background: bool = False
    context: bool = False  # says it gives the background ("Hintergrund ist …")
    present: dict[str, set[str]] = field(default_factory=dict)  # gate literals found, per text variant
    lemmatised: bool = True  # the language's cues are written on lemmas

    @functools.cached_property
    def lemmas(self) -> str:
        """The lowercased lemmas, joined by spaces (computed when first asked: only sentences of articles that
        name a commodity need them); the lowercased text where the language's cues are not written on lemmas."""
        return lemmatise(self.text, self.language) if self.lemmatised else self.lowered


@dataclass
class Document:
    article: Article
    language: str
    sentences: list[Sentence]
    header_date: tuple[int, int, int | None] | None = None
    metadata_lines: list[str] = field(default_factory=list)
    boilerplate_share: float = 0.0
    artefacts: dict[str, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@functools.cache
def _detector(codes: tuple[str, ...]):
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    languages = [getattr(IsoCode639_1, code.upper()) for code in codes]
    # trigram models only ("low accuracy": exact on the 208 labelled articles, paragraphs are long enough), loaded
    # for the languages a text could be in (lingua rules out most by their script)
    return LanguageDetectorBuilder.from_iso_codes_639_1(*languages).with_low_accuracy_mode().build()


def detect_language(text: str, codes: tuple[str, ...]) -> str:
    """The most likely of the lexicon's languages (lingua); the first one if the text gives no clue."""
    language = _detector(codes).detect_language_of(text[:LANGUAGE_SAMPLE]) if text.strip() else None
    return language.iso_code_639_1.name.lower() if language is not None else codes[0]


@functools.lru_cache(maxsize=300_000)
def _lemma(token: str, language: str) -> str:
    import simplemma

    return simplemma.lemmatize(token, lang=language).lower()


def lemmatise(text: str, language: str) -> str:
    return " ".join(_lemma(token, language) for token in _TOKEN.findall(text))


def _is_boilerplate(line: str, lowered: str, lang: LanguageLexicon, first: bool) -> bool:
    if lang.is_boilerplate(lowered):
        return True
    words = line.split()
    if len(words) > lang.short_line_words or line.rstrip().endswith((".", "!", "?", "“", '"')):
        return False
    return not first or len(words) < lang.short_line_words  # a headline has more than a few words


def _split(line: str, lang: LanguageLexicon) -> list[str]:
    pieces = (lang.sentence_split or _SPLIT).split(line)
    merged: list[str] = []
    for piece in pieces:
        if merged and (_INITIAL.search(merged[-1]) or (lang.abbreviations and lang.abbreviations.search(merged[-1]))):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return [p.strip() for p in merged if p.strip()]


@functools.cache
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def normalise(text: str, lang: LanguageLexicon) -> str:
    """The text as the language's word lists are written: Unicode NFKC (full-width digits and letters become
    ASCII), traditional Chinese characters simplified (OpenCC)."""
    for step in lang.normalise:
        text = unicodedata.normalize("NFKC", text) if step == "nfkc" else _converter(step).convert(text)
    return text


def _is_headline(line: str, lang: LanguageLexicon) -> bool:
    size = len(line.split()) if lang.spaced else len(line)
    return size <= lang.headline_max and not line.endswith((".", ":", "。", "："))


def _headline_before_credit(line: str, lang: LanguageLexicon) -> str:
    """A page's first line that carries its headline and a photo credit ("China weitet Exportkontrollen aus.
    (dpa / AP)") keeps the sentences that are not furniture; a line of furniture alone stays as it is."""
    pieces = [p for part in _CREDIT_AFTER.split(line) for p in _split(part, lang)]
    kept = [p for p in pieces if not lang.is_boilerplate(p.lower())]
    text = " ".join(kept)
    size = len(text.split()) if lang.spaced else len(text) // 2
    if len(pieces) < 2 or size <= lang.short_line_words:
        return line
    return text


def _kept_lines(article: Article, lang: LanguageLexicon, artefacts: dict[str, int]):
    """Lines of article text, boilerplate removed; returns (lines, header date, date stamps, removed chars)."""
    header, stamps, kept, seen, removed = None, [], [], set(), 0
    text = normalise(article.text, lang)
    if article.title and not text.lstrip().startswith(normalise(article.title, lang).strip()):
        text = f"{normalise(article.title, lang)}\n{text}"
    for raw in text.splitlines():
        line = raw.strip()
        match = _HEADER_DATE.match(line)
        if match:
            header = (int(match.group(1)), int(match.group(2)), int(match.group(3)) if match.group(3) else None)
            line = line[match.end() :].strip()
        if not line:
            continue
        lowered = line.lower()
        if lang.ads is not None and lang.ads.search(line):
            artefacts["ads"] = artefacts.get("ads", 0) + 1
            line = lang.ads.sub(" ", line).strip()
            lowered = line.lower()
            if len(line.split()) <= 2:
                removed += len(raw)
                continue
        if not kept and lang.is_boilerplate(lowered):
            line = _headline_before_credit(line, lang)
            lowered = line.lower()
        key = re.sub(r"\W+", " ", lowered).strip()
        if key in seen or _is_boilerplate(line, lowered, lang, first=not kept):
            removed += len(raw)
            if len(line.split()) <= 8 and (_YEAR.search(line) or (lang.stamp and lang.stamp.search(lowered))):
                stamps.append(line)  # a short line with a date is a publication stamp, not a caption
            continue
        seen.add(key)
        kept.append(line)
    return kept, header, stamps, removed


def prepare(article: Article, lexicon: Lexicon) -> Document:
    """Clean an article and split it into sentences, headline and lead marked."""
    codes = tuple(lexicon.languages)
    language = detect_language(article.text, codes)
    lang = lexicon.languages[language]
    artefacts: dict[str, int] = {}
    lines, header, metadata, removed = _kept_lines(article, lang, artefacts)
    sentences: list[Sentence] = []
    for number, line in enumerate(lines):
        fixed, count = _MISSING_SPACE.subn(r"\1. \2", line)
        if count:
            artefacts["missing_space"] = artefacts.get("missing_space", 0) + count
        merged = len(_MERGED_WORDS.findall(fixed))
        if merged:
            artefacts["merged_words"] = artefacts.get("merged_words", 0) + merged
        is_headline = number == 0 and _is_headline(fixed, lang)
        for piece in [fixed] if is_headline else _split(fixed, lang):
            lowered = piece.lower()
            present = lang.scan(lowered, piece)
            sentences.append(
                Sentence(
                    index=len(sentences),
                    text=piece,
                    lowered=lowered,
                    language=language,
                    headline=is_headline,
                    background=lang.is_background(lowered, present["lowered"]),
                    context=lang.is_context(lowered, present["lowered"]),
                    present=present,
                    lemmatised=lang.lemmatise,
                )
            )
    first_body = next((s.index for s in sentences if not s.headline), len(sentences))
    for sentence in sentences:
        sentence.lead = sentence.headline or sentence.index < first_body + 3
        sentence.opening = sentence.headline or sentence.index == first_body
        if sentence.opening and not sentence.headline:
            # the first sentence of a report tells its news; a background word there qualifies a detail
            # ("the ship, which left last month, has recovered …")
            sentence.background = False
    total = max(len(article.text), 1)
    document = Document(article, language, sentences, header, metadata, removed / total, artefacts)
    _count_first_person(document, lang)
    return document


def _count_first_person(document: Document, lang: LanguageLexicon) -> None:
    """First-person words outside quotation marks (a translated opinion piece or a careless rewrite)."""
    if not lang.first_person:
        return
    outside = _QUOTED.sub(" ", document.text)
    count = sum(1 for token in _TOKEN.findall(outside) if token.lower() in lang.first_person and token != "US")
    if count:
        document.artefacts["first_person"] = count


@functools.cache
def _with_dictionary(languages: tuple[str, ...]) -> tuple[str, ...]:
    """The languages simplemma has a dictionary of (it has none for Japanese, Chinese, Korean)."""
    import simplemma

    def known(code: str) -> bool:
        try:
            simplemma.is_known("a", lang=code)
        except ValueError:
            return False
        return True

    return tuple(code for code in languages if known(code))


@functools.lru_cache(maxsize=100_000)
def _known(word: str, languages: tuple[str, ...]) -> bool:
    import simplemma

    return any(simplemma.is_known(word, lang=code) for code in _with_dictionary(languages))


def person_names(text: str, languages: tuple[str, ...], titles: frozenset[str] = frozenset()) -> list[str]:
    """Likely names of people: a capitalised word followed by a capitalised word that no dictionary of the
    lexicon's languages knows ("Sanae Takaichi", not "Seltene Erden"); titles ("President") are no first names."""
    return sorted(
        {
            f"{first} {last}"
            for first, last in _NAME_PAIR.findall(text)
            if first not in titles and not _known(last, languages)
        }
    )

"""From reports to events: fields, evidence, grouping, duplicates, flags and dates, on fixtures written for the
tests (tests/fixtures/news)."""

import itertools
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oresight.news import Article, extract_articles, read_articles
from oresight.news.dates import find_dates, reference_date, resolve_weekday, url_date
from oresight.news.lexicon import load_lexicon
from oresight.news.text import detect_language, person_names, prepare


@pytest.fixture(scope="module")
def reports(fixtures):
    articles, problems = read_articles([fixtures / "news" / "reports.jsonl"])
    assert problems == []
    return articles


@pytest.fixture(scope="module")
def results(reports):
    return {r.id: r for r in extract_articles(reports)}


def fields(result):
    return result.type, result.commodities, result.countries, result.event_date


# -- one article at a time -----------------------------------------------------------------------------------
def test_export_control_report(results):
    graphite = results["g-en"]
    assert fields(graphite) == ("export_control", ["graphite"], ["CHN", "JPN", "KOR"], "2023-10-20")
    assert graphite.effective_date == "2023-12-01"


def test_background_mentions_are_not_the_event(results):
    """The graphite report recalls earlier curbs on gallium and germanium; they are not what it reports."""
    assert "gallium" not in results["g-en"].commodities
    assert "germanium" not in results["g-en"].commodities


def test_german_report_with_capital_as_metonym(results):
    german = results["g-de"]
    assert german.language == "de"
    assert fields(german) == ("export_control", ["graphite"], ["CHN"], "2023-10-20")
    assert "boilerplate" in german.flags  # the cookie line


def test_licence_approval_is_a_follow_up(results):
    licence = results["g-licence"]
    assert fields(licence) == ("other", ["graphite"], ["CHN"], "2023-12-28")
    assert licence.effective_date == "2023-12-01"  # "since the new rules took effect on December 1"


def test_price_shock(results):
    assert fields(results["sb-price"]) == ("price_shock", ["antimony"], ["CHN"], "2025-01-06")


@pytest.mark.parametrize("article", ["cyber", "health"])
def test_reports_that_only_share_words_are_no_events(results, article):
    """A security tool called Cobalt Strike and a day of rare diseases ("seltene Erkrankungen")."""
    result = results[article]
    assert (result.is_event, result.event, result.type, result.commodities) == (False, None, None, [])


def test_evidence_quotes_the_article(results, reports):
    texts = {a.id: a.text for a in reports}
    for result in results.values():
        if not result.is_event:
            assert result.evidence == {}
            continue
        assert set(result.evidence["commodities"]) == set(result.commodities)
        assert set(result.evidence["countries"]) == set(result.countries)
        quoted = [*result.evidence["type"], *itertools.chain(*result.evidence["commodities"].values())]
        for sentence in quoted:
            assert _squash(sentence) in _squash(texts[result.id]), (result.id, sentence)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_record_has_the_scorer_fields(results):
    record = results["g-en"].record()
    assert {"id", "event", "type", "commodities", "countries", "event_date", "flags", "evidence"} <= set(record)


# -- across articles -----------------------------------------------------------------------------------------
def test_reports_of_one_event_share_a_key_across_languages(results):
    assert results["g-en"].event == results["g-de"].event == results["g-copy"].event
    assert results["ree-de"].event == results["ree-en"].event
    keys = {results[i].event for i in ("g-en", "g-licence", "ree-en", "sb-price")}
    assert len(keys) == 4


def test_near_copy_is_flagged_as_duplicate(results):
    assert "duplicate_of:g-en" in results["g-copy"].flags
    assert not any(f.startswith("duplicate_of") for f in results["g-en"].flags)
    assert not any(f.startswith("duplicate_of") for f in results["g-de"].flags)


def test_agreement_with_machine_translated_copy(results):
    """The pair the project started from, in our own words: one event, the translated copy flagged."""
    german, english = results["ree-de"], results["ree-en"]
    for report in (german, english):
        assert fields(report) == (
            "agreement_partnership",
            ["critical minerals", "rare earths"],
            ["JPN", "USA"],
            "2025-10-28",
        )
    assert "machine_translated" in german.flags and "machine_translated" not in english.flags
    assert "name_variant:Sane Takaichi~Sanae Takaichi" in german.flags


def test_undated_copy_takes_the_date_of_its_event():
    undated = Article(
        id="copy",
        text="Japan und USA unterzeichnen Abkommen über Seltene Erden\n"
        "Japan und die USA haben am Dienstag ein Abkommen über Seltene Erden unterzeichnet.",
    )
    dated = Article(
        id="wire",
        published="2025-10-29",
        text="Japan and US sign rare earths agreement\n"
        "Japan and the United States signed an agreement on rare earths on Tuesday, officials said.",
    )
    alone = extract_articles([undated])[0]
    assert alone.event_date is None and alone.pending == ("weekday", 1)
    together = {r.id: r for r in extract_articles([undated, dated])}
    assert together["copy"].event == together["wire"].event
    assert together["copy"].event_date == together["wire"].event_date == "2025-10-28"


def read_one(text: str, published: str = "2025-03-03"):
    return extract_articles([Article(id="one", published=published, text=text)])[0]


def test_a_measure_and_its_metal_in_neighbouring_lead_sentences():
    """The metal named in one lead sentence, what was done to it in the next: one event."""
    result = read_one(
        "Das Land fördert den Großteil des weltweiten Kobalts.\n"
        "Die Regierung hat angekündigt, die Ausfuhren für vier Monate auszusetzen."
    )
    assert (result.is_event, result.type, result.commodities) == (True, "export_control", ["cobalt"])


def test_a_state_that_stops_exports_from_a_date_on_controls_them():
    """ "stoppt ab dem 22. Februar die Exporte": the words between the verb and the exports held a date whose dot
    broke the German cue, so the report read as an outage and the Congo event appeared twice."""
    result = read_one(
        "Kongo stoppt Exporte von Kobalt\n"
        "Die Demokratische Republik Kongo stoppt ab dem 22. Februar 2025 die Exporte von Kobalt für vier Monate."
    )
    assert (result.type, result.commodities, result.countries) == ("export_control", ["cobalt"], ["COD"])


def test_the_place_of_a_dateline_is_no_party():
    result = read_one(
        "HONG KONG, Feb 4 — China announced export restrictions today on two metals used in defence.\n"
        "The controls cover tungsten and bismuth and take effect immediately.",
        published="2025-02-04",
    )
    assert result.is_event and result.countries == ["CHN"]


def test_a_price_per_unit_is_no_investment():
    result = read_one(
        "El precio del cobre subió este lunes en Londres hasta US$ 4,38 la libra.\n"
        "El metal rojo promedia US$ 4,25 la libra en lo que va del año.",
        published="2025-06-02",
    )
    assert "project_investment_financing" not in result.type_scores


def test_an_extension_is_an_event_of_its_own():
    """The labelling rules: an extension of a ban is a follow-up, never one event with the ban it extends."""
    ban = Article(
        id="ban",
        published="2025-02-24",
        text="Congo suspends cobalt exports for four months\n"
        "Congo suspended cobalt exports for four months on Monday to stem an oversupply, its regulator said.",
    )
    extension = Article(
        id="extension",
        text="Congo extends its ban on cobalt exports by three months\n"
        "Congo has extended its suspension of cobalt exports by three months, the regulator said on Saturday.",
    )
    results = {r.id: r for r in extract_articles([ban, extension])}
    assert results["extension"].follow_up and not results["ban"].follow_up
    assert results["extension"].type == results["ban"].type == "export_control"
    assert results["extension"].event != results["ban"].event
    assert results["extension"].event_date is None  # "Saturday" of no known week: not the ban's date


def test_an_event_reported_often_keeps_the_parties_its_reports_agree_on():
    texts = [
        "China curbs gallium exports\nChina imposed export licences on gallium on Monday, the ministry said.",
        "China restricts gallium exports\nBeijing put gallium exports under licences on Monday, officials said.",
        "Gallium exports from China need licences\nChina said on Monday gallium exports need licences; the move "
        "follows remarks by Taiwan's leader.",
    ]
    articles = [Article(id=f"r{i}", published="2025-03-04", text=t) for i, t in enumerate(texts)]
    results = extract_articles(articles)
    assert len({r.event for r in results}) == 1
    assert [r.countries for r in results] == [["CHN"], ["CHN"], ["CHN"]]


def test_same_article_twice_is_a_duplicate_of_the_first(reports):
    first, again = extract_articles([reports[0], reports[0]])
    assert first.event == again.event
    assert f"duplicate_of:{reports[0].id}" not in first.flags


@settings(max_examples=12, deadline=None)
@given(st.permutations(range(9)))
def test_grouping_does_not_depend_on_input_order(reports, order):
    baseline = _partition(extract_articles(reports))
    shuffled = _partition(extract_articles([reports[i] for i in order]))
    assert shuffled == baseline


def _partition(results):
    by_key: dict[str, set[str]] = {}
    for result in results:
        if result.event:
            by_key.setdefault(result.event, set()).add(result.id)
    return sorted(sorted(ids) for ids in by_key.values())


def test_article_from_html_page(fixtures):
    articles, problems = read_articles([fixtures / "news" / "article.html"])
    assert problems == []
    (article,) = articles
    assert "cookies" not in article.text.lower() and "Home" not in article.text
    (result,) = extract_articles(articles)
    assert fields(result) == ("export_control", ["cobalt"], ["COD"], "2025-02-22")


# -- text and dates ------------------------------------------------------------------------------------------
def test_language_detection():
    codes = tuple(load_lexicon().languages)
    assert detect_language("Die Regierung in Peking hat die Ausfuhr von Gallium beschränkt.", codes) == "de"
    assert detect_language("Beijing has restricted exports of gallium.", codes) == "en"
    assert detect_language("", codes) == codes[0]


def test_prepare_removes_furniture_and_keeps_abbreviations():
    lexicon = load_lexicon()
    article = Article(
        id="t",
        text="U.S. and Japan sign minerals pact\nPhoto: Example Agency\n"
        "The U.S. and Japan signed a pact on Tuesday. It covers rare earths.\nAccept all cookies",
    )
    document = prepare(article, lexicon)
    assert [s.text for s in document.sentences] == [
        "U.S. and Japan sign minerals pact",
        "The U.S. and Japan signed a pact on Tuesday.",
        "It covers rare earths.",
    ]
    assert document.sentences[0].headline and not document.sentences[1].headline
    assert 0.2 < document.boilerplate_share < 0.5


def test_a_first_line_keeps_its_headline_before_a_photo_credit():
    lexicon = load_lexicon()
    article = Article(
        id="t",
        text="Peking verschärft die Ausfuhr von Gallium. (Foto: Beispiel / AP)\nDas Ministerium teilte das mit.\n"
        "Ein Arbeiter in einer Mine. (Foto: Beispiel / AP)",
    )
    texts = [s.text for s in prepare(article, lexicon).sentences]
    assert texts == ["Peking verschärft die Ausfuhr von Gallium.", "Das Ministerium teilte das mit."]


def test_person_names_skip_titles_and_dictionary_words():
    found = person_names(
        "Prime Minister Sanae Takaichi met Scott Bessent; Seltene Erden", ("de", "en"), frozenset({"Prime", "Minister"})
    )
    assert "Sanae Takaichi" in found and "Scott Bessent" in found
    assert "Seltene Erden" not in found and "Prime Minister" not in found


@pytest.mark.parametrize(
    ("code", "text", "reference", "expected"),
    [
        ("en", "the ministry said on Friday", date(2023, 10, 21), ["2023-10-20"]),
        ("en", "the ministry said yesterday", date(2023, 10, 21), ["2023-10-20"]),
        ("en", "posted 4 hours ago", date(2023, 10, 21), ["2023-10-21"]),
        ("en", "on Dec. 3, 2024 and from 1 August", date(2024, 12, 5), ["2024-12-03", "2024-08-01"]),
        ("de", "teilte das Ministerium am Donnerstag mit", date(2025, 10, 31), ["2025-10-30"]),
        ("de", "vor 4 Stunden", date(2025, 10, 31), ["2025-10-31"]),
        ("de", "am 9.11.2025 und vorgestern", date(2025, 11, 12), ["2025-11-09", "2025-11-10"]),
    ],
)
def test_find_dates(code, text, reference, expected):
    lang = load_lexicon().languages[code]
    assert [m.day.isoformat() for m in find_dates(text, lang, reference)] == expected


def test_start_dates_are_effective_not_announced():
    lang = load_lexicon().languages["en"]
    announced, start = find_dates("said on Oct. 9 that controls apply from Dec. 1", lang, date(2025, 10, 10))
    assert announced.announced and not announced.effective
    assert start.effective


def test_weekday_resolution_and_url_dates():
    assert resolve_weekday(0, date(2025, 11, 12), next_day=False) == date(2025, 11, 10)
    assert url_date("https://example.org/2023/10/19/china-graphite/") == date(2023, 10, 19)
    assert url_date("https://example.org/news/20250404-rare-earths.html") == date(2025, 4, 4)
    assert url_date("https://example.org/news/rare-earths") is None


def test_reference_date_falls_back_from_metadata_to_header_to_url():
    lang = load_lexicon().languages["en"]
    assert reference_date("2025-10-28", None, [], "", lang).source == "published"
    assert reference_date(None, (2025, 10, 28), [], "", lang).day == date(2025, 10, 28)
    assert reference_date(None, None, ["Published 13 November 2024"], "", lang).day == date(2024, 11, 13)
    from_url = reference_date(None, None, [], "https://example.org/2024/11/13/x", lang)
    assert (from_url.day, from_url.source) == (date(2024, 11, 13), "url")
    month_only = reference_date("2025-10", None, [], "", lang)
    assert (month_only.day, month_only.month) == (None, (2025, 10))

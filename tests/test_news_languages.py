"""The news intake in ten languages: reports in Japanese, Korean, French and traditional Chinese of one export
control are one event; dates in each language's forms; CJK matching without spaces; language rules as data."""

from datetime import date

import pytest

from oresight.news import extract_articles, read_articles
from oresight.news.dates import find_dates
from oresight.news.lexicon import load_lexicon
from oresight.news.text import detect_language


@pytest.fixture(scope="module")
def results(fixtures):
    articles, problems = read_articles([fixtures / "news" / "reports-ml.jsonl"])
    assert not problems
    return {r.id: r for r in extract_articles(articles)}


def test_reports_of_one_export_control_in_four_languages_are_one_event(results):
    reports = [results[key] for key in ("ga-ja", "ga-ko", "ga-fr", "ga-zh-hant")]
    assert [r.language for r in reports] == ["ja", "ko", "fr", "zh"]
    assert len({r.event for r in reports}) == 1 and reports[0].event is not None
    for report in reports:
        assert report.type == "export_control"
        assert report.commodities == ["gallium", "germanium"]
        assert "CHN" in report.countries
        assert report.event_date == "2025-03-04"


def test_a_power_bank_rule_is_no_lithium_event(results):
    assert results["powerbank-zh"].event is None


def test_a_german_export_stop_is_an_export_control_like_the_english_report(results):
    german, english = results["co-de"], results["co-en"]
    assert german.type == english.type == "export_control"
    assert german.event == english.event
    assert german.countries == english.countries == ["COD"]


def test_every_language_is_detected():
    codes = tuple(load_lexicon().languages)
    assert set(codes) == {"de", "en", "es", "fr", "it", "ja", "ko", "pt", "zh"}
    samples = {
        "ja": "政府は重要鉱物の備蓄を増やす方針を決めた。",
        "ko": "정부는 핵심 광물 비축을 늘리기로 했다.",
        "zh": "政府决定增加关键矿产的储备。",
        "es": "El gobierno decidió aumentar sus reservas de minerales críticos.",
        "pt": "O governo decidiu aumentar as reservas de minerais críticos do país.",
        "it": "Il governo ha deciso di aumentare le riserve di minerali critici.",
        "fr": "Le gouvernement a décidé d'augmenter ses réserves de minéraux critiques.",
    }
    assert {code: detect_language(text, codes) for code, text in samples.items()} == {c: c for c in samples}


@pytest.mark.parametrize(
    ("code", "text", "reference", "expected"),
    [
        ("ja", "政府は2026年1月6日に発表した", date(2026, 1, 7), ["2026-01-06"]),
        ("ja", "経産省は6日、発表した", date(2026, 1, 7), ["2026-01-06"]),
        ("ja", "1月1日から施行する", date(2025, 12, 31), ["2026-01-01"]),
        ("zh", "商务部周一(2日)宣布", date(2026, 2, 3), ["2026-02-02", "2026-02-02"]),
        ("ko", "정부는 1월 6일 발표했다", date(2026, 1, 7), ["2026-01-06"]),
        ("ko", "오늘(15일) 이사회를 열었다", date(2025, 12, 15), ["2025-12-15", "2025-12-15"]),
        ("es", "anunció el 6 de enero de 2026", date(2026, 1, 7), ["2026-01-06"]),
        ("pt", "a licença expirou em 9 de agosto", date(2025, 8, 11), ["2025-08-09"]),
        ("fr", "à partir du 1er janvier 2026", date(2025, 12, 30), ["2026-01-01"]),
        ("it", "annunciato ieri", date(2025, 8, 2), ["2025-08-01"]),
    ],
)
def test_dates_in_each_language(code, text, reference, expected):
    lang = load_lexicon().languages[code]
    assert [m.day.isoformat() for m in find_dates(text, lang, reference)] == expected


def test_a_start_date_after_the_date_is_effective():
    lang = load_lexicon().languages["zh"]
    (mention,) = find_dates("自2025年6月28日起禁止", lang, date(2025, 6, 27))
    assert mention.effective


def test_names_match_inside_unspaced_text():
    ja, zh, ko = (load_lexicon().languages[c] for c in ("ja", "zh", "ko"))
    assert ja.commodity_names("中国がレアアースとガリウムの輸出を規制") == ["gallium", "rare earths"]
    assert zh.commodity_names("白银与稀土同级管理,钨和锑也在名单上") == ["antimony", "silver", "tungsten"]
    # a one-syllable metal only where it stands as one ("은 수출"), not the particle of "중국은"
    assert ko.commodity_names("중국은 은 수출을 통제한다") == ["silver"]
    assert {iso for iso, _ in zh.find_countries("中美两国和日本")} == {"CHN", "USA", "JPN"}

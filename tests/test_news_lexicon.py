"""The news lexicon: gates derived from patterns, the trie scan, the shipped language data, and a language added
as data only."""

import re
import shutil
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oresight.news import Article, extract_articles
from oresight.news.lexicon import MIN_GATE, Gated, GateSet, load_lexicon, required_literals


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("export (ban|curb)s?", ["export "]),
        ("(suspend|pause) exports", [" exports"]),
        ("(graphite|gallium) exports", [" exports"]),
        ("(graphite|gallium) ex", ["allium", "raphite"]),  # the parser factors the common "g" out
        ("(ab|graphite) export", [" export"]),  # the longest gate every match must contain
        ("(a|b)c?", None),  # nothing of three characters is certain
        ("(export)?ba", None),
        ("x(?:mine)+y", ["mine"]),
    ],
)
def test_required_literals(pattern, expected):
    assert required_literals(pattern) == expected


def test_required_literals_of_a_broken_pattern_is_none():
    assert required_literals("export (ban") is None


def test_gate_is_lowered_for_case_insensitive_patterns():
    gated = Gated.of("Export Ban", re.IGNORECASE)
    assert gated.gate == ("export ban",)
    assert gated.search("an export ban") is not None


def test_gate_set_scan_sees_overlapping_literals():
    gates = GateSet([Gated.of("export control"), Gated.of("port"), Gated.of("exports?")])
    assert gates.literals_in("new export controls") == {"export control", "port", "export"}
    assert gates.open("new export controls") == [0, 1, 2]
    assert gates.open("the harbour") == []


_ATOMS = ["ore", "mine", "export", "ban", "gal", "rare", "earth", "x"]


@st.composite
def patterns(draw, depth=2):
    """Small regular expressions over a few words: sequences, alternations, optional and repeated parts."""
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["atom", "alt", "opt", "plus"] if depth else ["atom"]))
        if kind == "atom":
            parts.append(re.escape(draw(st.sampled_from(_ATOMS))))
        elif kind == "alt":
            alternatives = draw(st.lists(patterns(depth=depth - 1), min_size=2, max_size=3))
            parts.append("(" + "|".join(alternatives) + ")")
        elif kind == "opt":
            parts.append(f"({draw(patterns(depth=depth - 1))})?")
        else:
            parts.append(f"({draw(patterns(depth=depth - 1))})+")
        parts.append(draw(st.sampled_from(["", " "])))
    return "".join(parts)


texts = st.lists(st.sampled_from([*_ATOMS, " ", "s", "-"]), max_size=14).map("".join)


@settings(max_examples=150, deadline=None)
@given(st.lists(patterns(), min_size=1, max_size=6), texts)
def test_gates_never_hide_a_match(pattern_list, text):
    """The point of a gate is speed: it must never stop a pattern that matches from being tried."""
    gated = [Gated.of(p) for p in pattern_list]
    gates = GateSet(gated)
    opened = set(gates.open(text))
    for index, pattern in enumerate(gated):
        if pattern.regex.search(text):
            assert pattern.open(text)
            assert index in opened
        if pattern.gate:
            assert min(map(len, pattern.gate)) >= MIN_GATE


def test_shipped_languages_cover_every_event_type_and_date_word():
    lexicon = load_lexicon()
    assert set(lexicon.languages) >= {"de", "en"}
    for lang in lexicon.languages.values():
        assert set(lang.types) <= set(lexicon.event_types)
        assert {"export_control", "export_control_suspension", "agreement_partnership"} <= set(lang.types)
        assert len(lang.months) == 12 and len(lang.weekdays) == 7


def test_every_commodity_name_is_known_and_maps_to_the_taxonomy():
    from oresight.taxonomy import load_taxonomy

    lexicon = load_lexicon()
    taxonomy_ids = set(load_taxonomy().commodities)
    for lang in lexicon.languages.values():
        for name, _ in lang.commodities:
            assert name in lexicon.commodities, f"{lang.code}: {name} is not in common.yaml"
    for name, spec in lexicon.commodities.items():
        assert spec.get("family"), name
        assert spec["taxonomy"] in taxonomy_ids | {""}, name


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        ("de", "Exportkontrollen für Gallium, Germanium und Seltene Erden", ["gallium", "germanium", "rare earths"]),
        ("de", "Der Preis für Kobalt und Lithium steigt", ["cobalt", "lithium"]),
        ("en", "curbs on heavy rare earths and NdFeB magnets", ["heavy rare earths", "rare earth magnets"]),
        ("en", "lithium-ion batteries and rare disease research", []),
    ],
)
def test_commodity_names(code, text, expected):
    assert load_lexicon().languages[code].commodity_names(text) == expected


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        # a name in lowercase is a common word where words are spaced: a meeting is no Réunion
        ("es", "Tras una reunión en Pekín con la República Democrática del Congo", ["CHN", "COD"]),
        # a translated piece belongs to the country whose whole name it is
        ("fr", "Les États-Unis et la Corée du Sud", ["KOR", "USA"]),
        # plain "Congo" is the DR Congo, as in the taxonomy; the Republic of the Congo is named as such
        ("it", "Il Congo sospende le esportazioni", ["COD"]),
        ("ja", "コンゴがコバルトの輸出を停止、コンゴ共和国は", ["COD", "COG"]),
        ("zh", "刚果(金)暂停钴出口,刚果(布)未受影响", ["COD", "COG"]),
        ("ko", "민주콩고가 코발트 수출을 중단했다", ["COD"]),
    ],
)
def test_country_names(code, text, expected):
    from oresight.news.text import normalise

    lang = load_lexicon().languages[code]
    assert sorted({iso for iso, _ in lang.find_countries(normalise(text, lang))}) == expected


def test_a_document_trap_voids_every_mention():
    english = load_lexicon().languages["en"]
    assert english.voided_commodities("servers running cracked cobalt strike. cobalt was found") == {"cobalt"}
    assert english.voided_commodities("cobalt exports from congo") == set()


def test_a_language_is_added_by_data_alone(tmp_path):
    """A Dutch folder, written as data beside the shipped ones, makes Dutch reports readable."""
    root = tmp_path / "lexicon"
    shutil.copytree(
        resources.files("oresight.news.lexicon"), root, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    dutch = root / "nl"
    shutil.copytree(root / "en", dutch)
    (dutch / "commodities.yaml").write_text(
        "names:\n  rare earths: ['zeldzame aard(metalen|elementen)']\n  graphite: ['grafiet']\n", encoding="utf-8"
    )
    (dutch / "countries.yaml").write_text(
        "words:\n  CHN: ['china', 'chinees\\w*', 'peking']\n  JPN: ['japan', 'japans\\w*', 'tokio']\n",
        encoding="utf-8",
    )
    (dutch / "events.yaml").write_text(
        "types:\n"
        "  export_control:\n"
        "    - {re: 'raw:exportcontroles?|exportbeperking\\w*', w: 4}\n"
        "    - {re: 'vergunning', w: 2}\n"
        "  export_control_suspension:\n"
        "    - {re: 'opschorten', w: 5}\n"
        "  agreement_partnership:\n"
        "    - {re: 'akkoord', w: 3}\n",
        encoding="utf-8",
    )
    dates = (root / "en" / "dates.yaml").read_text(encoding="utf-8")
    dates = re.sub(
        r"^months:.*$",
        "months: ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', "
        "'augustus', 'september', 'oktober', 'november', 'december']",
        dates,
        flags=re.M,
    )
    dates = re.sub(
        r"^weekdays:.*$",
        "weekdays: ['maandag', 'dinsdag', 'woensdag', 'donderdag', 'vrijdag', 'zaterdag', 'zondag']",
        dates,
        flags=re.M,
    )
    (dutch / "dates.yaml").write_text(dates, encoding="utf-8")
    lexicon = load_lexicon(root)
    assert "nl" in lexicon.languages
    report = Article(
        id="nl1",
        published="2025-10-10",
        text="China verscherpt de exportcontroles op zeldzame aardmetalen\n"
        "Peking kondigde donderdag nieuwe exportcontroles aan voor zeldzame aardmetalen en de bijbehorende "
        "technologie, meldde het ministerie van handel.",
    )
    (result,) = extract_articles([report], lexicon=lexicon)
    assert result.language == "nl"
    assert (result.type, result.commodities, result.countries) == ("export_control", ["rare earths"], ["CHN"])
    assert result.event_date == "2025-10-09"

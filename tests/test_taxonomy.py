import pytest

from oresight.errors import UnknownNameError
from oresight.taxonomy import load_taxonomy

tax = load_taxonomy()


@pytest.mark.parametrize(
    ("name", "commodity"),
    [
        ("rare-earths", "rare-earths"),
        ("Seltene Erden", "rare-earths"),
        ("REE", "rare-earths"),
        ("Kobalt", "cobalt"),
        ("Gemanium", "germanium"),
        ("natural graphite", "graphite"),
        ("Wolfram", "tungsten"),
        ("NdFeB magnets", "rare-earth-magnets"),
        ("Rare Earth Elements", "rare-earths"),
        ("bauxite", "aluminium"),
    ],
)
def test_commodity_names_in_english_german_and_publisher_spellings(name, commodity):
    assert tax.commodity(name).id == commodity


def test_unknown_commodity_suggests_nearest_names():
    with pytest.raises(UnknownNameError) as err:
        tax.commodity("cobalts")
    assert "cobalt" in err.value.suggestions
    assert "did you mean" in str(err.value)


@pytest.mark.parametrize(
    ("name", "iso3"),
    [
        ("Congo (Kinshasa)", "COD"),
        ("Burma", "MMR"),
        ("Korea, Republic of", "KOR"),
        ("Korea, North", "PRK"),
        ("Deutschland", "DEU"),
        ("Vereinigte Staaten", "USA"),
        ("Russian Federation", "RUS"),
        ("CHN", "CHN"),
        ("World total (rounded)", "WLD"),
        ("Other countries", "ROW"),
        ("Côte d’Ivoire", "CIV"),
        ("Türkei", "TUR"),
    ],
)
def test_countries_resolve_to_iso3(name, iso3):
    assert tax.country(name) == iso3


def test_unknown_country_suggests():
    with pytest.raises(UnknownNameError, match="Germny"):
        tax.country("Germny")


@pytest.mark.parametrize(
    ("name", "members"),
    [
        ("US+JP", ("USA", "JPN")),
        ("EU", None),
        ("G7", None),
        ("Quad", None),
        ("US", ("USA",)),
        ("Japan", ("JPN",)),
        ("USA,JPN", ("USA", "JPN")),
    ],
)
def test_importers_and_blocs(name, members):
    importer = tax.importer(name)
    if members:
        assert importer.members == members
    assert len(importer.members) >= 1


def test_eu_has_27_members_and_g7_seven():
    assert len(tax.importer("EU").members) == 27
    assert len(tax.importer("G7").members) == 7


def test_stage_names_and_chain():
    assert tax.stage("Bergbau") == "mining"
    chain = tax.chain("rare-earths")
    assert chain.stage_ids == ("mining", "refining", "metal", "magnet")
    assert "ev-traction" in chain.end_uses


def test_hs_codes_map_to_commodity_and_stage():
    assert tax.hs_code("284690")["commodity"] == "rare-earths"
    assert tax.hs_code("2846")["stage"] == "refining"
    assert tax.hs_code("850511")["stage"] == "magnet"
    assert tax.hs_code("999999") is None


def test_units_convert_publisher_units():
    spec = tax.convert_unit("thousand metric tons")
    assert (spec.unit, spec.factor) == ("t", 1000.0)
    with pytest.raises(UnknownNameError):
        tax.convert_unit("furlongs")


def test_every_chain_stage_is_a_declared_stage_and_every_commodity_unique():
    for chain in tax.chains.values():
        assert set(chain.stage_ids) <= set(tax.stages)
    ids = list(tax.commodities)
    assert len(ids) == len(set(ids))
    for commodity in tax.commodities.values():
        assert commodity.parent is None or commodity.parent in tax.commodities

"""The published methods: the GeoPolRisk reference case reproduced from the bundled data, and the formulas."""

import pytest
import xarray as xr

import oresight
from oresight.methods.eu_jrc import calc_eu_supply_risk
from oresight.methods.geopolrisk import calc_geopolrisk
from oresight.methods.usgs_supply_risk import calc_usgs_supply_risk

# Koyamparambath et al. (2024), geopolrisk-py test case, USA 2022 (HS 2604, 2602, 2504.10)
REFERENCE = {
    "graphite": {"hhi": 0.470663478647389, "wta": 0.5842266185959466, "score": 0.27497413262676956},
    "manganese": {"hhi": 0.2035183372902862, "wta": 0.5451887492289689, "score": 0.11095590775245055},
    "nickel": {"hhi": 0.26749007657640966, "wta": 0.0012076833631026191, "score": 0.00032304331527637555},
}


@pytest.fixture(scope="module")
def reproduced(world):
    table = oresight.assess(
        world, importer="US", year=2022, commodities=list(REFERENCE), stages=["mining"], methods=["geopolrisk"]
    )
    return table.set_index("commodity")


@pytest.mark.parametrize("commodity", sorted(REFERENCE))
def test_geopolrisk_reference_case_to_1e6(reproduced, commodity):
    row, ref = reproduced.loc[commodity], REFERENCE[commodity]
    assert row["geopolrisk_hhi"] == pytest.approx(ref["hhi"], abs=1e-6)
    assert row["geopolrisk_wta"] == pytest.approx(ref["wta"], abs=1e-6)
    assert row["geopolrisk"] == pytest.approx(ref["score"], abs=1e-6)


def test_reference_results_are_bundled_with_their_source(world):
    published = world.select(measure="geopolrisk_score", country="USA", year=2022)
    assert set(published["source"]) == {"geopolrisk-testcase-usa-2022"}
    for commodity, ref in REFERENCE.items():
        value = published[published["commodity"] == commodity]["value"].iat[0]
        assert value == pytest.approx(ref["score"], abs=1e-12)


def test_geopolrisk_formula():
    shares = xr.DataArray([0.5, 0.5], dims="country", coords={"country": ["A", "B"]})
    weights = xr.DataArray([0.4, 0.4], dims="partner", coords={"partner": ["A", "C"]})
    risk = xr.DataArray([1.0], dims="partner", coords={"partner": ["A"]})  # C unknown: counts as zero risk
    result = calc_geopolrisk(shares, weights, risk)
    assert float(result.hhi) == 0.5 and float(result.wta) == pytest.approx(0.4)
    assert float(result.score) == pytest.approx(0.2)
    assert float(result.contribution.sum()) == pytest.approx(float(result.score))


def test_eu_formula_and_its_terms():
    shares = xr.DataArray([1.0], dims="country", coords={"country": ["CHN"]})
    wgi = xr.DataArray([5.0], dims="country", coords={"country": ["CHN"]})
    domestic = xr.DataArray([1.0], dims="country", coords={"country": ["DEU"]})
    wgi_both = xr.DataArray([5.0, 1.0], dims="country", coords={"country": ["CHN", "DEU"]})
    full_reliance = calc_eu_supply_risk(shares, wgi, 1.1, shares, 1.0, import_reliance=1.0, eol_rir=0.1, si_sr=0.9)
    assert float(full_reliance.score) == pytest.approx((5.5 * 0.5 + 5.0 * 0.5) * 0.9 * 0.9)
    none = calc_eu_supply_risk(shares, wgi_both, 1.0, domestic, 1.0, import_reliance=0.0, eol_rir=0.0, si_sr=1.0)
    assert float(none.score) == pytest.approx(1.0)  # all from home: only the sourcing term counts


def test_usgs_style_is_zero_for_a_net_exporter():
    shares = xr.DataArray([0.6, 0.4], dims="country", coords={"country": ["CHN", "USA"]})
    risk = xr.DataArray([0.6, 0.2], dims="country", coords={"country": ["CHN", "USA"]})
    assert float(calc_usgs_supply_risk(shares, risk, trade_exposure=0.0).score) == 0.0
    assert float(calc_usgs_supply_risk(shares, risk, trade_exposure=1.0).score) == pytest.approx(
        0.36 * 0.6 + 0.16 * 0.2
    )

"""Metrics on labelled arrays: exact cases and invariants (hypothesis)."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from oresight.metrics import (
    calc_benchmark_flag,
    calc_bottleneck,
    calc_country_share,
    calc_effective_suppliers,
    calc_governance_hhi,
    calc_hhi,
    calc_import_reliance,
    calc_n_minus_1,
    calc_shares,
    calc_top_country,
    calc_top_share,
)

# Quantities in tonnes: zero or at least a gram. Subnormal floats are not quantities; scaling one underflows to
# zero, which would turn a real supplier into none.
volume = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False))
volumes = st.lists(volume, min_size=1, max_size=15)


def array(values, dim="country"):
    return xr.DataArray(np.asarray(values, float), dims=dim, coords={dim: [f"C{i:02d}" for i in range(len(values))]})


def test_monopoly_has_hhi_one():
    assert float(calc_hhi(array([1.0]))) == 1.0
    assert float(calc_n_minus_1(array([1.0]))) == 0.0


@given(st.integers(min_value=1, max_value=60))
def test_n_equal_suppliers_have_hhi_one_over_n(n):
    shares = array([1.0 / n] * n)
    assert float(calc_hhi(shares)) == pytest.approx(1.0 / n)
    assert float(calc_effective_suppliers(shares)) == pytest.approx(n)


@settings(max_examples=80, deadline=None)
@given(volumes, st.floats(min_value=1e-6, max_value=1e6))
@example(values=[5e-6], factor=1e-6)
def test_shares_and_hhi_are_invariant_to_units(values, factor):
    assume(sum(values) > 0)
    base = calc_shares(array(values))
    scaled = calc_shares(array([v * factor for v in values]))
    np.testing.assert_allclose(base.values, scaled.values, rtol=1e-9, atol=1e-12)
    assert float(calc_hhi(base)) == pytest.approx(float(calc_hhi(scaled)), rel=1e-9)


@settings(max_examples=80, deadline=None)
@given(volumes)
def test_bounds_of_the_metrics(values):
    assume(sum(values) > 0)
    shares = calc_shares(array(values))
    hhi = float(calc_hhi(shares))
    n_minus_1 = float(calc_n_minus_1(shares))
    top1, top3 = float(calc_top_share(shares, 1)), float(calc_top_share(shares, 3))
    assert 1.0 / len(values) - 1e-12 <= hhi <= 1.0 + 1e-12
    assert 0.0 <= n_minus_1 <= 1.0
    assert top1 <= top3 + 1e-12 <= 1.0 + 1e-9
    assert n_minus_1 == pytest.approx(1 - top1)
    assert top1**2 - 1e-12 <= hhi <= top1 + 1e-12  # the HHI lies between the top share squared and the top share


def test_aggregates_are_not_suppliers():
    shares = xr.DataArray([0.5, 0.3, 0.2], dims="country", coords={"country": ["CHN", "USA", "ROW"]})
    assert float(calc_hhi(shares)) == pytest.approx(0.34)
    assert calc_top_country(shares).item() == "CHN"
    assert float(calc_top_share(shares, 3)) == pytest.approx(0.8)


def test_vectorised_over_commodity_and_stage():
    shares = xr.DataArray(
        [[[0.9, 0.1], [0.5, 0.5]], [[1.0, 0.0], [np.nan, np.nan]]],
        dims=("commodity", "stage", "country"),
        coords={"commodity": ["a", "b"], "stage": ["mining", "refining"], "country": ["CHN", "USA"]},
    )
    hhi = calc_hhi(shares)
    assert hhi.sel(commodity="a", stage="mining") == pytest.approx(0.82)
    assert np.isnan(hhi.sel(commodity="b", stage="refining"))
    assert calc_top_country(shares).sel(commodity="b", stage="refining").item() == ""
    assert calc_bottleneck(hhi).sel(commodity="a").item() == "mining"
    assert calc_bottleneck(hhi).sel(commodity="b").item() == "mining"


def test_country_share_of_a_bloc_and_the_crma_flag():
    shares = xr.DataArray([0.7, 0.2, 0.1], dims="country", coords={"country": ["CHN", "USA", "JPN"]})
    assert float(calc_country_share(shares, ["USA", "JPN"])) == pytest.approx(0.3)
    assert bool(calc_benchmark_flag(shares, ["USA", "JPN"]))
    assert not bool(calc_benchmark_flag(shares, ["CHN"]))  # for China, no *third* country exceeds 65%


def test_governance_hhi_and_import_reliance():
    shares = xr.DataArray([0.8, 0.2], dims="country", coords={"country": ["CHN", "AUS"]})
    risk = xr.DataArray([5.0], dims="country", coords={"country": ["CHN"]})  # AUS has no value: counts nothing
    assert float(calc_governance_hhi(shares, risk)) == pytest.approx(0.64 * 5)
    assert calc_import_reliance(0.0, 10.0, 0.0) == 1.0
    assert calc_import_reliance(10.0, 5.0, 8.0) == 0.0  # a net exporter

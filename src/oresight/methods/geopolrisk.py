"""GeoPolRisk (Gemechu et al. 2016; Koyamparambath et al. 2024, geopolrisk-py).

    GeoPolRisk_{A,c} = HHI_c × Σ_i g_i · f_{A,i,c} / (p_{A,c} + F_{A,c})

HHI_c: concentration of global production of raw material c (0-1); f_{A,i,c}: imports of importer A from
partner i; F: all imports; p: A's domestic production; g_i: political-stability risk of partner i,
(2.5 − WGI PV_i)/5 clipped to [0, 1]. The sum is the "weighted trade average" (WTA).

>>> import xarray as xr
>>> shares = xr.DataArray([0.8, 0.2], dims="country", coords={"country": ["CHN", "MDG"]})
>>> weights = xr.DataArray([0.5, 0.25], dims="partner", coords={"partner": ["CHN", "MOZ"]})
>>> risk = xr.DataArray([0.6, 0.76], dims="partner", coords={"partner": ["CHN", "MOZ"]})
>>> result = calc_geopolrisk(shares, weights, risk)
>>> round(float(result.hhi), 2), round(float(result.wta), 2), round(float(result.score), 4)
(0.68, 0.49, 0.3332)
"""

from __future__ import annotations

import xarray as xr

from oresight.metrics import calc_hhi, calc_weighted_trade_average

#: the reference's normalising factor: the average characterisation factor of copper for OECD countries,
#: 2017-2021 (geopolrisk-py 2.0, core.GeoPolRisk; Koyamparambath et al. 2024), so CFs are in kg Cu-eq/kg
CF_COPPER = 0.409412948
#: political-stability risk of a partner without a WGI value (geopolrisk-py 2.0 assigns 0.5)
MISSING_RISK = 0.5

VERSION = "geopolrisk/2024 (Koyamparambath et al. 2024, geopolrisk-py; Gemechu et al. 2016)"
NAME = "GeoPolRisk"
INPUTS = (
    "global production by country of the stage (World Mining Data where it covers the year, else the stage's "
    "primary series)",
    "the importer's imports by partner: quantities where a source gives them, else published import shares × "
    "net import reliance",
    "the importer's domestic production",
    "WGI political stability of each partner, normalised to [0, 1]",
)


def calc_geopolrisk(
    production_shares: xr.DataArray,
    import_weights: xr.DataArray,
    risk: xr.DataArray,
    country_dim: str = "country",
    partner_dim: str = "partner",
) -> xr.Dataset:
    """HHI, weighted trade average and score; ``import_weights`` are f_i / (p + F)."""
    hhi = calc_hhi(production_shares, country_dim)
    wta = calc_weighted_trade_average(import_weights, risk, partner_dim)
    contributions = import_weights * risk.reindex({partner_dim: import_weights[partner_dim]}).fillna(0.0) * hhi
    return xr.Dataset({"hhi": hhi, "wta": wta, "score": hhi * wta, "contribution": contributions})


def calc_characterisation_factor(score, price_usd_per_kg, cf_copper: float = CF_COPPER):
    """GeoPolRisk characterisation factor for life-cycle assessment (kg Cu-eq/kg): score × price / CF_Cu.

    >>> round(float(calc_characterisation_factor(0.1, 4.094)), 3)
    1.0
    """
    return score * price_usd_per_kg / cf_copper

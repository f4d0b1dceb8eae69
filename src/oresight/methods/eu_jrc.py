"""EU supply risk (JRC 2017 guidelines, Blengini et al., EUR 28654; used for the EU lists of 2020 and 2023).

    SR = [HHI_WGI,GS · IR/2 + HHI_WGI,EU · (1 − IR/2)] · (1 − EOL_RIR) · SI_SR
    HHI_WGI = Σ_c S_c² · WGI_c · t_c

GS: global supply (production shares); EU: the importer's sourcing mix (domestic production 1 − IR and
imports IR × import share of each partner); WGI_c: mean of the six WGI estimates scaled to 0 (best) .. 10
(worst), (2.5 − WGI) × 2; t_c: trade parameter (0.8 trade agreement, 1 none, 1.1 export tax or quota, 1.2
export ban); IR: import reliance; EOL_RIR: end-of-life recycling input rate; SI_SR: substitution index.

>>> import xarray as xr
>>> s = xr.DataArray([0.9, 0.1], dims="country", coords={"country": ["CHN", "AUS"]})
>>> wgi = xr.DataArray([6.0, 1.0], dims="country", coords={"country": ["CHN", "AUS"]})
>>> r = calc_eu_supply_risk(s, wgi, 1.0, s, 1.0, import_reliance=1.0, eol_rir=0.0, si_sr=1.0)
>>> round(float(r.score), 3)
4.87
"""

from __future__ import annotations

import xarray as xr

from oresight.metrics import calc_governance_hhi

VERSION = "eu-jrc/2017 (Blengini et al. 2017, EUR 28654)"
NAME = "EU supply risk"
INPUTS = (
    "global supply: production shares of the stage",
    "WGI: mean of the six dimensions, scaled 0-10",
    "trade parameters t (EU 2023 assessment) per supplier",
    "the importer's sourcing mix: domestic share 1 − IR and import shares by partner",
    "import reliance IR (USGS for the US, the EU assessment for the EU)",
    "EOL-RIR and SI_SR of the EU 2023 assessment",
)


def calc_eu_supply_risk(
    global_shares: xr.DataArray,
    wgi_scaled: xr.DataArray,
    t_global,
    sourcing_shares: xr.DataArray,
    t_sourcing,
    *,
    import_reliance,
    eol_rir,
    si_sr,
    dim: str = "country",
) -> xr.Dataset:
    """The EU formula; vectorised over any dimension the inputs share besides ``dim``."""
    hhi_gs = calc_governance_hhi(global_shares, wgi_scaled, t_global, dim)
    hhi_eu = calc_governance_hhi(sourcing_shares, wgi_scaled, t_sourcing, dim)
    weighted = hhi_gs * import_reliance / 2 + hhi_eu * (1 - import_reliance / 2)
    score = weighted * (1 - eol_rir) * si_sr
    return xr.Dataset({"hhi_wgi_gs": hhi_gs, "hhi_wgi_sourcing": hhi_eu, "score": score})

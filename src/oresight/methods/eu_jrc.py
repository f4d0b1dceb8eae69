"""EU supply risk (JRC 2017 guidelines, Blengini et al., EUR 28654; used for the EU lists of 2020 and 2023).

    SR = [HHI_WGI,GS · IR/2 + HHI_WGI,EU · (1 − IR/2)] · (1 − EOL_RIR) · SI_SR
    HHI_WGI = Σ_c S_c² · WGI_c · t_c

GS: global supply (production shares); EU: the importer's sourcing mix (its own output and its imports by
partner, over their sum); WGI_c: mean of the six WGI estimates scaled to 0 (best) .. 10 (worst),
(2.5 − WGI) × 2; t_c: trade parameter (0.8 trade agreement or member state, 1 none, 1.1 export tax or quota,
1.2 export ban); IR: import reliance; EOL_RIR: end-of-life recycling input rate; SI_SR: substitution index.
Where the EU assessed a material on global supply only ("GS only") both terms use HHI_WGI,GS, on EU sourcing
only ("EU only") both use HHI_WGI,EU; a sourcing mix that is not attested (NaN) is the "GS only" case.

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
    "global supply: production shares of the stage, summed over five years (2016-2020 in the EU 2023 study)",
    "WGI: mean of the six dimensions, scaled 0-10, averaged over the five years",
    "trade parameters t (EU 2023 assessment) per supplier",
    "the importer's sourcing mix: its own output and its imports by partner (five-year sums)",
    "import reliance IR (USGS for the US, the EU assessment for the EU)",
    "EOL-RIR and SI_SR of the EU 2023 assessment",
    "the supply basis the EU used per material and stage (GS+EU, GS only, EU only)",
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
    supply_basis="GS+EU",
    dim: str = "country",
) -> xr.Dataset:
    """The EU formula; vectorised over any dimension the inputs share besides ``dim``. ``supply_basis`` ("GS+EU",
    "GS only", "EU only", or an array of them) is the EU's choice of terms; a sourcing mix that is all NaN falls
    back to global supply in both terms.

    >>> import xarray as xr
    >>> s = xr.DataArray([0.9, 0.1], dims="country", coords={"country": ["CHN", "AUS"]})
    >>> wgi = xr.DataArray([6.0, 1.0], dims="country", coords={"country": ["CHN", "AUS"]})
    >>> eu = xr.DataArray([0.2, 0.8], dims="country", coords={"country": ["CHN", "AUS"]})
    >>> args = dict(import_reliance=0.5, eol_rir=0.0, si_sr=1.0)
    >>> [round(float(calc_eu_supply_risk(s, wgi, 1.0, eu, 1.0, supply_basis=b, **args).score), 3)
    ...  for b in ("GS+EU", "GS only", "EU only")]
    [1.878, 4.87, 0.88]
    """
    hhi_gs = calc_governance_hhi(global_shares, wgi_scaled, t_global, dim)
    attested = sourcing_shares.notnull().any(dim)
    hhi_eu = xr.where(attested, calc_governance_hhi(sourcing_shares.fillna(0.0), wgi_scaled, t_sourcing, dim), hhi_gs)
    basis = xr.where(attested, supply_basis, "GS only")
    score = calc_eu_score(hhi_gs, hhi_eu, import_reliance, eol_rir, si_sr, basis)
    return xr.Dataset(
        {"hhi_wgi_gs": hhi_gs, "hhi_wgi_sourcing": hhi_eu.where(attested), "supply_basis": basis, "score": score}
    )


def calc_eu_score(hhi_gs, hhi_eu, import_reliance, eol_rir, si_sr, supply_basis="GS+EU"):
    """SR from the two governance-weighted concentrations: the terms the supply basis keeps, weighted by import
    reliance, times (1 − EOL-RIR) and SI_SR.

    >>> round(float(calc_eu_score(4.87, 0.88, 0.5, 0.1, 0.9)), 3)
    1.521
    >>> float(calc_eu_score(4.87, 0.88, 0.5, 0.0, 1.0, "GS only"))
    4.87
    """
    gs_term = xr.where(supply_basis == "EU only", hhi_eu, hhi_gs)
    eu_term = xr.where(supply_basis == "GS only", hhi_gs, hhi_eu)
    weighted = gs_term * import_reliance / 2 + eu_term * (1 - import_reliance / 2)
    return weighted * (1 - eol_rir) * si_sr

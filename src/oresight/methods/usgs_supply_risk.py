"""USGS-style supply risk (after Nassar & Fortier 2021, USGS Open-File Report 2021-1045; Nassar et al. 2020).

    supply risk = disruption potential × trade exposure × economic vulnerability

Disruption potential (DP): production concentration weighted by the governance of the producers,
Σ_c s_c² · r_c with r_c the mean of the six WGI estimates normalised to [0, 1] ((2.5 − WGI)/5); trade exposure
(TE): net import reliance of the importer (0 for a net exporter); economic vulnerability (EV): the share of
the importer's economy exposed, which USGS derives from an input-output model of US industries and which
oresight cannot source: EV is set to 1, so the score is an upper bound of the published composite (EV ≤ 1).

>>> import xarray as xr
>>> s = xr.DataArray([0.7, 0.3], dims="country", coords={"country": ["CHN", "USA"]})
>>> r = xr.DataArray([0.6, 0.2], dims="country", coords={"country": ["CHN", "USA"]})
>>> round(float(calc_usgs_supply_risk(s, r, trade_exposure=0.9).score), 4)
0.2808
"""

from __future__ import annotations

import xarray as xr

from oresight.metrics import calc_governance_hhi

VERSION = "usgs-style/2021 (after Nassar & Fortier 2021; EV not sourced, set to 1)"
NAME = "USGS-style supply risk"
INPUTS = (
    "global production shares of the stage",
    "WGI: mean of the six dimensions, normalised to [0, 1]",
    "net import reliance of the importer (USGS salient statistics)",
)


def calc_usgs_supply_risk(
    shares: xr.DataArray,
    governance_risk: xr.DataArray,
    *,
    trade_exposure,
    economic_vulnerability=1.0,
    dim: str = "country",
) -> xr.Dataset:
    """DP, TE, EV and their product."""
    dp = calc_governance_hhi(shares, governance_risk, 1.0, dim)
    score = dp * trade_exposure * economic_vulnerability
    return xr.Dataset(
        {"disruption_potential": dp, "trade_exposure": xr.zeros_like(dp) + trade_exposure, "score": score}
    )

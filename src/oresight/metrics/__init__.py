"""Dependence and concentration metrics as pure functions on labelled arrays (xarray).

Every function takes shares (or volumes) labelled by a dimension — ``country`` by default — and reduces over
it, so the same call works for one stage or for every commodity and stage at once.
"""

from .concentration import (
    calc_benchmark_flag,
    calc_bottleneck,
    calc_country_share,
    calc_effective_suppliers,
    calc_hhi,
    calc_n_minus_1,
    calc_shares,
    calc_top_country,
    calc_top_share,
)
from .dependence import calc_import_reliance, calc_import_weights, calc_weighted_trade_average
from .governance import calc_governance_hhi, calc_political_risk, calc_wgi_eu_scaled, calc_wgi_usgs_scaled

__all__ = [
    "calc_benchmark_flag",
    "calc_bottleneck",
    "calc_country_share",
    "calc_effective_suppliers",
    "calc_governance_hhi",
    "calc_hhi",
    "calc_import_reliance",
    "calc_import_weights",
    "calc_n_minus_1",
    "calc_political_risk",
    "calc_shares",
    "calc_top_country",
    "calc_top_share",
    "calc_weighted_trade_average",
    "calc_wgi_eu_scaled",
    "calc_wgi_usgs_scaled",
]

"""Concentration of supply: HHI, effective number of suppliers, top shares, N-1, the CRMA benchmark.

Shares are fractions of world output (0-1) labelled by ``dim``. The aggregate labels ``WLD`` and ``ROW`` are
never suppliers: ``ROW`` is output no source attributes to a country, so it is left out of the sums (the HHI
then assumes that rest is spread thinly, a lower bound).

>>> import xarray as xr
>>> s = xr.DataArray([0.7, 0.2, 0.1], dims="country", coords={"country": ["CHN", "USA", "AUS"]})
>>> round(float(calc_hhi(s)), 4), round(float(calc_effective_suppliers(s)), 3), float(calc_n_minus_1(s))
(0.54, 1.852, 0.3)
>>> str(calc_top_country(s).item()), float(calc_top_share(s, n=2))
('CHN', 0.9)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr

from oresight.taxonomy.countries import AGGREGATES

#: The EU Critical Raw Materials Act benchmark: no more than 65% of a stage from a single third country.
CRMA_BENCHMARK = 0.65


def _suppliers(shares: xr.DataArray, dim: str) -> xr.DataArray:
    labels = [c for c in shares[dim].values if str(c) in AGGREGATES]
    return shares.drop_sel({dim: labels}) if labels else shares


def calc_shares(volumes: xr.DataArray, dim: str = "country") -> xr.DataArray:
    """Shares of volumes along ``dim`` (the same in any unit: t, kt or kg).

    >>> import xarray as xr
    >>> v = xr.DataArray([3.0, 1.0], dims="country", coords={"country": ["A", "B"]})
    >>> calc_shares(v).values.tolist()
    [0.75, 0.25]
    """
    return volumes / volumes.sum(dim, skipna=True)


def calc_hhi(shares: xr.DataArray, dim: str = "country") -> xr.DataArray:
    """Herfindahl-Hirschman index on a 0-1 scale: the sum of squared shares (NaN where no share is known)."""
    suppliers = _suppliers(shares, dim)
    return (suppliers**2).sum(dim, skipna=True, min_count=1)


def calc_effective_suppliers(shares: xr.DataArray, dim: str = "country") -> xr.DataArray:
    """Effective number of equal suppliers: 1 / HHI."""
    return 1 / calc_hhi(shares, dim)


def calc_top_share(shares: xr.DataArray, n: int = 1, dim: str = "country") -> xr.DataArray:
    """Combined share of the ``n`` largest suppliers."""
    suppliers = _suppliers(shares, dim).fillna(0)
    ordered = -np.sort(-suppliers.values, axis=suppliers.get_axis_num(dim))
    top = np.take(ordered, range(min(n, ordered.shape[suppliers.get_axis_num(dim)])), axis=suppliers.get_axis_num(dim))
    result = xr.DataArray(
        top.sum(axis=suppliers.get_axis_num(dim)),
        dims=[d for d in suppliers.dims if d != dim],
        coords={k: v for k, v in suppliers.coords.items() if dim not in v.dims},
    )
    return result.where(_suppliers(shares, dim).notnull().any(dim))


def calc_top_country(shares: xr.DataArray, dim: str = "country") -> xr.DataArray:
    """Label of the largest supplier ('' where no share is known)."""
    suppliers = _suppliers(shares, dim)
    known = suppliers.notnull().any(dim)
    index = suppliers.fillna(-1).argmax(dim)
    labels = xr.DataArray(suppliers[dim].values.astype(str)[index.values], dims=index.dims, coords=index.coords)
    return labels.where(known, "")


def calc_country_share(shares: xr.DataArray, country: str | Iterable[str], dim: str = "country") -> xr.DataArray:
    """Share of one country, or the combined share of several (e.g. the members of a bloc)."""
    countries = [country] if isinstance(country, str) else list(country)
    present = [c for c in countries if c in shares[dim].values]
    if not present:
        return xr.zeros_like(shares.isel({dim: 0}, drop=True)).where(shares.notnull().any(dim))
    # a member whose share is only bounded (NaN) is not attested: the bloc's share is too unless another is known
    return shares.sel({dim: present}).sum(dim, skipna=True, min_count=1).where(shares.notnull().any(dim))


def calc_n_minus_1(shares: xr.DataArray, dim: str = "country") -> xr.DataArray:
    """The fraction of supply left if the largest supplier stops: 1 − the top share, in [0, 1]."""
    return (1 - calc_top_share(shares, 1, dim)).clip(0, 1)


def calc_benchmark_flag(
    shares: xr.DataArray, members: Iterable[str] = (), threshold: float = CRMA_BENCHMARK, dim: str = "country"
) -> xr.DataArray:
    """True where one third country (not among ``members``) supplies more than ``threshold`` of the stage."""
    suppliers = _suppliers(shares, dim)
    members = [m for m in members if m in suppliers[dim].values]
    third = suppliers.drop_sel({dim: members}) if members else suppliers
    return third.max(dim, skipna=True) > threshold


def calc_bottleneck(hhi: xr.DataArray, dim: str = "stage") -> xr.DataArray:
    """Label of the most concentrated stage of each chain ('' where no stage has data)."""
    known = hhi.notnull().any(dim)
    index = hhi.fillna(-1).argmax(dim)
    labels = xr.DataArray(hhi[dim].values.astype(str)[index.values], dims=index.dims, coords=index.coords)
    return labels.where(known, "")

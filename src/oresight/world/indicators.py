"""Country-level indicators (WGI dimensions, OECD country risk ...) as labelled arrays.

>>> import oresight
>>> pv = indicator(oresight.load(store=False), "wgi_pv", 2022)
>>> pv.attrs["year"], bool(float(pv.sel(country="CHE")) > 0)
(2022, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oresight.errors import DataNotAttestedError

if TYPE_CHECKING:
    import xarray as xr

    from oresight.world import World

__all__ = ["indicator"]


def indicator(world: World, measure: str, year: int | None = None) -> xr.DataArray:
    """A country-level indicator for a year (latest with data by default)."""
    import xarray as xr

    rows = world.select(measure=measure)
    if rows.empty:
        raise DataNotAttestedError(f"no data for indicator {measure}")
    use = year if year is not None else int(rows["year"].max())
    rows = rows[rows["year"] == use].drop_duplicates("country", keep="last")
    return xr.DataArray(
        rows["value"].to_numpy(float),
        dims="country",
        coords={"country": rows["country"].to_numpy(str)},
        name=measure,
        attrs={"year": use, "sources": sorted(set(rows["source"]))},
    )

"""Trade: an importer's import shares by partner.

>>> import oresight
>>> shares = import_shares(oresight.load(store=False), "USA", "rare-earths", 2024, stage="magnet")
>>> shares.attrs["method"], bool(float(shares.share.sel(partner="CHN")) > 0.5)
('import values', True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import xarray as xr

from oresight.errors import DataNotAttestedError
from oresight.facts import rows_as_of
from oresight.taxonomy.countries import WORLD

from .shares import calc_shares_from_published

if TYPE_CHECKING:
    from oresight.world import World

__all__ = ["import_shares"]


def import_shares(
    world: World, importer: str, commodity: str, year: int | None = None, *, stage: str | None = None
) -> xr.Dataset:
    """Shares of an importer's imports by partner (share, low, high): published import shares, combined across
    sources as :func:`calc_shares_from_published` does, else computed from customs import values.

    ``importer`` is one ISO3 code. ROW is the unattributed rest.
    """
    year = year if year is not None else world.year
    published = world.select(commodity=commodity, country=importer, measure="import_share", stage=stage)
    if not published.empty:
        shares, used = calc_shares_from_published(published, year, dim="partner")
        return shares.assign_attrs(
            importer=importer,
            commodity=commodity,
            method="published import shares",
            sources=used,
            year=max(shares.attrs["years"]),
        )
    rows = world.select(commodity=commodity, country=importer, measure="import_value", stage=stage)
    if rows.empty:
        raise DataNotAttestedError(f"no import data for {importer} and {commodity}")
    rows = rows_as_of(rows, year)
    use = int(rows["year"].iat[0])
    rows = rows[rows["partner"] != WORLD]
    values = rows.groupby("partner")["value"].sum()
    share = (values / values.sum()).to_numpy(float)
    return xr.Dataset(
        {"share": ("partner", share), "low": ("partner", share), "high": ("partner", share)},
        coords={"partner": values.index.to_numpy(str)},
        attrs={
            "importer": importer,
            "commodity": commodity,
            "year": use,
            "years": [use],
            "method": "import values",
            "sources": sorted(set(rows["source"])),
        },
    )

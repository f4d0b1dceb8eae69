"""Where a number came from: the registry entries behind a selection.

>>> import oresight
>>> world = oresight.load(store=False)
>>> source_of(world, "rare-earths", "mining", "CHN", 2024)[0]["publisher"]
'U.S. Geological Survey'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from oresight.errors import DataNotAttestedError, OresightError

if TYPE_CHECKING:
    from oresight.world import World

__all__ = ["editions", "source", "source_of"]


def source_of(
    world: World, commodity: str, stage: str, country: str, year: int | None = None, measure: str = "production"
) -> list[dict]:
    """The registry entries behind a number (several for combined published shares)."""
    view = world.stage_view(commodity, stage, year) if measure in ("production", "share") else None
    if view is not None and view.method == "volumes" and measure == "production":
        ids = [str(world.production(commodity, stage, view.year).source.sel(country=country).item())]
    elif view is not None:
        ids = view.sources
    else:
        rows = world.select(commodity=commodity, stage=stage, country=country, measure=measure, year=year)
        ids = sorted(set(rows["source"]))
    if not ids:
        raise DataNotAttestedError(f"no source for {measure} of {commodity}/{stage}/{country}")
    return [source(world, i) for i in ids]


def source(world: World, source_id: str) -> dict:
    """One registry entry as a dict."""
    if source_id not in world.sources.index:
        raise OresightError(f"unknown source {source_id!r}")
    return world.sources.loc[source_id].drop("load_order", errors="ignore").to_dict()


def editions(sources: pd.DataFrame) -> pd.DataFrame:
    """Series and the editions the data hold of each."""
    return sources.groupby("series")["edition"].apply(lambda e: sorted(set(e))).reset_index()

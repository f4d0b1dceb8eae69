"""The World: oresight's map of who mines, refines and makes what, with the source of every number.

``World`` is a thin facade; each concept lives in its own module of this package:

=============== ==============================================================================================
``loading``     ``load()``: bundled facts and sources plus the user's store
``editions``    which edition of each publication is used
``selection``   selections of facts by any column
``shares``      pure share calculations (``calc_shares_from_volumes``, ``calc_shares_from_published`` ...)
``supply``      volumes, stage views, chains, every commodity-stage's shares at once
``trade``       import shares; the bilateral trade table (``trade``, ``exports``)
``dependence``  an importer's or a bloc's dependence at a stage (``dependence``)
``indicators``  country-level indicators (WGI, OECD)
``provenance``  the registry entries behind a number
=============== ==============================================================================================

>>> import oresight
>>> world = oresight.load()
>>> mining = world.shares("rare-earths", "mining", 2024)
>>> round(float(mining.share.sel(country="CHN")), 3)
0.703
>>> world.source_of("rare-earths", "mining", "CHN", 2024)[0]["publisher"]
'U.S. Geological Survey'
>>> [s.stage for s in world.chain("rare-earths", 2024).stages]
['mining', 'refining', 'metal', 'magnet']
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from oresight.facts import normalise_facts
from oresight.taxonomy import Taxonomy, load_taxonomy

from . import provenance, supply, trade
from .editions import resolve_editions
from .loading import load
from .selection import FactIndex
from .shares import SHARE_WINDOW_YEARS, calc_shares_from_published, calc_shares_from_volumes, calc_volume_shares
from .supply import VOLUME_MEASURES, ChainView, StageView

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "SHARE_WINDOW_YEARS",
    "VOLUME_MEASURES",
    "ChainView",
    "StageView",
    "World",
    "calc_shares_from_published",
    "calc_shares_from_volumes",
    "calc_volume_shares",
    "load",
]


class World:
    """Facts and sources, with the edition of each publication resolved, and selections as labelled arrays."""

    def __init__(
        self,
        facts: pd.DataFrame,
        sources: pd.DataFrame,
        *,
        year: int | None = None,
        edition: str | int | None = None,
        taxonomy: Taxonomy | None = None,
        data_version: str = "unversioned",
        trade_path: Path | None = None,
    ) -> None:
        self.tax = taxonomy or load_taxonomy()
        #: names the data a result was computed from (bundled facts digest, local imports, edition)
        self.data_version = data_version
        self.sources = sources.drop_duplicates("id", keep="last").set_index("id", drop=False)
        order = facts.get("load_order", 0)
        self.all_facts = normalise_facts(facts).assign(load_order=order)
        self.all_facts = self.all_facts.join(self.sources[["series", "edition"]], on="source")
        self.edition = str(edition) if edition is not None else None
        self.facts = resolve_editions(self.all_facts, self.edition)
        self.year = year
        #: the bilateral trade table (Parquet) this World queries on demand; ``load()`` gives the bundled one
        self.trade_path = trade_path

    @cached_property
    def _index(self) -> FactIndex:
        return FactIndex(self.facts)

    # -- names -----------------------------------------------------------------------------------------------
    def resolve(self, commodity: str, stage: str | None = None) -> tuple[str, str | None]:
        """Commodity id and stage of user input; a product name such as "NdFeB magnets" names a chain stage."""
        found = self.tax.commodity(commodity)
        if found.chain_stage and found.parent:
            return found.parent, (stage and self.tax.stage(stage)) or found.chain_stage
        return found.id, self.tax.stage(stage) if stage else None

    @cached_property
    def editions(self) -> pd.DataFrame:
        """Series and the editions the data hold of each."""
        return provenance.editions(self.sources)

    # -- raw selections --------------------------------------------------------------------------------------
    def select(
        self,
        *,
        commodity: str | None = None,
        stage: str | None = None,
        measure: str | Iterable[str] | None = None,
        year: int | Iterable[int] | None = None,
        country: str | None = None,
        partner: str | None = None,
        sector: str | None = None,
        scenario: str | None = "",
        series: str | None = None,
    ) -> pd.DataFrame:
        """Facts matching every given filter (``scenario=""`` keeps observed values only; None keeps all)."""
        return self._index.select(
            commodity=commodity,
            stage=stage,
            measure=measure,
            year=year,
            country=country,
            partner=partner,
            sector=sector,
            scenario=scenario,
            series=series,
        )

    def years(self, commodity: str, stage: str, measure: str = "production") -> list[int]:
        return sorted(int(y) for y in self.select(commodity=commodity, stage=stage, measure=measure)["year"].unique())

    def primary_series(
        self, commodity: str, stage: str, year: int | None = None, measure: str = "production"
    ) -> str | None:
        """The series that describes a stage's volumes: the chain's first listed series with data for the year."""
        return supply.primary_series(self, commodity, stage, year, measure)

    def latest_year(
        self,
        commodity: str,
        stage: str,
        measure: str = "production",
        *,
        at_most: int | None = None,
        series: str | None = None,
        country: str | None = None,
    ) -> int | None:
        """The year of data "as of" ``at_most`` (:func:`oresight.facts.calc_year_as_of`) of a selection."""
        return self._index.latest_year(
            at_most, commodity=commodity, stage=stage, measure=measure, series=series, country=country, scenario=""
        )

    # -- volumes and shares ----------------------------------------------------------------------------------
    def production(
        self,
        commodity: str,
        stage: str,
        year: int | None = None,
        *,
        measure: str = "production",
        series: str | None = None,
    ) -> xr.DataArray:
        """Volumes by country (ROW and WLD included) for one year, from one series, with provenance coords.

        Raises :class:`DataNotAttestedError` when no source gives the stage's volumes for that year.
        """
        return supply.production(self, commodity, stage, year, measure=measure, series=series)

    def shares(self, commodity: str, stage: str, year: int | None = None) -> xr.Dataset:
        """Country shares of world output of a stage, with low/high, from volumes if any source gives them,
        else from published shares. ``ROW`` is the unattributed rest; shares sum to at most 1."""
        return self.stage_view(commodity, stage, year).shares

    def stage_view(self, commodity: str, stage: str, year: int | None = None) -> StageView:
        return supply.stage_view(self, commodity, stage, year)

    def chain(self, commodity: str, year: int | None = None) -> ChainView:
        """The stage graph of a commodity with each stage's volumes, country shares and sources."""
        return supply.chain(self, commodity, year)

    def supply_shares(self, year: int | None = None) -> pd.DataFrame:
        """Country shares of every commodity and stage at once (long table); see :func:`supply.supply_shares`."""
        return supply.supply_shares(self, year)

    def supply_dataset(self, year: int | None = None) -> xr.Dataset:
        """:meth:`supply_shares` as labelled arrays over (commodity, stage, country)."""
        return supply.supply_dataset(self, year)

    # -- provenance ------------------------------------------------------------------------------------------
    def source_of(
        self, commodity: str, stage: str, country: str, year: int | None = None, measure: str = "production"
    ) -> list[dict]:
        """The registry entries behind a number (several for combined published shares)."""
        return provenance.source_of(self, commodity, stage, country, year, measure)

    def source(self, source_id: str) -> dict:
        return provenance.source(self, source_id)

    def projects(self, *, candidates_only: bool = False) -> pd.DataFrame:
        """The project pipeline outside China (one row per project and planned commodity); see
        :func:`oresight.plan.projects.load_projects`."""
        from oresight.plan.projects import load_projects

        return load_projects(candidates_only=candidates_only)

    # -- trade and governance --------------------------------------------------------------------------------
    def import_shares(
        self, importer: str, commodity: str, year: int | None = None, *, stage: str | None = None
    ) -> xr.Dataset:
        """Shares of an importer's imports by partner (share, low, high); see :func:`trade.import_shares`."""
        return trade.import_shares(self, importer, commodity, year, stage=stage)

    def trade(
        self,
        reporter: str | Iterable[str] | None = None,
        partner: str | Iterable[str] | None = None,
        *,
        commodity: str | None = None,
        stage: str | None = None,
        hs: str | Iterable[str] | None = None,
        year: int | Iterable[int] | None = None,
        flow: str = "import",
        source: str | None = None,
    ) -> pd.DataFrame:
        """Bilateral trade rows (reporter × partner × HS × year, USD and tonnes); see :func:`trade.trade`."""
        return trade.trade(
            self, reporter, partner, commodity=commodity, stage=stage, hs=hs, year=year, flow=flow, source=source
        )

    def exports(
        self, exporter: str, commodity: str, stage: str | None = None, year: int | None = None, **options
    ) -> pd.DataFrame:
        """Who buys an exporter's goods, by destination (tonnes, USD, shares); see :func:`trade.exports`."""
        return trade.exports(self, exporter, commodity, stage, year, **options)

    def dependence(self, importer: str, commodity: str, stage: str, year: int | None = None):
        """An importer's or a bloc's dependence at one stage (imports, exports, production, reliance published and
        derived, partners, top partner, method, sources); see :mod:`oresight.world.dependence`."""
        from . import dependence as dependence_module

        return dependence_module.dependence(self, importer, commodity, stage, year)

    def dependence_table(self, importer: str, year: int | None = None, pairs=None) -> pd.DataFrame:
        """:meth:`dependence` for every (commodity, stage) with HS codes (or ``pairs``), one row each."""
        from . import dependence as dependence_module

        return dependence_module.dependence_table(self, importer, year, pairs)

    def indicator(self, measure: str, year: int | None = None) -> xr.DataArray:
        """A country-level indicator (``wgi_pv``, ``oecd_crc``...) for a year (latest with data by default)."""
        from . import indicators

        return indicators.indicator(self, measure, year)

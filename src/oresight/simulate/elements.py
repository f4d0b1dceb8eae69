"""The rare-earth chain by element: NdPr, dysprosium and terbium each mined, separated and made into metal, the
three lanes joining at the NdFeB magnet, which needs every one of them (a magnet maker short of Dy cannot make
the magnets that need it). Built on the aggregate rare-earth baseline (:func:`calibrate`, which gives the magnet
stage, the nodes, the importers' demand and the trade pattern of each stage) and on the element facts
(docs/data.md, "Rare earths by element"), by these rules, each noted in the baseline:

* **volumes**: separated oxide of an element from its published production (Dy, Tb: China's output, China
  separating essentially all of it); NdPr as the rest of the magnet rare earths the aggregate refining stage
  counts (Nd, Pr, Dy, Tb). Mined feed carries as much of the element as is separated (losses are not
  attested); metal = oxide × the oxide-to-metal factor × (1 − the oxide-to-metal loss).
* **who makes it**: an element's own published shares at a stage where they exist (Dy and Tb separation:
  China; heavy rare-earth mining: China and Myanmar); else those of its group (heavy rare earths for Dy and
  Tb); else the aggregate stage's (NdPr mining: rare-earth mine output; NdPr separation and metal: the
  aggregate's); Dy and Tb metal follow their separation (China makes essentially all heavy rare-earth metal).
* **coefficients**: t of metal per t of magnet from the elements' mass fractions in NdFeB, lowered to what the
  metal stage makes where the data imply more (most magnets hold less Dy than the grades the literature
  describes); a lane's output beyond what magnets take is its other uses (final demand of ROW).
* **trade**: each lane stage follows the trade pattern of its aggregate stage (importers' published import
  shares honoured there), restricted to the element's producers and balanced by RAS.
"""

from __future__ import annotations

import math

import numpy as np

from oresight.errors import DataNotAttestedError
from oresight.facts import rows_as_of
from oresight.simulate.baseline import MONTHS, ROW, Baseline, calc_ras, calibrate
from oresight.simulate.units import quantity
from oresight.taxonomy import Importer
from oresight.taxonomy.countries import AGGREGATES, WORLD
from oresight.world import World

__all__ = ["ELEMENTS", "LANE_STAGES", "calibrate_elements", "rare_earth_material"]

#: the element lanes of the chain, and the group each belongs to for shares it lacks of its own
ELEMENTS = {"ndpr": "light-rare-earths", "dysprosium": "heavy-rare-earths", "terbium": "heavy-rare-earths"}
LANE_STAGES = ("mining", "refining", "metal")
MAGNET = "magnet"


def rare_earth_material(tax, commodity: str) -> bool:
    """Whether a commodity is rare earths or one of its elements, groups or products (its run is the chain by
    element)."""
    seen = set()
    while commodity and commodity not in seen:
        if commodity == "rare-earths":
            return True
        seen.add(commodity)
        commodity = tax.commodity(commodity).parent or ""
    return False


class _Lanes:
    """Builds the element lanes on an aggregate baseline; each step records notes and sources."""

    def __init__(self, world: World, aggregate: Baseline):
        self.world, self.agg = world, aggregate
        self.year = aggregate.year
        self.notes: list[str] = []
        self.sources: set[str] = set(aggregate.sources)
        self.position = {c: aggregate.index(n) for n, members in aggregate.members.items() for c in members}
        self.position.update({n: aggregate.index(n) for n in aggregate.nodes})

    def fact(self, commodity: str, stage: str, measure: str, country: str = WORLD) -> float:
        rows = self.world.select(commodity=commodity, stage=stage, measure=measure, country=country)
        rows = rows_as_of(rows[rows["value"].notna()], self.year)
        if rows.empty:
            return math.nan
        self.sources.update(rows["source"])
        return float(rows["value"].iat[0])

    # volumes
    def separated(self, element: str) -> float:
        """t of the element's oxide separated in a year."""
        rows = self.world.select(commodity=element, stage="refining", measure="production")
        rows = rows_as_of(rows[rows["value"].notna() & ~rows["country"].isin([ROW])], self.year)
        if not rows.empty:
            world_rows = rows[rows["country"] == WORLD]
            if not world_rows.empty:
                self.sources.update(world_rows["source"])
                return float(world_rows["value"].iat[0])
            view = self._view(element, "refining")
            estimates = []
            for _, row in rows.iterrows():
                share = float(view.share_of(str(row["country"]))) if view is not None else math.nan
                if share > 0:
                    estimates.append(float(row["value"]) / share)
                    self.sources.add(str(row["source"]))
            if estimates:
                total = float(np.median(estimates))
                self.notes.append(f"{element} refining: {quantity(total)} t a year from producers' output and shares")
                return total
        raise DataNotAttestedError(f"no source gives the separated output of {element}")

    def volumes(self) -> dict[str, float]:
        heavy = {e: self.separated(e) for e in ELEMENTS if e != "ndpr"}
        refining = self.agg.stage_index("refining")
        magnet_ree = float(self.agg.production[refining].sum()) * MONTHS
        ndpr = magnet_ree - sum(heavy.values())
        self.notes.append(
            f"ndpr refining: {quantity(ndpr)} t a year, the magnet rare earths separated ({quantity(magnet_ree)} t) "
            f"less Dy and Tb ({quantity(sum(heavy.values()))} t)"
        )
        return {"ndpr": ndpr, **heavy}

    # who makes it
    def _view(self, commodity: str, stage: str):
        try:
            return self.world.stage_view(commodity, stage, self.year)
        except (DataNotAttestedError, KeyError, ValueError):
            return None

    def shares(self, element: str, stage: str) -> np.ndarray:
        """Share of each node in the world output of an element at a stage (see module doc for the order)."""
        candidates = [(element, stage), (ELEMENTS[element], stage)]
        if element != "ndpr" and stage == "metal":
            candidates = [(element, "refining"), (ELEMENTS[element], "refining")]
        for commodity, wanted in candidates:
            view = self._view(commodity, wanted)
            if view is not None and float(view.shares["share"].fillna(0).sum()) > 0:
                self.sources.update(view.sources)
                if (commodity, wanted) != (element, stage):
                    self.notes.append(f"{element} {stage}: country shares of {commodity} {wanted} stand in")
                return self._on_nodes(view.shares["share"].fillna(0.0))
        k = self.agg.stage_index(stage)
        self.notes.append(f"{element} {stage}: country shares of the rare-earth {stage} stage stand in")
        return self.agg.production[k] / self.agg.production[k].sum()

    def _on_nodes(self, share) -> np.ndarray:
        out = np.zeros(len(self.agg.nodes))
        rest = self.agg.index(ROW)
        for country, value in zip(share.country.values, share.values, strict=True):
            if str(country) in AGGREGATES - {ROW}:
                continue
            out[self.position.get(str(country), rest)] += float(value)
        out[rest] += max(0.0, 1.0 - out.sum())
        return out / out.sum()

    # coefficients
    def metal_per_oxide(self, element: str) -> float:
        factors = {"ndpr": ("neodymium", "praseodymium")}.get(element, (element,))
        values = [self.fact(f, "metal", "oxide_to_metal") for f in factors]
        factor = float(np.nanmean(values)) if np.isfinite(values).any() else 1.0
        loss = self.fact("rare-earths", "metal", "conversion_loss")
        return factor * (1 - (loss if math.isfinite(loss) else 0.0))

    def magnet_fraction(self, element: str, metal: float, magnets: float) -> float:
        """t of the element's metal per t of magnet: the stated mass fraction, lowered to what metal is made."""
        stated = self.fact(element, MAGNET, "mass_fraction")
        if element == "ndpr":
            total = self.fact("rare-earths", MAGNET, "mass_fraction")
            heavy = [self.fact(e, MAGNET, "mass_fraction") for e in ELEMENTS if e != "ndpr"]
            stated = total - sum(h for h in heavy if math.isfinite(h)) if math.isfinite(total) else math.nan
        possible = metal / magnets if magnets > 0 else 0.0
        if math.isfinite(stated) and stated <= possible:
            return stated
        if math.isfinite(stated):
            self.notes.append(
                f"magnet: the data imply {stated:.3g} t of {element} metal per t of magnet, but the metal made is "
                f"enough for {possible:.3g}; the lower figure is used"
            )
        return possible

    # trade of a lane stage along its aggregate stage's pattern
    def flows(self, k: int, production: np.ndarray, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        agg = self.agg
        own = np.minimum(production, use)
        needs, exportable = use - own, production - own
        imports = np.zeros((len(production), len(production)))
        if needs.sum() <= 1e-12 * max(production.sum(), 1e-300):
            return own, imports
        pattern = agg.imports[k] + agg.reexports[k] + 1e-9  # every pair possible, the aggregate's pattern first
        prior = pattern * needs[:, None] * (exportable > 0)[None, :]
        np.fill_diagonal(prior, 0.0)
        matrix, converged = calc_ras(prior, needs, exportable)
        if not converged:
            matrix = np.outer(needs, exportable) / exportable.sum()
        return own, matrix


def calibrate_elements(
    world: World,
    importers: list[Importer],
    year: int | None = None,
    *,
    extra_nodes: tuple[str, ...] = (),
    own_use_from_trade: bool = False,
) -> Baseline:
    """The rare-earth chain by element (see the module doc) for the given importers."""
    agg = calibrate(
        world, "rare-earths", importers, year, extra_nodes=extra_nodes, own_use_from_trade=own_use_from_trade
    )
    lanes = _Lanes(world, agg)
    separated = lanes.volumes()
    magnet = agg.stage_index(MAGNET)
    magnets = float(agg.production[magnet].sum()) * MONTHS
    n = len(agg.nodes)
    stages, materials, units, bases, years = [], [], [], [], []
    production, final, coefficients = [], [], []
    for element in ELEMENTS:
        oxide = separated[element]
        metal = oxide * lanes.metal_per_oxide(element)
        totals = {"mining": oxide, "refining": oxide, "metal": metal}
        for stage in LANE_STAGES:
            stages.append(stage)
            materials.append(element)
            units.append("t")
            bases.append(world.tax.chain(element).stage(stage).basis if world.tax.chain(element).stage(stage) else "")
            years.append(agg.year or 0)
            production.append(lanes.shares(element, stage) * totals[stage] / MONTHS)
        fraction = lanes.magnet_fraction(element, metal, magnets)
        coefficients.append((element, oxide / oxide, oxide / metal, fraction))
    k_count = len(stages) + 1
    inputs = np.zeros((k_count, k_count))
    for lane, (_, to_refine, to_metal, fraction) in enumerate(coefficients):
        base = 3 * lane
        inputs[base + 1, base] = to_refine
        inputs[base + 2, base + 1] = to_metal
        inputs[k_count - 1, base + 2] = fraction
    production.append(agg.production[magnet])
    production = np.array(production)
    intermediate = inputs.T @ production
    final = np.zeros_like(production)
    final[-1] = agg.final_demand[magnet]
    rest = agg.index(ROW)
    for k in range(k_count - 1):  # what the magnets do not take is other uses, with ROW
        final[k, rest] = max(float(production[k].sum() - intermediate[k].sum()), 0.0)
    own = np.zeros_like(production)
    imports = np.zeros((k_count, n, n))
    for k in range(k_count - 1):
        aggregate_stage = agg.stage_index(stages[k])
        own[k], imports[k] = lanes.flows(aggregate_stage, production[k], final[k] + intermediate[k])
    own[-1], imports[-1] = agg.own[magnet], agg.imports[magnet]
    reexports = np.zeros_like(imports)
    reexports[-1] = agg.reexports[magnet]
    k_agg = [agg.stage_index(s) for s in stages] + [magnet]
    baseline = Baseline(
        commodity="rare-earths",
        stages=(*stages, MAGNET),
        units=(*units, agg.units[magnet]),
        bases=(*bases, agg.bases[magnet]),
        years=(*years, agg.years[magnet]),
        nodes=agg.nodes,
        importers=agg.importers,
        members=agg.members,
        production=production,
        final_demand=final,
        inputs=inputs,
        own=own,
        imports=imports,
        spare=agg.spare[k_agg],
        sectors=agg.sectors,
        sector_share=agg.sector_share[k_agg],
        materials=(*materials, "rare-earths"),
        reexports=reexports,
        year=agg.year,
        not_modelled=agg.not_modelled,
        cover=agg.cover[k_agg],
        transit=agg.transit[k_agg],
        price=_element_prices(world, stages, materials, agg, magnet),
        output_value=agg.output_value[k_agg],
        notes=[*agg.notes, *lanes.notes],
        sources=sorted(lanes.sources),
    )
    baseline.check_balance()
    return baseline


def _element_prices(world, stages, materials, agg: Baseline, magnet: int) -> np.ndarray:
    from oresight.simulate.markets import reference_price

    prices = [reference_price(world, m, s, agg.year) for m, s in zip(materials, stages, strict=True)]
    return np.array([p[0] if p else np.nan for p in prices] + [agg.price[magnet]])

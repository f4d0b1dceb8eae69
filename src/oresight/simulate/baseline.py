"""The baseline a simulation starts from: one month of normal supply and use along a commodity's chain.

For every stage of the chain and every node (the importers studied, each producing country, the countries the
importers buy from, and ROW for everyone else) the baseline holds production, final demand (use that leaves the
chain at that stage), the input the next stages need, and bilateral flows from producers to users. It is
calibrated from the World for one **base year** (the scenario's ``base_year``, else the latest year for which
every stage with volumes of its own has them; a stage known only from older figures uses those, with a note):

* **production** = country shares of the stage × the stage's world output. World output comes from volumes
  where a source gives a world total, else from a country's volume divided by its share, else from the stage
  upstream (its output ÷ the input coefficient).
* **input coefficients** (t of the previous stage's product per t of this stage's): mass fraction ÷ (1 −
  conversion loss) where the data give them; where they do not, every tonne upstream goes downstream. Where a
  coefficient asks for more input than the upstream stage makes, it is lowered to what that stage makes and a
  note says so (production scrap, stocks and sources' differing bases close such gaps in reality).
* **final demand** of an importer: the sum of its members' demand, each member's from its consumption at that
  stage (a published figure: nothing is netted from it), else its apparent consumption from its imports — own
  output plus imports estimated from a partner's reported exports to it and that partner's share of its imports
  (where no share is known, plus its imports from the other partners in the trade layer, so imports cover every
  partner as exports do), less its exports (reported, else the trade layer's for the stage's HS codes);
  refused, and not attested, where negative; else, for a member with no sourced use at any stage,
  its **apparent consumption derived from trade** (own output + imports − exports of the stage's HS codes from
  the trade layer, :mod:`oresight.simulate.apparent`; labelled as derived in the notes and in
  ``demand_basis``; refused, and not attested, where negative or where gross ore weight would be set against
  content); then less what its own next stage needs. Summing members nets trade between them out of a bloc.
  An importer with no such data at any stage is **not modelled**: it is no node (its members stay producers or
  part of ROW, so nobody else's result changes) and its results are missing, never zero. A producing country
  that reports exports uses the rest of its output itself; one a scenario names (an exporter, an outage
  country) that reports none uses its apparent consumption where it can be derived. ROW takes whatever
  remains, so that use equals production at every stage.
* **flows**: imports follow the importer's published import shares where they exist — every partner named there
  is a node of its own; what a partner ships beyond its own output at the stage it buys from producers and
  re-exports (processing and trading hubs, e.g. Canada's and Germany's gallium) — else partners' reported
  exports to it, else producers' exportable output pro rata; every node first supplies itself (an importer
  whose demand is net of its exports only from the output it does not export, so the imports partners report
  still arrive: Japan makes magnets, exports most of them and imports China's), and the flow
  matrix is balanced to producers' exportable output and users' import needs by iterative proportional fitting
  (RAS).

The stages form a graph: ``inputs[d, u]`` is the tonnes of stage u's product one tonne of stage d's output needs
(a chain is the case of one input per stage; the rare-earth chain by element joins several lanes at the magnet).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from oresight.errors import DataNotAttestedError
from oresight.facts import rows_as_of
from oresight.formatting import format_number
from oresight.simulate.apparent import Apparent, apparent_consumption, calc_apparent_consumption
from oresight.simulate.units import quantity, to_tonnes
from oresight.taxonomy import Importer
from oresight.taxonomy.countries import AGGREGATES, REST_OF_WORLD, WORLD
from oresight.world import StageView, World

__all__ = ["Baseline", "calc_ras", "calibrate", "chain_inputs", "describe"]

ROW = REST_OF_WORLD
MONTHS = 12
WEEKS_PER_MONTH = 52 / 12
DAYS_PER_MONTH = 365 / 12
OTHER_SECTOR = "other"
#: marks a member's demand derived from trade (apparent consumption) rather than taken from a source
DERIVED = "DERIVED "
#: how a member's exports from the trade layer are named in its demand's note
TRADE_EXPORTS = "its exports in trade"


@dataclass
class Baseline:
    """Monthly baseline of one commodity's stages (see module doc). Arrays are indexed [stage, node(, node)]."""

    commodity: str
    stages: tuple[str, ...]
    units: tuple[str, ...]
    bases: tuple[str, ...]
    years: tuple[int, ...]
    nodes: tuple[str, ...]
    importers: tuple[str, ...]
    members: dict[str, tuple[str, ...]]
    production: np.ndarray
    final_demand: np.ndarray
    inputs: np.ndarray  # [K, K]: t of stage u's product per t of stage d's output, inputs[d, u]
    own: np.ndarray
    imports: np.ndarray  # [K, consumer, producer]
    spare: np.ndarray  # [K, N]: spare capacity share from capacity data, NaN where none
    sectors: tuple[str, ...]
    sector_share: np.ndarray  # [K, importer, sector]
    #: commodity id of each stage (the run's commodity, or an element of it)
    materials: tuple[str, ...] = ()
    #: [K, consumer, hub]: what hubs ship on from what they buy at the same stage
    reexports: np.ndarray | None = None
    #: the base year every stage is calibrated for
    year: int | None = None
    #: importers asked for that the data cannot model, with the reason
    not_modelled: dict[str, str] = field(default_factory=dict)
    #: ``importer/stage`` -> where its demand comes from: "sourced" (a published figure, or partners' reported
    #: shipments less reported exports), "derived" (apparent consumption with the trade layer's imports or
    #: exports) or "sourced and derived" (a bloc whose members differ)
    demand_basis: dict[str, str] = field(default_factory=dict)
    #: [K, N, 3]: months of normal use each node holds in stock of each stage's product (low, central, high)
    cover: np.ndarray | None = None
    #: [K, 3]: months goods of each stage spend in transit (low, central, high)
    transit: np.ndarray | None = None
    #: [K]: USD per tonne of each stage's product at normal prices (NaN: not attested)
    price: np.ndarray | None = None
    #: [K, sector]: USD of downstream output per tonne of each stage's product (NaN: not attested)
    output_value: np.ndarray | None = None
    #: factor by which the base year's flows were grown to the scenario's start (see simulate/growth.py)
    growth: float = 1.0
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.materials:
            self.materials = (self.commodity,) * len(self.stages)
        if self.reexports is None:
            self.reexports = np.zeros_like(self.imports)
        if self.cover is None:
            self.cover = np.zeros((*self.production.shape, 3))
        if self.transit is None:
            self.transit = np.zeros((len(self.stages), 3))
        if self.price is None:
            self.price = np.full(len(self.stages), np.nan)
        if self.output_value is None:
            self.output_value = np.full((len(self.stages), len(self.sectors)), np.nan)

    @property
    def coefficient(self) -> np.ndarray:
        """Input per unit of output from the stages before, [K] (a chain's coefficients; 0 for a first stage)."""
        return self.inputs.sum(axis=1)

    @property
    def intermediate(self) -> np.ndarray:
        """Input each node's later stages need from each stage, [K, N]."""
        return self.inputs.T @ self.production

    @property
    def use(self) -> np.ndarray:
        return self.final_demand + self.intermediate

    @property
    def shipped_on(self) -> np.ndarray:
        """What each node re-exports at each stage, [K, N]."""
        return self.reexports.sum(axis=1)

    @property
    def content(self) -> np.ndarray:
        """Tonnes of the first stage's product of a stage's material in one tonne of each stage's product."""
        content = np.ones(len(self.stages))
        for d in range(len(self.stages)):
            same = [u for u in np.flatnonzero(self.inputs[d]) if self.materials[u] == self.materials[d]]
            if same:
                content[d] = content[same[0]] * self.inputs[d, same[0]]
        return content

    def index(self, node: str) -> int:
        return self.nodes.index(node)

    def stage_index(self, stage: str, material: str | None = None) -> int:
        material = material or self.commodity
        for k, (name, what) in enumerate(zip(self.stages, self.materials, strict=True)):
            if name == stage and (what == material or len(set(self.materials)) == 1):
                return k
        raise ValueError(f"no stage {stage!r} of {material}")

    def key(self, k: int) -> str:
        """``material/stage`` of stage k."""
        return f"{self.materials[k]}/{self.stages[k]}"

    def label(self, k: int) -> str:
        """Stage k as a reader names it: the stage, with its material where the run has several."""
        return self.stages[k] if len(set(self.materials)) == 1 else f"{self.materials[k]} {self.stages[k]}"

    def node_of(self, country: str) -> str | None:
        """The node a country belongs to (an importer it is a member of, itself, or None if it is in ROW)."""
        for node, members in self.members.items():
            if country in members:
                return node
        return None

    def check_balance(self, rtol: float = 1e-9) -> None:
        """Production equals use at every stage, and what each node receives equals what it uses and re-exports
        (the baseline's invariants)."""
        supplied = self.own + self.imports.sum(axis=2) + self.reexports.sum(axis=2)
        sold = self.own + self.imports.sum(axis=1)
        scale = max(float(self.production.max()), 1e-12)
        if not np.allclose(supplied, self.use + self.shipped_on, atol=rtol * scale) or not np.allclose(
            sold, self.production, atol=rtol * scale
        ):
            raise AssertionError("baseline flows do not balance production and use")

    def to_dataset(self) -> xr.Dataset:
        """The baseline as labelled arrays, in tonnes per year."""
        coords = {"stage": list(self.stages), "node": list(self.nodes)}
        dims = ("stage", "node")
        return xr.Dataset(
            {
                "production": (dims, self.production * MONTHS),
                "final_demand": (dims, self.final_demand * MONTHS),
                "intermediate": (dims, self.intermediate * MONTHS),
                "imports": (("stage", "node", "producer"), self.imports * MONTHS),
                "reexports": (("stage", "node", "producer"), self.reexports * MONTHS),
                "coefficient": ("stage", self.coefficient),
                "material": ("stage", list(self.materials)),
                "unit": ("stage", list(self.units)),
                "basis": ("stage", list(self.bases)),
                "year": ("stage", list(self.years)),
            },
            coords={**coords, "producer": list(self.nodes)},
            attrs={
                "commodity": self.commodity,
                "base_year": self.year if self.year is not None else "",
                "notes": list(self.notes),
                "sources": list(self.sources),
            },
        )


def describe(baseline: Baseline) -> pd.DataFrame:
    """The baseline as a reader checks it: per stage the world's output and, per importer, its output, its
    demand (final and for its own later stages), its imports and who supplies them, its stocks; tonnes a year.

    Columns: stage, node, unit, basis, year, production_t, final_demand_t, demand_basis ("sourced", "derived":
    apparent consumption from trade, "sourced and derived", or "not attested"), intermediate_t, imports_t,
    suppliers (the largest, with shares), stocks_months, price_usd_per_t.
    """
    rows = []
    supplied = baseline.imports + baseline.reexports
    for k in range(len(baseline.stages)):
        common = {
            "stage": baseline.label(k),
            "unit": baseline.units[k],
            "basis": baseline.bases[k],
            "year": baseline.years[k],
            "price_usd_per_t": baseline.price[k],
        }
        rows.append(
            {
                **common,
                "node": "world",
                "production_t": baseline.production[k].sum() * MONTHS,
                "final_demand_t": baseline.final_demand[k].sum() * MONTHS,
                "intermediate_t": baseline.intermediate[k].sum() * MONTHS,
            }
        )
        for label in baseline.importers:
            n = baseline.index(label)
            imports = supplied[k, n]
            order = np.argsort(-imports)[:3]
            total = imports.sum()
            rows.append(
                {
                    **common,
                    "node": label,
                    "production_t": baseline.production[k, n] * MONTHS,
                    "final_demand_t": baseline.final_demand[k, n] * MONTHS,
                    "demand_basis": baseline.demand_basis.get(f"{label}/{baseline.stages[k]}", "not attested"),
                    "intermediate_t": baseline.intermediate[k, n] * MONTHS,
                    "imports_t": total * MONTHS,
                    "suppliers": ", ".join(
                        f"{baseline.nodes[p]} {imports[p] / total:.0%}" for p in order if imports[p] > 0
                    ),
                    "stocks_months": baseline.cover[k, n, 1],
                }
            )
    return pd.DataFrame(rows)


def chain_inputs(coefficient: np.ndarray) -> np.ndarray:
    """The input matrix of a chain: each stage takes ``coefficient[k]`` t of the stage before per t.

    >>> chain_inputs(np.array([0.0, 2.0, 0.5])).tolist()
    [[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.5, 0.0]]
    """
    inputs = np.zeros((len(coefficient), len(coefficient)))
    inputs[np.arange(1, len(coefficient)), np.arange(len(coefficient) - 1)] = coefficient[1:]
    return inputs


# -- pure calculations -----------------------------------------------------------------------------------------
def calc_ras(prior: np.ndarray, rows: np.ndarray, cols: np.ndarray, *, tol: float = 1e-10, max_iter: int = 2000):
    """Scale a non-negative matrix so its rows sum to ``rows`` and its columns to ``cols`` (RAS / iterative
    proportional fitting). Returns the matrix and whether it converged.

    >>> m, ok = calc_ras(np.ones((2, 2)), np.array([3.0, 1.0]), np.array([2.0, 2.0]))
    >>> ok, m.sum(axis=1).round(6).tolist(), m.sum(axis=0).round(6).tolist()
    (True, [3.0, 1.0], [2.0, 2.0])
    """
    matrix = prior.astype(float).copy()
    scale = max(float(rows.sum()), 1e-300)
    for _ in range(max_iter):
        row_sums = matrix.sum(axis=1)
        matrix *= np.divide(rows, row_sums, out=np.zeros_like(rows), where=row_sums > 0)[:, None]
        col_sums = matrix.sum(axis=0)
        matrix *= np.divide(cols, col_sums, out=np.zeros_like(cols), where=col_sums > 0)[None, :]
        if np.abs(matrix.sum(axis=1) - rows).max() < tol * scale:
            return matrix, True
    return matrix, False


def calc_base_year(views: list[StageView]) -> int | None:
    """The latest year for which every stage with volumes of its own has them (stages known only from shares do
    not hold it back); the latest year of any stage when none has volumes."""
    with_volumes = [int(v.year) for v in views if v.method == "volumes" and v.year is not None]
    years = with_volumes or [int(v.year) for v in views if v.year is not None]
    return min(years) if years else None


# -- calibration steps -----------------------------------------------------------------------------------------
class _Calibration:
    """Builds a :class:`Baseline` step by step; each step reads the World and records notes and sources."""

    def __init__(self, world: World, commodity: str, importers: list[Importer], year: int | None, extra: tuple):
        self.world, self.commodity = world, commodity
        self.notes: list[str] = []
        self.sources: set[str] = set()
        chain = world.chain(commodity, year)
        if not chain.stages:
            raise DataNotAttestedError(f"no production or share data for {commodity}")
        self.year = year if year is not None else calc_base_year(chain.stages)
        if year is None and any(v.year is not None and v.year > self.year for v in chain.stages):
            chain = world.chain(commodity, self.year)
        self.views: list[StageView] = chain.stages
        self.stages = tuple(v.stage for v in self.views)
        self.chain = world.tax.chain(commodity, self.stages)
        self.end_uses = chain.end_uses
        for view in self.views:
            self.sources.update(view.sources)
            if view.year is not None and view.year != self.year:
                self.notes.append(f"{view.stage}: {view.year} figures stand in for the base year {self.year}")
        self.extra = extra
        self.requested = importers
        self.importers = importers
        self.bridged: dict[int, xr.DataArray] = {}
        self.bases: list[str] = []
        self.own_use_from_trade = False
        self.totals = np.zeros(0)
        self.demand_basis: dict[str, str] = {}
        self._derived: dict[tuple[str, str, float], Apparent | None] = {}
        self._trade: dict[tuple[str, str], object] = {}
        #: (stage, node) -> t a year a producer ships on as processed products from the ore it imports
        self.processors: dict[tuple[int, int], float] = {}
        #: (member, stage index) -> the exports, t a year, netted from the member's demand
        self.exported: dict[tuple[str, int], float] = {}
        #: (member, stage) -> its imports (partner, tonnes a year) from partners that report no exports to it
        self.other_partners: dict[tuple[str, str], pd.DataFrame] = {}
        #: (importer, stage index) -> the output, t a month, it exports beyond its bloc: not there to supply itself
        self.held_back: dict[tuple[str, int], float] = {}

    # world output per stage and input coefficients
    def volumes(self) -> tuple[np.ndarray, list[str], list[str]]:
        """World output, unit and basis of every stage (NaN where the stage has no volumes of its own)."""
        totals, units, bases = [], [], []
        for view in self.views:
            total, unit, basis = self._stage_total(view)
            totals.append(total)
            units.append(unit)
            bases.append(basis)
        self.bases = bases
        return np.array(totals, dtype=float), units, bases

    def _stage_total(self, view: StageView) -> tuple[float, str, str]:
        if view.method == "volumes" and math.isfinite(view.world_total):
            unit, factor, basis = to_tonnes(view.unit, view.basis)
            return view.world_total * factor, unit, basis
        rows = self.world.select(commodity=self.commodity, stage=view.stage, measure="production")
        rows = rows[~rows["country"].isin(AGGREGATES)]
        estimates, unit, basis = [], "t", f"t {view.stage} product (derived from the stage upstream)"
        for country, group in rows.groupby("country"):
            share = view.share_of(str(country))
            latest = rows_as_of(group, self.year)
            if share > 0 and not latest.empty:
                unit, factor, basis = to_tonnes(str(latest["unit"].iat[0]), str(latest["basis"].iat[0]))
                value, year = float(latest["value"].iat[0]), int(latest["year"].iat[0])
                estimates.append(value * factor / share)
                self.sources.update(latest["source"])
                self.notes.append(
                    f"{view.stage}: world output estimated from {country}'s output "
                    f"({quantity(value * factor)} {unit}, {year}) divided by its share ({share:.0%})"
                )
        return (float(np.median(estimates)) if estimates else math.nan), unit, basis

    def _stage_fact(self, stage: str, measure: str) -> float:
        rows = rows_as_of(
            self.world.select(commodity=self.commodity, stage=stage, measure=measure, country=WORLD), self.year
        )
        if rows.empty:
            return math.nan
        self.sources.update(rows["source"])
        return float(rows["value"].iat[0])

    def coefficients(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input coefficients, and world output with the gaps filled from neighbouring stages."""
        k_count = len(self.stages)
        coefficient = np.zeros(k_count)
        stated = np.zeros(k_count, dtype=bool)
        for k in range(1, k_count):
            fraction = self._stage_fact(self.stages[k], "mass_fraction")
            loss = self._stage_fact(self.stages[k], "conversion_loss")
            if math.isfinite(fraction) or math.isfinite(loss):
                coefficient[k] = (fraction if math.isfinite(fraction) else 1.0) / (
                    1 - (loss if math.isfinite(loss) else 0)
                )
                stated[k] = True
        totals = totals.copy()
        for k in range(1, k_count):  # fill downwards: a stage without volumes makes what its input allows
            if not math.isfinite(totals[k]) and math.isfinite(totals[k - 1]):
                totals[k] = totals[k - 1] / (coefficient[k] if stated[k] else 1.0)
                self.notes.append(f"{self.stages[k]}: world output derived from {self.stages[k - 1]} output")
        for k in range(k_count - 2, -1, -1):  # and upwards for leading stages without volumes
            if not math.isfinite(totals[k]) and math.isfinite(totals[k + 1]):
                totals[k] = totals[k + 1] * (coefficient[k + 1] if stated[k + 1] else 1.0)
                self.notes.append(f"{self.stages[k]}: world output derived from {self.stages[k + 1]} input needs")
        if not np.isfinite(totals).all():
            missing = [s for s, t in zip(self.stages, totals, strict=True) if not math.isfinite(t)]
            raise DataNotAttestedError(
                f"no volumes for {self.commodity} at {', '.join(missing)}: import production figures for the stage"
            )
        for k in range(1, k_count):
            if not stated[k]:
                coefficient[k] = totals[k - 1] / totals[k] if totals[k] > 0 else 1.0
            elif coefficient[k] * totals[k] > totals[k - 1] * (1 + 1e-9):
                lowered = totals[k - 1] / totals[k]
                self.notes.append(
                    f"{self.stages[k]}: the data imply {format_number(coefficient[k])} t of {self.stages[k - 1]} "
                    f"product per t but the stage upstream makes only enough for {format_number(lowered)}; the lower "
                    "figure is used"
                )
                coefficient[k] = lowered
        self.totals = totals
        return coefficient, totals

    # which importers the data can model
    def modelled(self, units: list[str]) -> dict[str, str]:
        """Importers without consumption or trade data at any stage, with the reason; they are left out of the
        nodes so that nobody else's result depends on them."""
        missing = {}
        for imp in self.importers:
            if not any(self._has_demand_data(m, stage) for m in imp.members for stage in self.stages):
                refused = [
                    f"{key[0]} {key[1]}: {found.refused}"
                    for key, found in self._derived.items()
                    if key[0] in imp.members and found is not None and found.refused
                ]
                why = f"no consumption or trade data for {self.commodity}"
                if refused:
                    why = f"no consumption data for {self.commodity} and no apparent consumption from its trade"
                missing[imp.label] = why
                self.notes.append(f"{imp.label}: {why}; not modelled" + (f" ({'; '.join(refused)})" if refused else ""))
        self.importers = [imp for imp in self.importers if imp.label not in missing]
        return missing

    def _has_demand_data(self, member: str, stage: str) -> bool:
        if not self._facts("consumption", stage, [member]).empty:
            return True
        if self.chain.stage_of_consumption(self.stages) == stage and not self._facts("consumption", "", [member]).empty:
            return True
        if not self._facts("export_quantity", stage, self._exporters(), partner=[member]).empty:
            return True
        if not self._facts("consumption", None, [member]).empty:
            return False
        found = self._apparent(member, self.stages.index(stage), self._own_output_estimate(member, stage))
        return found is not None and found.attested

    def _own_output_estimate(self, member: str, stage: str) -> float:
        """A country's output at a stage, t a year, before production is laid out: its share of the stage's world
        output (0 where it has none or only a bound)."""
        k = self.stages.index(stage)
        share = self.views[k].share_of(member)
        return share * float(self.totals[k]) if math.isfinite(share) and share > 0 else 0.0

    def _apparent(self, member: str, k: int, own_output: float) -> Apparent | None:
        """A country's apparent consumption at stage k derived from trade (cached per country, stage and output)."""
        key = (member, self.stages[k], round(own_output, 9))
        if key not in self._derived:
            basis = self.bases[k] if k < len(self.bases) else ""
            self._derived[key] = apparent_consumption(
                self.world, member, self.commodity, self.stages[k], self.year, own_output, basis
            )
        return self._derived[key]

    # nodes and production
    def nodes(self) -> tuple[list[str], dict[str, tuple[str, ...]]]:
        members = {imp.label: imp.members for imp in self.importers}
        names = [imp.label for imp in self.importers]
        claimed = {m for imp in self.importers for m in imp.members}
        countries = set(self.extra) - AGGREGATES
        for view in self.views:
            share = view.shares["share"]
            countries |= {str(c) for c, v in zip(share.country.values, share.values, strict=True) if v > 0}
        for imp in self.importers:  # partners an importer buys from are nodes of their own (they may be hubs)
            for stage in self.stages:
                countries |= set(self._import_shares(imp, stage, record=False) or ())
        for country in sorted(countries - claimed - AGGREGATES):
            names.append(country)
            members[country] = (country,)
        names.append(ROW)
        members[ROW] = ()
        return names, members

    def production(self, totals: np.ndarray, names: list[str]) -> np.ndarray:
        position = {name: i for i, name in enumerate(names)}
        for imp in self.importers:
            position.update({m: names.index(imp.label) for m in imp.members})
        rest = names.index(ROW)
        production = np.zeros((len(self.stages), len(names)))
        for k, view in enumerate(self.views):
            share = self.bridged[k] = _bridge_bounded_shares(view, self.notes)
            for country, value in zip(share.country.values, share.values, strict=True):
                production[k, position.get(str(country), rest)] += value * totals[k] / MONTHS
            production[k, rest] += max(0.0, 1 - float(share.sum())) * totals[k] / MONTHS
        return production

    # demand
    def _facts(self, measure: str, stage: str | None, countries, partner=None) -> pd.DataFrame:
        """Facts with a value: a withheld figure (no value) cannot calibrate anything, so an older or another
        series' figure is used instead."""
        rows = self.world.select(commodity=self.commodity, measure=measure, country=list(countries), stage=stage)
        rows = rows[rows["value"].notna()]
        if partner is not None:
            rows = rows[rows["partner"].isin(list(partner))]
        return rows

    def _consumption(self, member: str, stage: str, unit: str) -> tuple[float, str] | None:
        """A country's consumption at a stage, converted to the stage's unit."""
        rows = self._facts("consumption", stage, [member])
        if rows.empty and self.chain.stage_of_consumption(self.stages) == stage:
            rows = self._facts("consumption", "", [member])
        rows = rows_as_of(rows, self.year)
        if rows.empty:
            return None
        apparent = rows[rows["basis"].str.contains("apparent", case=False)]
        row = (apparent if not apparent.empty else rows).iloc[0]
        row_unit, factor, _ = to_tonnes(str(row["unit"]))
        if row_unit != unit:
            self.notes.append(f"{member} {stage}: consumption in {row['unit']} does not match the stage unit")
            return None
        self.sources.add(str(row["source"]))
        return float(row["value"]) * factor, f"consumption ({member} {int(row['year'])})"

    def _from_partner_flows(self, member: str, stage: str, unit: str) -> tuple[float, str] | None:
        """A country's imports estimated from partners' reported exports to it, scaled by the partners' share of
        its imports where its import shares are known."""
        flows = rows_as_of(self._facts("export_quantity", stage, self._exporters(), partner=[member]), self.year)
        if flows.empty:
            return None
        flows = flows.assign(
            value=[float(v) * to_tonnes(str(u))[1] for v, u in zip(flows["value"], flows["unit"], strict=True)]
        )
        self.sources.update(flows["source"])
        by_partner = flows.groupby("country")["value"].sum()
        top = str(by_partner.idxmax())
        shares = self._member_import_shares(member, stage, exact_stage=True)
        if shares is not None and shares.get(top, 0) > 0:
            total = float(by_partner[top]) / shares[top]
            how = (
                f"{top}'s reported exports to it ({quantity(by_partner[top])} {unit}) / "
                f"{top}'s share of its imports ({shares[top]:.0%})"
            )
        else:
            total = float(by_partner.sum())
            how = f"partners' reported exports to it ({quantity(total)} {unit})"
            others = self._other_partners_in_trade(member, stage, unit, set(by_partner.index))
            if others is None:
                how += " (other partners unknown)"
            else:
                self.other_partners[(member, stage)] = others
                total += float(others["tonnes"].sum())
                how += (
                    f" plus its imports from the other partners in trade ({quantity(float(others['tonnes'].sum()))}"
                    f" t, HS {others.attrs['hs']}, {others.attrs['year']})"
                )
        return total, f"imports estimated from {how}"

    def _other_partners_in_trade(self, member: str, stage: str, unit: str, reported: set[str]) -> pd.DataFrame | None:
        """A country's imports of the stage's HS codes from the partners that report no exports to it (partner,
        tonnes a year; trade layer), so that its imports cover every partner as its exports do; None where the
        trade layer has no such imports."""
        found = self._in_trade(member, stage) if unit == "t" else None
        if found is None:
            return None
        partners = found.partners[~found.partners["partner"].isin(reported | AGGREGATES)]
        partners = partners[partners["tonnes"].fillna(0.0) > 0][["partner", "tonnes"]]
        if partners.empty:
            return None
        self.sources.update(found.sources)
        partners.attrs.update(hs=", ".join(found.hs_codes), year=found.year)
        return partners

    def _in_trade(self, member: str, stage: str):
        """A country's trade at the stage's HS codes (the trade layer's dependence), or None where it has none;
        asked once per member and stage, as both its imports and its exports come from it."""
        key = (member, stage)
        if key not in self._trade:
            try:
                self._trade[key] = self.world.dependence(member, self.commodity, stage, self.year)
            except (DataNotAttestedError, ValueError):
                self._trade[key] = None
        return self._trade[key]

    def _own_exports(self, member: str, stage: str, unit: str) -> tuple[float, str]:
        """A country's exports of the stage's product to the world, t a year, and how they are known: its
        reported exports, else its exports of the stage's HS codes in the trade layer (0 and "" where neither
        gives them: then its demand is its output plus imports, as it was before exports were netted)."""
        rows = rows_as_of(self._facts("export_quantity", stage, [member], partner=[WORLD, ""]), self.year)
        if not rows.empty:
            self.sources.update(rows["source"])
            value = float(rows["value"].iat[0]) * to_tonnes(str(rows["unit"].iat[0]))[1]
            return value, f"its reported exports ({quantity(value)} {unit})"
        found = self._in_trade(member, stage)
        if found is None:
            return 0.0, ""
        value = float(found.exports_t)
        if unit != "t" or not math.isfinite(value):
            return 0.0, ""
        self.sources.update(found.sources)
        return value, f"{TRADE_EXPORTS} ({quantity(value)} t, HS {', '.join(found.hs_codes)}, {found.year})"

    def _exporters(self) -> list[str]:
        rows = self.world.select(commodity=self.commodity, measure="export_quantity")
        return sorted(set(rows["country"]))

    def _member_import_shares(self, member: str, stage: str, exact_stage: bool = False, record: bool = True):
        for wanted in (stage,) if exact_stage else (stage, ""):
            try:
                shares = self.world.import_shares(member, self.commodity, self.year, stage=wanted)
            except DataNotAttestedError:
                continue
            if record:
                self.sources.update(shares.attrs.get("sources", []))
            return {str(p): float(v) for p, v in zip(shares.partner.values, shares["share"].values, strict=True)}
        return None

    def _import_shares(self, imp: Importer, stage: str, exact_stage: bool = False, record: bool = True):
        """Partner shares of an importer's imports (members combined), for the stage or the commodity as a whole."""
        combined: dict[str, float] = {}
        for member in imp.members:
            shares = self._member_import_shares(member, stage, exact_stage, record)
            for partner, value in (shares or {}).items():
                if partner not in imp.members:
                    combined[partner] = combined.get(partner, 0.0) + value / len(imp.members)
        return combined or None

    def final_demand(self, names, production, inputs, units) -> np.ndarray:
        """Importers' demand from their data, producers' own use from their exports, ROW the rest."""
        intermediate = inputs.T @ production
        final = np.zeros((len(self.stages), len(names)))
        position = {name: names.index(name) for name in names}
        for imp in self.importers:
            self._importer_demand(imp, position, final, production, intermediate, units)
        self._producers_own_use(names, final, production, intermediate, units)
        self._rest_of_world(names.index(ROW), final, production, intermediate)
        return final

    def _member_demand(self, member: str, k: int, own_output: float, unit: str) -> tuple[float, str] | None:
        """A country's yearly use of a stage's product from its data (see module doc)."""
        stage = self.stages[k]
        found = self._consumption(member, stage, unit)
        if found is not None:
            return found
        flows = self._from_partner_flows(member, stage, unit)
        if flows is None:
            return self._derived_demand(member, k, own_output, unit)
        imports, how = flows
        exports, exported = self._own_exports(member, stage, unit)
        text = f"own output {quantity(own_output)} plus {how}" + (f" less {exported}" if exported else "")
        value = calc_apparent_consumption(own_output, imports, exports)
        if not math.isfinite(value):  # re-exports, stocks or bases the identity cannot see: refused, not 0
            self.notes.append(f"{member} {stage}: no demand: {text} is negative; not attested")
            return None
        self.exported[(member, k)] = exports
        # the trade layer's exports or imports make the figure an apparent consumption of our own derivation
        derived = exported.startswith(TRADE_EXPORTS) or (member, stage) in self.other_partners
        return value, (DERIVED if derived else "") + text

    def _derived_demand(self, member: str, k: int, own_output: float, unit: str) -> tuple[float, str] | None:
        """Apparent consumption from trade where no source gives a country's use (see the module doc)."""
        if unit != "t" or not self._facts("consumption", None, [member]).empty:
            return None  # a country with sourced use at any stage keeps it: derived use would count it twice
        found = self._apparent(member, k, own_output)
        if found is None:
            return None
        if not found.attested:
            self.notes.append(f"{member} {self.stages[k]}: no apparent consumption: {found.refused}; not attested")
            return None
        self.sources.update(found.sources)
        return found.value, f"{DERIVED}{found.text}"

    def _importer_demand(self, imp: Importer, position, final, production, intermediate, units) -> None:
        i = position[imp.label]
        for k, stage in enumerate(self.stages):
            parts = []
            for member in imp.members:
                own_output = self._share(k, member) * self._world_output(k, production)
                found = self._member_demand(member, k, own_output, units[k])
                if found is not None:
                    parts.append((member, *found))
            if not parts:
                continue
            exported = sum(self.exported.get((m, k), 0.0) for m in imp.members)
            if exported:
                self.held_back[(imp.label, k)] = max(exported - self._exports_within(imp, stage), 0.0) / MONTHS
            use = sum(p[1] for p in parts)
            final[k, i] = max(use / MONTHS - intermediate[k, i], 0.0)
            derived = [p[2].startswith(DERIVED) for p in parts]
            self.demand_basis[f"{imp.label}/{stage}"] = (
                "derived" if all(derived) else "sourced and derived" if any(derived) else "sourced"
            )
            parts = [(m, v, h.removeprefix(DERIVED)) for m, v, h in parts]
            if imp.is_bloc:
                how = "the sum of " + "; ".join(f"{m} {quantity(v)} {units[k]}/yr from {h}" for m, v, h in parts)
            else:
                how = parts[0][2]
            self.notes.append(f"{imp.label} {stage}: demand {quantity(use)} {units[k]}/yr from {how}")
            if imp.is_bloc and len(parts) < len(imp.members):
                absent = [m for m in imp.members if m not in {p[0] for p in parts}]
                self.notes.append(f"{imp.label} {stage}: no data for {', '.join(absent)}; their demand is not included")

    def _exports_within(self, imp: Importer, stage: str) -> float:
        """What a bloc's members export to each other at a stage, t a year (trade layer; 0 for one country):
        for the bloc that is use at home, not output held back from it."""
        if not imp.is_bloc:
            return 0.0
        within = 0.0
        for member in imp.members:
            if not self.exported.get((member, self.stages.index(stage))):
                continue
            try:
                found = self.world.exports(member, self.commodity, stage, self.year)
            except (DataNotAttestedError, ValueError, KeyError):
                continue
            if "destination" in found:
                within += float(found.loc[found["destination"].isin(imp.members), "tonnes"].fillna(0.0).sum())
        return within

    def _share(self, k: int, country: str) -> float:
        """A country's share of the stage's world output as the baseline uses it (bounded shares bridged)."""
        share = self.bridged[k]
        return float(share.sel(country=country)) if country in share.country else 0.0

    @staticmethod
    def _world_output(k: int, production) -> float:
        return float(production[k].sum()) * MONTHS

    def _producers_own_use(self, names, final, production, intermediate, units) -> None:
        """A producer that reports its exports uses the rest of its output (after its own next stage's needs)."""
        importers = {imp.label for imp in self.importers}
        for k, stage in enumerate(self.stages):
            exports = rows_as_of(self._facts("export_quantity", stage, names, partner=[WORLD, ""]), self.year)
            reported = set(exports["country"])
            for n, node in enumerate(names):
                if not self.own_use_from_trade or node not in self.extra or node in importers or node in reported:
                    continue
                if production[k, n] <= 0:
                    continue
                self._producer_apparent_use(k, n, node, final, production, intermediate, units)
            for _, row in exports[~exports["country"].isin(importers)].iterrows():
                n = names.index(str(row["country"]))
                yearly = float(row["value"]) * to_tonnes(str(row["unit"]))[1]
                final[k, n] = max(production[k, n] - yearly / MONTHS - intermediate[k, n], 0.0)
                self.sources.add(str(row["source"]))
                self.notes.append(
                    f"{row['country']} {stage}: uses its output less reported exports "
                    f"({quantity(yearly)} {units[k]} in {int(row['year'])})"
                )

    def _producer_apparent_use(self, k: int, n: int, node: str, final, production, intermediate, units) -> None:
        """A producer a scenario names (an exporter that restricts, a country with an outage) that reports no
        exports, but whose trade the trade layer has, uses its apparent consumption (derived, labelled so), at
        most its own output: what a restriction withholds stays in its market, whose price needs its own use.
        The cap is there because a producer's processed exports (antimony oxide, tungsten APT) are often outside
        the stage's ore codes, so its balance on those codes overstates its use. Other producers, and these where
        nothing can be derived, export all they do not process themselves."""
        if units[k] != "t" or not self._facts("consumption", None, [node]).empty:
            return
        found = self._apparent(node, k, production[k, n] * MONTHS)
        if found is None or not found.attested:
            return
        processed = self._processed_exports(node, k, units[k])
        apparent = found.value - (processed[0] if processed else 0.0)
        use = min(max(apparent, 0.0), production[k, n] * MONTHS)
        final[k, n] = max(use / MONTHS - intermediate[k, n], 0.0)
        self.sources.update(found.sources)
        self.demand_basis[f"{node}/{self.stages[k]}"] = "derived"
        capped = (
            f", at most its output ({quantity(use)} {units[k]}/yr): the ore it imports beyond that its smelters "
            "ship on as products the stage's codes do not cover"
            if use < apparent
            else ""
        )
        if processed:
            shipped_on = min(processed[0], found.imports) if math.isfinite(found.imports) else 0.0
            self.processors[(k, n)] = shipped_on
            capped += (
                f", less its exports of processed products ({quantity(processed[0])} {units[k]}/yr, {processed[1]}), "
                f"of which {quantity(shipped_on)} {units[k]}/yr it makes from the ore it imports and ships on"
            )
        self.notes.append(f"{node} {self.stages[k]}: demand {quantity(use)} {units[k]}/yr from {found.text}{capped}")

    def _processed_exports(self, node: str, k: int, unit: str) -> tuple[float, str] | None:
        """A producer's reported exports to the world of the commodity's processed products at a stage the chain
        does not model (t of the stage's content a year, with how it is known), or None. The chain's stage then
        stands for them: China exports antimony as oxide and metal, not as the ore the mine stage trades."""
        rows = self._facts("export_quantity", None, [node], partner=[WORLD, ""])
        rows = rows[~rows["stage"].isin([*self.stages, ""]) & rows["basis"].str.contains("content", case=False)]
        rows = rows_as_of(rows, self.year)
        if rows.empty or unit != "t":
            return None
        row = rows.iloc[0]
        row_unit, factor, _ = to_tonnes(str(row["unit"]))
        if row_unit != unit:
            return None
        self.sources.add(str(row["source"]))
        return float(row["value"]) * factor, f"{row['stage']} stage, {int(row['year'])}"

    def _rest_of_world(self, rest: int, final, production, intermediate) -> None:
        """ROW's final demand closes each stage: use equals production (scaled down if attested demand exceeds it)."""
        for k, stage in enumerate(self.stages):
            residual = production[k].sum() - (final[k] + intermediate[k]).sum()
            if residual >= -1e-9 * max(float(production[k].sum()), 1e-300):
                final[k, rest] += max(residual, 0.0)
                continue
            named = final[k].sum()
            scale = max(0.0, 1 + residual / named) if named > 0 else 0.0
            if scale < 0.995:
                self.notes.append(
                    f"{stage}: attested demand exceeds world output by {1 - scale:.0%}; demand at this stage is "
                    "scaled down to fit"
                )
            final[k] *= scale

    # flows
    def flows(self, names, production, final, inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Self-supply, bilateral imports and re-exports per stage. Importers' published import shares are
        honoured first (they are data); everything else is self-supply, then pro-rata trade, balanced by RAS."""
        k_count, n = len(self.stages), len(names)
        use = final + inputs.T @ production
        own = np.zeros_like(production)
        imports = np.zeros((k_count, n, n))
        reexports = np.zeros((k_count, n, n))
        for k, stage in enumerate(self.stages):
            attested, reexports[k] = self._attested_imports(k, stage, names, production[k], use[k])
            self._processor_reexports(k, production[k], use[k], attested, reexports[k])
            onward = reexports[k].sum(axis=0)  # what each hub must buy to ship on
            supply = production[k] - attested.sum(axis=0)
            demand = use[k] + onward - attested.sum(axis=1) - reexports[k].sum(axis=1)
            own[k] = np.minimum(supply, np.maximum(demand, 0.0))
            needs, exportable = np.maximum(demand - own[k], 0.0), supply - own[k]
            imports[k] = attested
            if needs.sum() <= 1e-12 * max(production[k].sum(), 1e-300):
                continue
            prior = np.outer(needs, exportable)
            np.fill_diagonal(prior, 0.0)
            matrix, converged = calc_ras(prior, needs, exportable)
            if not converged:
                self.notes.append(
                    f"{stage}: trade could not be balanced exactly; imports follow exportable output pro rata"
                )
                matrix = np.outer(needs, exportable) / exportable.sum()
            imports[k] += matrix
        return own, imports, reexports

    def _attested_imports(self, k: int, stage: str, names, production, use) -> tuple[np.ndarray, np.ndarray]:
        """Imports that data describe, by precedence: the importer's import shares for the stage; else partners'
        reported exports to it; else its import shares for the commodity as a whole. What a partner ships beyond
        its own output it re-exports (returned apart, [consumer, hub]); what the data leave open goes to
        pro-rata trade."""
        n = len(names)
        flows = np.zeros((n, n))
        for imp in self.importers:
            i = names.index(imp.label)
            # an importer that exports part of its output (its demand is net of those exports) supplies itself
            # only from the rest; its imports are still what partners report shipping to it
            kept = max(production[i] - self.held_back.get((imp.label, k), 0.0), 0.0)
            needs = use[i] - min(kept, use[i])
            if needs <= 0:
                continue
            row = self._partner_row(imp, stage, names)
            if row is not None:
                row[i] = 0.0
                flows[i] = needs * row / row.sum() if row.sum() > 0 else 0.0
            else:
                known = self._known_flows(imp, stage, names)
                if known is not None:
                    flows[i] = known * min(1.0, needs / known.sum())
        shipped = flows.sum(axis=0)
        direct = flows * np.divide(
            np.minimum(shipped, production), shipped, out=np.zeros_like(shipped), where=shipped > 0
        )
        reexports = flows - direct
        if reexports.sum() > 1e-12 * max(production.sum(), 1e-300):
            hubs = [names[h] for h in np.flatnonzero(reexports.sum(axis=0) > 0)]
            self.notes.append(f"{stage}: {', '.join(hubs)} ship on material bought from producers (re-exports)")
        return direct, reexports

    def _processor_reexports(self, k: int, production, use, attested, reexports) -> None:
        """A producer that exports processed products made from the ore it imports (see
        :meth:`_producer_apparent_use`) ships that share on, as a hub: to the nodes whose imports the data leave
        open, in proportion to them (adds to ``reexports`` [consumer, hub]); it buys the ore from producers like
        any importer. Its export restrictions withhold these shipments too (the engine's re-exports)."""
        for (stage, hub), yearly in self.processors.items():
            if stage != k or yearly <= 0:
                continue
            open_needs = np.maximum(use - production - attested.sum(axis=1) - reexports.sum(axis=1), 0.0)
            open_needs[hub] = 0.0
            if open_needs.sum() <= 0:
                continue
            shipped = min(yearly / MONTHS, float(open_needs.sum()))
            reexports[:, hub] += shipped * open_needs / open_needs.sum()

    def _partner_row(self, imp: Importer, stage: str, names) -> np.ndarray | None:
        shares = self._import_shares(imp, stage, exact_stage=True)
        if shares is None and self._known_flows(imp, stage, names) is None:
            shares = self._import_shares(imp, stage)
        if shares is None:
            return None
        row = np.zeros(len(names))
        for partner, value in shares.items():
            node = next((nm for nm in names if partner in self._members_of(nm)), ROW)
            row[names.index(node)] += value
        return row

    def _known_flows(self, imp: Importer, stage: str, names) -> np.ndarray | None:
        """Monthly tonnes partners report exporting to the importer at this stage."""
        flows = rows_as_of(self._facts("export_quantity", stage, self._exporters(), partner=imp.members), self.year)
        if flows.empty:
            return None
        row = np.zeros(len(names))
        for _, fact in flows.iterrows():
            row[names.index(self._node_of(str(fact["country"]), names))] += (
                float(fact["value"]) * to_tonnes(str(fact["unit"]))[1] / MONTHS
            )
        for member in imp.members:  # and what it imports from the partners that report none (its demand counts it)
            others = self.other_partners.get((member, stage))
            for partner, tonnes in [] if others is None else zip(others["partner"], others["tonnes"], strict=True):
                if partner not in imp.members:
                    row[names.index(self._node_of(str(partner), names))] += float(tonnes) / MONTHS
        return row

    def _node_of(self, country: str, names) -> str:
        return next((nm for nm in names if country in self._members_of(nm)), ROW)

    def _members_of(self, node: str) -> tuple[str, ...]:
        for imp in self.importers:
            if imp.label == node:
                return imp.members
        return (node,)

    # stocks in the pipeline
    def stocks(self, names) -> tuple[np.ndarray, np.ndarray]:
        """Months of cover [K, N, 3] and transit months [K, 3] (low, central, high) from ``inventory_cover`` and
        ``transit_time`` facts (in days): a node's own figure, else its members' mean, else the world figure.
        Where no source gives one, no stock (no transit time) is modelled, and a note says so."""
        k_count = len(self.stages)
        cover = np.zeros((k_count, len(names), 3))
        transit = np.zeros((k_count, 3))
        for k, stage in enumerate(self.stages):
            held = self._days("inventory_cover", stage)
            for n, node in enumerate(names):
                figures = [held[c] for c in (*self._members_of(node), node) if c in held] or [held.get(WORLD)]
                figures = [f for f in figures if f is not None]
                if figures:
                    cover[k, n] = np.mean(figures, axis=0) / DAYS_PER_MONTH
            if not held:
                self.notes.append(f"{stage}: no source gives users' stocks of {self.commodity}; none are modelled")
            shipped = self._days("transit_time", stage)
            if WORLD in shipped:
                transit[k] = shipped[WORLD] / DAYS_PER_MONTH
        return cover, transit

    def _days(self, measure: str, stage: str) -> dict[str, np.ndarray]:
        """Latest (low, central, high) days per country of a stage's stock or transit facts."""
        rows = self._facts(measure, stage, self._countries_with(measure))
        out = {}
        for country, group in rows.groupby("country"):
            row = rows_as_of(group, self.year).iloc[0]
            value = float(row["value"])
            low = float(row["low"]) if math.isfinite(row["low"]) else value
            high = float(row["high"]) if math.isfinite(row["high"]) else value
            out[str(country)] = np.array([low, value, high])
            self.sources.add(str(row["source"]))
        return out

    def _countries_with(self, measure: str) -> list[str]:
        return sorted(set(self.world.select(commodity=self.commodity, measure=measure)["country"]))

    # what a tonne is worth
    def values(self, units: list[str], sectors) -> tuple[np.ndarray, np.ndarray]:
        """USD per tonne of each stage's product and of the downstream output per sector (see
        :mod:`oresight.simulate.markets`); NaN where no source gives one."""
        from oresight.simulate.markets import output_values, reference_price

        price = np.full(len(self.stages), np.nan)
        worth = np.full((len(self.stages), len(sectors)), np.nan)
        for k, stage in enumerate(self.stages):
            found = reference_price(self.world, self.commodity, stage, self.year)
            if found is not None and units[k] == "t":
                price[k] = found[0]
                self.sources.add(found[1])
                self.notes.append(f"{stage}: valued at {quantity(found[0])} USD/t ({found[2]})")
            for sector, (value, source) in output_values(self.world, self.commodity, stage, sectors, self.year).items():
                worth[k, sectors.index(sector)] = value
                self.sources.add(source)
        return price, worth

    # sectors and spare capacity
    def sector_shares(self, names) -> tuple[tuple[str, ...], np.ndarray]:
        rows = self.world.select(commodity=self.commodity, measure="end_use_share")
        with_data = set(rows["sector"])
        sectors = tuple(
            dict.fromkeys(
                [
                    *(s for s in self.end_uses if s in with_data and s != OTHER_SECTOR),
                    *sorted(with_data - {OTHER_SECTOR, ""} - set(self.end_uses)),
                    OTHER_SECTOR,
                ]
            )
        )
        shares = np.zeros((len(self.stages), len(self.importers), len(sectors)))
        for k, stage in enumerate(self.stages):
            for i, imp in enumerate(self.importers):
                chosen: dict[str, float] = {}
                for scope in ([WORLD], list(imp.members)):  # country-specific figures override world ones
                    picked = rows[rows["stage"].isin([stage, ""]) & rows["country"].isin(scope)]
                    for sector, group in picked.groupby("sector"):
                        if sector in sectors and sector != OTHER_SECTOR:
                            latest = rows_as_of(group, self.year)
                            value = latest["high"] if (latest["status"] == "upper_bound").all() else latest["value"]
                            chosen[str(sector)] = float(value.mean())
                            self.sources.update(latest["source"])
                total = sum(chosen.values())
                if total > 1:
                    chosen = {s: v / total for s, v in chosen.items()}
                for g, sector in enumerate(sectors):
                    # a sector no source gives for this importer is not attested (NaN), its use stays in "other"
                    shares[k, i, g] = chosen.get(sector, np.nan)
                shares[k, i, -1] = max(0.0, 1 - np.nansum(shares[k, i, :-1]))
        return sectors, shares

    def spare(self, names, production) -> np.ndarray:
        spare = np.full_like(production, np.nan)
        for k, stage in enumerate(self.stages):
            rows = self.world.select(commodity=self.commodity, stage=stage, measure="capacity")
            for country, group in rows[~rows["country"].isin(AGGREGATES)].groupby("country"):
                latest = rows_as_of(group, self.year)
                node = next((nm for nm in names if str(country) in self._members_of(nm)), None)
                if node is None or latest.empty:
                    continue
                n = names.index(node)
                monthly = float(latest["value"].iat[0]) * to_tonnes(str(latest["unit"].iat[0]))[1] / MONTHS
                if production[k, n] > 0:
                    spare[k, n] = max(monthly / production[k, n] - 1, 0.0)
                    self.sources.update(latest["source"])
        return spare


def calibrate(
    world: World,
    commodity: str,
    importers: list[Importer],
    year: int | None = None,
    *,
    extra_nodes: tuple[str, ...] = (),
    own_use_from_trade: bool = False,
) -> Baseline:
    """The monthly baseline of a commodity's chain for the given importers (see the module doc for the rules).

    ``year``: the base year (None: see the module doc). ``extra_nodes``: countries to model as their own node
    even if they produce nothing (e.g. a shock's target). ``own_use_from_trade``: those of them that produce but
    report no exports use their apparent consumption, at most their output (what :func:`oresight.simulate
    .simulate` and sweeps do for a scenario's exporters and outage countries; the planner keeps the plain rule).
    """
    calibration = _Calibration(world, commodity, importers, year, extra_nodes)
    calibration.own_use_from_trade = own_use_from_trade
    totals, units, bases = calibration.volumes()
    coefficient, totals = calibration.coefficients(totals)
    inputs = chain_inputs(coefficient)
    not_modelled = calibration.modelled(units)
    names, members = calibration.nodes()
    production = calibration.production(totals, names)
    final = calibration.final_demand(names, production, inputs, units)
    own, imports, reexports = calibration.flows(names, production, final, inputs)
    sectors, sector_share = calibration.sector_shares(names)
    cover, transit = calibration.stocks(names)
    price, output_value = calibration.values(units, sectors)
    baseline = Baseline(
        commodity=commodity,
        stages=calibration.stages,
        units=tuple(units),
        bases=tuple(bases),
        years=tuple(int(v.year) if v.year is not None else 0 for v in calibration.views),
        nodes=tuple(names),
        importers=tuple(imp.label for imp in calibration.importers),
        members=members,
        production=production,
        final_demand=final,
        inputs=inputs,
        own=own,
        imports=imports,
        reexports=reexports,
        spare=calibration.spare(names, production),
        sectors=sectors,
        sector_share=sector_share,
        year=calibration.year,
        not_modelled=not_modelled,
        demand_basis=calibration.demand_basis,
        cover=cover,
        transit=transit,
        price=price,
        output_value=output_value,
        notes=calibration.notes,
        sources=sorted(calibration.sources),
    )
    baseline.check_balance()
    return baseline


def _bridge_bounded_shares(view: StageView, notes: list[str]) -> xr.DataArray:
    """A stage's shares with every country known only from bounds ("below 9%": no estimate, NaN) placed at the
    midpoint of its interval, taken out of ROW, and a note saying so; other missing shares are 0 (in ROW).

    A bound is never used as a value (docs/data.md); a baseline needs a number, so it bridges with the midpoint.
    """
    share = view.shares["share"]
    bounded = share.isnull() & view.shares["high"].notnull()
    if not bool(bounded.any()):
        return share.fillna(0.0)
    midpoint = ((view.shares["low"].fillna(0.0) + view.shares["high"]) / 2).where(bounded, 0.0)
    bridged = share.fillna(0.0) + midpoint
    if ROW in bridged.country:
        bridged.loc[{"country": ROW}] = max(0.0, float(bridged.sel(country=ROW)) - float(midpoint.sum()))
    for country in bridged.country.values[bounded.values]:
        low, high = float(view.shares["low"].sel(country=country)), float(view.shares["high"].sel(country=country))
        notes.append(
            f"{view.stage}: {country}'s share is only bounded ({low:.0%}–{high:.0%}); "
            f"the midpoint {float(midpoint.sel(country=country)):.1%} is used, taken from ROW"
        )
    return bridged

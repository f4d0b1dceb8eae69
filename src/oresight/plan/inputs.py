"""Sets and data of a plan: the alliance's chains by commodity and stage, its demand, its existing supply by
origin, candidate projects, prices and financiers — everything the model needs, as plain arrays.

The chains come from the simulator's calibrated baseline (:func:`oresight.simulate.calibrate`), the same baseline
the out-of-sample Monte Carlo runs on. Rare earths are planned by element: the rare-earth baseline's stages are
turned into NdPr, Dy and Tb oxide equivalents with the magnet composition of ``projects/conversions.yaml``
(separation and metal stages split in the proportions a magnet uses them; magnets by their content). The mining
stage of rare earths is not planned: separation plants buy concentrate on the market outside China or are
integrated with their own mine (docs/methods.md, limits).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oresight.errors import DataNotAttestedError, OresightError
from oresight.facts import usd_per_tonne
from oresight.plan.projects import PLAN_COMMODITIES, load_projects
from oresight.plan.spec import PlanError, PlanSpec
from oresight.world import World

__all__ = [
    "Chain",
    "PlanInputs",
    "calc_growth",
    "calc_member_flows",
    "calc_relays",
    "calc_volatility",
    "chain_source",
    "gather_inputs",
]

RARE_EARTH_ELEMENTS = ("ndpr", "dysprosium", "terbium")
CHINA = "CHN"


@dataclass
class Chain:
    """One planned commodity's chain, yearly tonnes in the chain's basis, per member of the alliance.

    Each member has its own sub-network: its plants (``own``: production less what it exports to the other
    countries of the network, which those count as imports), its imports from China and from everyone else
    (partners included), its final demand by sector."""

    commodity: str
    basis: str
    stages: tuple[str, ...]
    final_demand: np.ndarray  # [K, M] base-year final demand of each member
    own: np.ndarray  # [K, M] each member's own production (existing plants) that it does not export to the network
    china: np.ndarray  # [K, M] imports from China by member
    other: np.ndarray  # [K, M] imports from everyone else (partners and other members included), and what hubs
    #                    ship on to the member of what they bought outside China
    relayed_china: np.ndarray  # [K, M] what hubs ship on to the member of what they bought from China
    coefficient: np.ndarray  # [K] t of the stage before per t of this stage, for existing plants
    china_share: np.ndarray  # [K] China's share of world output of the stage (knock-on on other suppliers)
    sectors: tuple[str, ...]
    sector_share: np.ndarray  # [K, M, sector] share of each member's final demand at a stage by sector
    price: np.ndarray  # [K] USD per t (outside China) of the stage's product, NaN where not attested
    outside_output: np.ndarray  # [K] t a year the world makes of the stage's product outside China (base year)
    notes: list[str] = field(default_factory=list)

    @property
    def final_stage(self) -> int:
        """The last stage with final demand: the one whose shortfall the risk measures."""
        demand = self.final_demand.sum(axis=1)
        return int(np.flatnonzero(demand > 0)[-1]) if (demand > 0).any() else len(self.stages) - 1


@dataclass
class PlanInputs:
    spec: PlanSpec
    members: tuple[str, ...]  # who plans, holds stocks and has risk counted
    network: tuple[str, ...]  # members and partners: the countries the chains are calibrated for
    years: tuple[int, ...]
    chains: dict[str, Chain]
    growth: dict[str, np.ndarray]  # commodity -> [T] demand index (1 in the base year)
    projects: pd.DataFrame  # one row per candidate project and commodity
    support_usd: pd.Series  # project -> public support it needs (USD)
    capex_imputed: pd.Series  # project -> True where capex came from peers
    magnet_content: dict[str, float]  # element -> t oxide per t magnet
    magnet_price: float  # USD per t magnet outside China
    magnet_outside_output: float  # t of magnets a year made outside China (base year)
    financiers: pd.DataFrame
    floors: pd.DataFrame  # price-floor terms: commodity, usd_per_t, years, stages, failure_reduction, volatility,
    #                       price_usd_per_t (the price outside China the paths start from)
    notes: list[str]
    sources: list[str]

    @property
    def project_ids(self) -> list[str]:
        return list(dict.fromkeys(self.projects["project"]))


def calc_growth(years: list[int], points: dict[int, float]) -> np.ndarray:
    """Demand index by year: linear between the outlook's years, flat beyond them, 1 at the first point.

    >>> calc_growth([2024, 2027, 2030, 2040], {2024: 100.0, 2030: 160.0}).round(2).tolist()
    [1.0, 1.3, 1.6, 1.6]
    """
    xs = sorted(points)
    base = points[xs[0]]
    return np.interp(years, xs, [points[x] / base for x in xs])


def gather_inputs(world: World, spec: PlanSpec) -> PlanInputs:
    """Everything a plan needs, read once from the World and the bundled pipeline."""
    members = tuple(_members(world, spec.members, "members"))
    partners = tuple(p for p in _members(world, spec.partners, "partners") if p not in members)
    network = members + partners
    unknown = [c for c in spec.commodities if c not in PLAN_COMMODITIES]
    if unknown:
        raise PlanError(
            f"not planned commodities: {unknown}", field="commodities", expected=", ".join(PLAN_COMMODITIES)
        )
    spec = _resolve_targets(world, spec, members)
    notes: list[str] = []
    sources: set[str] = set()
    content = _magnet_content()
    chains: dict[str, Chain] = {}
    baselines = {}
    for commodity in spec.commodities:
        source = chain_source(commodity)
        if source not in baselines:
            baselines[source] = _baseline(world, source, network)
        baseline = baselines[source]
        if baseline is None:
            notes.append(f"{commodity}: no baseline could be calibrated; not planned")
            continue
        sources.update(baseline.sources)
        chain = _chain(world, commodity, baseline, members, network, content)
        if chain.final_demand.sum() <= 0:
            notes.append(f"{commodity}: the members' demand is not attested in the data; not planned")
            continue
        chains[commodity] = chain
        notes.extend(chain.notes)
    years = tuple(spec.years)
    growth = {c: _growth(world, c, spec, years, notes) for c in chains}
    projects = load_projects(candidates_only=True)
    projects = projects[projects["commodity"].isin(list(chains))].reset_index(drop=True)
    sources.update(projects["source"])
    sources.update(projects["capacity_source"])
    capex, imputed = _capex(projects)
    support = capex * spec.support_share
    financiers = _financiers(world, spec, members, notes)
    magnet_price = _price(world, "rare-earths", "magnet", notes, sources)
    magnet_outside = _outside_output(baselines.get("rare-earths"), "magnet")
    floors = _floor_terms(world, spec, chains, notes, sources)
    return PlanInputs(
        spec=spec,
        members=members,
        network=network,
        years=years,
        chains=chains,
        growth=growth,
        projects=projects,
        support_usd=support,
        capex_imputed=imputed,
        magnet_content=content,
        magnet_price=magnet_price,
        magnet_outside_output=magnet_outside,
        financiers=financiers,
        floors=floors,
        notes=notes,
        sources=sorted(sources),
    )


def chain_source(commodity: str) -> str:
    """The simulator's chain a planned commodity comes from (rare-earth elements: the rare-earth chain)."""
    return "rare-earths" if commodity in RARE_EARTH_ELEMENTS else commodity


# -- members, financiers and baselines --------------------------------------------------------------------------
def _member(world: World, name: str, field_name: str) -> str:
    """A member is one country or one bloc (a bloc plans as one, its countries pooled)."""
    try:
        return world.tax.importer(name).label
    except OresightError as exc:
        raise PlanError(str(exc), field=field_name) from None


def _members(world: World, names: list[str], field_name: str) -> list[str]:
    return list(dict.fromkeys(_member(world, name, field_name) for name in names))


def _resolve_targets(world: World, spec: PlanSpec, members: tuple[str, ...]) -> PlanSpec:
    """``risk_targets`` keyed by the members' labels; a key that is no member or no planned commodity is refused."""
    if not spec.risk_targets:
        return spec
    resolved: dict[str, dict[str, float]] = {}
    for name, by in spec.risk_targets.items():
        member = _member(world, name, "risk_targets")
        if member not in members:
            raise PlanError(f"{name} is not a member of the plan", field="risk_targets", expected=", ".join(members))
        unknown = [c for c in by if c not in spec.commodities]
        if unknown:
            raise PlanError(
                f"not planned commodities: {unknown}", field="risk_targets", expected=", ".join(spec.commodities)
            )
        resolved[member] = dict(by)
    return spec.model_copy(update={"risk_targets": resolved})


def _financiers(world: World, spec: PlanSpec, members: tuple[str, ...], notes: list[str]) -> pd.DataFrame:
    """The financiers of the members (others are left out with a note)."""
    table = pd.DataFrame([f.model_dump() for f in spec.financiers])
    table["member"] = [_member(world, m, "financiers") for m in table["member"]]
    left_out = sorted(set(table.loc[~table["member"].isin(members), "id"]))
    table = table[table["member"].isin(members)]
    if table.empty:
        raise PlanError(
            f"no financier belongs to a member ({', '.join(members)})", field="financiers", expected="member: ISO3"
        )
    if left_out:
        notes.append(f"financiers of non-members left out: {', '.join(left_out)}")
    return table.reset_index(drop=True)


#: calibrated baselines per World (a World is fixed once loaded; plans of a frontier or a comparison share them)
_BASELINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _baseline(world: World, commodity: str, network: tuple[str, ...]):
    from oresight.simulate import calibrate

    known = _BASELINES.setdefault(world, {})
    key = (commodity, tuple(sorted(network)))
    if key not in known:
        try:
            # every country of the network is a node, even one the simulator cannot model (no demand data)
            importers = [world.tax.importer(m) for m in key[1]]
            known[key] = calibrate(world, commodity, importers, None, extra_nodes=key[1])
        except DataNotAttestedError:
            known[key] = None
    return known[key]


def _magnet_content() -> dict[str, float]:
    from oresight.plan.projects import load_conversions

    return {e: load_conversions()["magnet"][e].factor for e in RARE_EARTH_ELEMENTS}


def _stage_factors(commodity: str, stages: tuple[str, ...], content: dict[str, float]) -> np.ndarray:
    """t of the planned commodity (chain basis) per t of the baseline's stage product."""
    if commodity not in RARE_EARTH_ELEMENTS:
        return np.ones(len(stages))
    split = content[commodity] / sum(content.values())
    per_stage = {"mining": math.nan, "refining": split, "metal": split / 0.850, "magnet": content[commodity]}
    return np.array([per_stage[s] for s in stages])


def calc_member_flows(
    production: np.ndarray, imports: np.ndarray, members: list[int], network: list[int], china: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each member's own supply, imports from China and imports from everyone else, [K, M] each.

    A member's own supply is its production less what it sells to the other countries of the network (they count
    it among their imports), so no tonne is counted twice.

    >>> production = np.array([[10.0, 5.0, 0.0]])            # one stage; nodes USA, JPN, CHN
    >>> imports = np.array([[[0, 2, 3], [1, 0, 4], [0, 0, 0.0]]])  # [stage, consumer, producer]
    >>> own, china, other = calc_member_flows(production, imports, [0, 1], [0, 1], 2)
    >>> own.tolist(), china.tolist(), other.tolist()
    ([[9.0, 3.0]], [[3.0, 4.0]], [[2.0, 1.0]])
    """
    sold_to_network = np.stack([imports[:, [n for n in network if n != m], m].sum(axis=1) for m in members], axis=1)
    own = production[:, members] - sold_to_network
    nodes = imports.shape[1]
    from_china = imports[:, members, china] if china is not None else np.zeros((imports.shape[0], len(members)))
    others = [[n for n in range(nodes) if n != m and n != china] for m in members]
    from_others = np.stack([imports[:, m, o].sum(axis=1) for m, o in zip(members, others, strict=True)], axis=1)
    return np.maximum(own, 0.0), from_china, from_others


def calc_relays(
    imports: np.ndarray, reexports: np.ndarray, members: list[int], china: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What hubs ship on to each member, split by where the hub bought it, and the share of its own imports each
    member keeps, [K, M] each: ``(from_china, from_others, kept)``.

    A hub (a trading or processing country, ``reexports[stage, consumer, hub]``) ships on part of what it buys
    from producers; the origin of what it ships on is taken pro rata to its purchases. A member that is itself a
    hub keeps only what it does not ship on (the buyer counts the rest), so no tonne is counted twice.

    >>> imports = np.zeros((1, 4, 4))         # one stage; nodes USA, BEL (a hub), CHN, ROW
    >>> imports[0, 1] = [0.0, 0.0, 8.0, 2.0]  # BEL buys 8 t from China and 2 t from the rest of the world
    >>> reexports = np.zeros((1, 4, 4))
    >>> reexports[0, 0, 1] = 5.0              # and ships 5 t of it on to the USA
    >>> from_china, from_others, kept = calc_relays(imports, reexports, [0, 1], 2)
    >>> from_china.tolist(), from_others.tolist(), kept.tolist()
    ([[4.0, 0.0]], [[1.0, 0.0]], [[1.0, 0.5]])
    """
    bought = imports.sum(axis=2)  # [K, N] what each node buys from producers
    china_share = (
        np.divide(imports[:, :, china], bought, out=np.zeros_like(bought), where=bought > 0)
        if china is not None
        else np.zeros_like(bought)
    )
    relayed = reexports[:, members, :]  # [K, M, hub]
    from_china = (relayed * china_share[:, None, :]).sum(axis=2)
    from_others = relayed.sum(axis=2) - from_china
    onward = reexports.sum(axis=1)[:, members]  # [K, M] what each member ships on
    total = bought[:, members]
    kept = 1 - np.divide(onward, total, out=np.zeros_like(total), where=total > 0)
    return from_china, from_others, np.clip(kept, 0.0, 1.0)


def _outside_output(baseline, stage: str) -> float:
    """t a year the world makes of a baseline stage's product outside China (NaN without the stage)."""
    if baseline is None or stage not in baseline.stages:
        return math.nan
    k = baseline.stages.index(stage)
    outside = [i for i, n in enumerate(baseline.nodes) if n != CHINA]
    return float(baseline.production[k, outside].sum() * 12.0)


def _chain(
    world: World,
    commodity: str,
    baseline,
    members: tuple[str, ...],
    network: tuple[str, ...],
    content: dict[str, float],
) -> Chain:
    stages = tuple(baseline.stages)
    keep = [i for i, s in enumerate(stages) if not (commodity in RARE_EARTH_ELEMENTS and s == "mining")]
    factor = _stage_factors(commodity, stages, content)
    member_idx = [baseline.index(m) for m in members]
    china_idx = baseline.index(CHINA) if CHINA in baseline.nodes else None
    year = 12.0  # the baseline is monthly
    own, china, other = calc_member_flows(
        baseline.production, baseline.imports, member_idx, [baseline.index(n) for n in network], china_idx
    )
    relayed_china, relayed_other, kept = calc_relays(baseline.imports, baseline.reexports, member_idx, china_idx)
    china, other = china * kept, other * kept + relayed_other
    scale = year * factor[:, None]
    coefficient = baseline.coefficient * np.divide(
        np.roll(factor, 1), factor, out=np.zeros_like(factor), where=factor > 0
    )
    coefficient[0] = 0.0
    world_output = baseline.production.sum(axis=1)
    china_share = np.divide(
        baseline.production[:, china_idx] if china_idx is not None else np.zeros(len(stages)),
        world_output,
        out=np.zeros(len(stages)),
        where=world_output > 0,
    )
    sector_share = _sector_shares(baseline, members)
    prices = np.array([_price(world, commodity, s, [], set()) for s in stages])
    chain = Chain(
        commodity=commodity,
        basis=PLAN_COMMODITIES[commodity],
        stages=tuple(stages[i] for i in keep),
        final_demand=(baseline.final_demand[:, member_idx] * scale)[keep],
        own=(own * scale)[keep],
        china=(china * scale)[keep],
        other=(other * scale)[keep],
        relayed_china=(relayed_china * scale)[keep],
        coefficient=coefficient[keep] if keep[0] == 0 else np.concatenate([[0.0], coefficient[keep][1:]]),
        china_share=china_share[keep],
        sectors=tuple(baseline.sectors) or ("other",),
        sector_share=sector_share[keep],
        price=prices[keep],
        outside_output=(np.array([_outside_output(baseline, s) for s in stages]) * factor)[keep],
    )
    if commodity in RARE_EARTH_ELEMENTS:
        chain.notes.append(
            f"{commodity}: element chain derived from the rare-earth baseline with the magnet composition "
            "(projects/conversions.yaml)"
        )
    return chain


def _sector_shares(baseline, members: tuple[str, ...]) -> np.ndarray:
    """[K, M, sector] shares of final demand; a stage without sector data, or a member the baseline does not
    model (no demand data: not among its importers), goes whole to "other"."""
    if not baseline.sectors:
        return np.ones((len(baseline.stages), len(members), 1))
    shares = np.zeros((len(baseline.stages), len(members), len(baseline.sectors)))
    for j, member in enumerate(members):
        if member in baseline.importers:
            shares[:, j] = np.nan_to_num(baseline.sector_share[:, baseline.importers.index(member), :])
    total = shares.sum(axis=2, keepdims=True)
    other = list(baseline.sectors).index("other") if "other" in baseline.sectors else len(baseline.sectors) - 1
    fallback = np.zeros_like(shares)
    fallback[..., other] = 1.0
    return np.where(total > 0, shares / np.where(total > 0, total, 1.0), fallback)


# -- growth, prices, capex -------------------------------------------------------------------------------------
def _growth(world: World, commodity: str, spec: PlanSpec, years: tuple[int, ...], notes: list[str]) -> np.ndarray:
    source = chain_source(commodity)
    rows = world.select(commodity=source, measure="demand", scenario=None, sector="")
    rows = rows[rows["scenario"].isin(["", spec.demand_scenario])]
    points = {int(y): float(v) for y, v in zip(rows["year"], rows["value"], strict=True) if not math.isnan(v)}
    if len(points) < 2:
        notes.append(f"{commodity}: no IEA demand outlook in the data; demand held at its base-year level")
        return np.ones(len(years))
    notes.append(f"{commodity}: demand grows as the IEA {spec.demand_scenario} outlook of {source}")
    return calc_growth(list(years), points)


def _price(world: World, commodity: str, stage: str, notes: list[str], sources: set[str]) -> float:
    """USD per tonne of the chain's basis outside China (ROW), else a world, US or China price; NaN if none.

    Rare-earth elements are valued at their oxide price at every stage (metal by its oxide content)."""
    rows = world.select(commodity=commodity, measure="price")
    if commodity in RARE_EARTH_ELEMENTS:
        rows = rows[rows["stage"] == "refining"]
    elif commodity == "rare-earths":
        rows = rows[rows["stage"] == stage]
    for country in ("ROW", "WLD", "USA", CHINA):
        found = rows[(rows["country"] == country) & rows["value"].notna()]
        for _, latest in found.sort_values("year", ascending=False).iterrows():
            per_t = usd_per_tonne(float(latest["value"]), str(latest["unit"]))
            if not math.isnan(per_t):
                sources.add(str(latest["source"]))
                metal = stage == "metal" and commodity in RARE_EARTH_ELEMENTS
                return per_t / 0.850 if metal else per_t
    notes.append(f"{commodity} {stage}: no price attested; it cannot be stockpiled")
    return math.nan


#: yearly price series (USGS, free on board outside China) that stand for a planned commodity's price history
PRICE_SERIES = {"ndpr": ("neodymium", "praseodymium"), "dysprosium": ("dysprosium",), "terbium": ("terbium",)}


def _price_history(world: World, commodity: str, sources: set[str]) -> pd.Series:
    """USD/kg by year outside China (the mean of the series that stand for the commodity), for the volatility of
    the price paths; empty where the data hold none."""
    rows = world.select(measure="price", country="USA")
    rows = rows[rows["commodity"].isin(PRICE_SERIES.get(commodity, (commodity,))) & (rows["unit"] == "USD/kg")]
    rows = rows[rows["stage"].isin(["", "refining"]) & rows["value"].notna()]
    sources.update(rows["source"])
    return rows.groupby("year")["value"].mean().sort_index()


def calc_volatility(prices: pd.Series) -> float:
    """Annual volatility of the log price: the standard deviation of its yearly changes.

    >>> round(calc_volatility(pd.Series([100.0, 110.0, 99.0, 120.0])), 3)
    0.152
    """
    changes = np.diff(np.log(prices.to_numpy(float)))
    return float(np.std(changes, ddof=1)) if len(changes) >= 2 else math.nan


def _floor_terms(world: World, spec: PlanSpec, chains: dict, notes: list[str], sources: set[str]) -> pd.DataFrame:
    """Each price floor's level (from the data unless the plan gives it), term, eligible stages and the price
    model its payouts are drawn from: the price outside China and the volatility of the yearly history."""
    rows = []
    for floor in spec.price_floors:
        if floor.commodity not in chains:
            continue
        level = floor.usd_per_kg
        if level is None:
            facts = world.select(commodity=floor.commodity, measure="price_floor")
            facts = facts[facts["value"].notna()].sort_values("year")
            if facts.empty:
                raise PlanError(
                    f"no price floor of {floor.commodity} in the data", field="price_floors", expected="usd_per_kg"
                )
            level = usd_per_tonne(float(facts["value"].iat[-1]), str(facts["unit"].iat[-1])) / 1000.0
            sources.add(str(facts["source"].iat[-1]))
        volatility = floor.volatility
        if volatility is None:
            history = _price_history(world, floor.commodity, sources)
            volatility = calc_volatility(history)
            if math.isnan(volatility):
                raise PlanError(
                    f"no yearly price history of {floor.commodity} to draw prices from",
                    field="price_floors",
                    expected="volatility",
                )
            notes.append(
                f"{floor.commodity} price paths: lognormal, volatility {volatility:.2f} a year from the yearly prices "
                f"{int(history.index[0])}-{int(history.index[-1])}"
            )
        chain = chains[floor.commodity]
        start = chain.price[chain.stages.index("refining")] if "refining" in chain.stages else chain.price[0]
        sources.add(floor.source)
        rows.append(
            {
                "commodity": floor.commodity,
                "usd_per_t": level * 1000.0,
                "years": floor.years,
                "stages": tuple(floor.stages),
                "failure_reduction": floor.failure_reduction,
                "volatility": volatility,
                "price_usd_per_t": float(start),
                "source": floor.source,
            }
        )
    columns = ["commodity", "usd_per_t", "years", "stages", "failure_reduction", "volatility", "price_usd_per_t"]
    return pd.DataFrame(rows, columns=[*columns, "source"])


def _capex(projects: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Capex per project; where the source gives none, the median capex per tonne of capacity of verified peers
    at the same stage and commodity (rare-earth elements pooled), flagged as imputed."""
    first = projects.drop_duplicates("project").set_index("project")
    capex = first["capex_usd"].astype(float)
    lead = projects.sort_values("capacity_t", ascending=False).drop_duplicates("project").set_index("project")
    group = lead["commodity"].where(~lead["commodity"].isin(RARE_EARTH_ELEMENTS), "rare-earths")
    intensity = (capex / lead["capacity_t"]).where(first["verified"] == "yes")
    peers = pd.DataFrame({"stage": first["stage"], "group": group, "intensity": intensity})
    by_group = peers.groupby(["stage", "group"])["intensity"].median()
    by_commodity = peers.groupby("group")["intensity"].median()
    imputed = capex.isna()
    for project in capex.index[imputed]:
        stage, commodity = first.at[project, "stage"], group[project]
        # verified peers at the same stage and commodity, else of the same commodity at any stage
        rates = [by_group.get((stage, commodity), math.nan), by_commodity.get(commodity, math.nan)]
        rate = next((r for r in rates if not math.isnan(r)), math.nan)
        if math.isnan(rate):
            raise DataNotAttestedError(f"no capex for {project} and no verified peer to impute it from")
        capex[project] = rate * lead.at[project, "capacity_t"]
    return capex, imputed

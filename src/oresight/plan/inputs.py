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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oresight.errors import DataNotAttestedError, OresightError
from oresight.plan.projects import PLAN_COMMODITIES, load_projects
from oresight.plan.spec import PlanError, PlanSpec
from oresight.world import World

__all__ = ["Chain", "PlanInputs", "calc_growth", "gather_inputs"]

RARE_EARTH_ELEMENTS = ("ndpr", "dysprosium", "terbium")
CHINA = "CHN"
#: t of each element (as oxide) per t of magnet: projects/conversions.yaml, magnet row (kept in one place)
_LB_PER_KG = 2.20462


@dataclass
class Chain:
    """One planned commodity's chain for the alliance, yearly tonnes in the chain's basis."""

    commodity: str
    basis: str
    stages: tuple[str, ...]
    final_demand: np.ndarray  # [K] base-year final demand of the members
    own: np.ndarray  # [K] members' own production (existing plants)
    china: np.ndarray  # [K, M] imports from China by member
    other: np.ndarray  # [K] imports from everyone else outside the alliance
    coefficient: np.ndarray  # [K] t of the stage before per t of this stage, for existing plants
    china_share: np.ndarray  # [K] China's share of world output of the stage (knock-on on other suppliers)
    sector_share: dict[str, float]  # sector -> share of final demand
    price: np.ndarray  # [K] USD per t (outside China) of the stage's product, NaN where not attested
    notes: list[str] = field(default_factory=list)

    @property
    def final_stage(self) -> int:
        return int(np.flatnonzero(self.final_demand > 0)[-1]) if (self.final_demand > 0).any() else len(self.stages) - 1


@dataclass
class PlanInputs:
    spec: PlanSpec
    members: tuple[str, ...]
    years: tuple[int, ...]
    chains: dict[str, Chain]
    growth: dict[str, np.ndarray]  # commodity -> [T] demand index (1 in the base year)
    projects: pd.DataFrame  # one row per candidate project and commodity
    support_usd: pd.Series  # project -> public support it needs (USD)
    capex_imputed: pd.Series  # project -> True where capex came from peers
    magnet_content: dict[str, float]  # element -> t oxide per t magnet
    magnet_price: float  # USD per t magnet outside China
    financiers: pd.DataFrame
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
    members = tuple(_members(world, spec.members))
    unknown = [c for c in spec.commodities if c not in PLAN_COMMODITIES]
    if unknown:
        raise PlanError(
            f"not planned commodities: {unknown}", field="commodities", expected=", ".join(PLAN_COMMODITIES)
        )
    notes: list[str] = []
    sources: set[str] = set()
    content = _magnet_content()
    chains: dict[str, Chain] = {}
    baselines = {}
    for commodity in spec.commodities:
        source = "rare-earths" if commodity in RARE_EARTH_ELEMENTS else commodity
        if source not in baselines:
            baselines[source] = _baseline(world, source, members)
        baseline = baselines[source]
        if baseline is None:
            notes.append(f"{commodity}: no baseline could be calibrated; not planned")
            continue
        sources.update(baseline.sources)
        chain = _chain(world, commodity, baseline, members, content)
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
    financiers = pd.DataFrame([f.model_dump() for f in spec.financiers])
    bad = sorted(set(financiers["member"]) - set(members) - _member_aliases(world, financiers["member"]))
    financiers = financiers[financiers["member"].map(lambda m: _resolve_member(world, m)).isin(members)]
    financiers = financiers.assign(member=financiers["member"].map(lambda m: _resolve_member(world, m)))
    if financiers.empty:
        raise PlanError(
            f"no financier belongs to a member ({', '.join(members)})", field="financiers", expected="member: ISO3"
        )
    if bad:
        notes.append(f"financiers of non-members left out: {', '.join(bad)}")
    magnet_price = _price(world, "rare-earths", "magnet", notes, sources)
    return PlanInputs(
        spec=spec,
        members=members,
        years=years,
        chains=chains,
        growth=growth,
        projects=projects,
        support_usd=support,
        capex_imputed=imputed,
        magnet_content=content,
        magnet_price=magnet_price,
        financiers=financiers.reset_index(drop=True),
        notes=notes,
        sources=sorted(sources),
    )


# -- members and baselines -------------------------------------------------------------------------------------
def _resolve_member(world: World, name: str) -> str:
    importer = world.tax.importer(name)
    return importer.members[0] if len(importer.members) == 1 else importer.id


def _member_aliases(world: World, names) -> set[str]:
    return {n for n in names if _resolve_member(world, n) != n}


def _members(world: World, names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        try:
            importer = world.tax.importer(name)
        except OresightError as exc:
            raise PlanError(str(exc), field="members") from None
        out.extend(m for m in importer.members if m not in out)
    return out


def _baseline(world: World, commodity: str, members: tuple[str, ...]):
    from oresight.simulate import calibrate

    importers = [world.tax.importer(m) for m in members]
    try:
        return calibrate(world, commodity, importers, None)
    except DataNotAttestedError:
        return None


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


def _chain(world: World, commodity: str, baseline, members: tuple[str, ...], content: dict[str, float]) -> Chain:
    stages = tuple(baseline.stages)
    keep = [i for i, s in enumerate(stages) if not (commodity in RARE_EARTH_ELEMENTS and s == "mining")]
    factor = _stage_factors(commodity, stages, content)
    member_idx = [baseline.index(m) for m in members]
    others = [i for i, n in enumerate(baseline.nodes) if n not in members and n != CHINA]
    year = 12.0  # the baseline is monthly
    fd = baseline.final_demand[:, member_idx].sum(axis=1) * year * factor
    own = baseline.production[:, member_idx].sum(axis=1) * year * factor
    china_idx = baseline.index(CHINA) if CHINA in baseline.nodes else None
    china = (
        baseline.imports[:, member_idx, china_idx] * year * factor[:, None]
        if china_idx is not None
        else np.zeros((len(stages), len(members)))
    )
    other = baseline.imports[:, member_idx][:, :, others].sum(axis=(1, 2)) * year * factor
    coefficient = baseline.coefficient * np.divide(
        np.roll(factor, 1), factor, out=np.zeros_like(factor), where=factor > 0
    )
    coefficient[0] = 0.0
    sectors = _sector_shares(baseline, member_idx, fd)
    world_output = baseline.production.sum(axis=1)
    china_share = np.divide(
        baseline.production[:, china_idx] if china_idx is not None else np.zeros(len(stages)),
        world_output,
        out=np.zeros(len(stages)),
        where=world_output > 0,
    )
    prices = np.array([_price(world, commodity, s, [], set()) for s in stages])
    chain = Chain(
        commodity=commodity,
        basis=PLAN_COMMODITIES[commodity],
        stages=tuple(stages[i] for i in keep),
        final_demand=fd[keep],
        own=own[keep],
        china=china[keep],
        other=other[keep],
        coefficient=coefficient[keep] if keep[0] == 0 else np.concatenate([[0.0], coefficient[keep][1:]]),
        sector_share=sectors,
        china_share=china_share[keep],
        price=prices[keep],
    )
    if commodity in RARE_EARTH_ELEMENTS:
        chain.notes.append(
            f"{commodity}: element chain derived from the rare-earth baseline with the magnet composition "
            "(projects/conversions.yaml)"
        )
    return chain


def _sector_shares(baseline, member_idx: list[int], final_demand: np.ndarray) -> dict[str, float]:
    last = int(np.flatnonzero(final_demand > 0)[-1]) if (final_demand > 0).any() else len(final_demand) - 1
    weights = baseline.final_demand[last, member_idx]
    if weights.sum() <= 0 or not baseline.sectors:
        return {"other": 1.0}
    positions = [baseline.importers.index(n) for n in baseline.nodes if n in baseline.importers]
    shares = baseline.sector_share[last][[positions[i] for i in range(len(member_idx))]]
    combined = (shares * weights[:, None]).sum(axis=0) / weights.sum()
    total = combined.sum()
    if total <= 0:
        return {"other": 1.0}
    return {s: float(v / total) for s, v in zip(baseline.sectors, combined, strict=True) if v > 0}


# -- growth, prices, capex -------------------------------------------------------------------------------------
def _growth(world: World, commodity: str, spec: PlanSpec, years: tuple[int, ...], notes: list[str]) -> np.ndarray:
    source = "rare-earths" if commodity in RARE_EARTH_ELEMENTS else commodity
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
            per_t = _per_tonne(float(latest["value"]), str(latest["unit"]))
            if not math.isnan(per_t):
                sources.add(str(latest["source"]))
                metal = stage == "metal" and commodity in RARE_EARTH_ELEMENTS
                return per_t / 0.850 if metal else per_t
    notes.append(f"{commodity} {stage}: no price attested; it cannot be stockpiled")
    return math.nan


def _per_tonne(value: float, unit: str) -> float:
    return {"USD/kg": 1000.0, "USD/t": 1.0, "USD/lb": 1000.0 * _LB_PER_KG}.get(unit, math.nan) * value


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

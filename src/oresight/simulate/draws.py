"""From a scenario to what the engine needs: names resolved to nodes and stages, every number drawn for every
sample, and time profiles built month by month. Errors name the scenario field they come from."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from oresight.errors import OresightError
from oresight.simulate.baseline import ROW, WEEKS_PER_MONTH, Baseline
from oresight.simulate.distributions import draw
from oresight.simulate.markets import expectations
from oresight.simulate.scenario import (
    DemandShock,
    ExportRestriction,
    ProductionOutage,
    Scenario,
    ScenarioError,
    Stockpile,
    Supply,
)
from oresight.taxonomy import Taxonomy

__all__ = [
    "SAMPLE_AXIS",
    "Draws",
    "ShockPiece",
    "StockpileDraw",
    "SupplyDraw",
    "calc_ramp",
    "calc_window",
    "make_draws",
    "region_name",
]


def region_name(country: str) -> str:
    """The name of a price region: a country's English name as a lower-case slug.

    >>> region_name("China"), region_name("DR Congo")
    ('china', 'dr-congo')
    """
    return re.sub(r"[^a-z0-9]+", "-", country.lower()).strip("-")


@dataclass
class ShockPiece:
    """One shock at one stage (a shock over three stages is three pieces, sharing their draws)."""

    shock: int
    kind: str
    label: str
    stage: int
    node: int  # exporter or country hit; -1 for a world-wide demand shock
    targets: np.ndarray  # bool [N]: importers a restriction applies to / nodes a demand shock applies to
    weights: np.ndarray  # float [N]: share of each producer's exports the restriction reaches
    strength: np.ndarray  # [S]: blocked share, lost share or demand change
    profile: np.ndarray  # [S, H]: 1 at full strength, fading to 0 (a restriction's shifted by the transit time)
    #: float [N]: share of each hub's re-exports an extraterritorial restriction reaches
    onward: np.ndarray | None = None
    #: [S]: month from which the market knows the shock's course (its announcement, at the latest its start)
    announced: np.ndarray | None = None

    @property
    def intensity(self) -> np.ndarray:
        """Strength times profile, [S, H]."""
        return self.strength[:, None] * self.profile


@dataclass
class StockpileDraw:
    name: str
    holder: str
    stage: int
    nodes: np.ndarray  # bool [N]
    level: np.ndarray  # [S] tonnes at the start
    rule: str
    rate: np.ndarray  # [S] most tonnes released per month
    start: np.ndarray  # [S] first month of release
    cover: np.ndarray  # [S] months of the holders' normal use at that stage


@dataclass
class SupplyDraw:
    kind: str  # recycling | new_capacity
    name: str
    stage: int
    node: int
    monthly: np.ndarray  # [S, H] tonnes


@dataclass
class Draws:
    commodity: str
    samples: int
    horizon: int
    pieces: list[ShockPiece]
    stockpiles: list[StockpileDraw]
    supplies: list[SupplyDraw]
    spare: np.ndarray  # [K, S, N] spare output as a share of normal output, 0 where not eligible
    ramp: np.ndarray  # [K, S, H] share of spare capacity available each month
    elasticity: np.ndarray  # [K, S, H] demand elasticity to the price index (0 = none)
    price_elasticity: np.ndarray  # [K, S]
    price_cap: np.ndarray  # [K]
    priority: np.ndarray  # bool [sector]
    #: [K, S, N] months of normal use each node holds in stock of each stage's product
    cover: np.ndarray | None = None
    #: [K, S] months goods spend in transit at each stage
    transit: np.ndarray | None = None
    #: [K, N] price region of each node at each stage (0 = the only or the outside region)
    regions: np.ndarray | None = None
    #: names of the price regions of each stage: ("",) or ("outside-china", "china")
    region_names: tuple[tuple[str, ...], ...] = ()
    price_floor: np.ndarray | None = None  # [K]
    #: [K, S]: share of the way to its new level a price moves each month (1 = at once)
    price_speed: np.ndarray | None = None
    #: nodes whose exports the result reports (the exporters and countries shocks name), [X]
    exporters: tuple[int, ...] = ()
    #: [S]: share of what exporters owe that they ship each month once a restriction eases
    backlog_rate: np.ndarray | None = None
    #: [K, 2, S, H]: supply each price region expects over its look-ahead window from each month, under the
    #: shocks known by then; [K, 2, S]: its needs over that window (see :func:`.markets.expectations`)
    expected_supply: np.ndarray | None = None
    expected_need: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        k_count, n = self.spare.shape[0], self.spare.shape[2]
        if self.cover is None:
            self.cover = np.zeros((k_count, self.samples, n))
        if self.transit is None:
            self.transit = np.zeros((k_count, self.samples))
        if self.regions is None:
            self.regions = np.zeros((k_count, n), dtype=int)
            self.region_names = (("",),) * k_count
        if self.price_speed is None:
            self.price_speed = np.ones((k_count, self.samples))
        if self.price_floor is None:
            self.price_floor = np.full(k_count, 0.5)
        if self.backlog_rate is None:
            self.backlog_rate = np.full(self.samples, 0.5)

    def take(self, start: int, stop: int) -> Draws:
        """The draws of samples ``start`` to ``stop`` (views, not copies): the engine runs blocks of samples."""
        cut = slice(start, stop)
        per_sample = {
            name: getattr(self, name)[(slice(None),) * axis + (cut,)]
            for name, axis in SAMPLE_AXIS.items()
            if getattr(self, name) is not None
        }
        return replace(
            self,
            samples=stop - start,
            pieces=[
                replace(
                    p,
                    strength=p.strength[cut],
                    profile=p.profile[cut],
                    announced=p.announced[cut] if p.announced is not None else None,
                )
                for p in self.pieces
            ],
            stockpiles=[
                replace(s, level=s.level[cut], rate=s.rate[cut], start=s.start[cut], cover=s.cover[cut])
                for s in self.stockpiles
            ],
            supplies=[replace(s, monthly=s.monthly[cut]) for s in self.supplies],
            **per_sample,
        )


#: the axis of samples of each array of :class:`Draws` drawn per sample (the others are the same for all samples)
SAMPLE_AXIS = {
    "spare": 1,
    "ramp": 1,
    "elasticity": 1,
    "price_elasticity": 1,
    "cover": 1,
    "transit": 1,
    "price_speed": 1,
    "backlog_rate": 0,
    "expected_supply": 2,
    "expected_need": 2,
}
#: arrays of :class:`Draws` that are the same for every sample
SHARED = ("price_cap", "priority", "regions", "price_floor")


# -- time profiles ------------------------------------------------------------------------------------------
def calc_window(start: np.ndarray, duration: np.ndarray, ease: np.ndarray, horizon: int) -> np.ndarray:
    """Share of each month [m, m+1) during which a shock is at full strength, plus the average of its linear
    fade over ``ease`` months after the end. Month 1 is the first month; fractional months count pro rata.

    >>> calc_window(np.array([2.0]), np.array([2.0]), np.array([0.0]), 5).tolist()
    [[0.0, 1.0, 1.0, 0.0, 0.0]]
    >>> calc_window(np.array([1.0]), np.array([1.0]), np.array([2.0]), 4).round(2).tolist()
    [[1.0, 0.75, 0.25, 0.0]]
    """
    months = np.arange(1, horizon + 1, dtype=float)[None, :]
    ease = np.where(ease < 1e-9, 0.0, ease)  # a fade shorter than that is no fade (and would overflow)
    start, duration, ease = start[:, None], duration[:, None], ease[:, None]
    end = start + duration
    full = np.clip(np.minimum(months + 1, end) - np.maximum(months, start), 0.0, 1.0)
    lo, hi = np.maximum(months, end), np.minimum(months + 1, end + ease)
    span = np.clip(hi - lo, 0.0, None)
    safe = np.where(ease > 0, ease, 1.0)
    fade = np.where(ease > 0, span - ((hi - end) ** 2 - (lo - end) ** 2) / (2 * safe) * (span > 0), 0.0)
    return full + fade


def calc_ramp(start: np.ndarray, ramp: np.ndarray, horizon: int) -> np.ndarray:
    """Share of full strength reached in each month by something that starts in month ``start`` and grows
    linearly over ``ramp`` months (immediately when ramp is 0).

    >>> calc_ramp(np.array([2.0]), np.array([2.0]), 5).tolist()
    [[0.0, 0.5, 1.0, 1.0, 1.0]]
    """
    months = np.arange(1, horizon + 1, dtype=float)[None, :]
    ramp = np.where(ramp < 1e-9, 0.0, ramp)
    start, ramp = start[:, None], ramp[:, None]
    grown = np.where(ramp > 0, (months - start + 1) / np.where(ramp > 0, ramp, 1.0), 1.0)
    return np.where(months >= start, np.clip(grown, 0.0, 1.0), 0.0)


# -- resolution ---------------------------------------------------------------------------------------------
class _Drawer:
    def __init__(self, scenario: Scenario, baseline: Baseline, tax: Taxonomy, origin: str):
        self.scenario, self.baseline, self.tax, self.origin = scenario, baseline, tax, origin
        self.samples, self.horizon, self.seed = scenario.samples, scenario.horizon_months, scenario.seed
        self.notes: list[str] = []

    def error(self, path: str, message: str) -> ScenarioError:
        return ScenarioError(message, path=self.origin, field=path)

    def draw(self, value, path: str) -> np.ndarray:
        return draw(value, self.samples, seed=self.seed, path=path)

    def stages(self, stages: list[str] | None, path: str, commodity: str | None = None) -> list[int]:
        """Indices of the named stages (all when None) among those of the commodity's materials."""
        allowed = self.material_stages(commodity)
        if stages is None:
            return allowed
        found = []
        for i, name in enumerate(stages):
            try:
                stage = self.tax.stage(name)
            except OresightError as exc:
                raise self.error(f"{path}[{i}]", str(exc)) from None
            hits = [k for k in allowed if self.baseline.stages[k] == stage]
            if not hits:
                names = dict.fromkeys(self.baseline.stages[k] for k in allowed)
                raise self.error(
                    f"{path}[{i}]",
                    f"stage {stage!r} has no data in the {self.baseline.commodity} chain; allowed: {', '.join(names)}",
                )
            found.extend(hits)
        return found

    def material_stages(self, commodity: str | None) -> list[int]:
        """Stages a commodity name concerns: all for the run's commodity (or no name), else the stages of the
        materials it names (an element, or a group of elements such as heavy rare earths)."""
        b = self.baseline
        everything = list(range(len(b.stages)))
        if commodity is None:
            return everything
        wanted = self.tax.commodity(commodity).id
        if wanted == b.commodity:
            return everything
        family = {wanted, *self.tax.children(wanted)}
        return [k for k in everything if b.materials[k] in family]

    def node(self, name: str, path: str, stage: int | None = None) -> int | None:
        """The node of a country or bloc name; None when it is part of ROW. "largest" = top producer."""
        if name == "largest":
            production = self.baseline.production[stage if stage is not None else 0].copy()
            production[self.baseline.index(ROW)] = -1
            return int(production.argmax())
        try:
            importer = self.tax.importer(name)
        except OresightError as exc:
            raise self.error(path, str(exc)) from None
        if importer.label in self.baseline.nodes:
            return self.baseline.index(importer.label)
        nodes = {self.baseline.node_of(m) for m in importer.members} - {None}
        if len(nodes) == 1:
            return self.baseline.index(nodes.pop())
        return None

    def node_mask(self, names: list[str] | str, path: str) -> np.ndarray:
        mask = np.zeros(len(self.baseline.nodes), dtype=bool)
        if names == "all":
            return ~mask
        for i, name in enumerate(names):
            importer = self._importer(name, f"{path}[{i}]")
            hit = [
                self.baseline.index(n)
                for n in self.baseline.nodes
                if set(importer.members) & set(self.baseline.members[n]) or n == importer.label
            ]
            if not hit:
                self.notes.append(f"{path}[{i}]: {name} is not modelled on its own (it is part of ROW); not applied")
            mask[hit] = True
        return mask

    def _importer(self, name: str, path: str):
        try:
            return self.tax.importer(name)
        except OresightError as exc:
            raise self.error(path, str(exc)) from None

    def window(self, shock, path: str, delay: np.ndarray | None = None) -> np.ndarray:
        start = self.draw(shock.start_month, f"{path}.start_month") + (0.0 if delay is None else delay)
        duration = (
            self.draw(shock.duration_months, f"{path}.duration_months")
            if shock.duration_months is not None
            else np.full(self.samples, float(self.horizon + 1))
        )
        ease = self.draw(shock.ease_months, f"{path}.ease_months")
        return calc_window(start, duration, ease, self.horizon)

    # shocks
    def pieces(self, indices: list[int]) -> list[ShockPiece]:
        pieces = []
        for index in indices:
            shock = self.scenario.shocks[index]
            path = f"shocks[{index}]"
            profile = self.window(shock, path)
            announced = self.announced(shock, path)
            for stage in self.stages(shock.stages, f"{path}.stages", shock.commodity):
                if isinstance(shock, ExportRestriction):  # goods already shipped still arrive
                    profile = self.window(shock, path, delay=self.transit[stage])
                piece = self._piece(index, shock, path, stage, profile)
                piece.announced = announced
                pieces.append(piece)
        return pieces

    def announced(self, shock, path: str) -> np.ndarray:
        """Month from which the shock's course is known: its announcement, at the latest its start. An export
        restriction is a decree that states its course, known from its start unless announced earlier; an
        outage or a demand shock is not anticipated (inf) unless the scenario dates an announcement."""
        start = self.draw(shock.start_month, f"{path}.start_month")
        if shock.announced_month is not None:
            return np.minimum(self.draw(shock.announced_month, f"{path}.announced_month"), start)
        return start if isinstance(shock, ExportRestriction) else np.full(self.samples, np.inf)

    def _piece(self, index, shock, path, stage, profile) -> ShockPiece:
        n = len(self.baseline.nodes)
        label = shock.label or shock.kind.replace("_", " ")
        if isinstance(shock, ExportRestriction):
            exporter = self.node(shock.exporter, f"{path}.exporter", stage)
            if exporter is None:
                raise self.error(
                    f"{path}.exporter", f"{shock.exporter} produces no {self.baseline.commodity} in the data"
                )
            targets = self.node_mask(shock.targets, f"{path}.targets")
            targets[exporter] = False
            weights = np.zeros(n)
            weights[exporter] = 1.0
            onward = np.zeros(n)
            if shock.extraterritorial:
                for upstream in np.flatnonzero(self.baseline.inputs[stage]):
                    weights = np.maximum(weights, self._input_share_from(exporter, int(upstream)))
                onward = self._input_share_from(exporter, stage)
            strength = self.draw(shock.blocked, f"{path}.blocked") * self.draw(shock.coverage, f"{path}.coverage")
            node = exporter
        elif isinstance(shock, ProductionOutage):
            node = self.node(shock.country, f"{path}.country", stage)
            if node is None:
                raise self.error(
                    f"{path}.country", f"{shock.country} produces no {self.baseline.commodity} in the data"
                )
            targets, weights, onward = np.zeros(n, dtype=bool), np.zeros(n), np.zeros(n)
            strength = self.draw(shock.lost, f"{path}.lost")
        else:
            assert isinstance(shock, DemandShock)
            targets = self.node_mask("all" if shock.country == "all" else [shock.country], f"{path}.country")
            weights, onward, node = np.zeros(n), np.zeros(n), -1
            strength = self.draw(shock.change, f"{path}.change")
        name = self.baseline.nodes[node] if node >= 0 else "all"
        return ShockPiece(
            index,
            shock.kind,
            f"{label} {name} {self.baseline.label(stage)}",
            stage,
            node,
            targets,
            weights,
            strength,
            profile,
            onward,
        )

    def _input_share_from(self, exporter: int, upstream: int) -> np.ndarray:
        """Each node's share of what it buys of a stage's product that comes from the exporter (the reach of an
        extraterritorial rule: on products made from it, and on re-exports of it)."""
        b = self.baseline
        use = b.own[upstream] + b.imports[upstream].sum(axis=1)
        from_exporter = b.imports[upstream][:, exporter].copy()
        from_exporter[exporter] += b.own[upstream][exporter]
        return np.divide(from_exporter, use, out=np.zeros_like(use), where=use > 0)

    # responses
    def stockpile(self, index: int, spec: Stockpile) -> StockpileDraw:
        path = f"responses.stockpiles[{index}]"
        stage = self.one_stage(spec.stage, f"{path}.stage", spec.commodity)
        if spec.holder == "all":
            label, nodes = "all", np.ones(len(self.baseline.nodes), dtype=bool)
        else:
            holder = self._importer(spec.holder, f"{path}.holder")
            label = holder.label
            nodes = np.array(
                [
                    bool(set(holder.members) & set(self.baseline.members[n])) or n == holder.label
                    for n in self.baseline.nodes
                ]
            )
        if not nodes.any():
            raise self.error(
                f"{path}.holder",
                f"{spec.holder} is not among the modelled nodes: "
                f"{', '.join(n for n in self.baseline.nodes if n != ROW)}",
            )
        monthly_use = float(self.baseline.use[stage][nodes].sum())
        if spec.tonnes is not None:
            level = self.draw(spec.tonnes, f"{path}.tonnes")
        else:
            level = self.draw(spec.months_of_cover, f"{path}.months_of_cover") * monthly_use
        rate = (
            self.draw(spec.max_release_per_month, f"{path}.max_release_per_month")
            if spec.max_release_per_month is not None
            else np.full(self.samples, np.inf)
        )
        cover = level / monthly_use if monthly_use > 0 else np.full(self.samples, np.inf)
        name = spec.name or f"{label} {self.baseline.label(stage)}"
        return StockpileDraw(
            name,
            label,
            stage,
            nodes,
            level,
            spec.release,
            rate,
            self.draw(spec.start_month, f"{path}.start_month"),
            cover,
        )

    def supply(self, kind: str, index: int, spec: Supply) -> SupplyDraw:
        path = f"responses.{kind}[{index}]"
        stage = self.one_stage(spec.stage, f"{path}.stage", spec.commodity)
        node = self.node(spec.country, f"{path}.country")
        if node is None:
            node = self.baseline.index(ROW)
            self.notes.append(f"{path}: {spec.country} is part of ROW here; its supply goes to ROW")
        monthly = (
            self.draw(spec.tonnes_per_year, f"{path}.tonnes_per_year")[:, None]
            / 12
            * calc_ramp(
                self.draw(spec.start_month, f"{path}.start_month"),
                self.draw(spec.ramp_months, f"{path}.ramp_months"),
                self.horizon,
            )
        )
        name = spec.name or f"{kind.replace('_', ' ')} {self.baseline.nodes[node]} {self.baseline.label(stage)}"
        return SupplyDraw(kind, name, stage, node, monthly)

    def rerouting(self, pieces: list[ShockPiece], first_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k_count, n = len(self.baseline.stages), len(self.baseline.nodes)
        spare = np.zeros((k_count, self.samples, n))
        ramp = np.zeros((k_count, self.samples, self.horizon))
        for index, spec in enumerate(self.scenario.responses.rerouting):
            path = f"responses.rerouting[{index}]"
            if not self.concerns(spec.commodity, f"{path}.commodity"):
                continue
            excluded = self.node_mask(spec.exclude, f"{path}.exclude") if spec.exclude else np.zeros(n, dtype=bool)
            months = self.draw(spec.ramp_months, f"{path}.ramp_months")
            share = (
                self.draw(spec.spare_capacity, f"{path}.spare_capacity") if spec.spare_capacity is not None else None
            )
            for k in self.stages(spec.stages, f"{path}.stages", spec.commodity):
                hit = np.zeros(n, dtype=bool)
                for piece in pieces:
                    if piece.stage == k and piece.node >= 0 and piece.kind != "demand_shock":
                        hit[piece.node] = True
                eligible = (self.baseline.production[k] > 0) & ~excluded & ~hit
                capacity = share[:, None] if share is not None else np.nan_to_num(self.baseline.spare[k])[None, :]
                spare[k] = np.where(eligible[None, :], capacity, 0.0)
                ramp[k] = calc_ramp(first_start, months, self.horizon)
        return spare, ramp

    def elasticity(self, first_start: np.ndarray) -> np.ndarray:
        k_count = len(self.baseline.stages)
        total = np.zeros((k_count, self.samples, self.horizon))
        responses = self.scenario.responses
        for kind, entries in (
            ("substitution", responses.substitution),
            ("demand_destruction", responses.demand_destruction),
        ):
            for index, spec in enumerate(entries):
                path = f"responses.{kind}[{index}]"
                if not self.concerns(spec.commodity, f"{path}.commodity"):
                    continue
                value = self.draw(spec.elasticity, f"{path}.elasticity")[:, None]
                adjust = calc_ramp(
                    first_start, self.draw(spec.adjustment_months, f"{path}.adjustment_months"), self.horizon
                )
                for k in self.stages(spec.stages, f"{path}.stages", spec.commodity):
                    total[k] += value * adjust
        return total

    def _commodity(self, name: str, path: str) -> str:
        try:
            return self.tax.commodity(name).id
        except OresightError as exc:
            raise self.error(path, str(exc)) from None

    def concerns(self, name: str | None, path: str) -> bool:
        """Whether a response for the commodity ``name`` (None: every commodity) acts on this run."""
        if name is None:
            return True
        self._commodity(name, path)
        return bool(self.material_stages(name))

    def one_stage(self, stage: str, path: str, commodity: str) -> int:
        found = self.stages([stage], path, commodity)
        if len(found) > 1:
            options = ", ".join(dict.fromkeys(self.baseline.materials[k] for k in found))
            raise self.error(path, f"stage {stage!r} exists for several materials here; name one of: {options}")
        return found[0]

    # stocks in the pipeline
    def inventories(self) -> tuple[np.ndarray, np.ndarray]:
        """Months of cover [K, S, N] and transit months [K, S]: the baseline's sourced defaults (triangular over
        their low, central and high values), overridden where the scenario's ``inventories`` say so."""
        b = self.baseline
        k_count, n = len(b.stages), len(b.nodes)
        cover = np.zeros((k_count, self.samples, n))
        transit = np.zeros((k_count, self.samples))
        for k in range(k_count):
            for node in range(n):
                cover[k, :, node] = self._default(b.cover[k, node], f"inventories.default.{b.key(k)}.{b.nodes[node]}")
            transit[k] = self._default(b.transit[k], f"inventories.default.{b.key(k)}.transit")
        for index, spec in enumerate(self.scenario.inventories):
            path = f"inventories[{index}]"
            if not self.concerns(spec.commodity, f"{path}.commodity"):
                continue
            holders = (
                np.ones(n, dtype=bool) if spec.holder == "all" else self.node_mask([spec.holder], f"{path}.holder")
            )
            for k in self.stages(spec.stages, f"{path}.stages", spec.commodity):
                if spec.weeks_of_cover is not None:
                    weeks = self.draw(spec.weeks_of_cover, f"{path}.weeks_of_cover")
                    cover[k][:, holders] = (weeks / WEEKS_PER_MONTH)[:, None]
                if spec.transit_weeks is not None:
                    transit[k] = self.draw(spec.transit_weeks, f"{path}.transit_weeks") / WEEKS_PER_MONTH
        return cover, transit

    def _default(self, low_mode_high: np.ndarray, path: str) -> np.ndarray:
        low, mode, high = (float(v) if np.isfinite(v) else 0.0 for v in low_mode_high)
        if not low < high:
            return np.full(self.samples, mode)
        stream = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(zlib.crc32(path.encode()),)))
        return stream.triangular(low, min(max(mode, low), high), high, self.samples)

    # prices
    def price_model(self) -> dict[str, np.ndarray]:
        """Per stage the price model's parameters: the scenario's ``price:`` where it sets them, else the
        calibrated values of ``markets.yaml`` for the stage's material."""
        from oresight.simulate.markets import parameters

        b, given = self.baseline, self.scenario.price.model_fields_set
        out: dict[str, list] = {"elasticity": [], "max_index": [], "min_index": [], "adjustment_months": []}
        for k in range(len(b.stages)):
            defaults = parameters(b.materials[k], b.stages[k])
            for name in out:
                value = getattr(self.scenario.price, name) if name in given else defaults[name]
                if name in ("elasticity", "adjustment_months"):
                    value = self.draw(value, f"price.{name}") if name in given else np.full(self.samples, value)
                out[name].append(value)
        return {name: np.array(values, dtype=float) for name, values in out.items()}

    # price regions
    def regions(self, pieces: list[ShockPiece]) -> tuple[np.ndarray, tuple[tuple[str, ...], ...]]:
        """Two price regions at a stage where an export restriction separates the exporter's users from the
        rest of the world (the exporter must use some of the stage's product itself); one region elsewhere."""
        b = self.baseline
        regions = np.zeros((len(b.stages), len(b.nodes)), dtype=int)
        names: list[tuple[str, ...]] = [("",)] * len(b.stages)
        for piece in pieces:
            k, exporter = piece.stage, piece.node
            if piece.kind != "export_restriction" or names[k] != ("",) or b.use[k, exporter] <= 0:
                continue
            name = region_name(self.tax.countries.name(b.nodes[exporter]))
            regions[k, exporter] = 1
            names[k] = (f"outside-{name}", name)
        return regions, tuple(names)

    def first_start(self, pieces: list[ShockPiece]) -> np.ndarray:
        starts = [np.argmax(p.profile > 0, axis=1) + 1.0 for p in pieces if p.profile.any()]
        return np.min(starts, axis=0) if starts else np.full(self.samples, np.inf)


def make_draws(
    scenario: Scenario, baseline: Baseline, tax: Taxonomy, shock_indices: list[int], origin: str = "scenario"
) -> Draws:
    """Resolve and draw everything a run of one commodity needs."""
    drawer = _Drawer(scenario, baseline, tax, origin)
    cover, drawer.transit = drawer.inventories()
    pieces = drawer.pieces(shock_indices)
    responses = scenario.responses
    stockpiles = [
        drawer.stockpile(i, s)
        for i, s in enumerate(responses.stockpiles)
        if drawer.concerns(s.commodity, f"responses.stockpiles[{i}].commodity")
    ]
    supplies = [
        drawer.supply(kind, i, s)
        for kind in ("recycling", "new_capacity")
        for i, s in enumerate(getattr(responses, kind))
        if drawer.concerns(s.commodity, f"responses.{kind}[{i}].commodity")
    ]
    first_start = drawer.first_start(pieces)
    spare, ramp = drawer.rerouting(pieces, first_start)
    regions, region_names = drawer.regions(pieces)
    sectors = baseline.sectors
    priority = np.zeros(len(sectors), dtype=bool)
    for i, name in enumerate(responses.priority_sectors):
        try:
            sector = tax.sector(name)
        except OresightError as exc:
            raise drawer.error(f"responses.priority_sectors[{i}]", str(exc)) from None
        if sector in sectors:
            priority[sectors.index(sector)] = True
    price = drawer.price_model()
    exporters = tuple(dict.fromkeys(p.node for p in pieces if p.kind != "demand_shock"))
    draws = Draws(
        commodity=baseline.commodity,
        samples=scenario.samples,
        horizon=scenario.horizon_months,
        pieces=pieces,
        stockpiles=stockpiles,
        supplies=supplies,
        spare=spare,
        ramp=ramp,
        elasticity=drawer.elasticity(first_start),
        price_elasticity=price["elasticity"],
        price_cap=price["max_index"],
        priority=priority,
        cover=cover,
        transit=drawer.transit,
        regions=regions,
        region_names=region_names,
        price_floor=price["min_index"],
        price_speed=1.0 / (1.0 + price["adjustment_months"]),
        exporters=exporters,
        backlog_rate=drawer.draw(scenario.backlog_rate, "backlog_rate"),
        notes=drawer.notes,
    )
    draws.expected_supply, draws.expected_need = expectations(baseline, draws)
    return draws

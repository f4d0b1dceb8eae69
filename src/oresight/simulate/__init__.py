"""Stress tests: time-stepped, mass-balanced simulation of export controls, outages and demand shocks along
mineral chains, with stockpiles, rerouting, substitution, recycling and prices, under uncertainty.

>>> import oresight
>>> from oresight.simulate import simulate
>>> sim = simulate("cn-2025-04-heavy-ree-controls", oresight.load(), samples=200)
>>> sim.summary()["importers"]["JPN"]["shortfall_t"]["p50"] > 0
True
>>> sim.check_mass_balance() < 1e-6
True

The structure (:mod:`.scenario`) is declared apart from the data that fill it (:mod:`.baseline`, calibrated
from the World); :mod:`.draws` draws every uncertain number, :mod:`.engine` runs the months, :mod:`.result`
shapes and checks the output and :mod:`.explain` attributes shortfalls to shocks.
"""

from __future__ import annotations

import importlib.metadata
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import xarray as xr

from oresight.errors import DataNotAttestedError, OresightError
from oresight.simulate.baseline import Baseline, calibrate
from oresight.simulate.draws import make_draws
from oresight.simulate.elements import calibrate_elements, rare_earth_material
from oresight.simulate.engine import run
from oresight.simulate.explain import attribute
from oresight.simulate.growth import grow
from oresight.simulate.result import CommodityRun, Outputs, assemble, check_mass_balance, summarise
from oresight.simulate.scenario import (
    Scenario,
    ScenarioError,
    library_names,
    load_scenario,
    parse_scenario,
    scenario_yaml,
    variant,
)
from oresight.world import World

__all__ = [
    "Baseline",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "calibrate",
    "calibrated",
    "check_scenario",
    "latest_export_control",
    "library_names",
    "load_scenario",
    "parse_scenario",
    "simulate",
    "with_overrides",
]


@dataclass
class Simulation:
    """A finished run: the scenario as run, the result Dataset and, if asked, the shortfalls' causes."""

    scenario: Scenario
    dataset: xr.Dataset
    runs: list[CommodityRun]
    causes: dict | None = None
    notes: list[str] = field(default_factory=list)
    #: the scenario's variants (``variants:``), run on the same draws
    variants: dict[str, Simulation] = field(default_factory=dict)

    def summary(self) -> dict:
        summary = summarise(self.dataset, self.causes)
        if self.variants:
            summary["comparisons"] = [self.compare(other) for other in self.variants.values()]
        return summary

    def compare(self, other: Simulation) -> dict:
        """The paired comparison with another run on the same draws (see :mod:`oresight.simulate.compare`)."""
        from oresight.simulate.compare import compare

        return compare(self, other)

    def check_mass_balance(self) -> float:
        return check_mass_balance(self.dataset)

    def baseline(self, commodity: str | None = None) -> Baseline:
        runs = [r for r in self.runs if commodity in (None, r.baseline.commodity)]
        if not runs:
            raise OresightError(f"this run has no {commodity} chain")
        return runs[0].baseline


_BASELINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHED_PER_WORLD = 64


def calibrated(world: World, commodity: str, importers, year: int | None, *, extra_nodes=()) -> Baseline:
    """:func:`calibrate`, remembered per World: the baseline depends only on the World's facts and these
    arguments, and variants, comparisons, backtests and sweeps run many scenarios on one World. Nothing reads or
    changes a baseline after calibration, so sharing it is safe."""
    key = (commodity, tuple((i.label, i.members) for i in importers), year, tuple(extra_nodes))
    known = _BASELINES.setdefault(world, {})
    if key not in known:
        if len(known) >= _CACHED_PER_WORLD:
            known.pop(next(iter(known)))
        known[key] = _calibrate(world, commodity, importers, year, extra_nodes)
    return known[key]


def _calibrate(world: World, commodity: str, importers, year, extra_nodes) -> Baseline:
    """Rare earths by element where the element facts allow it (see :mod:`.elements`), else the chain."""
    # the scenario's named countries (exporters, outage countries) use their apparent consumption where they
    # report no exports, so that a restriction's withheld tonnes stay in a market of their own users
    named = {"extra_nodes": extra_nodes, "own_use_from_trade": True}
    if commodity != "rare-earths":
        return calibrate(world, commodity, importers, year, **named)
    try:
        return calibrate_elements(world, importers, year, **named)
    except DataNotAttestedError as exc:
        baseline = calibrate(world, commodity, importers, year, **named)
        baseline.notes.append(f"rare earths simulated as one chain, not by element: {exc}")
        return baseline


def with_overrides(scenario: Scenario, **overrides) -> Scenario:
    """The scenario with top-level keys replaced (None leaves a key as it is), validated again."""
    changes = {k: v for k, v in overrides.items() if v is not None}
    if not changes:
        return scenario
    return parse_scenario({**scenario.model_dump(mode="json", exclude_none=True), **changes})


def _run_of(world: World, name: str) -> str:
    """The run a commodity name belongs to: rare earths and their elements, groups and products share the
    chain by element; anything else is its own commodity."""
    commodity, _ = world.resolve(name)
    return "rare-earths" if rare_earth_material(world.tax, commodity) else commodity


def _resolve_commodities(scenario: Scenario, world: World) -> dict[str, list[int]]:
    """Shock indices per resolved commodity id; responses must concern a shocked commodity."""
    by_commodity: dict[str, list[int]] = {}
    for index, shock in enumerate(scenario.shocks):
        try:
            commodity = _run_of(world, shock.commodity)
        except OresightError as exc:
            raise ScenarioError(str(exc), field=f"shocks[{index}].commodity") from None
        by_commodity.setdefault(commodity, []).append(index)
    responses = scenario.responses
    for kind in ("stockpiles", "recycling", "new_capacity"):
        for index, spec in enumerate(getattr(responses, kind)):
            try:
                commodity = _run_of(world, spec.commodity)
            except OresightError as exc:
                raise ScenarioError(str(exc), field=f"responses.{kind}[{index}].commodity") from None
            if commodity not in by_commodity:
                raise ScenarioError(
                    f"no shock concerns {commodity}, so this response would have nothing to do",
                    field=f"responses.{kind}[{index}].commodity",
                    expected=f"one of: {', '.join(by_commodity) or 'a commodity with a shock'}",
                )
    return by_commodity


def simulate(
    scenario: Scenario | str | Path,
    world: World | None = None,
    *,
    importers: list[str] | None = None,
    samples: int | None = None,
    horizon: int | None = None,
    seed: int | None = None,
    settings: list[str] | dict = (),
    explain: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Run a scenario (a :class:`Scenario`, a library name or a YAML path) against the World's data.

    ``importers``, ``samples``, ``horizon`` and ``seed`` override the scenario's; ``settings`` are ``key=value``
    overrides as on the command line. ``progress(done, total)`` is called after each simulated month.
    """
    if world is None:
        from oresight.world import load

        world = load()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, settings)
    elif settings:
        from oresight.simulate.scenario import apply_settings

        scenario = parse_scenario(apply_settings(scenario.model_dump(mode="json", exclude_none=True), settings))
    scenario = with_overrides(scenario, importers=importers, samples=samples, horizon_months=horizon, seed=seed)
    resolved, by_commodity = check_scenario(scenario, world)
    total_steps = scenario.horizon_months * len(by_commodity) * (1 + explain)
    done = 0

    def tick(step: int) -> None:
        nonlocal done
        done += step
        if progress is not None:
            progress(done, total_steps)

    runs = []
    for commodity, indices in by_commodity.items():
        baseline = calibrated(
            world, commodity, resolved, scenario.base_year, extra_nodes=_named_nodes(scenario, world, indices)
        )
        baseline = grow(baseline, scenario.start_date or (scenario.event.date if scenario.event is not None else None))
        runs.append(CommodityRun(baseline, make_draws(scenario, baseline, world.tax, indices), None))
    labels = [importer.label for importer in resolved]
    # the result's arrays exist before the engine runs, which writes its balance terms and stocks into them
    outputs = Outputs(runs, list(world.tax.stages), labels)
    for index, commodity_run in enumerate(runs):
        commodity_run.raw = run(commodity_run.baseline, commodity_run.draws, progress=tick, into=outputs.into(index))
    notes = [note for r in runs for note in [*r.baseline.notes, *r.draws.notes, *_price_notes(r)]]
    dataset = assemble(runs, list(world.tax.stages), _attrs(scenario, world, runs, notes), labels, outputs)
    causes = attribute(runs, progress=tick) if explain else None
    variants = {name: simulate(variant(scenario, name), world) for name in scenario.variants}
    return Simulation(scenario, dataset, runs, causes, notes, variants)


def _price_notes(run: CommodityRun) -> list[str]:
    """A note for every price index that reaches its cap (or floor) in some samples: beyond it the model says
    only that the market is at least that tight."""
    notes = []
    draws, b, raw = run.draws, run.baseline, run.raw
    for k in range(len(b.stages)):
        series = [("", raw.price[k])]
        if len(draws.region_names[k]) > 1:
            series += [(f"/{name}", raw.price_region[k, r]) for r, name in enumerate(draws.region_names[k])]
        for suffix, price in series:
            for bound, word in ((draws.price_cap[k], "cap"), (draws.price_floor[k], "floor")):
                hit = float(np.mean(np.isclose(price, bound).any(axis=0)))
                if hit > 0:
                    notes.append(
                        f"price index {b.key(k)}{suffix} reached its {word} ({bound:g}×) in {hit:.0%} of samples"
                    )
    return notes


def check_scenario(scenario: Scenario, world: World):
    """Resolve the scenario's importers and commodities against the World before anything is computed; a name
    it does not know is a :class:`ScenarioError` naming the field. Returns (importers, shock indices by
    commodity)."""
    if not scenario.shocks:
        raise ScenarioError("the scenario has no shocks", field="shocks", expected="at least one shock")
    resolved = [_importer(world, name, i) for i, name in enumerate(scenario.importers)]
    _check_distinct(scenario.importers, resolved)
    return resolved, _resolve_commodities(scenario, world)


def _check_distinct(names: list[str], importers: list) -> None:
    """Each country may be studied once: as itself or as a member of one bloc (a node owns its members)."""
    owner: dict[str, int] = {}
    for index, importer in enumerate(importers):
        for member in importer.members:
            if member in owner:
                first = owner[member]
                what = "is the same importer as" if importer.label == importers[first].label else "overlaps"
                raise ScenarioError(
                    f"{names[index]!r} {what} importers[{first}] ({names[first]!r}): {member} would be counted twice",
                    field=f"importers[{index}]",
                    expected="each country once, alone or in one bloc",
                )
            owner[member] = index


def _importer(world: World, name: str, index: int):
    try:
        return world.tax.importer(name)
    except OresightError as exc:
        raise ScenarioError(str(exc), field=f"importers[{index}]") from None


def _named_nodes(scenario: Scenario, world: World, indices: list[int]) -> tuple[str, ...]:
    """Countries the scenario names that must be nodes of their own (exporters and outage countries)."""
    names = []
    for index in indices:
        shock = scenario.shocks[index]
        name = getattr(shock, "exporter", None) or getattr(shock, "country", None)
        if name and name not in ("all", "largest"):
            try:
                importer = world.tax.importer(name)
            except OresightError as exc:
                field = "exporter" if hasattr(shock, "exporter") else "country"
                raise ScenarioError(str(exc), field=f"shocks[{index}].{field}") from None
            names.extend(importer.members if not importer.is_bloc else ())
    return tuple(names)


def _attrs(scenario: Scenario, world: World, runs: list[CommodityRun], notes: list[str]) -> dict:
    try:
        version = importlib.metadata.version("oresight")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "seed": scenario.seed,
        "data_version": world.data_version,
        "oresight_version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario_yaml": scenario_yaml(scenario),
        "notes": notes,
        "sources": sorted({s for r in runs for s in r.baseline.sources}),
    }


def latest_export_control() -> str:
    """The library scenario of the most recent real export control (by the date of the event it models)."""
    dated = []
    for name in library_names():
        scenario = load_scenario(name)
        if scenario.event and any(s.kind == "export_restriction" for s in scenario.shocks):
            dated.append((scenario.event.date, name))
    if not dated:
        raise OresightError("the scenario library holds no export-control scenario")
    return max(dated)[1]

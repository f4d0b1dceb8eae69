"""From a sweep's grids to scenarios: names resolved against the World, one disruption per combination, each
with a stable id and its own seed, grouped into batches (the tasks a cluster runs).

A disruption is one kind (export restriction or production outage) by one exporter at one stage of one
commodity, with a severity (share blocked or lost), a start and a duration. Its id is a hash of exactly these
values, so the same disruption has the same id in every sweep; its seed is a hash of the sweep's seed and the
id, so its draws never depend on which worker runs it, in which batch or in which order.

>>> calc_scenario_id({"kind": "export_restriction", "commodity": "gallium", "stage": "refining",
...     "exporter": "CHN", "severity": 0.5, "duration_months": 3.0})
'a489cf68cf2391db'
>>> calc_seed(7, "a489cf68cf2391db") == calc_seed(7, "a489cf68cf2391db") != calc_seed(8, "a489cf68cf2391db")
True
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

from oresight.errors import OresightError
from oresight.simulate.baseline import ROW
from oresight.sweep.spec import Grid, Sweep, SweepError
from oresight.taxonomy import Importer
from oresight.taxonomy.countries import AGGREGATES
from oresight.world import ChainView, World

__all__ = ["Batch", "Disruption", "Expansion", "calc_scenario_id", "calc_seed", "expand"]

#: the grid values that make a disruption what it is (and so its id)
ID_FIELDS = ("kind", "commodity", "stage", "exporter", "severity", "duration_months", "start_month", "ease_months")


def calc_scenario_id(values: dict) -> str:
    """A 16-hex-digit hash of a disruption's grid values (canonical JSON: keys sorted, floats as Python writes
    them), the same on every machine and in every run."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def calc_seed(sweep_seed: int, scenario_id: str) -> int:
    """A scenario's seed: 60 bits of a hash of the sweep's seed and the scenario's id."""
    return int(hashlib.sha256(f"{sweep_seed}/{scenario_id}".encode()).hexdigest()[:15], 16)


@dataclass(frozen=True)
class Disruption:
    """One point of a grid; ``probability`` is NaN where the grid gives no probabilities."""

    id: str
    seed: int
    kind: str
    commodity: str
    stage: str
    exporter: str
    severity: float
    duration_months: float
    start_month: float
    ease_months: float
    targets: tuple[str, ...] | str
    probability: float

    def grid_values(self) -> dict:
        """The values a result row carries to say which disruption it is."""
        return {
            "scenario": self.id,
            "kind": self.kind,
            "commodity": self.commodity,
            "stage": self.stage,
            "exporter": self.exporter,
            "severity": self.severity,
            "duration_months": self.duration_months,
            "start_month": self.start_month,
            "targets": self.targets if isinstance(self.targets, str) else ",".join(self.targets),
            "probability": self.probability,
        }


@dataclass(frozen=True)
class Batch:
    """Scenarios of one commodity that one task runs; its id names its results' partition file."""

    id: str
    commodity: str
    disruptions: tuple[Disruption, ...]


@dataclass
class Expansion:
    disruptions: list[Disruption]
    batches: list[Batch]
    #: countries each commodity's baseline must model as nodes (the exporters and outage countries)
    nodes: dict[str, tuple[str, ...]]
    importers: list[Importer]
    notes: list[str] = field(default_factory=list)


class _Expander:
    def __init__(self, sweep: Sweep, world: World) -> None:
        self.sweep, self.world, self.tax = sweep, world, world.tax
        self.notes: list[str] = []
        self.chains: dict[str, ChainView] = {}
        self.importers = [self._importer(name, i) for i, name in enumerate(sweep.importers)]
        self.bloc_members = {m: imp.label for imp in self.importers if len(imp.members) > 1 for m in imp.members}

    def _importer(self, name: str, index: int) -> Importer:
        try:
            return self.tax.importer(name)
        except OresightError as exc:
            raise SweepError(str(exc), field=f"importers[{index}]") from None

    def chain(self, commodity: str) -> ChainView:
        if commodity not in self.chains:
            self.chains[commodity] = self.world.chain(commodity, self.sweep.base_year)
        return self.chains[commodity]

    def commodities(self, grid: Grid, where: str) -> list[str]:
        if grid.commodities == "all":
            return [c for c in self.tax.commodities if self.chain(c).stages]
        ids = []
        for i, name in enumerate(grid.commodities):
            try:
                commodity, _ = self.world.resolve(name)
            except OresightError as exc:
                raise SweepError(str(exc), field=f"{where}.commodities[{i}]") from None
            if not self.chain(commodity).stages:
                self.notes.append(f"{commodity}: no production or share data at any stage; not screened")
            ids.append(commodity)
        return list(dict.fromkeys(ids))

    def stages(self, grid: Grid, where: str) -> list[str] | None:
        if grid.stages == "all":
            return None
        found = []
        for i, name in enumerate(grid.stages):
            try:
                found.append(self.tax.stage(name))
            except OresightError as exc:
                raise SweepError(str(exc), field=f"{where}.stages[{i}]") from None
        return found

    def listed_exporters(self, grid: Grid, where: str) -> list[str] | None:
        if grid.top is not None:
            return None
        found = []
        for i, name in enumerate(grid.exporters):
            field_name = f"{where}.exporters[{i}]"
            try:
                importer = self.tax.importer(name)
            except OresightError as exc:
                raise SweepError(str(exc), field=field_name) from None
            if len(importer.members) != 1:
                raise SweepError(f"{name} is a group of countries; name the countries", field=field_name)
            found.append(importer.label)
        return found

    def exporter_chances(self, grid: Grid, where: str) -> dict[str, float]:
        chances: dict[str, float] = {}
        for name, chance in (grid.probabilities.exporters if grid.probabilities else {}).items():
            if name == "default":
                chances["default"] = chance
                continue
            try:
                chances[self.tax.country(name)] = chance
            except OresightError as exc:
                raise SweepError(str(exc), field=f"{where}.probabilities.exporters.{name}") from None
        return chances

    def targets(self, grid: Grid, where: str) -> tuple[str, ...] | str:
        if grid.targets == "all":
            return "all"
        labels = []
        for i, name in enumerate(grid.targets):
            try:
                labels.append(self.tax.importer(name).label)
            except OresightError as exc:
                raise SweepError(str(exc), field=f"{where}.targets[{i}]") from None
        return tuple(labels)

    def producers(self, commodity: str, stage: str, grid: Grid, listed: list[str] | None) -> list[str]:
        """The exporters of a stage: its top K producers, or the listed countries that produce there."""
        view = self.chain(commodity).stage(stage)
        if listed is None:
            return [country for country, _ in view.top(grid.top or 0)]
        producing = []
        for country in listed:
            share = view.share_of(country)
            if math.isfinite(share) and share > 0:
                producing.append(country)
        return producing

    def disruptions(self, grid: Grid, index: int) -> list[Disruption]:
        where = "grid" if len(self.sweep.grid) == 1 else f"grid[{index}]"
        stages, listed = self.stages(grid, where), self.listed_exporters(grid, where)
        chances, targets = self.exporter_chances(grid, where), self.targets(grid, where)
        severity_weights, duration_weights = grid.severity_weights(), grid.duration_weights()
        found = []
        for commodity in self.commodities(grid, where):
            present = [view.stage for view in self.chain(commodity).stages]
            for stage in present if stages is None else [s for s in stages if s in present]:
                for exporter in self.producers(commodity, stage, grid, listed):
                    chance = chances.get(exporter, chances.get("default", 1.0)) if grid.probabilities else math.nan
                    for s, severity in enumerate(grid.severities):
                        for d, duration in enumerate(grid.duration_months):
                            weight = (
                                chance * severity_weights[s] * duration_weights[d]
                                if severity_weights and duration_weights
                                else math.nan
                            )
                            found.append(
                                self.disruption(grid, commodity, stage, exporter, severity, duration, targets, weight)
                            )
            if stages is not None and not set(stages) & set(present):
                self.notes.append(f"{commodity}: none of the stages {', '.join(stages)} has data; not screened")
        return found

    def disruption(self, grid, commodity, stage, exporter, severity, duration, targets, probability) -> Disruption:
        values = {
            "kind": grid.kind,
            "commodity": commodity,
            "stage": stage,
            "exporter": exporter,
            "severity": float(severity),
            "duration_months": float(duration),
            "start_month": float(grid.start_month),
            "ease_months": float(grid.ease_months),
        }
        if targets != "all":
            values["targets"] = list(targets)
        scenario_id = calc_scenario_id(values)
        return Disruption(
            id=scenario_id,
            seed=calc_seed(self.sweep.seed, scenario_id),
            kind=grid.kind,
            commodity=commodity,
            stage=stage,
            exporter=exporter,
            severity=float(severity),
            duration_months=float(duration),
            start_month=float(grid.start_month),
            ease_months=float(grid.ease_months),
            targets=targets,
            probability=probability,
        )

    def bloc_notes(self, disruptions: list[Disruption]) -> None:
        """An exporter inside a bloc that is studied as one importer is modelled as that bloc's node."""
        by_bloc: dict[str, list[str]] = {}
        for exporter in sorted({d.exporter for d in disruptions} & set(self.bloc_members)):
            by_bloc.setdefault(self.bloc_members[exporter], []).append(exporter)
        for bloc, exporters in by_bloc.items():
            self.notes.append(
                f"{', '.join(exporters)}: part of the importer {bloc}, which is modelled as one node, so a disruption "
                f"by one of them acts on all of {bloc}'s output"
            )


def _batches(disruptions: list[Disruption], size: int) -> list[Batch]:
    by_commodity: dict[str, list[Disruption]] = {}
    for disruption in disruptions:
        by_commodity.setdefault(disruption.commodity, []).append(disruption)
    batches = []
    for commodity, group in by_commodity.items():
        for start in range(0, len(group), size):
            chunk = tuple(group[start : start + size])
            digest = hashlib.sha256("|".join(d.id for d in chunk).encode()).hexdigest()[:16]
            batches.append(Batch(digest, commodity, chunk))
    return batches


def expand(sweep: Sweep, world: World) -> Expansion:
    """Every disruption of the sweep's grids (duplicates across grids kept once), and the batches to run."""
    expander = _Expander(sweep, world)
    found: dict[str, Disruption] = {}
    for index, grid in enumerate(sweep.grid):
        for disruption in expander.disruptions(grid, index):
            found.setdefault(disruption.id, disruption)
    disruptions = list(found.values())
    if not disruptions:
        raise SweepError("the grid holds no disruption: no named exporter produces at the named stages", field="grid")
    expander.bloc_notes(disruptions)
    nodes: dict[str, set[str]] = {}
    for d in disruptions:
        nodes.setdefault(d.commodity, set()).add(d.exporter)
    return Expansion(
        disruptions=disruptions,
        batches=_batches(disruptions, sweep.batch_size),
        nodes={c: tuple(sorted(n - AGGREGATES - {ROW})) for c, n in nodes.items()},
        importers=expander.importers,
        notes=expander.notes,
    )

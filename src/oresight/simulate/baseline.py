"""The baseline a simulation starts from: one month of normal supply and use along a commodity's chain.

For every stage of the chain and every node (the importers studied, each producing country, and ROW for
everyone else) the baseline holds production, final demand (use that leaves the chain at that stage), the
input the next stage needs, and bilateral flows from producers to users. It is calibrated from the World:

* **production** = country shares of the stage × the stage's world output. World output comes from volumes
  where a source gives a world total, else from a country's volume divided by its share, else from the stage
  upstream (its output ÷ the input coefficient).
* **input coefficients** (t of the previous stage's product per t of this stage's): mass fraction ÷ (1 −
  conversion loss) where the data give them; where they do not, every tonne upstream goes downstream. Where a
  coefficient asks for more input than the upstream stage makes, it is lowered to what that stage makes and a
  note says so (production scrap, stocks and sources' differing bases close such gaps in reality).
* **final demand** of an importer: its consumption at that stage less what its own next stage needs; or its own
  production plus imports estimated from a partner's reported exports to it and that partner's share of its
  imports. A producing country that reports exports uses the rest of its output itself. ROW takes whatever
  remains, so that use equals production at every stage.
* **flows**: every node first supplies itself; imports follow the importer's published import shares where they
  exist, otherwise producers' exportable output pro rata; the flow matrix is then balanced to producers'
  exportable output and users' import needs by iterative proportional fitting (RAS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from oresight.errors import DataNotAttestedError
from oresight.facts import rows_as_of
from oresight.formatting import format_number, format_quantity
from oresight.taxonomy import Importer
from oresight.taxonomy.countries import AGGREGATES, REST_OF_WORLD, WORLD
from oresight.world import StageView, World

__all__ = ["Baseline", "calc_ras", "calibrate"]

ROW = REST_OF_WORLD
MONTHS = 12
_MASS_UNITS = {"t": 1.0, "kg": 0.001}
OTHER_SECTOR = "other"


@dataclass
class Baseline:
    """Monthly baseline of one commodity chain (see module doc). Arrays are indexed [stage, node(, node)]."""

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
    coefficient: np.ndarray  # [K]: input per unit of output from the stage before; 0 for the first stage
    own: np.ndarray
    imports: np.ndarray  # [K, consumer, producer]
    spare: np.ndarray  # [K, N]: spare capacity share from capacity data, NaN where none
    sectors: tuple[str, ...]
    sector_share: np.ndarray  # [K, importer, sector]
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def intermediate(self) -> np.ndarray:
        """Input each node's next stage needs from this stage, [K, N]."""
        need = np.zeros_like(self.production)
        need[:-1] = self.coefficient[1:, None] * self.production[1:]
        return need

    @property
    def use(self) -> np.ndarray:
        return self.final_demand + self.intermediate

    @property
    def content(self) -> np.ndarray:
        """Tonnes of the first stage's product in one tonne of each stage's product (cumulative coefficients)."""
        factors = np.where(np.arange(len(self.stages)) == 0, 1.0, self.coefficient)
        return np.cumprod(factors)

    def index(self, node: str) -> int:
        return self.nodes.index(node)

    def stage_index(self, stage: str) -> int:
        return self.stages.index(stage)

    def node_of(self, country: str) -> str | None:
        """The node a country belongs to (an importer it is a member of, itself, or None if it is in ROW)."""
        for node, members in self.members.items():
            if country in members:
                return node
        return None

    def check_balance(self, rtol: float = 1e-9) -> None:
        """Production equals use at every stage and node supply equals node use (the baseline's invariants)."""
        supplied = self.own + self.imports.sum(axis=2)
        sold = self.own + self.imports.sum(axis=1)
        scale = max(float(self.production.max()), 1e-12)
        if not np.allclose(supplied, self.use, atol=rtol * scale) or not np.allclose(
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
                "coefficient": ("stage", self.coefficient),
                "unit": ("stage", list(self.units)),
                "basis": ("stage", list(self.bases)),
                "year": ("stage", list(self.years)),
            },
            coords={**coords, "producer": list(self.nodes)},
            attrs={"commodity": self.commodity, "notes": list(self.notes), "sources": list(self.sources)},
        )


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


def _unit_factor(unit: str) -> tuple[str, float]:
    """Mass units become tonnes; other units stay as they are."""
    return ("t", _MASS_UNITS[unit]) if unit in _MASS_UNITS else (unit, 1.0)


# -- calibration steps -----------------------------------------------------------------------------------------
class _Calibration:
    """Builds a :class:`Baseline` step by step; each step reads the World and records notes and sources."""

    def __init__(self, world: World, commodity: str, importers: list[Importer], year: int | None, extra: tuple):
        self.world, self.commodity, self.year = world, commodity, year
        self.importers = importers
        self.notes: list[str] = []
        self.sources: set[str] = set()
        chain = world.chain(commodity, year)
        if not chain.stages:
            raise DataNotAttestedError(f"no production or share data for {commodity}")
        self.views: list[StageView] = chain.stages
        self.stages = tuple(v.stage for v in self.views)
        self.chain = world.tax.chain(commodity, self.stages)
        self.end_uses = chain.end_uses
        for view in self.views:
            self.sources.update(view.sources)
        self.extra = extra

    # world output per stage and input coefficients
    def volumes(self) -> tuple[np.ndarray, list[str], list[str]]:
        """World output, unit and basis of every stage (NaN where the stage has no volumes of its own)."""
        totals, units, bases = [], [], []
        for view in self.views:
            total, unit, basis = self._stage_total(view)
            totals.append(total)
            units.append(unit)
            bases.append(basis)
        return np.array(totals, dtype=float), units, bases

    def _stage_total(self, view: StageView) -> tuple[float, str, str]:
        if view.method == "volumes" and math.isfinite(view.world_total):
            unit, factor = _unit_factor(view.unit)
            return view.world_total * factor, unit, view.basis
        rows = self.world.select(commodity=self.commodity, stage=view.stage, measure="production")
        rows = rows[~rows["country"].isin(AGGREGATES)]
        estimates, unit, basis = [], "t", f"t {view.stage} product (derived from the stage upstream)"
        for country, group in rows.groupby("country"):
            share = view.share_of(str(country))
            latest = rows_as_of(group, self.year)
            if share > 0 and not latest.empty:
                unit, factor = _unit_factor(str(latest["unit"].iat[0]))
                basis = str(latest["basis"].iat[0])
                estimates.append(float(latest["value"].iat[0]) * factor / share)
                self.sources.update(latest["source"])
                self.notes.append(
                    f"{view.stage}: world output estimated from {country}'s output "
                    f"({float(latest['value'].iat[0]):,.0f} {latest['unit'].iat[0]}, {int(latest['year'].iat[0])})"
                    f" divided by its share ({share:.0%})"
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
        return coefficient, totals

    # nodes and production
    def nodes(self) -> tuple[list[str], dict[str, tuple[str, ...]]]:
        members = {imp.label: imp.members for imp in self.importers}
        names = [imp.label for imp in self.importers]
        claimed = {m for imp in self.importers for m in imp.members}
        producers = set(self.extra) - AGGREGATES
        for view in self.views:
            share = view.shares["share"]
            producers |= {str(c) for c, v in zip(share.country.values, share.values, strict=True) if v > 0}
        for country in sorted(producers - claimed - AGGREGATES):
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
            share = _bridge_bounded_shares(view, self.notes)
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

    def _consumption(self, imp: Importer, stage: str, unit: str) -> tuple[float, str] | None:
        """An importer's consumption at a stage (its members summed), converted to the stage's unit."""
        stage_less = self.chain.stage_of_consumption(self.stages) == stage
        total, found = 0.0, []
        for member in imp.members:
            rows = self._facts("consumption", stage, [member])
            if rows.empty and stage_less:
                rows = self._facts("consumption", "", [member])
            rows = rows_as_of(rows, self.year)
            if rows.empty:
                continue
            apparent = rows[rows["basis"].str.contains("apparent", case=False)]
            row = (apparent if not apparent.empty else rows).iloc[0]
            row_unit, factor = _unit_factor(str(row["unit"]))
            if row_unit != unit:
                self.notes.append(f"{member} {stage}: consumption in {row['unit']} does not match the stage unit")
                continue
            total += float(row["value"]) * factor
            found.append(f"{member} {int(row['year'])}")
            self.sources.add(str(row["source"]))
        return (total, f"consumption ({', '.join(found)})") if found else None

    def _from_partner_flows(self, imp: Importer, stage: str, unit: str) -> tuple[float, str] | None:
        """Imports estimated from partners' reported exports to the importer, scaled by the partners' share of its
        imports where the importer's import shares are known."""
        flows = rows_as_of(self._facts("export_quantity", stage, self._exporters(), partner=imp.members), self.year)
        if flows.empty:
            return None
        flows = flows.assign(
            value=[float(v) * _unit_factor(str(u))[1] for v, u in zip(flows["value"], flows["unit"], strict=True)]
        )
        self.sources.update(flows["source"])
        by_partner = flows.groupby("country")["value"].sum()
        top = str(by_partner.idxmax())
        shares = self._import_shares(imp, stage, exact_stage=True)
        if shares is not None and shares.get(top, 0) > 0:
            total = float(by_partner[top]) / shares[top]
            how = (
                f"{top}'s reported exports to it ({by_partner[top]:,.0f} {unit}) / "
                f"{top}'s share of its imports ({shares[top]:.0%})"
            )
        else:
            total = float(by_partner.sum())
            how = "partners' reported exports to it (other partners unknown)"
        return total, f"imports estimated from {how}"

    def _exporters(self) -> list[str]:
        rows = self.world.select(commodity=self.commodity, measure="export_quantity")
        return sorted(set(rows["country"]))

    def _import_shares(self, imp: Importer, stage: str, exact_stage: bool = False) -> dict[str, float] | None:
        """Partner shares of an importer's imports (members combined), for the stage or the commodity as a whole."""
        combined: dict[str, float] = {}
        for member in imp.members:
            shares = None
            for wanted in (stage,) if exact_stage else (stage, ""):
                try:
                    shares = self.world.import_shares(member, self.commodity, self.year, stage=wanted)
                    break
                except DataNotAttestedError:
                    continue
            if shares is None:
                continue
            self.sources.update(shares.attrs.get("sources", []))
            for partner, value in zip(shares.partner.values, shares["share"].values, strict=True):
                if str(partner) not in imp.members:
                    combined[str(partner)] = combined.get(str(partner), 0.0) + float(value) / len(imp.members)
        return combined or None

    def final_demand(self, names, production, coefficient, units) -> np.ndarray:
        """Importers' demand from their data, producers' own use from their exports, ROW the rest."""
        intermediate = np.zeros_like(production)
        intermediate[:-1] = coefficient[1:, None] * production[1:]
        final = np.zeros((len(self.stages), len(names)))
        for imp in self.importers:
            self._importer_demand(imp, names.index(imp.label), final, production, intermediate, units)
        self._producers_own_use(names, final, production, intermediate, units)
        self._rest_of_world(names.index(ROW), final, production, intermediate)
        return final

    def _importer_demand(self, imp: Importer, i: int, final, production, intermediate, units) -> None:
        for k, stage in enumerate(self.stages):
            found = self._consumption(imp, stage, units[k])
            if found is not None:
                use, how = found
            else:
                flows = self._from_partner_flows(imp, stage, units[k])
                if flows is None:
                    continue
                imports, how = flows
                use, how = production[k, i] * MONTHS + imports, f"own output plus {how}"
            final[k, i] = max(use / MONTHS - intermediate[k, i], 0.0)
            self.notes.append(f"{imp.label} {stage}: demand {format_quantity(use, f'{units[k]}/yr')} from {how}")
        if not final[:, i].any():
            self.notes.append(
                f"{imp.label}: no consumption or trade data for {self.commodity}; its demand is not modelled"
            )

    def _producers_own_use(self, names, final, production, intermediate, units) -> None:
        """A producer that reports its exports uses the rest of its output (after its own next stage's needs)."""
        importers = {imp.label for imp in self.importers}
        for k, stage in enumerate(self.stages):
            exports = rows_as_of(self._facts("export_quantity", stage, names, partner=[WORLD, ""]), self.year)
            for _, row in exports[~exports["country"].isin(importers)].iterrows():
                n = names.index(str(row["country"]))
                yearly = float(row["value"]) * _unit_factor(str(row["unit"]))[1]
                final[k, n] = max(production[k, n] - yearly / MONTHS - intermediate[k, n], 0.0)
                self.sources.add(str(row["source"]))
                self.notes.append(
                    f"{row['country']} {stage}: uses its output less reported exports "
                    f"({yearly:,.0f} {units[k]} in {int(row['year'])})"
                )

    def _rest_of_world(self, rest: int, final, production, intermediate) -> None:
        """ROW's final demand closes each stage: use equals production (scaled down if attested demand exceeds it)."""
        for k, stage in enumerate(self.stages):
            residual = production[k].sum() - (final[k] + intermediate[k]).sum()
            if residual >= 0:
                final[k, rest] += residual
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
    def flows(self, names, production, final, coefficient) -> tuple[np.ndarray, np.ndarray]:
        """Self-supply and bilateral imports per stage. Importers' published import shares are honoured first
        (they are data); everything else is self-supply, then pro-rata trade, balanced by RAS."""
        k_count, n = len(self.stages), len(names)
        intermediate = np.zeros_like(production)
        intermediate[:-1] = coefficient[1:, None] * production[1:]
        use = final + intermediate
        own = np.zeros_like(production)
        imports = np.zeros((k_count, n, n))
        for k, stage in enumerate(self.stages):
            attested = self._attested_imports(k, stage, names, production[k], use[k])
            supply, demand = production[k] - attested.sum(axis=0), use[k] - attested.sum(axis=1)
            own[k] = np.minimum(supply, demand)
            needs, exportable = demand - own[k], supply - own[k]
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
        return own, imports

    def _attested_imports(self, k: int, stage: str, names, production: np.ndarray, use: np.ndarray) -> np.ndarray:
        """Imports that data describe, by precedence: the importer's import shares for the stage; else partners'
        reported exports to it; else its import shares for the commodity as a whole. A partner cannot ship more
        than it makes; what the data leave open goes to pro-rata trade."""
        n = len(names)
        flows = np.zeros((n, n))
        for imp in self.importers:
            i = names.index(imp.label)
            needs = use[i] - min(production[i], use[i])
            if needs <= 0:
                continue
            row = self._partner_row(imp, stage, names)
            if row is not None:
                row[i] = 0.0
                row = np.where(production > 0, row, 0.0)
                flows[i] = needs * row / row.sum() if row.sum() > 0 else 0.0
            else:
                known = self._known_flows(imp, stage, names)
                if known is not None:
                    flows[i] = known * min(1.0, needs / known.sum())
        shipped = flows.sum(axis=0)
        over = shipped > production
        flows[:, over] *= production[over] / shipped[over]
        return flows

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
            node = next((nm for nm in names if str(fact["country"]) in self._members_of(nm)), ROW)
            row[names.index(node)] += float(fact["value"]) * _unit_factor(str(fact["unit"]))[1] / MONTHS
        return row

    def _members_of(self, node: str) -> tuple[str, ...]:
        for imp in self.importers:
            if imp.label == node:
                return imp.members
        return (node,)

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
                    shares[k, i, g] = chosen.get(sector, 0.0)
                shares[k, i, -1] = max(0.0, 1 - shares[k, i, :-1].sum())
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
                monthly = float(latest["value"].iat[0]) * _unit_factor(str(latest["unit"].iat[0]))[1] / MONTHS
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
) -> Baseline:
    """The monthly baseline of a commodity's chain for the given importers (see the module doc for the rules).

    ``extra_nodes``: countries to model as their own node even if they produce nothing (e.g. a shock's target).
    """
    calibration = _Calibration(world, commodity, importers, year, extra_nodes)
    totals, units, bases = calibration.volumes()
    coefficient, totals = calibration.coefficients(totals)
    names, members = calibration.nodes()
    production = calibration.production(totals, names)
    final = calibration.final_demand(names, production, coefficient, units)
    own, imports = calibration.flows(names, production, final, coefficient)
    sectors, sector_share = calibration.sector_shares(names)
    baseline = Baseline(
        commodity=commodity,
        stages=calibration.stages,
        units=tuple(units),
        bases=tuple(bases),
        years=tuple(int(v.year) if v.year is not None else 0 for v in calibration.views),
        nodes=tuple(names),
        importers=tuple(imp.label for imp in importers),
        members=members,
        production=production,
        final_demand=final,
        coefficient=coefficient,
        own=own,
        imports=imports,
        spare=calibration.spare(names, production),
        sectors=sectors,
        sector_share=sector_share,
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

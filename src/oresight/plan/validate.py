"""Out-of-sample validation: the chosen plan becomes scenario responses (new capacity, stockpiles) of the
monthly Monte Carlo engine (:func:`oresight.simulate.simulate`), run on fresh futures the planner never saw —
new disruption timelines from the same library events and probabilities, new project delays and failures.

The simulator runs the aggregate rare-earth chain (t REO, t separated magnet rare earths, t metal, t magnets), so
the plan's element capacities are turned back into its bases: separated oxide is the sum of the elements,
metal is 0.850 t per t of oxide, a magnet plant is its published tonnes of magnets; the shortfall compared is
that of magnets (``rare-earths``), beside gallium, germanium and antimony.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from oresight.plan.inputs import RARE_EARTH_ELEMENTS, PlanInputs, chain_source
from oresight.plan.results import calc_risk
from oresight.plan.scenarios import Futures, draw_futures
from oresight.world import World

__all__ = ["out_of_sample"]

METAL_PER_OXIDE = 0.850
_source = chain_source


def out_of_sample(
    world: World,
    inputs: PlanInputs,
    portfolio: pd.DataFrame,
    stockpiles: pd.DataFrame,
    *,
    timelines: int,
    samples: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict, dict]:
    """(risk with the plan, risk without it) per simulated commodity, on fresh futures: expected and P95 annual
    shortfall of the members at the chain's last stage, in the simulator's basis."""
    futures = draw_futures(inputs, timelines, seed, stream="out-of-sample")
    sources = sorted({_source(c) for c in inputs.chains if _source(c) != "graphite"})
    total, done = len(sources) * timelines * 2, 0
    with_plan: dict[str, list] = {s: [] for s in sources}
    without: dict[str, list] = {s: [] for s in sources}
    for j in range(timelines):
        for source in sources:
            for planned, bucket in ((True, with_plan), (False, without)):
                scenario = _scenario(
                    inputs,
                    futures,
                    j,
                    source,
                    portfolio if planned else None,
                    stockpiles if planned else None,
                    samples,
                    seed + j,
                )
                if scenario is not None:
                    bucket[source].append(_annual(world, scenario, inputs))
                else:  # a quiet future: nothing is short, with or without the plan
                    bucket[source].append(np.zeros((samples, len(inputs.years))))
                done += 1
                if progress:
                    progress(done, total)
    return (
        {s: calc_risk(np.concatenate(v)) for s, v in with_plan.items() if v},
        {s: calc_risk(np.concatenate(v)) for s, v in without.items() if v},
    )


def _annual(world: World, scenario, inputs: PlanInputs) -> np.ndarray:
    from oresight.simulate import simulate

    sim = simulate(scenario, world)
    short = sim.dataset["shortfall"].sel(importer=[m for m in inputs.members if m in sim.dataset.importer.values])
    last = short.isel(stage=-1) if "rare-earths" in short.commodity.values else short
    monthly = last.sum([d for d in last.dims if d not in ("month", "sample")]).fillna(0).values  # [month, sample]
    years = monthly.shape[0] // 12
    return monthly[: years * 12].reshape(years, 12, -1).sum(axis=1).T  # [sample, year]


def _scenario(
    inputs: PlanInputs, futures: Futures, j: int, source: str, portfolio, stockpiles, samples: int, seed: int
):
    from oresight.simulate import load_scenario, parse_scenario

    shocks = []
    for name, year in futures.timelines[j].events:
        library = load_scenario(name)
        for shock in library.shocks:
            if shock.commodity != source:
                continue
            data = shock.model_dump(mode="json", exclude_none=True)
            data["start_month"] = 1 + 12 * year + float(data.get("start_month", 1)) - 1
            shocks.append(data)
    if not shocks:
        return None  # a quiet future: no shock, no shortfall (the engine needs a shock to run)
    responses = _responses(inputs, futures, j, source, portfolio, stockpiles)
    return parse_scenario(
        {
            "name": f"plan-oos-{source}-{j}",
            "importers": list(inputs.network),
            "horizon_months": 12 * len(inputs.years),
            "samples": samples,
            "seed": seed,
            "shocks": shocks,
            "responses": responses,
        }
    )


def _responses(inputs, futures, j, source, portfolio, stockpiles) -> dict:
    if portfolio is None:
        return {}
    capacity, stocks = [], []
    first = inputs.projects.drop_duplicates("project").set_index("project")
    for project in portfolio["project"]:
        i = inputs.project_ids.index(project)
        running = np.flatnonzero(futures.availability[j, i] > 0)
        if not running.size:
            continue  # failed or delayed past the horizon in this future
        rows = inputs.projects[(inputs.projects["project"] == project)]
        rows = rows[rows["commodity"].map(_source) == source]
        if rows.empty:
            continue
        stage = str(first.at[project, "stage"])
        ramp = float(np.nan_to_num(first.at[project, "ramp_years"], nan=2.0))
        for material, tonnes in _sim_capacities(rows, stage, source, inputs):
            capacity.append(
                {
                    "name": project if material == source else f"{project} ({material})",
                    "country": str(first.at[project, "country"]),
                    "commodity": material,
                    "stage": stage if source == "rare-earths" else _only_stage(inputs, source),
                    "tonnes_per_year": tonnes,
                    "start_month": 1 + 12 * int(running[0]),
                    "ramp_months": 12 * ramp,
                }
            )
    for row in stockpiles.itertuples():
        if _source(row.commodity) != source:
            continue
        tonnes = row.tonnes * (METAL_PER_OXIDE if row.stage == "metal" and source == "rare-earths" else 1.0)
        # the plan's stocks are one pool; the simulator's release only to their holder, so the pool is shared out
        # in the proportions the plan released it to each member
        for member, share in (row.released_to or {row.holder: 1.0}).items():
            stocks.append(
                {
                    "name": f"{row.holder} {row.commodity} {row.stage} for {member}",
                    "holder": member,
                    # the simulator's rare earths run by element: an element's stock below the magnet is its own
                    "commodity": row.commodity if _by_element(source, row.commodity, row.stage) else source,
                    "stage": row.stage,
                    "tonnes": tonnes * share,
                    "start_month": 1 + 12 * (row.first_year - inputs.years[0]),
                }
            )
    return {"new_capacity": capacity, "stockpiles": stocks}


def _only_stage(inputs: PlanInputs, source: str) -> str:
    return inputs.chains[source].stages[-1]


def _by_element(source: str, commodity: str, stage: str) -> bool:
    """Whether the simulator has this commodity's stage as an element lane (rare earths below the magnet)."""
    return source == "rare-earths" and commodity in RARE_EARTH_ELEMENTS and stage != "magnet"


def _sim_capacities(rows: pd.DataFrame, stage: str, source: str, inputs: PlanInputs) -> list[tuple[str, float]]:
    """(simulator commodity, tonnes a year) of a project: each element's own lane below the magnet, else the
    project's capacity in the simulator's basis of its stage."""
    if not _by_element(source, str(rows["commodity"].iloc[0]), stage):
        return [(source, _sim_tonnes(rows, stage, inputs))]
    factor = METAL_PER_OXIDE if stage == "metal" else 1.0
    return [(str(r.commodity), float(r.capacity_t) * factor) for r in rows.itertuples() if r.capacity_t > 0]


def _sim_tonnes(rows: pd.DataFrame, stage: str, inputs: PlanInputs) -> float:
    """A project's capacity in the simulator's basis of its stage."""
    if rows["commodity"].iloc[0] not in RARE_EARTH_ELEMENTS:
        return float(rows["capacity_t"].iloc[0])
    if stage == "magnet":
        ndpr = rows[rows["commodity"] == "ndpr"]
        return float(ndpr["capacity_t"].iloc[0] / inputs.magnet_content["ndpr"]) if len(ndpr) else 0.0
    oxide = float(rows["capacity_t"].sum())
    return oxide * METAL_PER_OXIDE if stage == "metal" else oxide

"""Sampled futures of a plan: which disruptions start in which year, how much they block and for how long
(drawn from the stress-test library's own distributions), when supported projects start or whether they fail
(with and without a price floor), and the price paths outside China that price floors pay against. Pure numpy.

One random stream per purpose — per disruption, per project, per price — keyed by the seed, the stream
(in-sample or out-of-sample) and the purpose's name: in-sample and out-of-sample draws never share numbers, and a
project's or a disruption's draws do not depend on which other projects, commodities or members a plan has (a
member's plan alone sees the very futures of the joint plan).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from oresight.plan.inputs import PlanInputs, chain_source
from oresight.simulate.distributions import central

__all__ = ["Futures", "Timeline", "calc_availability", "calc_price_paths", "draw_futures", "project_floors"]


@dataclass
class Timeline:
    """Events of one future: (library scenario, start year index) per event."""

    events: list[tuple[str, int]]


@dataclass
class Futures:
    """``blocked[commodity]``: [S, K, M, T] share of China's exports to each member withheld in each year;
    ``blocked_world[commodity]``: [S, K, T] the part withheld from everyone (it cuts other suppliers' feed);
    ``availability``: [S, P, T] share of each project's nameplate it can run at (0 before start or on failure),
    ``availability_floor`` the same with a price floor; ``start``: [S, P] start year; ``price[commodity]``:
    [S, T] USD per t outside China, for the commodities with a price floor."""

    blocked: dict[str, np.ndarray]
    blocked_world: dict[str, np.ndarray]
    availability: np.ndarray
    availability_floor: np.ndarray
    start: np.ndarray
    price: dict[str, np.ndarray]
    timelines: list[Timeline]

    @property
    def samples(self) -> int:
        return self.availability.shape[0]


def calc_availability(start: np.ndarray, ramp: np.ndarray, failed: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Share of nameplate by year: 0 before the start year, rising linearly over ``ramp`` years, 0 if failed.

    >>> calc_availability(np.array([[2027.0]]), np.array([2.0]), np.array([[False]]), np.arange(2026, 2030))
    array([[[0. , 0.5, 1. , 1. ]]])
    """
    running = years[None, None, :] - start[:, :, None] + 1
    share = np.clip(running / np.maximum(ramp, 1.0)[None, :, None], 0.0, 1.0)
    return np.where(failed[:, :, None], 0.0, share)


def calc_price_paths(start: float, volatility: float, normals: np.ndarray) -> np.ndarray:
    """Yearly prices from ``start`` as a driftless lognormal walk (the expected price stays ``start``):
    ``P_t = P_0 exp(sigma W_t - sigma^2 t / 2)`` with ``W`` the cumulative sum of ``normals`` [S, T].

    >>> calc_price_paths(100.0, 0.0, np.ones((1, 3))).tolist()
    [[100.0, 100.0, 100.0]]
    >>> paths = calc_price_paths(100.0, 0.4, np.random.default_rng(0).standard_normal((20000, 2)))
    >>> bool(abs(paths[:, 1].mean() / 100.0 - 1) < 0.03)
    True
    """
    steps = np.arange(1, normals.shape[1] + 1)
    return start * np.exp(volatility * np.cumsum(normals, axis=1) - volatility**2 * steps / 2)


def project_floors(inputs: PlanInputs) -> pd.DataFrame:
    """The price floor each candidate project may get (index project): the commodity, the project's capacity of
    it (t/yr), the floor (USD/t), its term (years) and the share of the failure risk it removes."""
    columns = ["commodity", "capacity_t", "usd_per_t", "years", "failure_reduction"]
    rows = []
    for floor in inputs.floors.itertuples():
        eligible = inputs.projects[
            (inputs.projects["commodity"] == floor.commodity) & inputs.projects["stage"].isin(floor.stages)
        ]
        for row in eligible.itertuples():
            rows.append(
                {
                    "project": row.project,
                    "commodity": floor.commodity,
                    "capacity_t": float(row.capacity_t),
                    "usd_per_t": floor.usd_per_t,
                    "years": floor.years,
                    "failure_reduction": floor.failure_reduction,
                }
            )
    table = pd.DataFrame(rows, columns=["project", *columns])
    return table.drop_duplicates("project").set_index("project")


def draw_futures(inputs: PlanInputs, samples: int, seed: int, *, stream: str = "in-sample") -> Futures:
    years = np.array(inputs.years)

    def rng(purpose: str) -> np.random.Generator:
        return np.random.default_rng([seed, _key(stream), _key(purpose)])

    blocked, blocked_world, timelines = _disruptions(inputs, samples, rng)
    availability, availability_floor, start = _availability(inputs, samples, rng, years)
    price = {
        f.commodity: calc_price_paths(
            f.price_usd_per_t, f.volatility, rng(f"price:{f.commodity}").standard_normal((samples, len(years)))
        )
        for f in inputs.floors.itertuples()
    }
    return Futures(blocked, blocked_world, availability, availability_floor, start, price, timelines)


def _disruptions(inputs: PlanInputs, samples: int, streams):
    """Blocked shares by commodity, stage, member and year; a library event starts in a year with its
    probability, blocks its drawn share for its drawn duration (easing counted half); events combine as
    1 - prod(1 - b)."""
    from oresight.simulate import load_scenario

    T = len(inputs.years)
    members = inputs.members
    blocked = {c: np.zeros((samples, len(ch.stages), len(members), T)) for c, ch in inputs.chains.items()}
    blocked_world = {c: np.zeros((samples, len(ch.stages), T)) for c, ch in inputs.chains.items()}
    timelines = [Timeline([]) for _ in range(samples)]
    for number, disruption in enumerate(inputs.spec.disruptions):
        scenario = load_scenario(disruption.scenario)
        rng = streams(f"disruption:{number}:{disruption.scenario}")
        starts = rng.random((samples, T)) < disruption.probability
        for s, t in zip(*np.nonzero(starts), strict=True):
            timelines[s].events.append((disruption.scenario, int(t)))
        for shock in scenario.shocks:
            if shock.kind != "export_restriction" or shock.exporter not in ("CHN", "China"):
                continue
            share = _sample(shock.blocked, rng, (samples, T))
            months = shock.duration_months
            length = _sample(months, rng, (samples, T)) if months is not None else np.full((samples, T), 12.0 * T)
            length = length + _sample(shock.ease_months, rng, (samples, T)) / 2  # the easing counts half
            planned = [c for c in disruption.covers if c in blocked and chain_source(c) == shock.commodity]
            if not planned:
                continue
            kept = np.prod(1 - share[:, :, None] * calc_year_shares(length, T) * starts[:, :, None], axis=1)  # [S, T]
            everyone = shock.targets == "all"
            targets = members if everyone else [m for m in members if m in _targets(shock.targets)]
            columns = [members.index(m) for m in targets]
            for commodity in planned:
                chain = inputs.chains[commodity]
                hit = [
                    k
                    for k, stage in enumerate(chain.stages)
                    if stage in disruption.covers[commodity] and stage in (shock.stages or chain.stages)
                ]
                region = np.ix_(range(samples), hit, columns, range(T))
                blocked[commodity][region] = 1 - (1 - blocked[commodity][region]) * kept[:, None, None, :]
                if everyone:
                    world = blocked_world[commodity][:, hit, :]
                    blocked_world[commodity][:, hit, :] = 1 - (1 - world) * kept[:, None, :]
    return blocked, blocked_world, timelines


def calc_year_shares(months: np.ndarray, T: int) -> np.ndarray:
    """[S, T0, T] share of year T an event starting at the beginning of year T0 and lasting ``months`` [S, T0]
    covers.

    >>> calc_year_shares(np.array([[18.0, 6.0]]), 2).tolist()
    [[[1.0, 0.5], [0.0, 0.5]]]
    """
    offset = 12.0 * (np.arange(T)[None, :] - np.arange(T)[:, None])  # [T0, T] months from the start to year T
    covered = np.clip(months[:, :, None] - offset[None], 0.0, 12.0) / 12.0
    return np.where(offset[None] >= 0, covered, 0.0)


def _key(stream: str) -> int:
    return zlib.crc32(stream.encode())


def _targets(targets) -> set[str]:
    aliases = {"US": "USA", "JP": "JPN", "Japan": "JPN", "United States": "USA"}
    return {aliases.get(t, t) for t in targets}


def _sample(number, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    if isinstance(number, int | float):
        return np.full(shape, float(number))
    if hasattr(number, "sample"):
        return number.sample(rng, int(np.prod(shape))).reshape(shape)
    return np.full(shape, central(number))


def _availability(inputs: PlanInputs, samples: int, streams, years: np.ndarray):
    """Availability without and with a price floor (the same draws: a floor removes part of the failure risk),
    and the start years; each project's delay and failure from its own stream."""
    spec = inputs.spec
    first = inputs.projects.drop_duplicates("project").set_index("project").loc[inputs.project_ids]
    earliest = np.maximum(first["start_year"].to_numpy(float), years[0])
    delay_low = np.array([spec.delay_years.get(s, (0.0, 0.0))[0] for s in first["status"]])
    delay_high = np.array([spec.delay_years.get(s, (0.0, 0.0))[1] for s in first["status"]])
    stated = np.nan_to_num(first["start_high"].to_numpy(float) - first["start_year"].to_numpy(float), nan=0.0)
    delay_high = np.maximum(delay_high, stated)
    draws = np.stack([streams(f"project:{p}").random((2, samples)) for p in first.index], axis=2)  # [2, S, P]
    delay = np.floor(delay_low + draws[0] * (delay_high - delay_low + 1))
    fail_p = np.array([spec.failure_probability.get(s, 0.0) for s in first["status"]])
    reduction = project_floors(inputs)["failure_reduction"].astype(float).reindex(first.index).fillna(0.0).to_numpy()
    draw = draws[1]
    ramp = np.nan_to_num(first["ramp_years"].to_numpy(float), nan=2.0)
    start = earliest[None, :] + delay
    plain = calc_availability(start, ramp, draw < fail_p, years)
    floored = calc_availability(start, ramp, draw < fail_p * (1 - reduction), years)
    return plain, floored, start

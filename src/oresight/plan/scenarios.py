"""Sampled futures of a plan: which disruptions start in which year, how much they block and for how long
(drawn from the stress-test library's own distributions), and when supported projects start or whether they
fail. Pure numpy; one random stream per purpose so in-sample and out-of-sample draws never share numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oresight.plan.inputs import PlanInputs
from oresight.simulate.distributions import central

__all__ = ["Futures", "Timeline", "calc_availability", "draw_futures"]


@dataclass
class Timeline:
    """Events of one future: (library scenario, start year index, start month within the year, blocked share,
    months at full strength) per event."""

    events: list[tuple[str, int, float, float, float]]


@dataclass
class Futures:
    """``blocked[commodity]``: [S, K, M, T] share of China's exports to each member withheld in each year;
    ``availability``: [S, P, T] share of each project's nameplate it can run at (0 before start or on failure)."""

    blocked: dict[str, np.ndarray]
    availability: np.ndarray
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


def draw_futures(inputs: PlanInputs, samples: int, seed: int, *, stream: str = "in-sample") -> Futures:
    from oresight.simulate import load_scenario

    years = np.array(inputs.years)
    T = len(years)
    rng = np.random.default_rng([seed, _key(stream)])
    members = inputs.members
    blocked = {c: np.zeros((samples, len(ch.stages), len(members), T)) for c, ch in inputs.chains.items()}
    timelines = [Timeline([]) for _ in range(samples)]
    for disruption in inputs.spec.disruptions:
        scenario = load_scenario(disruption.scenario)
        starts = rng.random((samples, T)) < disruption.probability
        for shock in scenario.shocks:
            if shock.kind != "export_restriction" or shock.exporter not in ("CHN", "China"):
                continue
            planned = {c for c in disruption.covers if _chain_source(c) == shock.commodity}
            if not planned:
                continue
            b = _sample(shock.blocked, rng, (samples, T))
            months = shock.duration_months
            d = _sample(months, rng, (samples, T)) if months is not None else np.full((samples, T), 12.0 * T)
            d = d + _sample(shock.ease_months, rng, (samples, T)) / 2  # the easing counts half
            targets = members if shock.targets == "all" else [m for m in members if m in _targets(shock.targets)]
            for s, t in zip(*np.nonzero(starts), strict=True):
                timelines[s].events.append((disruption.scenario, int(t), 0.0, float(b[s, t]), float(d[s, t])))
                for commodity, stages in disruption.covers.items():
                    if commodity not in blocked or commodity not in planned:
                        continue
                    chain = inputs.chains[commodity]
                    hit = [i for i, k in enumerate(chain.stages) if k in stages and k in (shock.stages or chain.stages)]
                    cols = [members.index(m) for m in targets]
                    year_share = _year_shares(d[s, t], t, T)
                    for k in hit:
                        for m in cols:
                            current = blocked[commodity][s, k, m]
                            blocked[commodity][s, k, m] = 1 - (1 - current) * (1 - b[s, t] * year_share)
    availability = _availability(inputs, samples, rng, years)
    return Futures(blocked=blocked, availability=availability, timelines=timelines)


def _chain_source(commodity: str) -> str:
    from oresight.plan.inputs import RARE_EARTH_ELEMENTS

    return "rare-earths" if commodity in RARE_EARTH_ELEMENTS else commodity


def _key(stream: str) -> int:
    import zlib

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


def _year_shares(months: float, start: int, T: int) -> np.ndarray:
    """Share of each year an event lasting ``months`` from the start of year ``start`` covers."""
    covered = np.clip(months - 12.0 * (np.arange(T) - start), 0.0, 12.0) / 12.0
    covered[:start] = 0.0
    return covered


def _availability(inputs: PlanInputs, samples: int, rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    spec = inputs.spec
    first = inputs.projects.drop_duplicates("project").set_index("project").loc[inputs.project_ids]
    earliest = np.maximum(first["start_year"].to_numpy(float), years[0])
    delay_low = np.array([spec.delay_years.get(s, (0.0, 0.0))[0] for s in first["status"]])
    delay_high = np.array([spec.delay_years.get(s, (0.0, 0.0))[1] for s in first["status"]])
    stated = np.nan_to_num(first["start_high"].to_numpy(float) - first["start_year"].to_numpy(float), nan=0.0)
    delay_high = np.maximum(delay_high, stated)
    delay = np.floor(delay_low + rng.random((samples, len(first))) * (delay_high - delay_low + 1))
    fail_p = np.array([spec.failure_probability.get(s, 0.0) for s in first["status"]])
    failed = rng.random((samples, len(first))) < fail_p
    ramp = np.nan_to_num(first["ramp_years"].to_numpy(float), nan=2.0)
    return calc_availability(earliest[None, :] + delay, ramp, failed, years)

"""The engine: month by month, stage by stage down the chain, every Monte Carlo sample at once.

Each month, for each stage from the mine downwards:

1. Producers run at their capacity (less any outage) times the share of their planned input they received from
   the stage upstream.
2. Output goes to the producer's own use and, along the baseline's bilateral flows, to importers; an export
   restriction withholds its share of the covered flows (the exporter keeps the withheld tonnes).
3. Users' needs are their final demand — moved by demand shocks and, with a lag of one month, by the price
   index through substitution and demand destruction — plus what their next stage plans to process.
4. Gaps are filled, in order, by new capacity at home, recycling, spare capacity of producers not under a shock
   (ramping up after the first shock), and stockpile releases.
5. What a user still lacks is rationed pro rata between its final demand and its next stage; the unmet final
   demand is the shortfall. The price index follows market-wide tightness.

Nothing but months and stages is looped over; samples are the leading axis of every array.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from oresight.simulate.baseline import Baseline
from oresight.simulate.draws import Draws

__all__ = ["BALANCE_TERMS", "Raw", "run"]

#: world-level terms per stage, month and sample: supply side first, then where it went
BALANCE_TERMS = (
    "production",
    "spare_output",
    "new_capacity",
    "recycled",
    "released",
    "withheld",
    "final_use",
    "intermediate_use",
    "surplus",
)


@dataclass
class Raw:
    """Arrays of one run of one commodity, [stage, ..., month, sample] with importers in baseline order."""

    demand: np.ndarray  # [K, I, H, S] final demand after demand shocks and responses
    consumed: np.ndarray  # [K, I, H, S]
    shortfall: np.ndarray  # [K, I, H, S]
    price: np.ndarray  # [K, H, S]
    balance: np.ndarray  # [term, K, H, S]
    stock_level: np.ndarray  # [J, H, S] at the end of each month
    stock_release: np.ndarray  # [J, H, S]


def _caps(baseline: Baseline, draws: Draws, t: int, active: list) -> np.ndarray:
    """Capacity factor of every stage and node this month, [K, S, N]."""
    caps = np.ones((len(baseline.stages), draws.samples, len(baseline.nodes)))
    for piece in active:
        if piece.kind == "production_outage":
            caps[piece.stage, :, piece.node] *= 1 - piece.strength * piece.profile[:, t]
    return np.clip(caps, 0.0, 1.0)


def _deliveries(baseline: Baseline, draws: Draws, k: int, t: int, output_factor: np.ndarray, active: list):
    """What each node receives from producers this month [S, N] and what restrictions withhold [S]."""
    flows = baseline.imports[k]  # [consumer, producer]
    received = baseline.own[k][None, :] * output_factor + output_factor @ flows.T
    restrictions = [p for p in active if p.kind == "export_restriction" and p.stage == k]
    if not restrictions:
        return received, np.zeros(draws.samples)
    reached = np.flatnonzero(np.any([p.weights > 0 for p in restrictions], axis=0))
    remaining = np.ones((draws.samples, len(baseline.nodes), len(reached)))
    for piece in restrictions:
        blocked = (piece.strength * piece.profile[:, t])[:, None, None]
        remaining *= 1 - blocked * piece.targets[None, :, None] * piece.weights[reached][None, None, :]
    gross = flows[:, reached][None, :, :] * output_factor[:, None, reached]  # [S, consumer, producer]
    withheld = (gross * (1 - remaining)).sum(axis=2)
    return received - withheld, withheld.sum(axis=1)


def _demand(baseline: Baseline, draws: Draws, k: int, t: int, price: np.ndarray, active: list) -> np.ndarray:
    """Final demand this month [S, N]."""
    factor = np.ones((draws.samples, len(baseline.nodes)))
    for piece in active:
        if piece.kind == "demand_shock" and piece.stage == k:
            factor *= 1 + (piece.strength * piece.profile[:, t])[:, None] * piece.targets[None, :]
    response = price ** draws.elasticity[k, :, t]
    return baseline.final_demand[k][None, :] * factor * response[:, None]


def _share_out(basis: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Share an amount [S] over nodes [S, N] in proportion to ``basis``."""
    total = basis.sum(axis=1)
    return basis * np.divide(amount, total, out=np.zeros_like(amount), where=total > 0)[:, None]


def _fill(gap: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Share out a pool [S] over gaps [S, N] pro rata, never beyond a gap."""
    total = gap.sum(axis=1)
    ratio = np.divide(pool, total, out=np.zeros_like(pool), where=total > 0)
    return gap * np.minimum(ratio, 1.0)[:, None]


def _add_supplies(draws: Draws, k: int, t: int, need: np.ndarray, available: np.ndarray, terms: dict) -> np.ndarray:
    """Recycling goes to its country; new capacity serves its country first. Returns new capacity left [S]."""
    left = np.zeros(draws.samples)
    for supply in draws.supplies:
        if supply.stage != k:
            continue
        amount = supply.monthly[:, t]
        if supply.kind == "recycling":
            home = amount
        else:
            home = np.minimum(np.maximum(need[:, supply.node] - available[:, supply.node], 0.0), amount)
            left += amount - home
        available[:, supply.node] += home
        terms["recycled" if supply.kind == "recycling" else "new_capacity"] += home
    return left


def _reroute(b: Baseline, draws: Draws, k: int, t: int, need, available, new_left, spare_left, terms) -> np.ndarray:
    """Fill gaps from leftover new capacity and spare capacity, pro rata; returns spare capacity left [S].
    Beyond the first stage, spare output runs only on spare output left upstream."""
    spare = (draws.spare[k] * b.production[k][None, :]).sum(axis=1) * draws.ramp[k, :, t]
    if k > 0 and b.coefficient[k] > 0:
        spare = np.minimum(spare, spare_left / b.coefficient[k])
    rerouted = _fill(np.maximum(need - available, 0.0), new_left + spare)
    available += rerouted
    from_new = np.minimum(new_left, rerouted.sum(axis=1))
    from_spare = rerouted.sum(axis=1) - from_new
    terms["new_capacity"] += from_new
    terms["spare_output"] += from_spare
    terms["upstream_spare"] = from_spare
    return spare - from_spare


def _charge_upstream(balance: np.ndarray, coefficient: np.ndarray, k: int, t: int, from_spare: np.ndarray) -> None:
    """Book the spare output every stage upstream made to feed this stage's spare output."""
    feed = from_spare
    for upstream in range(k - 1, -1, -1):
        feed = feed * coefficient[upstream + 1]
        balance[BALANCE_TERMS.index("spare_output"), upstream, t] += feed
        balance[BALANCE_TERMS.index("intermediate_use"), upstream, t] += feed


def _release(draws: Draws, k: int, t: int, need, available, levels: np.ndarray, raw: Raw) -> np.ndarray:
    """Stockpile releases to their holders: what they lack (on_shortfall) or a set amount (fixed). Returns [S]."""
    released = np.zeros(draws.samples)
    for j, stockpile in enumerate(draws.stockpiles):
        if stockpile.stage != k or stockpile.rule == "none":
            continue
        holders = stockpile.nodes[None, :]
        if stockpile.rule == "on_shortfall":
            basis = np.maximum(need - available, 0.0) * holders
            wanted = basis.sum(axis=1)
        else:
            basis, wanted = need * holders, stockpile.rate
        release = np.minimum(np.minimum(wanted, stockpile.rate), levels[j])
        release = np.where((t + 1 >= stockpile.start) & (basis.sum(axis=1) > 0), release, 0.0)
        available += _share_out(basis, release)
        levels[j] -= release
        released += release
        raw.stock_release[j, t] = release
    return released


def _price_index(draws: Draws, need: np.ndarray, available: np.ndarray) -> np.ndarray:
    """(1 - tightness) ** (1 / elasticity), capped; tightness = unmet share of all needs at the stage."""
    total = need.sum(axis=1)
    unmet = np.maximum(need - available, 0.0).sum(axis=1)
    tightness = np.divide(unmet, total, out=np.zeros_like(total), where=total > 0)
    with np.errstate(divide="ignore"):
        index = np.power(np.maximum(1 - tightness, 1e-12), 1 / draws.price_elasticity)
    return np.minimum(index, draws.price_cap)


@dataclass
class _State:
    raw: Raw
    levels: np.ndarray  # [J, S] stockpile levels
    price: np.ndarray  # [K, S] last month's price index
    importers: list[int]


def _stage(b: Baseline, draws: Draws, state: _State, k: int, t: int, caps, input_share, spare_left, active):
    """One stage in one month; returns the share of their needs each node got, and spare capacity left."""
    output_factor = caps[k] * input_share
    received, withheld = _deliveries(b, draws, k, t, output_factor, active)
    demand = _demand(b, draws, k, t, state.price[k], active)
    last = k + 1 == len(b.stages)
    planned = 0.0 if last else b.coefficient[k + 1] * b.production[k + 1][None, :] * caps[k + 1]
    need = demand + planned
    available = received.copy()
    terms = {
        "new_capacity": np.zeros(draws.samples),
        "recycled": np.zeros(draws.samples),
        "spare_output": np.zeros(draws.samples),
    }
    new_left = _add_supplies(draws, k, t, need, available, terms)
    spare_left = _reroute(b, draws, k, t, need, available, new_left, spare_left, terms)
    _charge_upstream(state.raw.balance, b.coefficient, k, t, terms["upstream_spare"])
    released = _release(draws, k, t, need, available, state.levels, state.raw)
    ratio = np.divide(available, need, out=np.ones_like(need), where=need > 0)
    # round-off in the flow sums must not show up as a shortfall of 1e-16 t when nothing is missing
    served = np.where(ratio > 1 - 1e-12, 1.0, ratio)
    final_use, intermediate = served * demand, served * planned
    balance = state.raw.balance[:, k, t]
    balance[0] = (b.production[k][None, :] * output_factor).sum(axis=1)
    balance[1] += terms["spare_output"]
    balance[2], balance[3], balance[4], balance[5] = terms["new_capacity"], terms["recycled"], released, withheld
    balance[6] = final_use.sum(axis=1)
    balance[7] += intermediate.sum(axis=1)
    balance[8] = (available - final_use - intermediate).sum(axis=1)
    rows = state.importers
    state.raw.demand[k, :, t] = demand[:, rows].T
    state.raw.consumed[k, :, t] = final_use[:, rows].T
    state.raw.shortfall[k, :, t] = (demand - final_use)[:, rows].T
    state.price[k] = state.raw.price[k, t] = _price_index(draws, need, available)
    return served, spare_left


def run(
    baseline: Baseline,
    draws: Draws,
    *,
    disabled: frozenset[int] = frozenset(),
    progress: Callable[[int], None] | None = None,
) -> Raw:
    """Simulate one commodity. ``disabled``: indices of shock pieces to leave out (for attribution)."""
    b, S, H = baseline, draws.samples, draws.horizon
    K, N, J, M = len(b.stages), len(b.nodes), len(draws.stockpiles), len(b.importers)
    raw = Raw(
        demand=np.zeros((K, M, H, S)),
        consumed=np.zeros((K, M, H, S)),
        shortfall=np.zeros((K, M, H, S)),
        price=np.ones((K, H, S)),
        balance=np.zeros((len(BALANCE_TERMS), K, H, S)),
        stock_level=np.zeros((J, H, S)),
        stock_release=np.zeros((J, H, S)),
    )
    levels = np.array([s.level for s in draws.stockpiles]).reshape(J, S).copy()
    state = _State(raw, levels, np.ones((K, S)), [b.index(i) for i in b.importers])
    pieces = [p for i, p in enumerate(draws.pieces) if i not in disabled]
    for t in range(H):
        active = [p for p in pieces if p.profile[:, t].any()]
        caps = _caps(b, draws, t, active)
        input_share, spare_left = np.ones((S, N)), np.zeros(S)
        for k in range(K):
            input_share, spare_left = _stage(b, draws, state, k, t, caps, input_share, spare_left, active)
        raw.stock_level[:, t] = state.levels
        if progress is not None:
            progress(1)
    return raw

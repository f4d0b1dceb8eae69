"""The engine: month by month, stage by stage down the chain, every Monte Carlo sample at once.

Each month, for each stage in the order of the chain (a stage after all the stages it takes input from):

1. Producers run at their capacity (less any outage) times the smallest share of their planned inputs they
   received from the stages upstream.
2. Output goes to the producer's own use and, along the baseline's bilateral flows, to importers; an export
   restriction withholds its share of the covered flows (the exporter keeps the withheld tonnes). Hubs ship on
   what they bought, in proportion to what they received of what they need.
3. Users' needs are their final demand — moved by demand shocks and, with a lag of one month, by the price
   index of their price region through substitution and demand destruction — plus what their later stages plan
   to process.
4. Gaps are filled, in order, by new capacity at home, recycling, spare capacity of producers not under a shock
   (ramping up after the first shock), the users' own stocks (inventories in the pipeline) and stockpile
   releases.
5. What a user still lacks is rationed pro rata between its final demand and its later stages. The shortfall
   is final demand at normal prices (after demand shocks) less what was consumed: physical rationing plus the
   demand the price drove out. The price index of each region follows its stocks and supply against its normal
   stocks and needs.

Nothing but months and stages is looped over; samples are the leading axis of every array, run in blocks of about
2,000 samples (whose arrays stay in the caches) on up to two threads, over the nodes that take part in the run
(:func:`active_nodes`). Shock pieces are
combined per stage before the loop where their effects multiply (:func:`compile_effects`), so the cost of a
month does not grow with the number of shocks that act alike.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from oresight.simulate.baseline import Baseline
from oresight.simulate.draws import Draws

__all__ = ["BALANCE_TERMS", "SUPPLY_TERMS", "USE_TERMS", "Effects", "InSlots", "Raw", "compile_effects", "run"]

#: world-level terms per stage, month and sample: supply side first, then where it went
SUPPLY_TERMS = (
    "production",
    "spare_output",
    "new_capacity",
    "recycled",
    "released",
    "inventory_draw",
    "backlog_release",
)
USE_TERMS = ("withheld", "inventory_build", "final_use", "intermediate_use", "surplus")
BALANCE_TERMS = SUPPLY_TERMS + USE_TERMS

_T = {name: i for i, name in enumerate(BALANCE_TERMS)}


class InSlots:
    """A run's array over its stages (axis ``axis`` is the stage) kept in the (commodity, stage) slots of a
    larger array: the result Dataset's own buffer, so the engine writes the result in place and nothing is
    copied at assembly. Indexed like the array it stands for, one stage at a time: with ``slots[k] == (c, s)``,
    ``view[term, k, t]`` is ``buffer[term, c, s, t]`` (a view where the buffer's indexing gives one).

    >>> buffer = np.zeros((2, 3, 2, 4))  # [commodity, stage, month, sample]
    >>> view = InSlots(buffer, [(0, 1), (1, 2)])
    >>> view[1, 0] = 7.0
    >>> float(buffer[1, 2, 0, 0]), np.asarray(view).shape
    (7.0, (2, 2, 4))
    """

    def __init__(self, buffer: np.ndarray, slots: list[tuple[int, int]], axis: int = 0):
        self.buffer, self.slots, self.axis = buffer, slots, axis

    def _at(self, key) -> tuple:
        key = key if isinstance(key, tuple) else (key,)
        a = self.axis
        return (*key[:a], *self.slots[key[a]], *key[a + 1 :])

    def __getitem__(self, key):
        return self.buffer[self._at(key)]

    def __setitem__(self, key, value) -> None:
        self.buffer[self._at(key)] = value

    def samples(self, start: int, stop: int) -> InSlots:
        """The same view on samples ``start`` to ``stop`` (the last axis)."""
        return InSlots(self.buffer[..., start:stop], self.slots, self.axis)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        lead = (slice(None),) * self.axis
        return np.stack([self.buffer[(*lead, *slot)] for slot in self.slots], axis=self.axis).astype(dtype or float)


def _samples(array, start: int, stop: int):
    return array.samples(start, stop) if isinstance(array, InSlots) else array[..., start:stop]


@dataclass
class Raw:
    """Arrays of one run of one commodity, [stage, ..., month, sample] with importers in baseline order (an
    array may be :class:`InSlots`, written straight into the result's buffer)."""

    demand: np.ndarray  # [K, I, H, S] final demand at normal prices after demand shocks (what shortfall is of)
    priced: np.ndarray  # [K, I, H, S] final demand at the price of the month (after substitution and destruction)
    consumed: np.ndarray  # [K, I, H, S]
    shortfall: np.ndarray  # [K, I, H, S]
    price: np.ndarray  # [K, H, S] over all users
    price_region: np.ndarray  # [K, 2, H, S]: outside and inside the exporter's region; NaN where not split
    balance: np.ndarray | InSlots  # [term, K, H, S]
    stock_level: np.ndarray  # [J, H, S] at the end of each month
    stock_release: np.ndarray  # [J, H, S]
    inventory: np.ndarray  # [K, I, H, S] importers' own stocks at the end of each month
    inventory_total: np.ndarray | InSlots  # [K, H, S] all nodes' stocks at the end of each month
    inventory_initial: np.ndarray  # [K, S]
    exports: np.ndarray  # [K, X, H, S] what the draws' exporters ship to others
    exports_to: np.ndarray  # [K, X, I, H, S] what they ship to each importer


@dataclass
class Effects:
    """Shock pieces combined per stage: outages per node, demand shocks per target set, restrictions per target
    set and reach (intensities [S, H]; several pieces alike multiply into one)."""

    outages: list[list[tuple[int, np.ndarray]]]
    demand: list[list[tuple[np.ndarray, np.ndarray]]]
    restrictions: list[list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]]
    #: per stage, the producers any restriction of the draws can reach (the same whichever pieces are left out)
    reach: list[np.ndarray]

    def take(self, start: int, stop: int) -> Effects:
        """The effects on samples ``start`` to ``stop``."""
        cut = slice(start, stop)
        return Effects(
            [[(node, lost[cut]) for node, lost in stage] for stage in self.outages],
            [[(targets, change[cut]) for targets, change in stage] for stage in self.demand],
            [[(t, w, onward, x[cut]) for t, w, onward, x in stage] for stage in self.restrictions],
            self.reach,
        )


def compile_effects(draws: Draws, k_count: int, disabled: frozenset[int] = frozenset()) -> Effects:
    """Combine the pieces that are not ``disabled``: factors (1 − x) of outages on one node multiply, as do
    (1 + x) of demand shocks on one target set and (1 − x) of restrictions with the same targets and a reach of
    only 0 or 1 (a restriction reaching part of a producer's exports, by an extraterritorial rule, stays apart)."""
    outages: list[dict] = [{} for _ in range(k_count)]
    demand: list[dict] = [{} for _ in range(k_count)]
    restrictions: list[dict] = [{} for _ in range(k_count)]
    for index, piece in enumerate(draws.pieces):
        if index in disabled or not piece.profile.any():
            continue
        k, x = piece.stage, piece.intensity
        if piece.kind == "production_outage":
            outages[k][piece.node] = 1 - (1 - outages[k].get(piece.node, 0.0)) * (1 - x)
        elif piece.kind == "demand_shock":
            key = piece.targets.tobytes()
            old = demand[k].get(key, (piece.targets, 0.0))[1]
            demand[k][key] = (piece.targets, (1 + old) * (1 + x) - 1)
        else:
            onward = piece.onward if piece.onward is not None else np.zeros_like(piece.weights)
            binary = np.isin(piece.weights, (0.0, 1.0)).all() and not onward.any()
            key = (piece.targets.tobytes(), piece.weights.tobytes()) if binary else (index,)
            old = restrictions[k].get(key, (None, None, None, 0.0))[3]
            restrictions[k][key] = (piece.targets, piece.weights, onward, 1 - (1 - old) * (1 - x))
    reach = [np.zeros(0, dtype=int) for _ in range(k_count)]
    for piece in draws.pieces:
        if piece.kind == "export_restriction":
            reach[piece.stage] = np.union1d(reach[piece.stage], np.flatnonzero(piece.weights > 0)).astype(int)
    return Effects(
        [list(stage.items()) for stage in outages],
        [list(stage.values()) for stage in demand],
        [list(stage.values()) for stage in restrictions],
        reach,
    )


def _caps(b: Baseline, draws: Draws, effects: Effects, t: int) -> np.ndarray:
    """Capacity factor of every stage and node this month, [K, S, N]."""
    caps = np.ones((len(b.stages), draws.samples, len(b.nodes)))
    for k, stage in enumerate(effects.outages):
        for node, lost in stage:  # one entry per node: pieces on the same node are combined
            caps[k, :, node] = np.clip(1 - lost[:, t], 0.0, 1.0)
    return caps


def _deliveries(b: Baseline, draws: Draws, effects: Effects, k: int, t: int, output_factor: np.ndarray, rows):
    """What each node receives from producers this month [S, N] and what the draws' exporters ship to others
    [S, X]; per restriction group, buyer and producer a restriction can reach, what the group withholds and the
    share of the lane the other groups leave open [G, S, N, R] (or None when no restriction acts)."""
    flows = b.imports[k]  # [consumer, producer]
    received = b.own[k][None, :] * output_factor + output_factor @ flows.T
    exporters = list(draws.exporters)
    shipped = output_factor[:, exporters] * flows[:, exporters].sum(axis=0)[None, :]
    shipped_to = output_factor[:, None, exporters] * flows[rows][:, exporters][None, :, :]  # [S, I, X]
    groups = effects.restrictions[k]
    if not groups or not any(g[3][:, t].any() for g in groups):
        return received, (shipped, shipped_to), None
    reached = effects.reach[k]
    gross = flows[:, reached][None, :, :] * output_factor[:, None, reached]  # [S, consumer, producer]
    # each group withholds its share of what the groups before it let through (they multiply: 1 - Π(1 - x))
    blocked = [g[3][:, t, None, None] * g[0][None, :, None] * g[1][reached][None, None, :] for g in groups]
    remaining = np.ones_like(gross)
    withheld = np.empty((len(groups), *gross.shape))
    for i, x in enumerate(blocked):
        withheld[i] = gross * remaining * x
        remaining = remaining * (1 - x)
    others = np.array([np.prod([1 - x for j, x in enumerate(blocked) if j != i], axis=0) for i in range(len(blocked))])
    total = withheld.sum(axis=0)
    position = {int(r): i for i, r in enumerate(reached)}
    for x, node in enumerate(exporters):
        if node in position:
            shipped[:, x] -= total[:, :, position[node]].sum(axis=1)
            shipped_to[:, :, x] -= total[:, rows, position[node]]
    lanes = (withheld, np.broadcast_to(others, withheld.shape))
    return received - total.sum(axis=2), (shipped, shipped_to), lanes


def _backlog(draws: Draws, effects: Effects, state: _State, k: int, t: int, received, need, lanes, shipped):
    """Withheld goods wait with their exporter as the buyer's unfilled orders, per restriction (see
    :func:`_owe`). Once a restriction eases below its peak, the exporter ships what it owes (the scenario's
    ``backlog_rate`` a month, times how far the restriction eased and the share of the lane the other
    restrictions leave open), as far as the buyer is short of supply or its stocks are below normal. A quota
    held constant never releases what it withholds. Adds the shipments to ``received`` and ``shipped``;
    returns the tonnes shipped [S]."""
    backlog, peak = state.backlog[k], state.peak_block[k]
    if not backlog.any():
        return np.zeros(draws.samples)
    now = np.array([g[3][:, t] for g in effects.restrictions[k]])  # [G, S]
    np.maximum(peak, now, out=peak)
    relief = np.where(now < peak - 1e-9, np.divide(peak - now, peak, out=np.zeros_like(peak), where=peak > 0), 0.0)
    open_share = lanes[1] if lanes is not None else 1.0
    rate = draws.backlog_rate[None, :, None, None]
    offer = backlog * relief[:, :, None, None] * open_share * rate  # [G, S, buyer, producer]
    offered = offer.sum(axis=(0, 3))
    if not offered.any():
        return np.zeros(draws.samples)
    wanted = np.maximum(need - received, 0.0) + np.maximum(state.normal_stock[k] - state.inventory[k], 0.0)
    ratio = np.minimum(np.divide(wanted, offered, out=np.zeros_like(offered), where=offered > 0), 1.0)
    sent = offer * ratio[None, :, :, None]
    backlog -= sent
    by_lane = sent.sum(axis=0)
    received += by_lane.sum(axis=2)
    position = {int(r): i for i, r in enumerate(effects.reach[k])}
    rows = state.importers
    for x, node in enumerate(draws.exporters):
        if node in position:
            shipped[0][:, x] += by_lane[:, :, position[node]].sum(axis=1)
            shipped[1][:, :, x] += by_lane[:, rows, position[node]]
    return by_lane.sum(axis=(1, 2))


def _owe(state: _State, k: int, t: int, lanes, need, available) -> None:
    """What a restriction withheld stays owed to the buyer only as far as the buyer still lacks it at the end of
    the month (unmet needs, stocks below normal): orders filled elsewhere meanwhile are cancelled, so a backlog
    never supplies more than the restriction took away."""
    if lanes is None:
        return
    np.maximum(state.peak_block[k], np.array([g[3][:, t] for g in state.restrictions[k]]), out=state.peak_block[k])
    withheld = lanes[0]
    lost = withheld.sum(axis=(0, 3))  # [S, buyer]
    lacking = np.maximum(need - available, 0.0) + np.maximum(state.normal_stock[k] - state.inventory[k], 0.0)
    kept = np.minimum(np.divide(lacking, lost, out=np.zeros_like(lost), where=lost > 0), 1.0)
    state.backlog[k] += withheld * kept[None, :, :, None]


def _reexport(b: Baseline, effects: Effects, k: int, t: int, received: np.ndarray, need: np.ndarray):
    """Hubs ship on what they bought, in proportion to the share of their needs and commitments they received;
    an extraterritorial restriction withholds its reach of it, and a hub's own restriction the share it covers of
    the hub's exports (a processor's products made from imported ore). Moves the tonnes from hubs to buyers in
    ``received`` and returns what was withheld [S]."""
    onward = b.reexports[k]  # [consumer, hub]
    hubs = np.flatnonzero(onward.sum(axis=0) > 0)
    committed = onward[:, hubs].sum(axis=0)
    ratio = np.clip(received[:, hubs] / (need[:, hubs] + committed[None, :]), 0.0, 1.0)
    gross = onward[None, :, hubs] * ratio[:, None, :]  # [S, consumer, hub]
    reaching = [
        (targets, np.maximum(reach, own), x)
        for targets, own, reach, x in effects.restrictions[k]
        if reach[hubs].any() or own[hubs].any()
    ]
    if not reaching:  # no extraterritorial restriction: hubs ship all they can
        received += gross.sum(axis=2)
        received[:, hubs] -= gross.sum(axis=1)
        return np.zeros(len(received))
    remaining = np.ones_like(gross)
    for targets, reach, blocked in reaching:
        remaining *= 1 - blocked[:, t, None, None] * targets[None, :, None] * reach[hubs][None, None, :]
    delivered = gross * remaining
    received += delivered.sum(axis=2)
    received[:, hubs] -= gross.sum(axis=1)
    return (gross - delivered).sum(axis=(1, 2))


def _demand(b: Baseline, draws: Draws, effects: Effects, k: int, t: int, price: np.ndarray):
    """Final demand this month at normal prices and at the month's prices (one month's lag), both [S, N].
    ``price``: last month's index of each price region [2, S]."""
    if not b.final_demand[k].any():  # a stage that only feeds later stages
        none = np.zeros((draws.samples, len(b.nodes)))
        return none, none
    factor = np.ones((draws.samples, len(b.nodes)))
    for targets, change in effects.demand[k]:
        factor *= 1 + change[:, t, None] * targets[None, :]
    reference = b.final_demand[k][None, :] * factor
    response = price ** draws.elasticity[k, None, :, t]  # per region [2, S], then per node
    return reference, reference * response[draws.regions[k]].T


def _fill(gap: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Share out a pool [S] over gaps [S, N] pro rata, never beyond a gap."""
    total = gap.sum(axis=1)
    ratio = np.divide(pool, total, out=np.zeros_like(pool), where=total > 0)
    return gap * np.minimum(ratio, 1.0)[:, None]


def _share_out(basis: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Share an amount [S] over nodes [S, N] in proportion to ``basis``."""
    total = basis.sum(axis=1)
    return basis * np.divide(amount, total, out=np.zeros_like(amount), where=total > 0)[:, None]


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


def _spare_pool(b: Baseline, draws: Draws, k: int, t: int, spare_left: np.ndarray, spare: np.ndarray) -> np.ndarray:
    """Spare output the stage can make this month [S]: its producers' spare capacity (``spare`` [K, S], t a
    month), ramped, and no more than the spare output left at each stage it takes input from allows."""
    pool = spare[k] * draws.ramp[k, :, t]
    for upstream in np.flatnonzero(b.inputs[k]):
        pool = np.minimum(pool, spare_left[upstream] / b.inputs[k, upstream])
    return pool


def _charge_upstream(b: Baseline, balance: np.ndarray, spare_left: np.ndarray, k: int, t: int, made: np.ndarray):
    """Book the spare output every stage upstream made to feed this stage's spare output."""
    for upstream in np.flatnonzero(b.inputs[k]):
        feed = made * b.inputs[k, upstream]
        balance[_T["spare_output"], upstream, t] += feed
        balance[_T["intermediate_use"], upstream, t] += feed
        spare_left[upstream] -= feed
        _charge_upstream(b, balance, spare_left, int(upstream), t, feed)


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


def calc_price_target(stocks, supply, normal_stocks, needs, elasticity, floor: float, cap: float) -> np.ndarray:
    """The price index a market tends to: ((stocks + supply) / (normal stocks + needs)) ** (1 / elasticity),
    between ``floor`` and ``cap`` (1 when nothing is needed). With no stocks it is the market-clearing index of
    the supply gap; with stocks, prices rise as stocks run down, before anyone runs short.

    >>> float(calc_price_target(0.0, 0.5, 0.0, 1.0, -0.5, 0.5, 30.0))
    4.0
    >>> float(calc_price_target(1.0, 1.0, 1.0, 1.0, -0.5, 0.5, 30.0))
    1.0
    """
    total = np.asarray(normal_stocks + needs, dtype=float)
    ratio = np.divide(stocks + supply, total, out=np.ones_like(total), where=total > 0)
    with np.errstate(divide="ignore"):
        index = np.power(np.maximum(ratio, 1e-12), 1.0 / elasticity)
    return np.clip(index, floor, cap)


@dataclass
class _State:
    raw: Raw
    levels: np.ndarray  # [J, S] stockpile levels
    inventory: np.ndarray  # [K, S, N] users' stocks
    normal_stock: np.ndarray  # [K, S, N] the stocks users hold normally
    members: list[list[np.ndarray | None]]  # per stage and price region, its nodes (None: the only region, all)
    spare: np.ndarray  # [K, S] tonnes a month the stage's producers could make beyond normal at full ramp
    last_price: np.ndarray  # [K, 2, S] last month's price index of each region
    served: np.ndarray  # [K, S, N] share of its needs each node got this month
    importers: list[int]
    backlog: list[np.ndarray]  # per stage [group, S, buyer, producer reached]: withheld goods still owed
    peak_block: list[np.ndarray]  # per stage [group, S]: each restriction group's strongest intensity so far
    restrictions: list  # per stage, the restriction groups (Effects.restrictions)


def _region_sum(values: np.ndarray, members: np.ndarray | None) -> np.ndarray:
    return values.sum(axis=1) if members is None else values[:, members].sum(axis=1)


def _price(draws: Draws, state: _State, k: int, t: int, need, supply, stocks, withheld) -> None:
    """Price index per region of the stage (the exporter's region counts what it withholds as its supply), and
    over all users: the regions' indices weighted by their needs. Where a known shock takes supply away
    within a region's look-ahead window, its price is the higher of the spot rule and the same rule over the
    window (see :func:`oresight.simulate.markets.expectations`)."""
    indices, weights = [], []
    model = (draws.price_elasticity[k], draws.price_floor[k], draws.price_cap[k])
    regions = state.members[k]
    for r, members in enumerate(regions):
        needs = _region_sum(need, members)
        held, normal = _region_sum(stocks, members), _region_sum(state.normal_stock[k], members)
        target = calc_price_target(
            held,
            _region_sum(supply, members) + (withheld if r == 1 else 0.0),
            normal,
            needs,
            *model,
        )
        if draws.expected_supply is not None:  # where a known shock takes supply away within the window
            expected, needed = draws.expected_supply[k, r, :, t], draws.expected_need[k, r]
            ahead = calc_price_target(held, expected, normal, needed, *model)
            target = np.where(expected < needed, np.maximum(target, ahead), target)
        speed = draws.price_speed[k]
        index = state.last_price[k, r] ** (1 - speed) * target**speed
        state.last_price[k, r] = index
        indices.append(index)
        weights.append(needs)
        if len(regions) > 1:
            state.raw.price_region[k, r, t] = index
    total = np.sum(weights, axis=0)
    weighted = np.sum([i * w for i, w in zip(indices, weights, strict=True)], axis=0)
    state.raw.price[k, t] = np.divide(weighted, total, out=indices[0].copy(), where=total > 0)


def _stage(b: Baseline, draws: Draws, effects: Effects, state: _State, k: int, t: int, caps, spare_left):
    """One stage in one month: deliveries, needs, the gaps filled, rationing, the price."""
    upstream = np.flatnonzero(b.inputs[k])
    input_share = np.min(state.served[upstream], axis=0) if len(upstream) else 1.0
    output_factor = caps[k] * input_share
    if len(upstream) > 1:  # an input beyond what the scarcest one allows is delivered but not used
        for u in upstream:
            unused = (b.inputs[k, u] * b.production[k][None, :] * caps[k] * (state.served[u] - input_share)).sum(1)
            state.raw.balance[_T["intermediate_use"], u, t] -= unused
            state.raw.balance[_T["surplus"], u, t] += unused
    received, shipped, lanes = _deliveries(b, draws, effects, k, t, output_factor, state.importers)
    withheld = lanes[0].sum(axis=(0, 2, 3)) if lanes is not None else np.zeros(draws.samples)
    reference, demand = _demand(b, draws, effects, k, t, state.last_price[k])
    downstream = np.flatnonzero(b.inputs[:, k])
    planned = sum(b.inputs[d, k] * b.production[d][None, :] * caps[d] for d in downstream) if len(downstream) else 0.0
    need = demand + planned
    if b.reexports[k].any():
        withheld = withheld + _reexport(b, effects, k, t, received, need)
    from_backlog = _backlog(draws, effects, state, k, t, received, need, lanes, shipped)
    available = received.copy()
    terms = {name: np.zeros(draws.samples) for name in ("new_capacity", "recycled", "spare_output")}
    new_left = _add_supplies(draws, k, t, need, available, terms)
    pool = _spare_pool(b, draws, k, t, spare_left, state.spare)
    rerouted = _fill(np.maximum(need - available, 0.0), new_left + pool)
    available += rerouted
    from_new = np.minimum(new_left, rerouted.sum(axis=1))
    from_spare = rerouted.sum(axis=1) - from_new
    terms["new_capacity"] += from_new
    spare_left[k] = pool - from_spare
    _charge_upstream(b, state.raw.balance, spare_left, k, t, from_spare)
    stocks_before = state.inventory[k].copy()
    drawn = np.minimum(np.maximum(need - available, 0.0), state.inventory[k])
    state.inventory[k] -= drawn
    available += drawn
    released = _release(draws, k, t, need, available, state.levels, state.raw)
    flow = available - drawn  # stockpile releases count as supply for the price; users' stock draws do not
    ratio = np.divide(available, need, out=np.ones_like(need), where=need > 0)
    # round-off in the flow sums must not show up as a shortfall of 1e-16 t when nothing is missing
    served = np.where(ratio > 1 - 1e-12, 1.0, np.minimum(ratio, 1.0))
    state.served[k] = served
    final_use, intermediate = served * demand, served * planned
    left = available - final_use - intermediate
    built = np.minimum(np.maximum(left, 0.0), np.maximum(state.normal_stock[k] - state.inventory[k], 0.0))
    state.inventory[k] += built
    _owe(state, k, t, lanes, need, available)
    balance = state.raw.balance[:, k, t]
    balance[_T["production"]] = (b.production[k][None, :] * output_factor).sum(axis=1)
    balance[_T["spare_output"]] += from_spare
    balance[_T["new_capacity"]], balance[_T["recycled"]] = terms["new_capacity"], terms["recycled"]
    balance[_T["released"]], balance[_T["inventory_draw"]] = released, drawn.sum(axis=1)
    balance[_T["backlog_release"]], balance[_T["inventory_build"]] = from_backlog, built.sum(axis=1)
    balance[_T["withheld"]] = withheld
    balance[_T["final_use"]] = final_use.sum(axis=1)
    balance[_T["intermediate_use"]] += intermediate.sum(axis=1)
    balance[_T["surplus"]] = (left - built).sum(axis=1)
    rows = state.importers
    raw = state.raw
    if b.final_demand[k, rows].any():  # elsewhere the importers' demand, use and shortfall stay 0
        raw.demand[k, :, t], raw.priced[k, :, t] = reference[:, rows].T, demand[:, rows].T
        raw.consumed[k, :, t] = final_use[:, rows].T
        raw.shortfall[k, :, t] = np.maximum(reference - final_use, 0.0)[:, rows].T
    raw.inventory[k, :, t] = state.inventory[k][:, rows].T
    raw.inventory_total[k, t] = state.inventory[k].sum(axis=1)
    raw.exports[k, :, t] = shipped[0].T
    raw.exports_to[k, :, :, t] = shipped[1].transpose(2, 1, 0)
    _price(draws, state, k, t, need, flow, stocks_before, withheld)


def stage_order(inputs: np.ndarray) -> list[int]:
    """Stages in an order where each comes after every stage it takes input from.

    >>> stage_order(np.array([[0, 0, 0], [0, 0, 1.0], [0.5, 0, 0]]))
    [0, 2, 1]
    """
    order, done = [], set()
    while len(order) < len(inputs):
        ready = [k for k in range(len(inputs)) if k not in done and set(np.flatnonzero(inputs[k])) <= done]
        if not ready:
            raise ValueError("the stages' inputs form a cycle")
        order.append(ready[0])
        done.add(ready[0])
    return order


#: samples per block of the month loop: a block's [sample, node] arrays (about 0.4 MB at 31 nodes) stay in the
#: cores' caches, where 10,000 samples at once (2.5 MB an array) stream every operation through memory
BLOCK = 2000


def blocks(samples: int, size: int = BLOCK) -> list[tuple[int, int]]:
    """Sample ranges of about ``size`` samples, an even number of them (two threads get equal shares). The cut
    does not depend on the number of threads, and each sample's result is the same whatever the cut.

    >>> blocks(10_000)
    [(0, 1667), (1667, 3333), (3333, 5000), (5000, 6667), (6667, 8333), (8333, 10000)]
    >>> blocks(1_000)
    [(0, 1000)]
    """
    count = max(1, round(samples / size))
    count += count % 2 if count > 1 else 0
    bounds = np.linspace(0, samples, count + 1).round().astype(int)
    return [(int(a), int(z)) for a, z in itertools.pairwise(bounds) if z > a]


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _allocate(b: Baseline, draws: Draws, into: dict | None = None) -> Raw:
    """The run's arrays; ``into`` gives some of them (by name) already, zero where the engine writes."""
    S, H = draws.samples, draws.horizon
    K, J, M, X = len(b.stages), len(draws.stockpiles), len(b.importers), len(draws.exporters)
    into = into or {}
    return Raw(
        demand=np.zeros((K, M, H, S)),
        priced=np.zeros((K, M, H, S)),
        consumed=np.zeros((K, M, H, S)),
        shortfall=np.zeros((K, M, H, S)),
        price=np.ones((K, H, S)),
        price_region=np.full((K, 2, H, S), np.nan),
        balance=into["balance"] if "balance" in into else np.zeros((len(BALANCE_TERMS), K, H, S)),
        stock_level=np.zeros((J, H, S)),
        stock_release=np.zeros((J, H, S)),
        inventory=np.zeros((K, M, H, S)),
        inventory_total=into["inventory_total"] if "inventory_total" in into else np.zeros((K, H, S)),
        inventory_initial=(draws.cover * b.use[:, None, :]).sum(axis=2),
        exports=np.zeros((K, X, H, S)),
        exports_to=np.zeros((K, X, M, H, S)),
    )


class _Block:
    """The state of one block of samples through the months; writes its samples' slice of the run's arrays."""

    def __init__(self, b: Baseline, draws: Draws, effects: Effects, raw: Raw, start: int, stop: int):
        self.b, self.draws = b, draws.take(start, stop)
        self.effects = effects = effects.take(start, stop)
        self.raw = Raw(**{name: _samples(array, start, stop) for name, array in vars(raw).items()})
        S, K, N = self.draws.samples, len(b.stages), len(b.nodes)
        normal = self.draws.cover * b.use[:, None, :]
        self.state = _State(
            self.raw,
            np.array([s.level for s in self.draws.stockpiles]).reshape(len(self.draws.stockpiles), S).copy(),
            normal.copy(),
            normal,
            [
                [None] if len(names) == 1 else [np.flatnonzero(row == r) for r in range(len(names))]
                for row, names in zip(self.draws.regions, self.draws.region_names, strict=True)
            ],
            (self.draws.spare * b.production[:, None, :]).sum(axis=2),
            np.ones((K, 2, S)),
            np.ones((K, S, N)),
            [b.index(i) for i in b.importers],
            [
                np.zeros((len(g), S, N, len(r)))
                for g, r in zip(self.effects.restrictions, self.effects.reach, strict=True)
            ],
            [np.zeros((len(g), S)) for g in self.effects.restrictions],
            self.effects.restrictions,
        )
        self.order = stage_order(b.inputs)

    def month(self, t: int) -> None:
        b, draws, effects, state = self.b, self.draws, self.effects, self.state
        caps = _caps(b, draws, effects, t)
        spare_left = np.zeros((len(b.stages), draws.samples))
        for k in self.order:
            _stage(b, draws, effects, state, k, t, caps, spare_left)
        self.raw.stock_level[:, t] = state.levels


def active_nodes(b: Baseline, draws: Draws) -> np.ndarray:
    """Nodes [N] that take part in the run: they produce, use, trade or re-export at some stage, or they are an
    importer, an exporter, a shock's country or a supply's. The others' every term is 0 at every stage (no
    output, no needs, so fully served), so the engine leaves them out (a chain by element keeps 14 of its 31)."""
    imports, reexports = b.imports > 0, b.reexports > 0
    keep = (b.production > 0).any(axis=0) | (b.use > 0).any(axis=0)
    keep |= (
        imports.any(axis=(0, 1)) | imports.any(axis=(0, 2)) | reexports.any(axis=(0, 1)) | reexports.any(axis=(0, 2))
    )
    named = [b.index(i) for i in b.importers] + list(draws.exporters) + [s.node for s in draws.supplies]
    keep[named + [p.node for p in draws.pieces if p.node >= 0]] = True
    return keep


def _on_nodes(b: Baseline, draws: Draws, keep: np.ndarray) -> tuple[Baseline, Draws]:
    """The baseline and draws on the nodes ``keep`` only (node indices renumbered)."""
    nodes = np.flatnonzero(keep)
    new = {int(n): i for i, n in enumerate(nodes)}
    among = np.ix_(range(len(b.stages)), nodes, nodes)
    baseline = replace(
        b,
        nodes=tuple(b.nodes[n] for n in nodes),
        production=b.production[:, nodes],
        final_demand=b.final_demand[:, nodes],
        own=b.own[:, nodes],
        imports=b.imports[among],
        reexports=b.reexports[among],
        spare=b.spare[:, nodes],
        cover=b.cover[:, nodes],
    )
    pieces = [
        replace(
            p,
            node=new[p.node] if p.node >= 0 else -1,
            targets=p.targets[nodes],
            weights=p.weights[nodes],
            onward=p.onward[nodes] if p.onward is not None else None,
        )
        for p in draws.pieces
    ]
    cut = replace(
        draws,
        pieces=pieces,
        stockpiles=[replace(s, nodes=s.nodes[nodes]) for s in draws.stockpiles],
        supplies=[replace(s, node=new[s.node]) for s in draws.supplies],
        spare=draws.spare[:, :, nodes],
        cover=draws.cover[:, :, nodes],
        regions=draws.regions[:, nodes],
        exporters=tuple(new[x] for x in draws.exporters),
    )
    return baseline, cut


def run(
    baseline: Baseline,
    draws: Draws,
    *,
    disabled: frozenset[int] = frozenset(),
    progress: Callable[[int], None] | None = None,
    threads: int | None = None,
    into: dict | None = None,
) -> Raw:
    """Simulate one commodity. ``disabled``: indices of shock pieces to leave out (for attribution); ``into``:
    arrays of the result to write into, by name (see :class:`oresight.simulate.result.Outputs`), zero where the
    run writes.

    The samples run in blocks (:func:`blocks`), on ``threads`` threads (default: the usable cores, at most 2;
    numpy releases the interpreter lock in its loops); the result is the same for any number of threads."""
    if disabled and draws.expected_supply is not None:  # a shock left out is not anticipated either
        from oresight.simulate.markets import expectations

        supply, need = expectations(baseline, draws, disabled)
        draws = replace(draws, expected_supply=supply, expected_need=need)
    keep = active_nodes(baseline, draws)
    if not keep.all():
        baseline, draws = _on_nodes(baseline, draws, keep)
    raw = _allocate(baseline, draws, into)
    effects = compile_effects(draws, len(baseline.stages), disabled)
    threads = max(1, threads if threads is not None else min(usable_cores(), 2))
    parts = [_Block(baseline, draws, effects, raw, a, z) for a, z in blocks(draws.samples, BLOCK)]
    threads = min(threads, len(parts))
    # the engine's matrices are small: BLAS threads only contend for the cores (a 31 x 31 product ran 28x slower
    # with them on a loaded 2-core machine)
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(threads) as pool:
        share = [parts[i::threads] for i in range(threads)]
        for t in range(draws.horizon):
            if threads == 1:
                for part in parts:
                    part.month(t)
            else:
                list(pool.map(lambda mine, t=t: [part.month(t) for part in mine], share))
            if progress is not None:
                progress(1)
    return raw

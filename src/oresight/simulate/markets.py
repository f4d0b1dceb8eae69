"""Markets of the simulator's stages: the price that values a tonne of each stage's product, the value of the
downstream output a tonne makes possible per end-use sector, and the price model's parameters — read from
``markets.yaml`` (which published price applies where) and from the World's facts (the numbers, each with its
source).

>>> parameters("cobalt", "refining")["elasticity"] < 0
True
>>> round(usd_per_tonne(16.77, "USD/lb"))
36972
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources

import numpy as np
import yaml

from oresight.facts import rows_as_of, usd_per_tonne

__all__ = [
    "OUTPUT_VALUE",
    "calc_feed_cover",
    "calc_window_sum",
    "expectations",
    "loss_shares",
    "market",
    "output_values",
    "parameters",
    "reference_price",
    "usd_per_tonne",
]

#: the measure of facts giving the value of a sector's output per tonne of a stage's product (USD/t)
OUTPUT_VALUE = "output_value"
PRICE_PARAMETERS = ("elasticity", "max_index", "min_index", "adjustment_months")


@cache
def _markets() -> dict:
    text = resources.files("oresight.simulate").joinpath("markets.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def market(commodity: str, stage: str) -> dict:
    """The entry of ``markets.yaml`` for a commodity's stage, over the defaults."""
    entries = _markets()
    return {**entries["default"], **(entries.get(commodity) or {}).get(stage, {})}


def parameters(commodity: str, stage: str) -> dict[str, float]:
    """The price model's parameters for a stage (elasticity, max_index, min_index, adjustment_months)."""
    entry = market(commodity, stage)
    return {name: float(entry[name]) for name in PRICE_PARAMETERS}


def reference_price(world, commodity: str, stage: str, year: int | None) -> tuple[float, str, str] | None:
    """USD per tonne of a stage's product, its source id and its basis; None where ``markets.yaml`` names no
    price for the stage or no fact matches."""
    wanted = market(commodity, stage).get("price")
    if not wanted:
        return None
    spec = wanted if isinstance(wanted, dict) else {"basis": wanted}
    rows = world.select(commodity=spec.get("commodity", commodity), measure="price")
    rows = rows[rows["stage"].isin([stage, ""]) & rows["value"].notna()]
    rows = rows[rows["basis"].str.contains(spec["basis"], case=False, regex=False)]
    rows = rows_as_of(rows, year)
    if rows.empty:
        return None
    row = rows.iloc[0]
    price = usd_per_tonne(float(row["value"]), str(row["unit"]))
    if not math.isfinite(price):
        return None
    return price, str(row["source"]), f"{row['basis']} ({int(row['year'])}, {row['value']:g} {row['unit']})"


def output_values(world, commodity: str, stage: str, sectors, year: int | None) -> dict[str, tuple[float, str]]:
    """USD of downstream output per tonne of the stage's product, per sector with a sourced figure."""
    rows = world.select(commodity=commodity, stage=stage, measure=OUTPUT_VALUE)
    out = {}
    for sector, group in rows[rows["value"].notna()].groupby("sector"):
        if sector in sectors:
            row = rows_as_of(group, year).iloc[0]
            value = usd_per_tonne(float(row["value"]), str(row["unit"]))
            if math.isfinite(value):
                out[str(sector)] = (value, str(row["source"]))
    return out


# -- expectations -------------------------------------------------------------------------------------------
def loss_shares(b, piece, regions: np.ndarray, feed_cover: np.ndarray | None = None):
    """Share of each price region's normal use of each stage [K, 2] that one shock piece at full strength
    (intensity 1) takes away, at the baseline's flows, and the months [K] by which it arrives later than the
    shock: the lanes a restriction blocks, or the output an outage removes, passed down the chain to the
    stages made from it — a producer short of an input makes that much less once its stocks of the input
    (``feed_cover`` [K, K]: months of stage u's product held by stage k's producers) are gone. The exporter's
    own region loses nothing by a restriction: it keeps what it withholds.

    >>> from types import SimpleNamespace as N
    >>> b = N(stages=("mining",), inputs=np.zeros((1, 1)), imports=np.array([[[0.0, 0], [3, 0]]]),
    ...       own=np.array([[1.0, 0]]), use=np.array([[1.0, 3]]), production=np.array([[4.0, 0]]))
    >>> piece = N(kind="export_restriction", stage=0, node=0, targets=np.array([False, True]),
    ...           weights=np.array([1.0, 0]))
    >>> shares, delays = loss_shares(b, piece, np.array([[1, 0]]))
    >>> shares.tolist(), delays.tolist()
    ([[1.0, 0.0]], [0.0])
    """
    from oresight.simulate.engine import stage_order

    k_count, n = len(b.stages), b.use.shape[1]
    feed_cover = np.zeros((k_count, k_count)) if feed_cover is None else feed_cover
    lost_in = np.zeros((k_count, n))  # tonnes of each node's use lost, per unit intensity
    out_share = np.zeros((k_count, n))  # share of each producer's output lost
    delay = np.zeros(k_count)
    if piece.kind == "production_outage":
        out_share[piece.stage, piece.node] = 1.0
    for k in stage_order(b.inputs):
        fed = []
        for u in np.flatnonzero(b.inputs[k]):
            short = np.divide(lost_in[u], b.use[u], out=np.zeros(n), where=b.use[u] > 0)
            short = np.where(b.production[k] > 0, np.minimum(short, 1.0), 0.0)
            if short.any():
                fed.append(delay[u] + feed_cover[k, u])
            out_share[k] = np.maximum(out_share[k], short)
        if fed and k != piece.stage:
            delay[k] = max(fed)
        lost_in[k] += b.imports[k] @ out_share[k] + b.own[k] * out_share[k]
        if piece.kind == "export_restriction" and k == piece.stage:
            lost_in[k] += piece.targets * (b.imports[k] @ piece.weights)
    shares = np.zeros((k_count, 2))
    for r in (0, 1):
        members = regions == r
        use = (b.use * members).sum(axis=1)
        shares[:, r] = np.divide((lost_in * members).sum(axis=1), use, out=np.zeros(k_count), where=use > 0)
    return np.clip(shares, 0.0, 1.0), delay


def calc_feed_cover(b, cover: np.ndarray) -> np.ndarray:
    """Months of each input stage's product [K, K] that each stage's producers hold, weighted by their output
    (``cover`` [K, N]: months of use each node holds of each stage's product).

    >>> from types import SimpleNamespace as N
    >>> b = N(inputs=np.array([[0.0, 0], [1, 0]]), production=np.array([[5.0, 0], [1, 3]]))
    >>> calc_feed_cover(b, np.array([[2.0, 1.0], [0, 0]])).tolist()
    [[0.0, 0.0], [1.25, 0.0]]
    """
    k_count = len(b.inputs)
    out = np.zeros((k_count, k_count))
    for k in range(k_count):
        made = b.production[k]
        for u in np.flatnonzero(b.inputs[k]):
            out[k, u] = float(made @ cover[u] / made.sum()) if made.sum() > 0 else 0.0
    return out


def _delayed(intensity: np.ndarray, months: float) -> np.ndarray:
    """A profile [S, H] arriving ``months`` later (fractional months pro rata)."""
    if months <= 0:
        return intensity
    whole, part = int(months), months - int(months)
    shifted = np.zeros_like(intensity)
    if whole < intensity.shape[1]:
        shifted[:, whole:] = intensity[:, : intensity.shape[1] - whole]
    later = np.zeros_like(shifted)
    later[:, 1:] = shifted[:, :-1]
    return (1 - part) * shifted + part * later


def calc_window_sum(per_month: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Sum of a monthly series [S, M] over the ``length`` months [S] from each month on, [S, M] (fractional
    months pro rata; the last month's value goes on beyond the series).

    >>> calc_window_sum(np.array([[1.0, 0.5, 0.0]]), np.array([1.5])).tolist()
    [[1.25, 0.5, 0.0]]
    >>> calc_window_sum(np.array([[1.0, 0.5]]), np.array([4.0])).tolist()
    [[2.5, 2.0]]
    """
    return _window_sum(_extended(per_month, float(length.max(initial=0.0))), per_month.shape[1], length)


def _extended(per_month: np.ndarray, longest: float) -> tuple[np.ndarray, np.ndarray]:
    """The series held at its last value for ``longest`` months more, and its cumulative sum from 0."""
    series = np.concatenate([per_month, np.repeat(per_month[:, -1:], int(np.ceil(longest)) + 1, axis=1)], axis=1)
    return series, np.concatenate([np.zeros((len(series), 1)), np.cumsum(series, axis=1)], axis=1)


def _window_sum(extended: tuple[np.ndarray, np.ndarray], months: int, length: np.ndarray) -> np.ndarray:
    series, cumulative = extended
    end = np.arange(months)[None, :] + length[:, None]  # [S, M]
    whole = np.floor(end).astype(int)
    at_end = np.take_along_axis(cumulative, whole, axis=1) + (end - whole) * np.take_along_axis(series, whole, axis=1)
    return at_end - cumulative[:, :months]


def expectations(b, draws, disabled: frozenset[int] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
    """What each price region of each stage expects over its look-ahead window: supply [K, 2, S, H] from each
    month on, and needs [K, 2, S], at the baseline's normal use less the losses of the shocks known by then.

    The window is the stocks ahead of the region's use, in months of it: its own normal cover plus the input
    stocks the stage's producers hold (their output-weighted mean). Stocks are what carries a scarcity
    expected later into today's price (the theory of storage), so a market without stocks looks no further
    than the month, and the forward price equals the spot rule. A shock counts from the month of its
    announcement (pro rata within that month; ``ShockPiece.announced``) with its whole drawn course, arriving
    downstream as producers' input stocks run out (:func:`loss_shares`); the losses of several shocks add, up to
    the whole window. Demand shocks are not anticipated, nor are the pieces ``disabled`` (for attribution).
    """
    k_count, samples, horizon = len(b.stages), draws.samples, draws.horizon
    normal = draws.cover * b.use[:, None, :]  # [K, S, N]
    feed = calc_feed_cover(b, draws.cover.mean(axis=1))
    supply = np.zeros((k_count, 2, samples, horizon))
    need = np.zeros((k_count, 2, samples))
    pieces = [
        p for i, p in enumerate(draws.pieces) if i not in disabled and p.kind != "demand_shock" and p.profile.any()
    ]
    losses = [loss_shares(b, p, draws.regions, feed) for p in pieces]
    months = np.arange(1, horizon + 1, dtype=float)[None, :]
    longest = float(draws.cover.max(initial=0.0)) + float(feed.max(initial=0.0))
    courses: dict[tuple[int, float], tuple[np.ndarray, np.ndarray]] = {}
    known = []
    for piece in pieces:
        announced = piece.announced if piece.announced is not None else _start(piece)
        known.append(np.clip(months + 1 - announced[:, None], 0.0, 1.0))  # [S, H]
    for k in range(k_count):
        ahead = feed[k].max(initial=0.0)
        for r in (0, 1):
            members = draws.regions[k] == r
            use = float(b.use[k][members].sum())
            if use <= 0:
                continue
            window = normal[k][:, members].sum(axis=1) / use + ahead  # [S] months
            need[k, r] = use * window
            loss = np.zeros((samples, horizon))
            if window.any():
                for i, (piece, (share, delay), seen) in enumerate(zip(pieces, losses, known, strict=True)):
                    if share[k, r] > 0 and seen.any():
                        key = (i, float(delay[k]))
                        if key not in courses:
                            courses[key] = _extended(_delayed(piece.intensity, delay[k]), longest)
                        loss += seen * share[k, r] * _window_sum(courses[key], horizon, window)
            supply[k, r] = use * (window[:, None] - np.minimum(loss, window[:, None]))
    return supply, need


def _start(piece) -> np.ndarray:
    """First month a piece acts, [S] (for pieces made without an announcement month)."""
    return np.argmax(piece.profile > 0, axis=1) + 1.0

"""An importer's own output at a stage, in tonnes, for its dependence: from the stage's volumes where a source gives
them with a world total, else from any source that attests the importer's output, including a published share of
world output times that output.

1. **Volumes with a world total** (the series the stage's shares use): the members' figures; a member the source
   does not list makes between 0 and the source's rest of the world.
2. **A figure for the member** from any source (a national statistic without a world total).
3. **A published share × world output**: the member's share of the stage (combined across sources as
   :func:`calc_shares_from_published` does, bounds included) times world output — a world total any source gives,
   else a producer's output divided by its published share of the same year (China's 240 kt of magnets in 2023
   at 87.5% of world output). A share known only as a bound gives bounds, not a value.

Else the output is not attested and the notes say what is missing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oresight.facts import rows_as_of

from .shares import calc_shares_from_published
from .supply import volume_shares

if TYPE_CHECKING:
    from oresight.world import World

__all__ = ["output_table"]

PAIR = ["commodity", "stage"]
_UNIT_TO_T = {"t": 1.0, "kg": 0.001, "kt": 1000.0}
COLUMNS = ["production_t", "production_low_t", "production_high_t", "production_year", "production_sources"]


def output_table(world: World, members, pairs, at_most: dict, notes: dict) -> pd.DataFrame:
    """Members' output at each pair's stage in tonnes (value, low, high), its year and sources, as of a year per
    pair (see the module docstring), indexed by (commodity, stage)."""
    frames = []
    for wanted in {at_most[p] for p in pairs}:
        chosen = [p for p in pairs if at_most[p] == wanted]
        volumes = volume_shares(world, wanted)
        frames.append(volumes[volumes.set_index(PAIR).index.isin(chosen)])
    out = _from_volumes(pd.concat(frames, ignore_index=True), members, notes) if frames else None
    rows = [
        _attested_output(world, members, pair, at_most[pair], notes)
        for pair in pairs
        if out is None or pair not in out.index
    ]
    extra = pd.DataFrame(rows, columns=[*PAIR, *COLUMNS]).set_index(PAIR)
    out = extra if out is None or out.empty else pd.concat([out, extra]) if len(extra) else out
    return out.reindex(pd.MultiIndex.from_tuples(pairs, names=PAIR))


def _from_volumes(volumes: pd.DataFrame, members, notes: dict) -> pd.DataFrame:
    """Members' output from volume shares with a world total (the long table of :func:`volume_shares`). Where the
    source gives a world total but does not list a member, the members make between what is listed (0 when none
    is) and that plus the source's rest of the world."""
    if volumes.empty:
        return pd.DataFrame(columns=COLUMNS, index=pd.MultiIndex.from_tuples([], names=PAIR))
    total = volumes["world_total"]
    volumes = volumes.assign(
        v=volumes["share"] * total,
        lo=(volumes["low"] * total).fillna(volumes["share"] * total),
        hi=(volumes["high"] * total).fillna(volumes["share"] * total),
        member=volumes["country"].isin(members),
        rest=np.where(volumes["country"] == "ROW", volumes["share"] * total, 0.0),
    )
    grouped = volumes.groupby(PAIR)
    own = volumes[volumes["member"]].groupby(PAIR)[["v", "lo", "hi"]].sum()
    table = pd.DataFrame(
        {
            "unit": grouped["unit"].first(),
            "production_year": grouped["year"].first().astype(int),
            "rest": grouped["rest"].sum(),
            "listed": volumes[volumes["member"]].groupby(PAIR)["country"].agg(set),
            "production_sources": grouped["source"].agg(
                lambda v: sorted({s for t in v for s in str(t).split(";") if s})
            ),
        }
    ).join(own)
    table[["v", "lo", "hi"]] = table[["v", "lo", "hi"]].fillna(0.0)
    table["listed"] = [x if isinstance(x, set) else set() for x in table["listed"]]
    factor = table["unit"].map(lambda u: _UNIT_TO_T.get(str(u).split()[0], math.nan))
    unlisted = [[m for m in members if m not in listed] for listed in table["listed"]]
    high = table["hi"] + np.where([bool(u) for u in unlisted], table["rest"].fillna(0.0), 0.0)
    for pair, missing, unit, year, f in zip(
        table.index, unlisted, table["unit"], table["production_year"], factor, strict=True
    ):
        for member in missing:
            notes.setdefault(pair, []).append(
                f"{member} is not listed among {pair[0]} {pair[1]} producers ({year}): 0 t, at most ROW"
            )
        if math.isnan(f):
            notes.setdefault(pair, []).append(f"production unit {unit!r} is not a mass: not compared with trade")
    return pd.DataFrame(
        {
            "production_t": table["v"] * factor,
            "production_low_t": table["lo"] * factor,
            "production_high_t": high * factor,
            "production_year": table["production_year"],
            "production_sources": table["production_sources"],
        },
        index=table.index,
    )


def _attested_output(world: World, members, pair, year: int | None, notes: dict) -> tuple:
    """Members' output at a stage no source gives with a world total: each member's own figure, else its
    published share × world output (see the module docstring); NaN with a note naming what is missing."""
    commodity, stage = pair
    facts = world.select(commodity=commodity, stage=stage, measure="production")
    facts = facts[facts["unit"].isin(list(_UNIT_TO_T))]
    published = world.select(commodity=commodity, stage=stage, measure="share")
    shares = calc_shares_from_published(published, year)[0] if len(published) else None
    total = _world_output(facts, published, year)
    value = low = high = 0.0
    years, sources = [], set()
    for member in members:
        own = rows_as_of(facts[facts["country"] == member], year)
        if len(own):
            tonnes = own["value"] * own["unit"].map(_UNIT_TO_T)
            v = float(tonnes.sum(min_count=1))
            lo = float((own["low"].fillna(own["value"]) * own["unit"].map(_UNIT_TO_T)).sum())
            hi = float((own["high"].fillna(own["value"]) * own["unit"].map(_UNIT_TO_T)).sum())
            years.append(int(own["year"].iat[0]))
            sources |= set(own["source"])
            notes.setdefault(pair, []).append(
                f"{member}'s {commodity} {stage} output: {v:,.0f} t ({', '.join(sorted(set(own['source'])))}, "
                f"{int(own['year'].iat[0])}; no world total)"
            )
        elif shares is not None and member in shares.country.values and total is not None:
            at = shares.sel(country=member)
            s, s_low, s_high = float(at["share"]), float(at["low"]), float(at["high"])
            v, lo, hi = s * total[0], s_low * total[1], s_high * total[2]
            years.append(total[3])
            sources |= set(total[4]) | set(published[published["country"] == member]["source"])
            described = f"{s:.0%}" if not math.isnan(s) else f"at most {s_high:.0%} (a bound, not an estimate)"
            notes.setdefault(pair, []).append(
                f"{member}'s {commodity} {stage} output: its published share of world output, {described}, × world "
                f"output {total[0]:,.0f} t ({total[5]})"
            )
        else:
            what = "a figure or a published share" if total is not None else "a figure, or a share and world output"
            notes.setdefault(pair, []).append(
                f"{member}'s {commodity} {stage} output is not attested: no source gives {what}"
            )
            return (*pair, math.nan, math.nan, math.nan, None, [])
        value, low, high = value + v, low + lo, high + hi
    return (*pair, value, low, high, max(years) if years else None, sorted(sources))


def _world_output(facts: pd.DataFrame, shares: pd.DataFrame, year: int | None) -> tuple | None:
    """World output at a stage as of a year, in tonnes (value, low, high, year, sources, how): a world total a
    source gives, else a producer's figure divided by its published share of the same year (the median over the
    producers that have both); None where neither exists."""
    world = rows_as_of(facts[facts["country"] == "WLD"], year)
    if len(world):
        tonnes = float((world["value"] * world["unit"].map(_UNIT_TO_T)).median())
        return tonnes, tonnes, tonnes, int(world["year"].iat[0]), sorted(set(world["source"])), "a world total"
    estimates = shares[shares["status"].isin(["reported", "estimated", "range"]) & shares["value"].notna()]
    pairs = facts[facts["country"] != "WLD"].merge(estimates, on=["country", "year"], suffixes=("", "_share"))
    if pairs.empty:
        return None
    pairs = rows_as_of(pairs, year)
    tonnes = pairs["value"] * pairs["unit"].map(_UNIT_TO_T)
    central = float((tonnes / pairs["value_share"]).median())
    low = float((tonnes / pairs["high_share"].fillna(pairs["value_share"])).median())
    high = float((tonnes / pairs["low_share"].fillna(pairs["value_share"])).median())
    first = pairs.iloc[0]
    how = (
        f"{first['country']}'s {first['value'] * _UNIT_TO_T[first['unit']]:,.0f} t ({first['source']}) at "
        f"{first['value_share']:.1%} of world output ({first['source_share']}), {int(first['year'])}"
    )
    sources = sorted(set(pairs["source"]) | set(pairs["source_share"]))
    return central, low, high, int(first["year"]), sources, how

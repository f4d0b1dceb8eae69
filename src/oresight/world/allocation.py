"""Shared HS codes: one code for several commodities, and the rule that splits its flows among them.

HS 2017's 8112.92 holds unwrought gallium, germanium, hafnium, indium, niobium, rhenium and vanadium (HS 2022:
gallium, germanium, indium, niobium and vanadium), so a partner's whole 8112.92 trade is not its gallium trade:
Brazil's niobium would read as gallium. A commodity's dedicated codes are used where they exist (HS92
8112.30 germanium until 2016); a flow of a shared code is split among the commodities the code holds by the
exporter's output of each at the code's stage, valued at its price (**the exporter's output mix**):

    tonnes of k    T_k = min(T · m_k(X), V · v_k(X) / price_k, P_k(X))     m_k(X) = P_k(X) / Σ_j P_j(X)
    value of k     V_k = min(V · v_k(X), T_k · price_k)          v_k(X) = P_k(X) · price_k / Σ_j P_j(X) · price_j

V, T: the flow's value and weight; P_k(X): exporter X's output of commodity k at the code's stage (the stage's
volumes as of the trade year, the series its shares use); price_k: the USGS price of k that year in USD/kg (the
median of the forms USGS quotes). The flow is read as the exporter's output mix diluted by material of no value
to match its unit value: its tonnes of k are the mass share, less where the flow is cheaper than that much of k
would cost, and never more than the exporter makes of k; a flow without a weight gets V · v_k / price_k (the
weight its value buys at the USGS price; the notes say so). So an exporter that makes none of a commodity exports
none of it, and an exporter that makes none of the code's commodities (a trader, a recycler: Taiwan, Germany,
Estonia for 8112.92) is not split at all: its flows count for none of them and the dependence says which share
of the value that leaves out. A commodity without output by
country at the code's stage (niobium and vanadium have only mine output) receives none of the code's flows.

>>> output = pd.DataFrame({"exporter": ["CHN", "CHN", "KOR"], "commodity": ["gallium", "indium", "indium"],
...     "tonnes": [600.0, 600.0, 180.0]})
>>> split = calc_shared_split(output, pd.Series({"gallium": 400.0, "indium": 200.0}))
>>> split.set_index(["exporter", "commodity"]).round(3).loc["CHN"].to_dict("index")["gallium"]
{'value_share': 0.667, 'tonnes_share': 0.5, 'price': 400.0, 'output_t': 600.0}
>>> usd, tonnes = calc_allocated([8e6, 8e6, 8e6], [20.0, 40.0, float("nan")], 0.667, 0.5, 400.0, 600.0)
>>> tonnes.round(1).tolist()  # dearer than the mix; cheaper; no weight given
[10.0, 13.3, 13.3]
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oresight.facts import USD_PER_TONNE, rows_as_of
from oresight.taxonomy.countries import AGGREGATES

if TYPE_CHECKING:
    from oresight.world import World

__all__ = [
    "RULE",
    "allocate",
    "calc_allocated",
    "calc_shared_split",
    "price_usd_per_kg",
    "shared_code_split",
    "shared_code_splits",
    "shared_commodities",
]

RULE = "shared HS codes split by the exporter's output mix at the code's stage, valued at USGS prices"
_TONNES = {"t": 1.0, "kg": 0.001, "kt": 1000.0}


def shared_commodities(world: World, code: str) -> tuple[list[str], str] | None:
    """The commodities a shared code holds (its own first) and its stage; None for a code of one commodity."""
    row = world.tax.hs_codes.get(code)
    if row is None or not (row.get("shared_with") or ""):
        return None
    return [row["commodity"], *row["shared_with"].split(";")], row["stage"]


def calc_shared_split(output: pd.DataFrame, price: pd.Series) -> pd.DataFrame:
    """Each exporter's value and tonnes shares per commodity from its output (exporter, commodity, tonnes) and a
    price per commodity; value shares fall back to tonnes shares where a commodity with output has no price."""
    output = output[output["tonnes"] > 0]
    tonnes_total = output.groupby("exporter")["tonnes"].transform("sum")
    value = output["tonnes"] * output["commodity"].map(price)
    priced = value.notna().groupby(output["exporter"]).transform("all")
    value_total = value.groupby(output["exporter"]).transform("sum")
    tonnes_share = output["tonnes"] / tonnes_total
    value_share = np.where(priced.astype(bool), value / value_total, tonnes_share)
    return pd.DataFrame(
        {
            "exporter": output["exporter"].to_numpy(str),
            "commodity": output["commodity"].to_numpy(str),
            "value_share": np.asarray(value_share, dtype=float),
            "tonnes_share": tonnes_share.to_numpy(float),
            "price": output["commodity"].map(price).to_numpy(float),
            "output_t": output["tonnes"].to_numpy(float),
        }
    )


def calc_allocated(usd, tonnes, value_share, tonnes_share, price, output_t=np.inf) -> tuple[np.ndarray, np.ndarray]:
    """The value and tonnes of one commodity in shared-code flows: tonnes min(T · m, V · v / price, P) (the mass
    share, less where the flow is cheaper than that much of the commodity, never more than the exporter makes;
    V · v / price where the flow has no weight), value min(V · v, tonnes · price)."""
    usd, tonnes = np.asarray(usd, dtype=float), np.asarray(tonnes, dtype=float)
    price = np.asarray(price, dtype=float) * 1000.0  # USD per tonne
    value = usd * np.asarray(value_share, dtype=float)
    by_mass = tonnes * np.asarray(tonnes_share, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_value = np.where(price > 0, value / price, np.nan)
    kept = np.fmin(np.fmin(by_mass, by_value), np.asarray(output_t, dtype=float))
    return np.where(np.isnan(price), value, np.fmin(value, kept * price)), kept


def price_usd_per_kg(world: World, commodity: str, year: int | None) -> float:
    """The USGS price of a commodity as of a year in USD/kg: the median of the forms quoted that year (NaN where
    no price is given)."""
    cache = world.__dict__.setdefault("_prices_usd_per_kg", {})
    if (commodity, year) not in cache:
        cache[(commodity, year)] = _price(world, commodity, year)
    return cache[(commodity, year)]


def _price(world: World, commodity: str, year: int | None) -> float:
    rows = world.select(commodity=commodity, measure="price")
    rows = rows[rows["unit"].isin(list(USD_PER_TONNE)) & rows["value"].notna()]
    if rows.empty:
        return math.nan
    rows = rows_as_of(rows, year)
    return float((rows["value"] * rows["unit"].map(USD_PER_TONNE)).median()) / 1_000.0


def shared_code_split(world: World, code: str, year: int | None) -> tuple[pd.DataFrame, list[str]]:
    """The split of a shared code's flows (:func:`calc_shared_split`) as of a year, with notes on the
    commodities left without output or price; kept on the World per code and year."""
    return shared_code_splits(world, code, [year])[year]


def shared_code_splits(world: World, code: str, years) -> dict:
    """:func:`shared_code_split` for several years, the output of the years not yet kept computed in one pass."""
    cache = world.__dict__.setdefault("_shared_splits", {})
    missing = sorted({y for y in years if (code, y) not in cache}, key=lambda y: (y is None, y))
    if missing:
        for y, split in _splits(world, code, missing).items():
            cache[(code, y)] = split
    return {y: cache[(code, y)] for y in years}


def _splits(world: World, code: str, years: list) -> dict:
    from .shares import calc_volume_shares, calc_volume_shares_by_year
    from .supply import series_preference

    commodities, stage = shared_commodities(world, code) or ([], "")
    facts = world.facts[world.facts["commodity"].isin(commodities) & (world.facts["stage"] == stage)]
    dated = [y for y in years if y is not None]
    by_year = calc_volume_shares_by_year(facts, dated, series_preference(world))
    volumes = {y: rows.drop(columns="as_of") for y, rows in by_year.groupby("as_of")}
    if None in years:
        volumes[None] = calc_volume_shares(facts, None, series_preference(world))
    return {y: _split(world, code, commodities, stage, volumes.get(y, by_year.iloc[:0]), y) for y in years}


def _split(world: World, code: str, commodities, stage, volumes: pd.DataFrame, year) -> tuple[pd.DataFrame, list]:
    volumes = volumes[~volumes["country"].isin(AGGREGATES)]
    tonnes = volumes["share"] * volumes["world_total"] * volumes["unit"].map(_TONNES)
    output = pd.DataFrame({"exporter": volumes["country"], "commodity": volumes["commodity"], "tonnes": tonnes})
    output = output.dropna(subset=["tonnes"])
    price = pd.Series({c: price_usd_per_kg(world, c, year) for c in commodities})
    notes = []
    without = [c for c in commodities if c not in set(output["commodity"])]
    if without:
        notes.append(f"HS {code}: no {stage} output by country for {', '.join(without)}, which get none of it")
    unpriced = [c for c in set(output["commodity"]) if math.isnan(price[c])]
    if unpriced:
        notes.append(f"HS {code}: no price for {', '.join(sorted(unpriced))}: split by tonnes only")
    return calc_shared_split(output, price), notes


def allocate(world: World, rows: pd.DataFrame, side: str = "import") -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Trade rows with each shared-code row turned into its commodity's part (rows carry ``hs``, ``year``,
    ``partner``: the exporter, ``commodity``: the one asked for, ``usd``, ``tonnes``); rows of other codes are kept
    as they are. Returns the rows and notes per commodity (what share of the code's value was counted, and the
    exporters that make none of the code's commodities, whose flows are left out)."""
    shared = rows["hs"].isin([c for c in rows["hs"].unique() if shared_commodities(world, c) is not None])
    if not shared.any():
        return rows, {}
    parts, merged_all, notes = [rows[~shared.to_numpy()]], [], {}
    for hs, years in rows[shared.to_numpy()].groupby("hs")["year"].unique().items():
        shared_code_splits(world, hs, [int(y) for y in years])  # the years of a code in one pass
    for (hs, year), group in rows[shared.to_numpy()].groupby(["hs", "year"]):
        split, split_notes = shared_code_split(world, hs, int(year))
        merged = group.merge(split, left_on=["partner", "commodity"], right_on=["exporter", "commodity"], how="left")
        merged_all.append(merged.assign(maker=merged["partner"].isin(set(split["exporter"]))))
        for commodity in merged["commodity"].unique():
            listed = notes.setdefault(commodity, [])
            listed.extend(n for n in split_notes if n not in listed)
        merged = merged[merged["value_share"].fillna(0.0) > 0]
        usd, tonnes = calc_allocated(
            merged["usd"],
            merged["tonnes"],
            merged["value_share"],
            merged["tonnes_share"],
            merged["price"],
            merged["output_t"],
        )
        parts.append(merged.assign(usd=usd, tonnes=tonnes)[rows.columns])
    for (hs, commodity), these in pd.concat(merged_all).groupby(["hs", "commodity"]):
        notes[commodity].insert(0, _note(hs, side, commodity, these))
    out = pd.concat(parts, ignore_index=True)
    out.attrs = rows.attrs
    return out, notes


def _note(hs: str, side: str, commodity: str, rows: pd.DataFrame) -> str:
    total = float(rows["usd"].sum())
    text = f"HS {hs} {side}s split by the exporter's output mix"
    if not total > 0:
        return text
    counted = float((rows["usd"] * rows["value_share"].fillna(0.0)).sum())
    text += f": {counted / total:.0%} of their value counted as {commodity}"
    weightless = rows["tonnes"].isna() & rows["maker"]
    if weightless.any():
        text += f"; {int(weightless.sum())} flows without a weight: tonnes from their value at the USGS price"
    outside = rows[~rows["maker"]]
    if len(outside):
        names = sorted(set(outside["partner"]))
        shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
        text += (
            f"; exporters that make none of the code's commodities ({shown}: "
            f"{float(outside['usd'].sum()) / total:.0%} of the value) left out"
        )
    return text

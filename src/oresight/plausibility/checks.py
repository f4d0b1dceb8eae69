"""The checks the plausibility rules name (``check`` in ``taxonomy/plausibility.csv``): each takes the prepared
facts and its rule and returns one finding per fact that fails it. Pure functions of a table, vectorised."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from oresight.facts import KEY_COLUMNS
from oresight.formatting import format_number, format_quantity

from . import Rule

#: statuses that make a sum of countries incomplete (the number is missing or only bounded)
_INCOMPLETE = ("withheld", "lower_bound", "upper_bound", "range", "net_exporter")
#: a country's qualifier at the end of its basis ("t helium (from natural gas)"), not a publisher's block number
_QUALIFIED = re.compile(r" \((?!block \d)[^()]*\)$")


def _findings(rule: Rule, rows: pd.DataFrame, details: list[str] | pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"rule": rule.rule, "position": rows["position"].to_numpy(int), "detail": list(details)})


def _number(value: float, unit: str) -> str:
    return format_quantity(value, unit)


def reserves_vs_output(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """World reserves below ``threshold`` years of world mine output: every reserve of that table is flagged."""
    world = frame[(frame["country"] == "WLD") & frame["amount"].notna() & (frame["scenario"] == "")]
    reserves = world[world["base"].isin(rule.measures)]
    output = world[(world["base"] == "production") & (world["stage"] == "mining") & (world["amount"] > 0)]
    pairs = reserves.merge(output, on=["commodity", "variant", "basis", "mass"], suffixes=("", "_out"))
    pairs = pairs[pairs["year_out"] <= pairs["year"]]
    if pairs.empty:
        return _findings(rule, pairs, [])
    # the same source's output if it has one, else another's; of the reserves' year or the latest before
    pairs = pairs.assign(same=pairs["source"] == pairs["source_out"])
    pairs = pairs.sort_values(["same", "year_out"]).groupby("position").tail(1)
    short = pairs[pairs["amount"] < rule.threshold * pairs["amount_out"]]
    table = ["source", "commodity", "measure", "basis"]
    rows = frame[frame["base"].isin(rule.measures)].merge(
        short[[*table, "amount", "amount_out", "year_out", "source_out", "mass"]].rename(
            columns={"amount": "world", "mass": "world_unit"}
        ),
        on=table,
    )
    details = [
        f"world reserves {_number(r.world, r.world_unit)} are {format_number(r.world / r.amount_out, digits=2)} "
        "years of world output "
        f"({_number(r.amount_out, r.world_unit)} in {r.year_out}, {r.source_out})"
        for r in rows.itertuples()
    ]
    return _findings(rule, rows, details)


def total_vs_countries(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """A world total that differs from the sum of its countries (the rest of world included) by more than
    rounding; where a table names no rest of world, only a sum above the total."""
    group = ["source", "commodity", "stage", "measure", "root", "year", "scenario", "unit"]
    tables = frame[frame["base"].isin(rule.measures) & (frame["partner"] == "") & (frame["sector"] == "")]
    # a country's qualifier ("from natural gas") is part of its basis; its value is still part of the total
    roots = {basis: _QUALIFIED.sub("", basis) for basis in tables["basis"].unique()}
    tables = tables.assign(root=tables["basis"].map(roots))
    world = tables[(tables["country"] == "WLD") & tables["status"].isin(["reported", "estimated"])]
    world = world[~world.duplicated(group, keep=False) & (world["value"] > 0)]
    countries = tables[tables["country"] != "WLD"]
    incomplete = countries["status"].isin(_INCOMPLETE) | countries["value"].isna()
    sums = (
        countries.assign(incomplete=incomplete, rest=countries["country"] == "ROW")
        .groupby(group, dropna=False)
        .agg(countries=("value", "sum"), incomplete=("incomplete", "any"), rest=("rest", "any"))
    )
    checked = world.join(sums, on=group, how="inner").reset_index(drop=True)
    checked = checked[~checked["incomplete"]]
    tolerance = rule.threshold * 10 ** np.floor(np.log10(checked["value"]))
    gap = checked["countries"] - checked["value"]
    # a table without its rest of world may list only some countries: then only a sum above the total is wrong
    wrong = checked[(gap > tolerance + 1e-9) | ((gap < -tolerance - 1e-9) & checked["rest"])]
    details = [
        f"world total {_number(r.value, r.unit)}, its countries sum to {_number(r.countries, r.unit)}"
        for r in wrong.itertuples()
    ]
    return _findings(rule, wrong, details)


def edition_ratio(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """The same number in two editions of one series, more than ``threshold`` times apart (or zero in one and
    not in the other): both are flagged."""
    key = [*KEY_COLUMNS, "series", "mass"]
    numbers = frame[frame["base"].isin(rule.measures) & frame["amount"].notna() & (frame["series"] != "")]
    spread = numbers.groupby(key, dropna=False).agg(
        least=("amount", "min"), most=("amount", "max"), editions=("edition", "nunique")
    )
    apart = (spread["most"] > rule.threshold * spread["least"]) | ((spread["least"] == 0) & (spread["most"] > 0))
    spread = spread[(spread["editions"] > 1) & apart]
    rows = numbers.join(spread, on=key, how="inner").reset_index(drop=True)
    others = {
        k: ", ".join(
            f"{_number(a, u)} in edition {e}" for a, u, e in zip(g["amount"], g["mass"], g["edition"], strict=True)
        )
        for k, g in rows.groupby(key, dropna=False)
    }
    details = [f"editions disagree: {others[tuple(r[k] for k in key)]}" for _, r in rows.iterrows()]
    return _findings(rule, rows, details)


def year_ratio(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """A series that jumps more than ``threshold`` times from one year to the next: both years are flagged."""
    key = [c for c in KEY_COLUMNS if c != "year"] + ["source", "mass"]
    numbers = frame[frame["base"].isin(rule.measures) & (frame["amount"] > 0) & (frame["scenario"] == "")]
    numbers = numbers.sort_values([*key, "year"])
    grouped = numbers.groupby(key, dropna=False)
    before, year_before = grouped["amount"].shift(), grouped["year"].shift()
    ratio = np.maximum(numbers["amount"] / before, before / numbers["amount"])
    jump = numbers[ratio > rule.threshold]
    earlier = numbers.loc[jump.index].assign(position=numbers["position"].shift().loc[jump.index].astype(int))
    details = [
        f"{_number(b, r.mass)} in {int(y)}, {_number(r.amount, r.mass)} in {r.year}"
        for r, b, y in zip(jump.itertuples(), before[jump.index], year_before[jump.index], strict=True)
    ]
    return pd.concat([_findings(rule, jump, details), _findings(rule, earlier, details)], ignore_index=True)


def source_ratio(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """Two series whose figures for the same thing are 1,000 or 1,000,000 times apart (within ``threshold``)."""
    key = ["commodity", "stage", "country", "base", "year", "mass"]
    numbers = frame[
        frame["base"].isin(rule.measures)
        & (frame["amount"] > 0)
        & (frame["scenario"] == "")
        & (frame["partner"] == "")
        & (frame["sector"] == "")
    ]
    pairs = numbers.merge(numbers, on=key, suffixes=("", "_other"))
    pairs = pairs[pairs["series"] != pairs["series_other"]]
    log_ratio = np.abs(np.log10(pairs["amount"] / pairs["amount_other"]))
    slip = pairs[
        (np.abs(log_ratio - 3) <= np.log10(rule.threshold)) | (np.abs(log_ratio - 6) <= np.log10(rule.threshold))
    ]
    details = [
        f"{_number(r.amount, r.mass)} here, {_number(r.amount_other, r.mass)} in {r.source_other}: "
        f"{format_number(r.amount / r.amount_other)} times"
        for r in slip.itertuples()
    ]
    return _findings(rule, slip, details)


def reserves_equal_capacity(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """A reserves table equal, country by country, to the capacity table of its source and year."""
    table = ["source", "commodity", "basis", "year"]
    own = frame[frame["country"] != "WLD"]
    reserves = own[own["base"].isin(rule.measures) & own["value"].notna()]
    capacity = own[(own["base"] == "capacity") & own["value"].notna()]
    pairs = reserves.merge(capacity[[*table, "country", "value"]], on=[*table, "country"], suffixes=("", "_cap"))
    pairs = pairs.assign(equal=pairs["value"] == pairs["value_cap"])
    verdict = pairs.groupby(table).agg(equal=("equal", "sum"), pairs=("equal", "size"))
    copied = verdict[(verdict["equal"] >= rule.threshold) & (verdict["equal"] == verdict["pairs"])]
    rows = frame[frame["base"].isin(rule.measures)].join(copied, on=table, how="inner").reset_index(drop=True)
    details = [f"the same as the capacity of {int(r.equal)} countries in {r.year}" for r in rows.itertuples()]
    return _findings(rule, rows, details)


CHECKS: dict[str, Callable[[pd.DataFrame, Rule], pd.DataFrame]] = {
    "reserves_vs_output": reserves_vs_output,
    "total_vs_countries": total_vs_countries,
    "edition_ratio": edition_ratio,
    "year_ratio": year_ratio,
    "source_ratio": source_ratio,
    "reserves_equal_capacity": reserves_equal_capacity,
}

"""Plausibility rules: whether published numbers fit together (``taxonomy/plausibility.csv``).

A publisher's table can be readable and every number physically possible, and still be wrong: reserves a
thousandth of what they are, a world total that is not the sum of its countries, a series in tonnes where the
file says thousand tonnes. Each rule of the data file names a check here; :func:`find_problems` runs them all
over a facts table (vectorised, one pass per rule) and returns one finding per fact that fails one.

:func:`review` is what every import goes through after the physical checks: it applies the errata
(:mod:`oresight.errata`) whose rule failed, runs the rules again, and writes what still fails into the facts'
``flag`` column. Facts are compared with ``context`` (the data already loaded) as well as with each other, so an
imported edition is checked against the bundled one.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from oresight.facts import KEY_COLUMNS, normalise_facts
from oresight.io.result import ImportResult, Skipped
from oresight.taxonomy import load_taxonomy

__all__ = [
    "CORRECTED",
    "FINDING_COLUMNS",
    "Review",
    "Rule",
    "calc_flags",
    "find_problems",
    "load_rules",
    "review",
    "review_import",
]

#: the columns of a findings table: rule id, position of the fact in the table checked, what was found
FINDING_COLUMNS = ("rule", "position", "detail")
#: the flag of a fact an erratum corrected
CORRECTED = "corrected"
#: statuses that make a sum of countries incomplete (the number is missing or only bounded)
_INCOMPLETE = ("withheld", "lower_bound", "upper_bound", "range", "net_exporter")
#: masses are compared in tonnes
_TONNES = {"t": 1.0, "kg": 1e-3, "g": 1e-6}


@dataclass(frozen=True)
class Rule:
    rule: str
    check: str
    measures: tuple[str, ...]
    threshold: float
    description: str


@functools.cache
def load_rules() -> tuple[Rule, ...]:
    """The rules of ``taxonomy/plausibility.csv``, in file order."""
    text = resources.files("oresight.taxonomy").joinpath("plausibility.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(ln for ln in text.splitlines() if not ln.startswith("#"))
    return tuple(
        Rule(r["rule"], r["check"], tuple(r["measures"].split("|")), float(r["threshold"]), r["description"])
        for r in rows
    )


def find_problems(facts: pd.DataFrame, rules: tuple[Rule, ...] | None = None) -> pd.DataFrame:
    """One row per fact that fails a rule: the rule's id, the fact's position in ``facts`` and what was found.

    ``facts`` has the fact columns; with ``series`` and ``edition`` (from the sources registry) the edition
    rule runs too.
    """
    rules = rules or load_rules()
    frame = _prepared(facts, {m for rule in rules for m in rule.measures} | {"production", "capacity"})
    parts = [CHECKS[rule.check](frame, rule) for rule in rules]
    found = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    if found is None:
        return pd.DataFrame({c: pd.Series(dtype=int if c == "position" else object) for c in FINDING_COLUMNS})
    return found.drop_duplicates(["rule", "position"]).sort_values(["position", "rule"], ignore_index=True)


def find_problems_against(facts: pd.DataFrame, context: pd.DataFrame | None) -> pd.DataFrame:
    """The findings of ``facts`` compared with each other and with ``context`` (positions in ``facts``). Context
    facts of a source that ``facts`` has are left out: an earlier load of the same table is replaced by this
    one, not compared with it. Every rule compares facts of one commodity, so only the context of the
    commodities ``facts`` has is looked at."""
    if context is None or context.empty:
        return find_problems(facts)
    context = context[
        ~context["source"].isin(set(facts["source"])) & context["commodity"].isin(set(facts["commodity"]))
    ]
    found = find_problems(pd.concat([facts.reset_index(drop=True), context.reset_index(drop=True)], ignore_index=True))
    return found[found["position"] < len(facts)].reset_index(drop=True)


def _prepared(facts: pd.DataFrame, measures: set[str]) -> pd.DataFrame:
    """The facts of the rules' ``measures`` (and their variants) with their position in ``facts``, base measure
    and variant, and masses in tonnes."""
    tax = load_taxonomy()
    bases = {m: tax.base_measure(m) or m for m in facts["measure"].unique()}
    base = facts["measure"].map(bases)
    keep = base.isin(measures).to_numpy()
    columns = [c for c in (*KEY_COLUMNS, "value", "unit", "status", "source", "series", "edition") if c in facts]
    frame = facts.loc[keep, columns].reset_index(drop=True)
    frame["position"] = np.flatnonzero(keep)
    frame["base"] = base[keep].to_numpy()
    frame["variant"] = [m[len(b) :] for m, b in zip(frame["measure"], frame["base"], strict=True)]
    factor = frame["unit"].map(_TONNES)
    frame["mass"] = np.where(factor.notna(), "t", frame["unit"])
    frame["amount"] = frame["value"] * factor.fillna(1.0)
    for column in ("series", "edition"):
        if column not in frame:
            frame[column] = ""
    return frame


def _findings(rule: Rule, rows: pd.DataFrame, details: list[str] | pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"rule": rule.rule, "position": rows["position"].to_numpy(int), "detail": list(details)})


def _number(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if abs(value) >= 100 else f"{value:.3g} {unit}"


# -- the checks --------------------------------------------------------------------------------------------------
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
        f"world reserves {_number(r.world, r.world_unit)} are {r.world / r.amount_out:.2g} years of world output "
        f"({_number(r.amount_out, r.world_unit)} in {r.year_out}, {r.source_out})"
        for r in rows.itertuples()
    ]
    return _findings(rule, rows, details)


def total_vs_countries(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """A world total that differs from the sum of its countries by more than rounding."""
    group = ["source", "commodity", "stage", "measure", "root", "year", "scenario", "unit"]
    tables = frame[frame["base"].isin(rule.measures) & (frame["partner"] == "") & (frame["sector"] == "")]
    # a country's qualifier ("from natural gas") is part of its basis; its value is still part of the total
    tables = tables.assign(root=tables["basis"].str.replace(r" \((?!block \d)[^()]*\)$", "", regex=True))
    world = tables[(tables["country"] == "WLD") & tables["status"].isin(["reported", "estimated"])]
    world = world[~world.duplicated(group, keep=False) & (world["value"] > 0)]
    countries = tables[tables["country"] != "WLD"]
    incomplete = countries["status"].isin(_INCOMPLETE) | countries["value"].isna()
    sums = (
        countries.assign(incomplete=incomplete)
        .groupby(group, dropna=False)
        .agg(countries=("value", "sum"), incomplete=("incomplete", "any"))
    )
    checked = world.join(sums, on=group, how="inner").reset_index(drop=True)
    checked = checked[~checked["incomplete"]]
    tolerance = rule.threshold * 10 ** np.floor(np.log10(checked["value"]))
    wrong = checked[(checked["countries"] - checked["value"]).abs() > tolerance + 1e-9]
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
        f"{r.amount / r.amount_other:.3g} times"
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


# -- review: errata, then flags ------------------------------------------------------------------------------------
@dataclass
class Review:
    """The reviewed facts (errata applied, ``flag`` set), what still fails, and what the errata changed."""

    facts: pd.DataFrame
    findings: pd.DataFrame  # FINDING_COLUMNS, positions in ``facts``
    corrections: pd.DataFrame  # one row per corrected or dropped fact: erratum, rule, action, fact key


def review(facts: pd.DataFrame, context: pd.DataFrame | None = None) -> Review:
    """Apply the errata whose rule fails on ``facts`` (compared with each other and with ``context``), then flag
    the facts that still fail a rule. ``context`` is never changed."""
    from oresight.errata import apply_errata

    facts = facts.reset_index(drop=True)
    corrected, corrections = apply_errata(facts, find_problems_against(facts, context))
    found = find_problems_against(corrected, context)
    return Review(corrected.assign(flag=calc_flags(corrected, found)), found, corrections)


def review_import(result: ImportResult, context: pd.DataFrame | None = None) -> ImportResult:
    """An importer's result reviewed (:func:`review`) against ``context`` (facts with ``series`` and
    ``edition``, e.g. a World's ``all_facts``): flags set, errata applied, dropped facts reported as skipped."""
    registry = pd.DataFrame([s.model_dump() for s in result.sources], columns=["id", "series", "edition"])
    facts = result.facts.join(registry.set_index("id")[["series", "edition"]], on="source")
    if context is not None:
        context = context[[c for c in facts.columns if c in context.columns]]
    reviewed = review(facts.assign(origin=np.arange(len(facts))), context)
    dropped = reviewed.corrections[reviewed.corrections["action"] == "drop"]
    skipped = [
        Skipped(
            result.path,
            None,
            f"{r.measure} of {r.commodity}, {r.country}, {r.year}: dropped by erratum "
            f"{r.erratum} of usgs_errata.csv ({r.rule})",
        )
        for r in dropped.itertuples()
    ]
    kept = normalise_facts(reviewed.facts)
    origins = None if result.origins is None else result.origins.iloc[reviewed.facts["origin"]].reset_index(drop=True)
    return dataclasses.replace(
        result,
        facts=kept,
        skipped=[*result.skipped, *skipped],
        origins=origins,
        findings=reviewed.findings,
        corrections=reviewed.corrections,
    )


def calc_flags(facts: pd.DataFrame, findings: pd.DataFrame) -> list[str]:
    """The ``flag`` of each fact: ``corrected`` if an erratum changed it, then the ids of the rules it fails.

    >>> facts = pd.DataFrame({"flag": ["corrected;year-change", "", ""]})
    >>> calc_flags(facts, pd.DataFrame({"rule": ["edition-change"], "position": [1], "detail": [""]}))
    ['corrected', 'edition-change', '']
    """
    failed = findings.groupby("position")["rule"].agg(lambda r: sorted(set(r))).to_dict()
    old = facts["flag"].fillna("") if "flag" in facts else pd.Series("", index=facts.index)
    return [";".join([CORRECTED] * (CORRECTED in was.split(";")) + failed.get(i, [])) for i, was in enumerate(old)]


# -- what the rules found in a World -----------------------------------------------------------------------------
#: the columns of :func:`problems_table`
PROBLEM_COLUMNS = (
    "origin",
    "status",
    "rule",
    "commodity",
    "stage",
    "country",
    "year",
    "measure",
    "value",
    "unit",
    "source",
    "detail",
)
_ERRATUM_NOTE = re.compile(r"corrected ×([\d.e+]+) by erratum (\d+) of usgs_errata\.csv \(([^)]+)\)")


def problems_table(world, dropped: list[dict] = ()) -> pd.DataFrame:
    """What the rules find in a World's facts (the bundled data and every import), and what the errata
    corrected: one row per fact, ``status`` ``flagged`` (kept as published, fails ``rule``) or ``corrected``,
    ``origin`` ``bundled`` or ``import N``. ``dropped`` adds the facts errata took out at build (manifest
    entries), one row per erratum."""
    facts = world.all_facts.reset_index(drop=True)
    flagged = pd.concat(
        [
            find_problems_against(own, facts[facts["load_order"] != order]).join(
                own.reset_index(drop=True), on="position"
            )
            for order, own in facts.groupby("load_order")
        ],
        ignore_index=True,
    ).assign(status="flagged")
    corrected = facts[facts["flag"].str.split(";").map(lambda f: CORRECTED in f)]
    matches = corrected["note"].str.extract(_ERRATUM_NOTE)
    corrected = corrected.assign(
        status="corrected",
        rule=matches[2].fillna(""),
        detail=[
            f"×{f} (erratum {n})" if isinstance(n, str) else "" for f, n in zip(matches[0], matches[1], strict=True)
        ],
    )
    rows = pd.concat([flagged, corrected], ignore_index=True)
    rows["origin"] = np.where(rows["load_order"] == 0, "bundled", "import " + rows["load_order"].astype(str))
    removed = [
        {
            "origin": "bundled",
            "status": "dropped",
            "rule": d["rule"],
            "commodity": d["commodity"],
            "country": country,
            "measure": d.get("measure", ""),
            "source": d["source"],
            "detail": f"dropped (erratum {d['erratum']})",
        }
        for d in dropped
        if d.get("action") == "drop"
        for country in d.get("countries", [""])
    ]
    table = rows.reindex(columns=list(PROBLEM_COLUMNS))
    if removed:
        table = pd.concat([table, pd.DataFrame(removed)], ignore_index=True)
    return table.sort_values(["origin", "status", "rule", "commodity", "country", "year"], ignore_index=True)

"""Plausibility rules: whether published numbers fit together (``taxonomy/plausibility.csv``).

A publisher's table can be readable and every number physically possible, and still be wrong: reserves a
thousandth of what they are, a world total that is not the sum of its countries, a series in tonnes where the
file says thousand tonnes. Each rule of the data file names a check (:mod:`.checks`); :func:`find_problems`
runs them all over a facts table (vectorised, one pass per rule) and returns one finding per fact that fails one.

:func:`review` (:mod:`.review`) is what every import goes through after the physical checks: it applies the
errata (:mod:`oresight.errata`) whose rule failed, runs the rules again, and writes what still fails into the
facts' ``flag`` column. Facts are compared with ``context`` (the data already loaded) as well as with each
other, so an imported edition is checked against the bundled one. :func:`problems_table` (:mod:`.report`) is
what ``oresight data problems`` lists.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from oresight.errata import CORRECTED
from oresight.facts import KEY_COLUMNS
from oresight.taxonomy import load_taxonomy

__all__ = [
    "CORRECTED",
    "FINDING_COLUMNS",
    "PROBLEM_COLUMNS",
    "Review",
    "Rule",
    "calc_flags",
    "find_problems",
    "find_problems_against",
    "load_rules",
    "problems_table",
    "review",
    "review_import",
]

#: the columns of a findings table: rule id, position of the fact in the table checked, what was found
FINDING_COLUMNS = ("rule", "position", "detail")
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
    from .checks import CHECKS

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


from .report import PROBLEM_COLUMNS, problems_table  # noqa: E402  (they use the names above)
from .review import Review, calc_flags, review, review_import  # noqa: E402

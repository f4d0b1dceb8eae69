"""Physical checks of every imported number, at one point that every importer's output passes through
(:func:`oresight.io.read`, used by ``oresight data import``, and ``scripts/build_data.py``).

A number that cannot be true — not finite, below or above the bounds of its measure (``measures.csv``: a
quantity is never negative, a share lies in [0, 1], a percentage is at most 100, an index within its scale),
outside its own low/high, or in a year outside 1900–2100 — is not imported: the fact is taken out and reported
as skipped with its file, line and field, so the rest of a publisher's table still arrives and nothing
impossible is stored. The checks are vectorised over the facts table.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from oresight.facts import FACT_COLUMNS
from oresight.taxonomy import load_taxonomy

from .result import ImportResult, Skipped, calc_repeats

__all__ = ["YEARS", "calc_value_problems", "check_values"]

#: the years a fact may refer to (observations since 1900, outlooks to 2100)
YEARS = (1900, 2100)
#: bounds every number in these units has, whatever its measure
_UNIT_BOUNDS = {"share": (0.0, 1.0), "percent": (0.0, 100.0)}


def _bounds(measures: pd.Series, units: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bound per fact (NaN: none), from its measure and its unit."""
    tax = load_taxonomy()
    spec = {}
    for measure in measures.unique():
        row = tax.measures.get(tax.base_measure(measure) or "", {})
        spec[measure] = (_bound(row.get("min")), _bound(row.get("max")))
    low = measures.map(lambda m: spec[m][0]).to_numpy(float)
    high = measures.map(lambda m: spec[m][1]).to_numpy(float)
    unit_low = units.map(lambda u: _UNIT_BOUNDS.get(u, (np.nan, np.nan))[0]).to_numpy(float)
    unit_high = units.map(lambda u: _UNIT_BOUNDS.get(u, (np.nan, np.nan))[1]).to_numpy(float)
    return np.fmax(low, unit_low), np.fmin(high, unit_high)


def _bound(text: str | None) -> float:
    return float(text) if text not in (None, "") else np.nan


def calc_value_problems(facts: pd.DataFrame) -> pd.Series:
    """Why each fact's numbers cannot be true ('' where they can), in the order the checks run.

    >>> facts = pd.DataFrame({"measure": ["production", "share", "production"], "unit": ["t", "share", "t"],
    ...     "value": [5.0, 1.5, -2.0], "low": [float("nan")] * 3, "high": [float("nan")] * 3, "year": [2024] * 3})
    >>> calc_value_problems(facts).tolist()
    ['', 'value 1.5 above 1, the upper bound of a share', 'value -2 below 0, the lower bound of production']
    """
    reasons = pd.Series("", index=facts.index, dtype=object)
    if facts.empty:
        return reasons
    lower, upper = _bounds(facts["measure"].astype(str), facts["unit"].astype(str))
    numbers = {c: facts[c].to_numpy(float) for c in ("value", "low", "high")}

    def mark(bad: np.ndarray, describe) -> None:
        todo = bad & (reasons == "").to_numpy()
        for i in np.flatnonzero(todo):
            reasons.iat[i] = describe(i)

    for column, number in numbers.items():
        mark(np.isinf(number), lambda i, c=column, n=number: f"{c} {n[i]:g} is not a finite number")
    for column, number in numbers.items():
        mark(
            number < lower,
            lambda i, c=column, n=number: f"{c} {n[i]:g} below {lower[i]:g}, the lower bound of {_kind(facts, i)}",
        )
        mark(
            number > upper,
            lambda i, c=column, n=number: f"{c} {n[i]:g} above {upper[i]:g}, the upper bound of {_kind(facts, i)}",
        )
    value, low, high = numbers["value"], numbers["low"], numbers["high"]
    mark(value < low, lambda i: f"value {value[i]:g} below its own low {low[i]:g}")
    mark(value > high, lambda i: f"value {value[i]:g} above its own high {high[i]:g}")
    years = pd.to_numeric(facts["year"], errors="coerce").to_numpy(float)
    mark(
        ~((years >= YEARS[0]) & (years <= YEARS[1])),
        lambda i: f"year {years[i]:g} outside {YEARS[0]}–{YEARS[1]}" if not np.isnan(years[i]) else "no year",
    )
    return reasons


def _kind(facts: pd.DataFrame, i: int) -> str:
    unit = str(facts["unit"].iat[i])
    return {"share": "a share", "percent": "a percentage"}.get(unit, str(facts["measure"].iat[i]))


def check_values(result: ImportResult) -> ImportResult:
    """``result`` without the facts whose numbers cannot be true and without facts that repeat another one
    exactly (whatever importer made them: a file with every row twice must not double its data); each is
    reported as skipped with its line and field."""
    lines = result.origins["line"] if result.origins is not None else pd.Series([None] * len(result.facts))
    repeated, skipped = calc_repeats(result.facts, list(FACT_COLUMNS), lines.reset_index(drop=True), result.path)
    reasons = calc_value_problems(result.facts)
    impossible = (reasons != "").to_numpy() & ~repeated
    bad = impossible | repeated
    if not bad.any():
        return result
    skipped = [*result.skipped, *skipped]
    for position in np.flatnonzero(impossible):
        line, field = result.origin(int(position))
        where = f"field {field!r}: " if field else ""
        skipped.append(Skipped(result.path, line, f"{where}{reasons.iat[position]}"))
    keep = ~bad
    origins = result.origins[keep].reset_index(drop=True) if result.origins is not None else None
    return dataclasses.replace(
        result, facts=result.facts[keep].reset_index(drop=True), skipped=skipped, origins=origins
    )

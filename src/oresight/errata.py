"""Errata: publishers' errors, each with its evidence, as data (``taxonomy/usgs_errata.csv``).

Two kinds. A layout fix (no rule, action ``rename``) says what a column of a publisher's file really holds; the
importer applies it when it reads the file (:func:`column_renames`). A correction names the plausibility rule
whose failure it explains and the facts it applies to; :func:`apply_errata` applies it only while that rule
fails on those facts, so a re-release that the publisher has corrected passes through unchanged. Every applied
erratum is visible: corrected facts are flagged ``corrected`` and their note cites the evidence; dropped facts
are listed in the corrections table (and, at import, as skipped).
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass, fields
from importlib import resources

import numpy as np
import pandas as pd

__all__ = [
    "CORRECTED",
    "CORRECTION_COLUMNS",
    "Erratum",
    "apply_errata",
    "cited_correction",
    "column_renames",
    "load_errata",
]

#: the flag of a fact an erratum corrected
CORRECTED = "corrected"
#: the fact fields an erratum can name (empty: any)
MATCH_FIELDS = ("source", "commodity", "stage", "country", "measure", "basis", "year")
#: one row per fact an erratum changed
CORRECTION_COLUMNS = (
    "erratum",
    "rule",
    "action",
    "source",
    "commodity",
    "stage",
    "country",
    "year",
    "measure",
    "basis",
    "before",
    "after",
    "evidence",
)


@dataclass(frozen=True)
class Erratum:
    number: int  # its row in the errata file (1 = the first erratum)
    rule: str
    source: str
    commodity: str
    stage: str
    country: str
    measure: str
    basis: str
    year: str
    column: str
    action: str
    value: str
    evidence: str

    def matches(self, facts: pd.DataFrame) -> np.ndarray:
        """Which facts this erratum names."""
        mask = np.ones(len(facts), dtype=bool)
        for name in MATCH_FIELDS:
            wanted = getattr(self, name)
            if wanted:
                column = facts[name].astype(str) if name != "year" else facts[name].astype("Int64").astype(str)
                mask &= (column == wanted).to_numpy()
        return mask


@functools.cache
def load_errata() -> tuple[Erratum, ...]:
    text = resources.files("oresight.taxonomy").joinpath("usgs_errata.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(ln for ln in text.splitlines() if not ln.startswith("#"))
    names = [f.name for f in fields(Erratum) if f.name != "number"]
    return tuple(Erratum(i, **{n: (row[n] or "").strip() for n in names}) for i, row in enumerate(rows, start=1))


def column_renames(source: str, commodity: str) -> dict[str, tuple[str, str]]:
    """Layout fixes of one file: its column as read -> (what the column holds, the evidence).

    >>> column_renames("usgs-mcs-2025-salient", "lead")["Exports_kt"][0]
    'Exports_Metal_kt'
    """
    return {
        e.column: (e.value, e.evidence)
        for e in load_errata()
        if e.action == "rename" and e.source == source and e.commodity == commodity
    }


def apply_errata(facts: pd.DataFrame, findings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``facts`` with the corrections whose rule fails on them (``findings``: rule, position) applied, and one
    row per changed fact (:data:`CORRECTION_COLUMNS`)."""
    failing = findings.groupby("rule")["position"].agg(set).to_dict()
    facts = facts.reset_index(drop=True).copy()
    if "flag" not in facts:
        facts["flag"] = ""
    drop = np.zeros(len(facts), dtype=bool)
    changes = []
    for erratum in load_errata():
        if not erratum.rule or erratum.action == "rename":
            continue
        mask = erratum.matches(facts) & ~drop
        positions = np.flatnonzero(mask)
        if not positions.size or not failing.get(erratum.rule, set()) & set(positions.tolist()):
            continue
        before = facts.loc[mask, "value"].to_numpy(float)
        after = _apply(erratum, facts, mask)
        if erratum.action == "drop":
            drop |= mask
        changes.append(_changes(erratum, facts[mask], before, after))
    corrections = pd.concat(changes, ignore_index=True) if changes else pd.DataFrame(columns=list(CORRECTION_COLUMNS))
    return facts[~drop].reset_index(drop=True), corrections


#: how a corrected fact's note cites its erratum (read back by :func:`cited_correction`)
_CITED = re.compile(r"corrected ×([\d.e+-]+) by erratum (\d+) of usgs_errata\.csv \(([^)]+)\)")


def cited_correction(note: str) -> tuple[str, int, str] | None:
    """(factor, erratum number, rule) of the correction a fact's note cites, or None.

    >>> cited_correction("Crude ore; corrected ×1000 by erratum 2 of usgs_errata.csv (edition-change): ...")
    ('1000', 2, 'edition-change')
    """
    match = _CITED.search(note)
    return (match.group(1), int(match.group(2)), match.group(3)) if match else None


def _apply(erratum: Erratum, facts: pd.DataFrame, mask: np.ndarray) -> np.ndarray:
    """Change the named facts in place; their values afterwards (NaN for dropped facts)."""
    cite = f"erratum {erratum.number} of usgs_errata.csv ({erratum.rule}): {erratum.evidence}"
    if erratum.action == "scale":
        factor = float(erratum.value)
        for column in ("value", "low", "high"):
            facts.loc[mask, column] = facts.loc[mask, column] * factor
        facts.loc[mask, "flag"] = CORRECTED
        cite = f"corrected ×{factor:g} by {cite}"
    elif erratum.action == "drop":
        return np.full(int(mask.sum()), np.nan)
    elif erratum.action != "note":
        raise ValueError(f"erratum {erratum.number}: unknown action {erratum.action!r}")
    notes = facts.loc[mask, "note"].fillna("")
    facts.loc[mask, "note"] = np.where(notes == "", cite, notes + "; " + cite)
    return facts.loc[mask, "value"].to_numpy(float)


def _changes(erratum: Erratum, rows: pd.DataFrame, before: np.ndarray, after: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "erratum": erratum.number,
            "rule": erratum.rule,
            "action": erratum.action,
            **{c: rows[c].to_numpy() for c in ("source", "commodity", "stage", "country", "year", "measure", "basis")},
            "before": before,
            "after": after,
            "evidence": erratum.evidence,
        }
    )

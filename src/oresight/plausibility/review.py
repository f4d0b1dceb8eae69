"""Review: errata where their rule fails, then flags for what still fails."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from oresight.facts import normalise_facts
from oresight.io.result import ImportResult, Skipped

from . import CORRECTED, find_problems_against


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

"""Which edition of each publication a World uses: one edition per table of each series.

>>> import pandas as pd
>>> facts = pd.DataFrame({"series": ["mcs"] * 2, "edition": ["2025", "2026"], "load_order": [0, 0],
...     "commodity": ["cobalt"] * 2, "stage": ["mining"] * 2, "measure": ["production"] * 2,
...     "year": [2024] * 2, "scenario": [""] * 2, "value": [290.0, 300.0]})
>>> resolve_editions(facts, None)["value"].tolist()
[300.0]
>>> resolve_editions(facts, "2025")["value"].tolist()
[290.0]
"""

from __future__ import annotations

import pandas as pd

from oresight.facts import TABLE_COLUMNS

__all__ = ["resolve_editions"]


def resolve_editions(facts: pd.DataFrame, edition: str | None) -> pd.DataFrame:
    """Keep, for each table of each series, the rows of one edition: the one asked for if the series has it,
    else the latest; among loads of the same edition, the latest load."""
    if facts.empty:
        return facts
    versions = facts.groupby("series")[["edition", "load_order"]].nunique()
    several = versions[(versions["edition"] > 1) | (versions["load_order"] > 1)].index
    if len(several) == 0:
        return facts.reset_index(drop=True)
    single = facts[~facts["series"].isin(several)]
    facts = facts[facts["series"].isin(several)]
    edition_number = pd.to_numeric(facts["edition"], errors="coerce").fillna(0).astype("int64")
    preferred = (facts["edition"] == edition).astype("int64") if edition else 0
    rank = preferred * 10**9 + edition_number * 10**4 + facts["load_order"].astype("int64")
    group = ["series", *TABLE_COLUMNS]
    best = rank.groupby([facts[c].astype(str) for c in group]).transform("max")
    return pd.concat([single, facts[rank == best]], ignore_index=True)

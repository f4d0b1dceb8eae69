"""What the rules find in a World: the table ``oresight data problems`` lists."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oresight.errata import cited_correction

from . import CORRECTED, find_problems_against

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


def problems_table(world, dropped: list[dict] = ()) -> pd.DataFrame:
    """What the rules find in a World's facts (the bundled data and every import), and what the errata
    corrected: one row per fact, ``status`` ``flagged`` (kept as published, fails ``rule``) or ``corrected``,
    ``origin`` ``bundled`` or ``import N``. ``dropped`` adds the facts errata took out at build (the
    manifest's entries), one row per country an erratum dropped facts of."""
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
    cited = [cited_correction(note) or ("", 0, "") for note in corrected["note"]]
    corrected = corrected.assign(
        status="corrected",
        rule=[rule for _, _, rule in cited],
        detail=[f"×{factor} (erratum {number})" if number else "" for factor, number, _ in cited],
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

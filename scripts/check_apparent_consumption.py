"""Apparent consumption derived from trade against the USGS's own figure for the United States.

USGS computes US apparent consumption as production + imports − exports (± stock changes) in the Mineral
Commodity Summaries. This script derives it the way the simulator's baseline does where no source gives a
country's use (:mod:`oresight.simulate.apparent`: the baseline's US output at the stage plus the trade layer's
imports less its exports) and prints a Markdown table beside the USGS figure of the same year, for
docs/methods.md.

    .venv/bin/python scripts/check_apparent_consumption.py
"""

from __future__ import annotations

import math

import oresight
from oresight.facts import rows_as_of
from oresight.formatting import format_number
from oresight.simulate.apparent import apparent_consumption
from oresight.simulate.baseline import calibrate

#: (commodity, stage whose trade is compared, USGS consumption basis to compare with)
PAIRS = [
    ("cobalt", "refining", "apparent"),
    ("graphite", "mining", "apparent"),
    ("nickel", "refining", "apparent, primary"),
    ("antimony", "mining", "apparent"),
    ("gallium", "refining", "reported"),
    ("rare-earths", "refining", "apparent"),
]
YEAR = 2024


def main() -> None:
    world = oresight.load(store=False)
    us = world.tax.importer("US")
    print("| commodity | stage | ours: production + imports − exports, t | USGS, t (basis) | ours / USGS |")
    print("|---|---|---|---|---|")
    for commodity, stage, basis in PAIRS:
        baseline = calibrate(world, commodity, [us], YEAR)
        k = baseline.stages.index(stage)
        output = baseline.production[k, baseline.index("USA")] * 12
        found = apparent_consumption(world, "USA", commodity, stage, YEAR, output, baseline.bases[k])
        rows = world.select(commodity=commodity, measure="consumption", country="USA")
        rows = rows_as_of(rows[rows["basis"].str.contains(basis, case=False) & (rows["year"] == YEAR)], YEAR)
        usgs = (
            float(rows["value"].iat[0]) * (1e-3 if str(rows["unit"].iat[0]) == "kg" else 1.0) if len(rows) else math.nan
        )
        ours = found.value if found is not None else math.nan
        ratio = ours / usgs if usgs else math.nan
        label = str(rows["basis"].iat[0]) if len(rows) else basis
        figures = f"{format_number(ours)} | {format_number(usgs)} ({label}) | {format_number(ratio)}"
        print(f"| {commodity} | {stage} | {figures} |")
        print(f"|  | | {found.text if found is not None else 'no trade'} | | |")


if __name__ == "__main__":
    main()

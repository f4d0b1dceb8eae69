"""Trend growth: a baseline calibrated for its base year, grown to the month a scenario's event starts.

A base year's flows are not the market of a later event: demand for rare earths grew by about 5% a year after
2024 (IEA), so China's magnet exports in November 2025 stood above an average month of 2024 without any
restocking. Where ``demand_growth.yaml`` gives a commodity's sourced trend rate, every stage of the baseline —
production, final demand, own use, imports and re-exports — is multiplied by ``(1 + rate) ** years``, ``years``
from the middle of the base year to the middle of the event's first month (never negative: an event before the
base year uses the base year as it is). Supply grows with demand, so a trend alone creates no shortage; stocks,
held in months of use, grow with them. Within the horizon the baseline stays at that month's level. The
baseline's ``growth`` records the factor, so that trade indicators can be set against the base year's months.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache
from importlib import resources

from oresight.errors import InputError
from oresight.io.text import parse_yaml
from oresight.simulate.baseline import Baseline

__all__ = ["calc_growth_factor", "calc_years", "grow", "growth_rate"]


def calc_years(base_year: int, start: dt.date) -> float:
    """Years from the middle of the base year to the middle of the month an event starts, at least 0.

    >>> round(calc_years(2024, dt.date(2025, 11, 7)), 3)
    1.375
    >>> calc_years(2024, dt.date(2010, 7, 1))
    0.0
    """
    return max(0.0, start.year + (start.month - 0.5) / 12 - (base_year + 0.5))


def calc_growth_factor(rate: float, years: float) -> float:
    """(1 + rate) ** years.

    >>> round(calc_growth_factor(0.05, 2.0), 4)
    1.1025
    """
    return (1.0 + rate) ** years


@cache
def _rates() -> dict:
    text = resources.files("oresight.simulate").joinpath("demand_growth.yaml").read_text(encoding="utf-8")
    return parse_yaml(text, "demand_growth.yaml", InputError)


def growth_rate(commodity: str) -> tuple[float, str] | None:
    """The sourced trend rate of a commodity's market a year and its citation, or None where none is given.

    >>> growth_rate("rare-earths")[0]
    0.0514
    """
    data = _rates()
    entry = data["rates"].get(commodity)
    if entry is None:
        return None
    return float(entry["rate"]), f"{data['source']}: {entry['where']}"


def grow(baseline: Baseline, start: dt.date | None) -> Baseline:
    """The baseline grown at its commodity's trend rate to the month ``start`` (see the module doc); the same
    baseline where no rate is given, no start is known or the event is not after the base year."""
    found = growth_rate(baseline.commodity)
    if found is None or start is None or baseline.year is None:
        return baseline
    years = calc_years(baseline.year, start)
    if years <= 0:
        return baseline
    rate, where = found
    factor = calc_growth_factor(rate, years)
    scaled = {name: getattr(baseline, name) * factor for name in ("production", "final_demand", "own", "imports")}
    note = (
        f"market grown {factor - 1:+.1%} from {baseline.year} to {start:%B %Y} at its trend of {rate:.1%} a year "
        f"({where})"
    )
    return dataclasses.replace(
        baseline,
        **scaled,
        reexports=baseline.reexports * factor,
        growth=baseline.growth * factor,
        notes=[*baseline.notes, note],
        sources=sorted({*baseline.sources, _rates()["source_id"]}),
    )

"""Selections of facts by any column, fast for the common keys (commodity, measure, both).

>>> import pandas as pd
>>> from oresight.facts import normalise_facts
>>> facts = normalise_facts(pd.DataFrame({"commodity": ["cobalt", "nickel"], "measure": ["production"] * 2,
...     "country": ["COD", "IDN"], "year": [2024, 2024], "value": [220.0, 2200.0]}))
>>> FactIndex(facts).select(commodity="cobalt")["country"].tolist()
['COD']
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from oresight.facts import calc_year_as_of

__all__ = ["FactIndex"]


class _Groups:
    """The rows of each value (or tuple of values) of some columns, taken when first asked for."""

    def __init__(self, facts: pd.DataFrame, columns: list[str]) -> None:
        self._facts = facts
        keys = facts[columns[0]] if len(columns) == 1 else [facts[c] for c in columns]
        self._positions = facts.groupby(keys, sort=False).indices
        self._taken: dict = {}

    def get(self, key, default=None) -> pd.DataFrame | None:
        if key not in self._taken:
            positions = self._positions.get(key)
            if positions is None:
                return default
            self._taken[key] = self._facts.take(positions)
        return self._taken[key]

    def __contains__(self, key) -> bool:
        return key in self._positions

    def __iter__(self):
        return iter(self._positions)

    def items(self):
        return ((key, self.get(key)) for key in self._positions)


_FILTERS = ("commodity", "stage", "country", "partner", "sector", "scenario", "series", "measure", "year")


class FactIndex:
    """Facts grouped once by commodity, measure and both, so that a selection scans only its group's rows.

    Grouping finds each group's row positions at once; a group's rows are taken from the facts the first
    time it is selected (building all ~1,300 frames up front cost more than a whole short command).
    """

    def __init__(self, facts: pd.DataFrame) -> None:
        self.facts = facts

    @cached_property
    def by_commodity(self) -> _Groups:
        return _Groups(self.facts, ["commodity"])

    @cached_property
    def by_measure(self) -> _Groups:
        return _Groups(self.facts, ["measure"])

    @cached_property
    def by_commodity_measure(self) -> _Groups:
        return _Groups(self.facts, ["commodity", "measure"])

    def select(self, **filters) -> pd.DataFrame:
        """Facts matching every given filter (a value or a collection of values; None keeps all)."""
        commodity, measure = filters.get("commodity"), filters.get("measure")
        if isinstance(commodity, str) and isinstance(measure, str):
            df = self.by_commodity_measure.get((commodity, measure))
            filters = {**filters, "commodity": None, "measure": None}
        elif isinstance(commodity, str):
            df = self.by_commodity.get(commodity)
            filters = {**filters, "commodity": None}
        elif isinstance(measure, str):
            df = self.by_measure.get(measure)
            filters = {**filters, "measure": None}
        else:
            df = self.facts
        if df is None:
            return self.facts.iloc[:0]
        mask = np.ones(len(df), dtype=bool)
        for column in _FILTERS:
            wanted = filters.get(column)
            if wanted is None:
                continue
            if isinstance(wanted, str | int | np.integer):
                mask &= (df[column] == wanted).to_numpy(dtype=bool, na_value=False)
            else:
                mask &= df[column].isin(list(wanted)).to_numpy(dtype=bool, na_value=False)
        return df[mask]

    def latest_year(self, at_most: int | None = None, **filters) -> int | None:
        """The year :func:`calc_year_as_of` picks among the selected facts' years (None when there are none)."""
        years = self.select(**filters)["year"].dropna()
        return calc_year_as_of(years, at_most) if len(years) else None

"""The facts table: one row per number, with its source.

Columns (all importers produce exactly these):

========== ===========================================================================================
commodity  commodity id (taxonomy), empty for country-level indicators such as WGI
stage      supply-chain stage id, empty where a number belongs to no stage
country    ISO 3166-1 alpha-3 of the producing or reporting country; ``WLD`` world total; ``ROW`` others
partner    ISO3 of the trade partner (country = importer, partner = origin), else empty
sector     end-use sector id, else empty
scenario   outlook scenario ("base-case", "STEPS", "APS", "NZE"), empty for observed values
year       calendar year the number refers to
measure    what is measured (measures.csv), with an optional ``_variant`` suffix for a second basis
value      the number in ``unit``; NaN when the source gives no number (withheld, net exporter)
unit       t, kg, USD, percent, share, ...
basis      what the quantity is of ("t REO", "t Co content", "compounds and metals")
status     reported | estimated | projected | withheld | lower_bound | upper_bound | range | net_exporter | target
low, high  bounds where the source gives a range or a bound
source     id of the source in the sources registry
note       the publisher's qualifier or footnote, if any; the evidence of an erratum that corrected the number
flag       what the plausibility rules say (``taxonomy/plausibility.csv``): ``corrected`` (an erratum was applied,
           see the note) and/or the ids of the rules the number fails (kept as published); empty when it passes
========== ===========================================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oresight.errors import InputError

#: USD per tonne of one unit of each price per mass that publishers quote (1 lb = 0.45359237 kg, 1 troy oz =
#: 31.1034768 g)
USD_PER_TONNE = {"USD/t": 1.0, "USD/kg": 1_000.0, "USD/lb": 2_204.62262, "USD/ozt": 32_150.7466, "USD/g": 1e6}


def usd_per_tonne(value: float, unit: str) -> float:
    """A price in USD per tonne; NaN for a unit that is not a price per mass.

    >>> round(usd_per_tonne(16.77, "USD/lb")), usd_per_tonne(3.0, "USD/kg"), usd_per_tonne(1.0, "index")
    (36972, 3000.0, nan)
    """
    return round(value * USD_PER_TONNE[unit], 6) if unit in USD_PER_TONNE else float("nan")


__all__ = [
    "FACT_COLUMNS",
    "KEY_COLUMNS",
    "STATUSES",
    "TABLE_COLUMNS",
    "USD_PER_TONNE",
    "empty_facts",
    "normalise_facts",
    "problems",
    "usd_per_tonne",
]

STRING_COLUMNS = (
    "commodity",
    "stage",
    "country",
    "partner",
    "sector",
    "scenario",
    "measure",
    "unit",
    "basis",
    "status",
    "source",
    "note",
    "flag",
)
FACT_COLUMNS: tuple[str, ...] = (
    "commodity",
    "stage",
    "country",
    "partner",
    "sector",
    "scenario",
    "year",
    "measure",
    "value",
    "unit",
    "basis",
    "status",
    "low",
    "high",
    "source",
    "note",
    "flag",
)
#: Columns of the sources registry (the fields of :class:`oresight.sources.Source`).
SOURCE_COLUMNS: tuple[str, ...] = (
    "id",
    "series",
    "edition",
    "publisher",
    "title",
    "year",
    "url",
    "doi",
    "licence",
    "table",
    "note",
    "obtained_from",
)
#: A number is identified by these; two rows with the same key and source are a duplicate.
KEY_COLUMNS = ("commodity", "stage", "country", "partner", "sector", "scenario", "year", "measure", "basis")
#: Editions are compared table by table: these columns name a table of one source.
TABLE_COLUMNS = ("commodity", "stage", "measure", "year", "scenario")

STATUSES = (
    "reported",
    "estimated",
    "projected",
    "withheld",
    "lower_bound",
    "upper_bound",
    "range",
    "net_exporter",
    "target",
)
#: statuses that carry no number in ``value``
VALUELESS_STATUSES = ("withheld", "net_exporter")


def calc_year_as_of(years, year: int | None) -> int:
    """The year of data to use "as of" ``year``: the latest no later than it, else the earliest after it; the
    latest of all when no year is asked. One rule for every selection by year (docs/methods.md).

    >>> calc_year_as_of([2019, 2021, 2023], 2022), calc_year_as_of([2019, 2021], 2015), calc_year_as_of([2019], None)
    (2021, 2019, 2019)
    """
    years = np.asarray(years, dtype=int)
    if year is None:
        return int(years.max())
    earlier = years[years <= year]
    return int(earlier.max()) if earlier.size else int(years.min())


def rows_as_of(rows: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """The rows of the year :func:`calc_year_as_of` picks among theirs (all rows of that year)."""
    if rows.empty:
        return rows
    years = rows["year"].astype(int)
    return rows[years == calc_year_as_of(years, year)]


def empty_facts() -> pd.DataFrame:
    return normalise_facts(pd.DataFrame({c: [] for c in FACT_COLUMNS}))


def normalise_facts(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the fact columns, in order, with their dtypes; missing text is ''."""
    if _is_normal(df):
        return df[list(FACT_COLUMNS)].reset_index(drop=True)
    out = pd.DataFrame(index=df.index)
    for col in FACT_COLUMNS:
        series = df[col] if col in df else pd.Series(np.nan if col in ("value", "low", "high") else "", index=df.index)
        if col in STRING_COLUMNS:
            out[col] = series.fillna("").astype(str)
        elif col == "year":
            out[col] = pd.to_numeric(series, errors="coerce").astype("Int64")
        else:
            out[col] = pd.to_numeric(series, errors="coerce").astype("float64")
    return out.reset_index(drop=True)


#: what pandas' infer_dtype says of a column whose values are all strings (or that has none)
_ALL_TEXT = ("string", "empty")


def _is_normal(df: pd.DataFrame) -> bool:
    """True for a table that already has the fact columns with their dtypes and a string in every text cell."""
    if not set(FACT_COLUMNS) <= set(df.columns):
        return False
    kinds = {c: df[c].dtype for c in FACT_COLUMNS}
    return (
        all(kinds[c] == "float64" for c in ("value", "low", "high"))
        and kinds["year"] == "Int64"
        # every value a string (infer_dtype scans a column several times faster than isna)
        and all(
            pd.api.types.is_object_dtype(kinds[c]) and pd.api.types.infer_dtype(df[c], skipna=False) in _ALL_TEXT
            for c in STRING_COLUMNS
        )
    )


def problems(facts: pd.DataFrame, source_ids: set[str] | None = None) -> list[str]:
    """Invariant violations of a facts table (empty list when it is sound).

    Checks: known statuses; a year on every row; a number unless the status says there is none; a source
    on every row that the registry knows; numbers that can be true (finite, within their measure's bounds, a
    year in range: :func:`oresight.io.validate.calc_value_problems`); no exact duplicate rows.
    """
    from oresight.io.validate import calc_value_problems

    found: list[str] = []
    bad_status = sorted(set(facts["status"]) - set(STATUSES))
    if bad_status:
        found.append(f"unknown status values: {bad_status}")
    if facts["year"].isna().any():
        found.append(f"{int(facts['year'].isna().sum())} rows without a year")
    needs_number = ~facts["status"].isin(VALUELESS_STATUSES) & ~(
        (facts["status"] == "upper_bound") & facts["high"].notna()
    )
    if (needs_number & facts["value"].isna()).any():
        found.append(f"{int((needs_number & facts['value'].isna()).sum())} rows without a value")
    if (facts["source"] == "").any():
        found.append(f"{int((facts['source'] == '').sum())} rows without a source")
    if source_ids is not None:
        unknown = sorted(set(facts["source"]) - source_ids - {""})
        if unknown:
            found.append(f"sources missing from the registry: {unknown[:10]}")
    impossible = calc_value_problems(facts)
    impossible = impossible[impossible != ""]
    if len(impossible):
        found.append(f"{len(impossible)} rows with numbers that cannot be true (first: {impossible.iat[0]})")
    dupes = facts.duplicated([*list(KEY_COLUMNS), "source"], keep=False)
    if dupes.any():
        found.append(f"{int(dupes.sum())} rows share key and source with another row")
    return found


def require_sound(facts: pd.DataFrame, *, path: str, source_ids: set[str] | None = None) -> None:
    """Raise :class:`InputError` naming ``path`` when a facts table breaks an invariant."""
    found = problems(facts, source_ids)
    if found:
        raise InputError("; ".join(found), path=path)

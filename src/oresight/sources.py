"""The sources registry: who published a number, in which edition and table, under which licence."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from oresight.facts import SOURCE_COLUMNS

__all__ = ["SOURCE_COLUMNS", "Source", "sources_frame"]


class Source(BaseModel):
    """One publication table (or a set of tables of one release) that facts cite.

    ``series`` groups the editions of one publication (``usgs-mcs``); ``edition`` orders them, so that the
    latest edition can win by default.
    """

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.:_/+-]*$")
    series: str
    edition: str
    publisher: str
    title: str
    year: int
    url: str = ""
    doi: str = ""
    licence: str
    table: str = ""
    note: str = ""
    obtained_from: str = ""


assert tuple(Source.model_fields) == SOURCE_COLUMNS, "facts.SOURCE_COLUMNS must list the fields of Source"


def sources_frame(sources: list[Source]) -> pd.DataFrame:
    """A DataFrame of sources, one row each, ids unique (the last of duplicates wins)."""
    frame = pd.DataFrame([s.model_dump() for s in sources], columns=list(SOURCE_COLUMNS))
    return frame.drop_duplicates("id", keep="last").reset_index(drop=True)

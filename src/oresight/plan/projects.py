"""The project pipeline: supply projects outside China with their capacity in the planning chain's basis.

Two curated tables (``data/curated/projects/``) hold the pipeline as cited facts:

* ``projects.csv``: one row per project (stage, country, status, earliest start, ramp-up, capex, public finance
  committed, offtakes, whether it is a planning candidate, how far it was verified, its source);
* ``capacity.csv``: one row per project and planned commodity (NdPr, Dy, Tb, Ga, Ge, Sb, graphite): the capacity
  as published, in the publisher's basis, with a basket share where the figure is a feed;

and ``conversions.yaml`` (beside this module) turns a published product (oxide, metal, alloy, magnet, element)
into the chain's basis: tonnes of the element as oxide at every rare-earth stage (``t NdPr oxide eq.``), tonnes
of element for Ga, Ge, Sb and tonnes of battery-grade graphite. ``scripts/build_data.py`` validates them and bundles the
result as ``data/projects.parquet``; :func:`load_projects` reads it.

>>> table = load_projects()
>>> row = table[(table["project"] == "aclara-louisiana") & (table["commodity"] == "dysprosium")].iloc[0]
>>> float(row["capacity_t"]), row["basis"], row["source"]
(200.0, 't Dy oxide eq. per year', 'proj-mining-2025-aclara')
>>> bool(table.loc[table["project"] == "mp-10x", "capacity_t"].iloc[0] > 2000)
True
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oresight.errors import InputError
from oresight.io.facts_csv import read_sources_yaml
from oresight.io.text import clean_cell, parse_yaml, read_csv_table, read_text
from oresight.sources import Source

__all__ = [
    "PLAN_COMMODITIES",
    "PROJECT_COLUMNS",
    "Pipeline",
    "calc_chain_capacity",
    "load_projects",
    "read_pipeline",
]

#: commodities the planning model covers, with the basis of their chain
PLAN_COMMODITIES: dict[str, str] = {
    "ndpr": "t NdPr oxide eq.",
    "dysprosium": "t Dy oxide eq.",
    "terbium": "t Tb oxide eq.",
    "gallium": "t Ga",
    "germanium": "t Ge",
    "antimony": "t Sb",
    "graphite": "t battery-grade graphite",
}
STAGES = ("mining", "refining", "metal", "magnet")
STATUSES = ("operating", "commissioning", "construction", "planned", "study", "blocked", "abandoned")
FEEDS = ("integrated", "market", "scrap")

PROJECT_COLUMNS = (
    "project",
    "name",
    "company",
    "country",
    "stage",
    "status",
    "start_year",
    "start_high",
    "ramp_years",
    "capex_usd",
    "capex_low",
    "capex_high",
    "public_finance_usd",
    "public_finance",
    "offtake",
    "offtake_to",
    "feed",
    "candidate",
    "verified",
    "source",
    "note",
    "commodity",
    "capacity_t",
    "capacity_low",
    "capacity_high",
    "basis",
    "published",
    "conversion",
    "capacity_source",
)
#: columns of :func:`calc_chain_capacity` (the capacity part of the table, its source still named ``source``)
CAPACITY_COLUMNS = ("project", *PROJECT_COLUMNS[PROJECT_COLUMNS.index("commodity") : -1], "source")


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ProjectRow(_Row):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    company: str
    country: str = Field(pattern=r"^[A-Z]{3}$")
    stage: Literal["mining", "refining", "metal", "magnet"]
    status: Literal["operating", "commissioning", "construction", "planned", "study", "blocked", "abandoned"]
    start_year: int | None = Field(default=None, ge=1900, le=2100)
    start_high: int | None = Field(default=None, ge=1900, le=2100)
    ramp_years: float | None = Field(default=None, ge=0, le=20)
    capex_usd: float | None = Field(default=None, ge=0)
    capex_low: float | None = Field(default=None, ge=0)
    capex_high: float | None = Field(default=None, ge=0)
    public_finance_usd: float | None = Field(default=None, ge=0)
    public_finance: str = ""
    offtake: str = ""
    offtake_to: str = ""
    feed: Literal["integrated", "market", "scrap"]
    candidate: Literal["yes", "no"]
    verified: Literal["yes", "partly", "no"]
    source: str
    note: str = ""


class CapacityRow(_Row):
    project: str
    commodity: Literal["ndpr", "dysprosium", "terbium", "gallium", "germanium", "antimony", "graphite"]
    product: Literal["oxide", "metal", "alloy", "magnet", "element"]
    published: float = Field(gt=0)
    low: float | None = Field(default=None, gt=0)
    high: float | None = Field(default=None, gt=0)
    published_basis: str
    share: float | None = Field(default=None, gt=0, le=1)
    source: str
    note: str = ""


class Conversion(_Row):
    factor: float = Field(gt=0)
    low: float | None = Field(default=None, gt=0)
    high: float | None = Field(default=None, gt=0)
    note: str = ""


class Pipeline(BaseModel):
    """The validated pipeline: projects, capacities, conversions and the sources they cite."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    projects: pd.DataFrame
    capacity: pd.DataFrame
    conversions: dict[str, dict[str, Conversion]]
    sources: list[Source]

    def table(self) -> pd.DataFrame:
        """One row per project and commodity (projects without a planned commodity keep one row with none)."""
        converted = calc_chain_capacity(self.capacity, self.conversions)
        merged = self.projects.rename(columns={"id": "project"}).merge(
            converted, on="project", how="left", suffixes=("", "_capacity")
        )
        merged["commodity"] = merged["commodity"].fillna("")
        merged = merged.rename(columns={"source_capacity": "capacity_source"})
        for column in ("basis", "published", "conversion", "capacity_source"):
            merged[column] = merged[column].fillna("")
        return merged[list(PROJECT_COLUMNS)].reset_index(drop=True)


def calc_chain_capacity(capacity: pd.DataFrame, conversions: dict[str, dict[str, Conversion]]) -> pd.DataFrame:
    """Capacities in the chain's basis: published × basket share × the product's conversion factor.

    A range on the published figure and a range on the factor combine into ``capacity_low``/``capacity_high``.

    >>> rows = pd.DataFrame([{"project": "p", "commodity": "ndpr", "product": "magnet", "published": 1000.0,
    ...     "low": None, "high": None, "published_basis": "t/yr magnets", "share": None, "source": "s"}])
    >>> conv = {"magnet": {"ndpr": Conversion(factor=0.33, low=0.3, high=0.39)}}
    >>> calc_chain_capacity(rows, conv)[["capacity_t", "capacity_low", "capacity_high"]].round(1).values.tolist()
    [[330.0, 300.0, 390.0]]
    """
    records = []
    for row in capacity.to_dict(orient="records"):
        conversion = conversions[row["product"]][row["commodity"]]
        share = _number(row.get("share"), 1.0)
        published = float(row["published"])
        low_pub, high_pub = _number(row.get("low"), published), _number(row.get("high"), published)
        factor = conversion.factor
        low_f, high_f = conversion.low or factor, conversion.high or factor
        text = f"{published:,.6g} {row['published_basis']}"
        conversion_text = " × ".join(
            part
            for part in (
                f"share {share:g}" if share != 1.0 else "",
                f"{factor:g} ({row['product']} to {PLAN_COMMODITIES[row['commodity']]})" if factor != 1.0 else "",
            )
            if part
        )
        records.append(
            {
                "project": row["project"],
                "commodity": row["commodity"],
                "capacity_t": published * share * factor,
                "capacity_low": low_pub * share * low_f,
                "capacity_high": high_pub * share * high_f,
                "basis": f"{PLAN_COMMODITIES[row['commodity']]} per year",
                "published": text,
                "conversion": conversion_text or "as published",
                "source": row["source"],
            }
        )
    return pd.DataFrame(records, columns=list(CAPACITY_COLUMNS))


def _number(value, default: float) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    return float(value)


CONVERSIONS = "conversions.yaml"


@cache
def load_conversions() -> dict[str, dict[str, Conversion]]:
    """The conversions of published products to the chain's basis (``oresight/plan/conversions.yaml``)."""
    with resources.as_file(resources.files("oresight.plan") / CONVERSIONS) as path:
        return _read_conversions(Path(path))


def read_pipeline(folder: str | Path) -> Pipeline:
    """Read and validate ``projects.csv``, ``capacity.csv`` and ``sources.yaml`` of a folder, with the
    conversions of :func:`load_conversions`.

    Every error names the file, the line and the field; every source a row cites must be defined and every
    capacity row must name a project of ``projects.csv``.
    """
    folder = Path(folder)
    sources = read_sources_yaml(folder / "sources.yaml")
    known = {s.id for s in sources}
    projects = _read_rows(folder / "projects.csv", ProjectRow, known)
    capacity = _read_rows(folder / "capacity.csv", CapacityRow, known)
    conversions = load_conversions()
    ids = set(projects["id"])
    if len(ids) != len(projects):
        duplicated = projects["id"][projects["id"].duplicated()].tolist()
        raise InputError(f"project ids appear twice: {duplicated}", path=folder / "projects.csv", field="id")
    for line, row in zip(capacity["_line"], capacity.to_dict(orient="records"), strict=True):
        if row["project"] not in ids:
            raise InputError(
                f"unknown project {row['project']!r}", path=folder / "capacity.csv", line=line, field="project"
            )
        if row["commodity"] not in conversions.get(row["product"], {}):
            raise InputError(
                f"no conversion of {row['product']} to {row['commodity']}",
                path=folder / "capacity.csv",
                line=line,
                field="product",
                expected=f"a product of conversions.yaml with an entry for {row['commodity']}",
            )
    used = set(projects["source"]) | set(capacity["source"])
    return Pipeline(
        projects=projects.drop(columns="_line"),
        capacity=capacity.drop(columns="_line"),
        conversions=conversions,
        sources=[s for s in sources if s.id in used],
    )


def _read_rows(path: Path, model: type[_Row], known_sources: set[str]) -> pd.DataFrame:
    required = [name for name, f in model.model_fields.items() if f.is_required()]
    table = read_csv_table(path, required=required)
    unknown = [c for c in table.header if c not in model.model_fields]
    if unknown:
        raise InputError(
            f"unknown column(s) {unknown}", path=path, line=1, expected=f"among {list(model.model_fields)}"
        )
    rows = []
    for line, raw in table:
        # an empty cell is "not given": the field's default (None for numbers, "" for text) applies
        cells = {k: clean_cell(v) for k, v in raw.items() if k in model.model_fields and clean_cell(v) != ""}
        try:
            row = model.model_validate(cells)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"])
            raise InputError(error["msg"], path=path, line=line, field=field) from None
        if row.source not in known_sources:
            raise InputError(f"source {row.source!r} is not defined", path=path, line=line, field="source")
        rows.append({**row.model_dump(), "_line": line})
    return pd.DataFrame(rows, columns=[*model.model_fields, "_line"])


def _read_conversions(path: Path) -> dict[str, dict[str, Conversion]]:
    data = parse_yaml(read_text(path), path)
    if not isinstance(data, dict):
        raise InputError("expected a mapping of products to commodities", path=path)
    out: dict[str, dict[str, Conversion]] = {}
    for product, by_commodity in data.items():
        if not isinstance(by_commodity, dict):
            raise InputError(f"{product}: expected a mapping of commodities", path=path, field=str(product))
        out[str(product)] = {}
        for commodity, spec in by_commodity.items():
            try:
                out[str(product)][str(commodity)] = Conversion.model_validate(spec)
            except ValidationError as exc:
                raise InputError(
                    exc.errors()[0]["msg"], path=path, field=f"{product}.{commodity}.{exc.errors()[0]['loc'][0]}"
                ) from None
    return out


def write_projects(pipeline: Pipeline, out: Path) -> int:
    """Bundle the pipeline table as ``projects.parquet`` (used by ``scripts/build_data.py``); returns its rows."""
    table = pipeline.table()
    table.to_parquet(out / "projects.parquet", index=False, compression="zstd")
    return len(table)


@cache
def _bundled() -> pd.DataFrame:
    with resources.as_file(resources.files("oresight") / "data" / "projects.parquet") as path:
        return pd.read_parquet(path)


def load_projects(*, candidates_only: bool = False) -> pd.DataFrame:
    """The bundled pipeline table (columns :data:`PROJECT_COLUMNS`), optionally only planning candidates with a
    capacity in the chain's basis."""
    table = _bundled().copy()
    if candidates_only:
        table = table[(table["candidate"] == "yes") & (table["commodity"] != "")].reset_index(drop=True)
    return table

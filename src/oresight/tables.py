"""Display-ready tables built from a World: what ``oresight data`` and ``oresight brief`` show.

Each function returns a pandas DataFrame; rendering (rich tables, JSON, CSV) is the CLI's job.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from oresight.errors import DataNotAttestedError
from oresight.taxonomy.countries import AGGREGATES, REST_OF_WORLD, WORLD
from oresight.world import World
from oresight.world.shares import calc_share_table_from_volumes
from oresight.world.supply import production_table

__all__ = [
    "calc_span_of_sources",
    "commodity_facts",
    "commodity_list",
    "concentration_ranking",
    "sources_table",
    "stage_table",
]


def stage_table(
    world: World, commodity: str, stage: str | None = None, year: int | None = None, measure: str = "production"
) -> pd.DataFrame:
    """Rows of one commodity's stage(s): per country the value, unit, basis, status, share and source.

    Without ``stage`` every stage of the chain is shown. ``role`` says what a row is:

    * for a stage described by volumes, ``preferred``: the primary series' facts (the World's shares), with
      ``low``/``high`` widened to span the other series' figures of the same year, unit and basis where they
      disagree; then ``compared``: the other series' figures of that year, with their own shares of world output;
    * for a stage known only from published shares, ``estimate``: the combined shares; then ``published``: the
      figures of each source that went into them, with their own year, status and note.
    """
    commodity, implied = world.resolve(commodity, stage)
    stages = [implied] if implied else list(world.tax.chain(commodity, _stages_with_data(world, commodity)).stage_ids)
    frames = [_one_stage(world, commodity, s, year, measure) for s in stages]
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        what = f"{measure} of {commodity}" + (f" at stage {implied}" if implied else "")
        raise DataNotAttestedError(f"no source gives {what}" + (f" for {year}" if year else ""))
    return pd.concat(frames, ignore_index=True)


def _stages_with_data(world: World, commodity: str) -> set[str]:
    return set(world.select(commodity=commodity, measure=["production", "share"])["stage"]) - {""}


def _one_stage(world: World, commodity: str, stage: str, year: int | None, measure: str) -> pd.DataFrame | None:
    if measure in ("production", "share"):
        try:
            view = world.stage_view(commodity, stage, year)
        except DataNotAttestedError:
            return None
        if view.method == "volumes":
            if year is not None and view.year != year:
                return None
            return _volume_rows(world, commodity, stage, view)
        frame = view.share_table.reset_index()
        bound_only = frame["share"].isna() & frame["high"].notna()
        frame = frame.assign(
            value=frame["share"],
            status=np.where(bound_only, "upper_bound", np.where(frame["low"] < frame["high"], "range", "estimated")),
            unit="share",
            basis=view.basis,
            year=view.year,
            measure="share",
            source=";".join(view.sources),
            role="estimate",
            series="",
        )
        return pd.concat([_finish(world, frame, commodity, stage), _published_rows(world, commodity, stage, view)])
    rows = world.select(commodity=commodity, stage=stage, measure=measure)
    if rows.empty:
        return None
    use = year if year is not None else int(rows["year"].max())
    rows = rows[rows["year"] == use]
    return _finish(world, rows.assign(share=np.nan, role="facts").copy(), commodity, stage) if len(rows) else None


def _volume_rows(world: World, commodity: str, stage: str, view) -> pd.DataFrame:
    """The primary series' volumes with the World's shares, then every other series' volumes of that year."""
    volumes = production_table(world, commodity, stage, view.year)
    preferred = volumes.attrs["series"]
    frame = volumes.reset_index()[["country", "value", "status", "low", "high", "source"]]
    frame = frame.join(view.share_table[["share"]], on="country")
    frame = frame.assign(
        unit=volumes.attrs["unit"],
        basis=volumes.attrs["basis"],
        year=view.year,
        measure="production",
        role="preferred",
        series=preferred,
    )
    others = [
        _compared_rows(world, commodity, stage, view.year, series)
        for series in sorted(
            set(world.select(commodity=commodity, stage=stage, measure="production", year=view.year)["series"])
        )
        if series != preferred
    ]
    if others:
        frame = calc_span_of_sources(frame, pd.concat(others))
    return pd.concat([_finish(world, f, commodity, stage) for f in [frame, *others]], ignore_index=True)


def _compared_rows(world: World, commodity: str, stage: str, year: int, series: str) -> pd.DataFrame:
    volumes = production_table(world, commodity, stage, year, series=series)
    frame = volumes.reset_index()[["country", "value", "status", "low", "high", "source"]]
    try:
        frame = frame.join(calc_share_table_from_volumes(volumes)[["share"]], on="country")
    except DataNotAttestedError:  # no world total in this series: its volumes give no shares of world output
        frame = frame.assign(share=np.nan)
    unit, basis = volumes.attrs["unit"], volumes.attrs["basis"]
    return frame.assign(unit=unit, basis=basis, year=year, measure="production", role="compared", series=series)


def calc_span_of_sources(preferred: pd.DataFrame, compared: pd.DataFrame) -> pd.DataFrame:
    """``preferred`` with ``low``/``high`` widened to the other sources' values of the same country, unit and
    basis where they disagree (its own bounds kept); the value and the share stay the preferred series'.

    >>> p = pd.DataFrame({"country": ["CHN", "RUS"], "value": [40.0, 40.0], "low": [np.nan] * 2,
    ...     "high": [np.nan] * 2, "unit": "t", "basis": "t Sb content"})
    >>> c = p.assign(value=[45.0, 40.0], basis=["t Sb content", "t Sb content"])
    >>> calc_span_of_sources(p, c)[["low", "high"]].values.tolist()
    [[40.0, 45.0], [nan, nan]]
    """
    key = ["country", "unit", "basis"]
    other = compared[compared["value"].notna()].groupby(key)["value"].agg(["min", "max"])
    joined = preferred.join(other, on=key)
    differs = joined["min"].notna() & ((joined["min"] != joined["value"]) | (joined["max"] != joined["value"]))
    own_low = joined["low"].fillna(joined["value"])
    own_high = joined["high"].fillna(joined["value"])
    return preferred.assign(
        low=preferred["low"].where(~differs, np.fmin(own_low, joined["min"])),
        high=preferred["high"].where(~differs, np.fmax(own_high, joined["max"])),
    )


def _published_rows(world: World, commodity: str, stage: str, view) -> pd.DataFrame:
    """The published share figures behind a combined estimate: each source's own figures in the years used."""
    rows = world.select(commodity=commodity, stage=stage, measure="share", year=view.share_table.attrs["years"])
    rows = rows[rows["source"].isin(view.sources)]
    rows = rows[rows["year"] == rows.groupby("source")["year"].transform("max")]
    frame = rows[["country", "value", "status", "low", "high", "source", "unit", "basis", "year", "measure", "note"]]
    frame = frame.assign(share=frame["value"], role="published", series="")
    return _finish(world, frame, commodity, stage)


def _finish(world: World, frame: pd.DataFrame, commodity: str, stage: str) -> pd.DataFrame:
    names = world.tax.countries
    frame = frame.assign(commodity=commodity, stage=stage, country_name=[names.name(c) for c in frame["country"]])
    order = frame["country"].map({WORLD: 2, REST_OF_WORLD: 1}).fillna(0)
    frame = frame.assign(_order=order, _value=-frame["value"].fillna(-1)).sort_values(["_order", "_value"])
    columns = [
        "commodity",
        "stage",
        "year",
        "country",
        "country_name",
        "measure",
        "value",
        "unit",
        "basis",
        "status",
        "low",
        "high",
        "share",
        "source",
        "role",
        "series",
    ]
    if "note" in frame:
        columns.append("note")
    return _with_flags(world, frame, commodity, stage)[[*columns, "flag"]].reset_index(drop=True)


def _with_flags(world: World, frame: pd.DataFrame, commodity: str, stage: str) -> pd.DataFrame:
    """The rows with the plausibility flag of the fact each shows ('' for none, and for combined shares)."""
    if "flag" in frame:
        return frame
    keys = ["country", "source", "year", "measure"]
    facts = world.select(commodity=commodity, stage=stage)
    flagged = facts[facts["flag"] != ""].drop_duplicates(keys)[[*keys, "flag"]]
    merged = frame.merge(flagged.astype({"year": "int64"}), on=keys, how="left").set_axis(frame.index)
    return merged.fillna({"flag": ""})


def commodity_list(world: World) -> pd.DataFrame:
    """Commodities with data: names, stages covered, years of volume or share data, number of sources."""
    facts = world.facts[world.facts["commodity"] != ""]
    volume = facts[facts["measure"].isin(["production", "share"]) & (facts["scenario"] == "")]
    rows = []
    for cid, group in facts.groupby("commodity"):
        commodity = world.tax.commodities[cid]
        vol = volume[volume["commodity"] == cid]
        stages = [s for s in world.tax.stages if s in set(vol["stage"])]
        years = sorted(int(y) for y in vol["year"].dropna().unique())
        rows.append(
            {
                "commodity": cid,
                "name": commodity.en,
                "name_de": commodity.de,
                "stages": ", ".join(stages),
                "years": f"{years[0]}–{years[-1]}" if years else "",
                "facts": len(group),
                "sources": group["source"].nunique(),
            }
        )
    return pd.DataFrame(rows)


def commodity_facts(world: World, commodity: str, limit: int = 200) -> pd.DataFrame:
    """What the data hold on a commodity, whatever its stages: for each measure, stage, country and partner the
    observed value of the latest year, with unit, basis, status and source; a value no source gives stays NaN.

    >>> import oresight
    >>> facts = commodity_facts(oresight.load(store=False), "neon")
    >>> {"net_import_reliance", "production"} <= set(facts["measure"])
    True
    """
    commodity, _ = world.resolve(commodity)
    rows = world.select(commodity=commodity)
    key = ["measure", "stage", "country", "partner", "sector"]
    latest = rows.sort_values("year").drop_duplicates(key, keep="last")
    columns = ["measure", "stage", "country", "partner", "year", "value", "unit", "basis", "status", "source"]
    return latest.sort_values(["measure", "stage", "country", "partner"])[columns].head(limit).reset_index(drop=True)


def sources_table(world: World) -> pd.DataFrame:
    """The registry with the number of facts (after edition selection: ``facts_used``) each source carries."""
    counts = world.all_facts.groupby("source").size().rename("facts")
    used = world.facts.groupby("source").size().rename("facts_used")
    table = world.sources.drop(columns=["load_order"], errors="ignore").join(counts).join(used)
    return table.fillna({"facts": 0, "facts_used": 0}).astype({"facts": int, "facts_used": int}).reset_index(drop=True)


def concentration_ranking(world: World, year: int | None = None, n: int = 10) -> pd.DataFrame:
    """The most concentrated stages across all commodities: HHI (0-1), top country and its share."""
    shares = world.supply_shares(year)
    named = shares[~shares["country"].isin(AGGREGATES)]
    rows = []
    for (commodity, stage), group in named.groupby(["commodity", "stage"]):
        group = group.dropna(subset=["share"])
        if group.empty or (group["share"].sum() < 0.5):
            continue  # too little of world output is attributed to countries to speak of concentration
        top = group.loc[group["share"].idxmax()]
        rows.append(
            {
                "commodity": commodity,
                "stage": stage,
                "year": int(top["year"]),
                "hhi": float((group["share"] ** 2).sum()),
                "top_country": top["country"],
                "top_share": float(top["share"]),
                "attributed": float(group["share"].sum()),
                "method": top["method"],
                "source": top["source"],
            }
        )
    ranking = pd.DataFrame(rows)
    if ranking.empty:
        return ranking
    return ranking.sort_values("hhi", ascending=False).head(n).reset_index(drop=True)


def fmt_share(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f}%"


def project_table(projects: pd.DataFrame, commodity: str | None = None) -> pd.DataFrame:
    """The pipeline for display: one row per project and commodity, the commodity resolved through the taxonomy
    (``Dy``, ``Dysprosium`` and ``dysprosium`` name the same); missing figures stay missing."""
    if commodity:
        from oresight.plan.projects import PLAN_COMMODITIES
        from oresight.taxonomy import load_taxonomy

        found = load_taxonomy().commodity(commodity).id
        if found not in PLAN_COMMODITIES:
            from oresight.errors import InputError

            raise InputError(
                f"{found} is not a planned commodity", field="--commodity", expected=", ".join(PLAN_COMMODITIES)
            )
        projects = projects[projects["commodity"] == found]
    return projects.sort_values(["commodity", "stage", "project"], kind="stable").reset_index(drop=True)

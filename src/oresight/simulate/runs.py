"""Saved runs: a row in the store's ``runs`` table (scenario as run, seed, sample count, data version, summary)
and the results as Parquet under ``$ORESIGHT_HOME/runs``. A saved run is reproduced by running its stored
scenario again on the same data version; the results must come out identical.

>>> import tempfile, oresight
>>> from oresight.simulate import simulate
>>> home = tempfile.mkdtemp()
>>> sim = simulate("n-minus-1", oresight.load(store=False), samples=50, horizon=6)
>>> run_id = save_run(sim, store=f"{home}/oresight.duckdb")
>>> _, identical = reproduce(run_id, store=f"{home}/oresight.duckdb")
>>> identical
True
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from oresight.errors import OresightError
from oresight.jsonable import json_safe
from oresight.store import Store

__all__ = ["demand_by_stage", "list_runs", "load_run", "reproduce", "results_frame", "save_run", "shortfall_fan"]

#: Percentiles of a fan chart: the outer band P5–P95, the inner band P25–P75 and the median
FAN_PERCENTILES = (5, 25, 50, 75, 95)


def results_frame(dataset) -> pd.DataFrame:
    """The run's shortfalls (stages where an importer has demand) and price indices as one long table."""
    demanded = dataset["baseline_demand"].fillna(0).sum(["commodity", "importer"]) > 0
    shortfall = dataset["shortfall"].sel(stage=dataset.stage[demanded.values])
    frame = shortfall.to_dataframe(name="value").reset_index().dropna(subset=["value"])
    frame["variable"] = "shortfall"
    price = dataset["price_index"].to_dataframe(name="value").reset_index().dropna(subset=["value"])
    price["variable"] = "price_index"
    price["importer"] = ""
    columns = ["variable", "commodity", "importer", "stage", "month", "sample", "value"]
    return pd.concat([frame[columns], price[columns]], ignore_index=True)


def shortfall_fan(results: pd.DataFrame, demand: dict | None = None) -> pd.DataFrame:
    """Percentiles over samples of the monthly shortfall, per commodity, importer and stage: the data of a fan
    chart. ``results`` is a run's long table (:func:`results_frame`); ``demand`` maps (commodity, importer, stage)
    to the monthly baseline demand, which adds the percentiles as shares of demand (``share_p5`` …).

    >>> rows = [("shortfall", "x", "JPN", "magnet", m, s, float(10 * m + s)) for m in (1, 2) for s in range(5)]
    >>> results = pd.DataFrame(rows, columns=["variable", "commodity", "importer", "stage", "month", "sample", "value"])
    >>> fan = shortfall_fan(results, {("x", "JPN", "magnet"): 40.0})
    >>> fan[["month", "p5", "p50", "p95", "share_p50"]].values.tolist()
    [[1.0, 10.2, 12.0, 13.8, 0.3], [2.0, 20.2, 22.0, 23.8, 0.55]]
    """
    keys = ["commodity", "importer", "stage", "month"]
    short = results[results["variable"] == "shortfall"]
    if short.empty:
        return pd.DataFrame(columns=[*keys, *(f"p{q}" for q in FAN_PERCENTILES)])
    cube = short.pivot_table(index=keys, columns="sample", values="value", aggfunc="first")
    bands = np.nanpercentile(cube.to_numpy(), FAN_PERCENTILES, axis=1)
    fan = cube.index.to_frame(index=False)
    for q, band in zip(FAN_PERCENTILES, bands, strict=True):
        fan[f"p{q}"] = band.round(6)
    if demand:
        keys_of_rows = zip(fan["commodity"], fan["importer"], fan["stage"], strict=True)
        monthly = np.array([demand.get(k, np.nan) for k in keys_of_rows], float)
        with np.errstate(divide="ignore", invalid="ignore"):
            for q in FAN_PERCENTILES:
                fan[f"share_p{q}"] = np.where(monthly > 0, fan[f"p{q}"] / monthly, np.nan).round(6)
    return fan


def demand_by_stage(summary: dict) -> dict[tuple[str, str, str], float]:
    """Monthly baseline demand per (commodity, importer, stage), from a run's summary."""
    return {
        (commodity, importer, stage): figures["demand_per_month"]
        for importer, entry in summary["importers"].items()
        for commodity, detail in entry["commodities"].items()
        for stage, figures in detail.get("by_stage", {}).items()
    }


def _open(store) -> Store:
    opened = Store.open(store)
    assert opened is not None
    return opened


def save_run(sim, store: str | Path | None = None) -> str:
    """Save a simulation; returns its run id."""
    from oresight.simulate.result import summarise

    attrs = sim.dataset.attrs
    run_id = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    row = {
        "id": run_id,
        "created": datetime.now(UTC).replace(tzinfo=None),
        "scenario": attrs["scenario"],
        "seed": int(attrs["seed"]),
        "samples": int(sim.dataset.sizes["sample"]),
        "horizon": int(sim.dataset.sizes["month"]),
        "importers": ",".join(str(i) for i in sim.dataset.importer.values),
        "data_version": attrs["data_version"],
        "oresight_version": attrs["oresight_version"],
        "scenario_yaml": attrs["scenario_yaml"],
        # valid JSON: a figure the run could not compute is null, never a bare NaN
        "summary_json": json.dumps(json_safe(summarise(sim.dataset, sim.causes)), default=str, allow_nan=False),
    }
    results = results_frame(sim.dataset)  # computed before the store is opened: a writer holds it only briefly
    with _open(store) as opened:
        opened.add_run(row, results)
    return run_id


def list_runs(store: str | Path | None = None) -> pd.DataFrame:
    opened = Store.open(store, read_only=True)
    if opened is None:
        return pd.DataFrame()
    with opened:
        return opened.runs()


def load_run(run_id: str, store: str | Path | None = None) -> dict:
    """The stored row of a run, with its summary parsed."""
    opened = Store.open(store, read_only=True)
    row = None
    if opened is not None:
        with opened:
            row = opened.run(run_id)
    if row is None:
        raise OresightError(f"no saved run {run_id!r}; `oresight runs list` shows the saved runs")
    row["summary"] = json.loads(row.pop("summary_json"))
    return row


def reproduce(run_id: str, world=None, store: str | Path | None = None):
    """Run a saved run's scenario again; returns the new simulation and whether its results are identical."""
    import yaml

    import oresight
    from oresight.simulate import simulate
    from oresight.simulate.scenario import parse_scenario

    row = load_run(run_id, store)
    world = world or oresight.load(store=store if store is not None else True)
    if world.data_version != row["data_version"]:
        raise OresightError(
            f"run {run_id} was computed on data version {row['data_version']}, the data now are "
            f"{world.data_version}; the run cannot be reproduced exactly"
        )
    scenario = parse_scenario(yaml.safe_load(row["scenario_yaml"]), f"run {run_id}")
    sim = simulate(scenario, world)
    stored = pd.read_parquet(row["results_path"])
    fresh = results_frame(sim.dataset)
    identical = stored.shape == fresh.shape and np.array_equal(stored["value"].to_numpy(), fresh["value"].to_numpy())
    return sim, identical

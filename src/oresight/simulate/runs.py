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
from oresight.store import Store

__all__ = ["list_runs", "load_run", "reproduce", "results_frame", "save_run"]


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
        "summary_json": json.dumps(summarise(sim.dataset, sim.causes), default=str),
    }
    with _open(store) as opened:
        opened.add_run(row, results_frame(sim.dataset))
    return run_id


def list_runs(store: str | Path | None = None) -> pd.DataFrame:
    opened = Store.open(store, create=False)
    if opened is None:
        return pd.DataFrame()
    with opened:
        return opened.runs()


def load_run(run_id: str, store: str | Path | None = None) -> dict:
    """The stored row of a run, with its summary parsed."""
    opened = Store.open(store, create=False)
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

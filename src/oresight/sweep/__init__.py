"""Sweeps: thousands of disruption scenarios across commodities, stages, exporters and importers, run on Dask,
screened for the most damaging.

A sweep file (:mod:`.spec`) declares grids of disruptions; :mod:`.grid` expands them into scenarios with stable
ids and seeds; :mod:`.simulator` runs each on the simulator's calibrated baseline; :mod:`.execute` spreads the
batches over a Dask cluster and :mod:`.results` writes them as partitioned Parquet; :mod:`.screen` ranks them.

>>> import tempfile, oresight
>>> sweep = parse_sweep({"name": "demo", "importers": ["USA"], "samples": 20, "horizon_months": 6,
...     "grid": {"kind": "export_restriction", "commodities": ["gallium"], "exporters": "top1",
...              "blocked": [0.5, 1.0], "duration_months": [3]}})
>>> out = tempfile.mkdtemp()
>>> run = run_sweep(sweep, out, oresight.load(store=False), workers=0, store=False)
>>> run.scenarios, run.rows
(2, 2)
>>> frame = read_results(out)
>>> frame[["exporter", "severity", "importer"]].values.tolist()
[['CHN', 0.5, 'USA'], ['CHN', 1.0, 'USA']]
>>> bool((frame["shortfall_share_p50"] > 0).all())
True
"""

from __future__ import annotations

from oresight.sweep.execute import SweepRun, run_sweep
from oresight.sweep.grid import Disruption, calc_scenario_id, calc_seed, expand
from oresight.sweep.record import list_sweep_runs
from oresight.sweep.results import read_manifest, read_results
from oresight.sweep.spec import Sweep, SweepError, load_sweep, parse_sweep, sweep_from_text

__all__ = [
    "Disruption",
    "Sweep",
    "SweepError",
    "SweepRun",
    "calc_scenario_id",
    "calc_seed",
    "expand",
    "list_sweep_runs",
    "load_sweep",
    "parse_sweep",
    "read_manifest",
    "read_results",
    "run_sweep",
    "sweep_from_text",
]

"""Reading a sweep's results as a screen: the most damaging disruptions per importer, a heat map of commodity ×
exporter, and the expected loss where the grid gives probabilities.

Damage is the mean over samples of the importer's shortfall as a share of its demand over the horizon: a share
compares commodities measured in different units (tonnes of gallium and of cement cannot be added or ranked).
Rows where an importer is not modelled (no demand data) are left out of rankings and listed apart, never
counted as no damage.

>>> import pandas as pd
>>> rows = pd.DataFrame({"importer": ["USA"] * 3, "commodity": ["a", "a", "b"], "kind": ["export_restriction"] * 3,
...     "stage": ["mining"] * 3, "exporter": ["CHN", "CHN", "COD"], "severity": [0.5, 1.0, 1.0],
...     "duration_months": [3.0, 3.0, 3.0], "probability": [0.2, 0.1, 0.05], "modelled": [True] * 3,
...     "shortfall_share_mean": [0.1, 0.3, 0.4], "shortfall_t_mean": [1.0, 3.0, 8.0],
...     "value_at_risk_usd_mean": [float("nan")] * 3, "unit": ["t"] * 3})
>>> calc_expected_loss(rows)[["commodity", "exporter", "chance", "expected_shortfall_share"]].values.tolist()
[['a', 'CHN', 0.3, 0.05], ['b', 'COD', 0.05, 0.02]]
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from oresight.errors import OresightError
from oresight.sweep.results import MANIFEST, read_manifest, read_results
from oresight.sweep.spec import SweepError
from oresight.taxonomy import Taxonomy

__all__ = [
    "DAMAGE",
    "calc_expected_loss",
    "calc_heat_map",
    "calc_top_disruptions",
    "heat_map_frame",
    "latest_screen",
    "screen",
    "screen_of_run",
]

#: what the screen ranks by: mean shortfall share of demand over the horizon
DAMAGE = "shortfall_share_mean"
_CELL = ["importer", "commodity", "kind", "stage", "exporter"]
_TOP_COLUMNS = [
    "importer",
    "rank",
    "commodity",
    "stage",
    "kind",
    "exporter",
    "severity",
    "duration_months",
    "shortfall_share_mean",
    "shortfall_share_p5",
    "shortfall_share_p50",
    "shortfall_share_p95",
    "shortfall_t_p50",
    "unit",
    "value_at_risk_usd_p50",
    "probability",
    "scenario",
]


def calc_top_disruptions(frame: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The ``top`` most damaging disruptions of each importer, ranked by mean shortfall share (ties: by tonnes)."""
    modelled = frame[frame["modelled"]]
    ordered = modelled.sort_values(
        ["importer", DAMAGE, "shortfall_t_mean", "scenario"], ascending=[True, False, False, True], kind="stable"
    )
    best = ordered.groupby("importer", sort=False).head(top).copy()
    best["rank"] = best.groupby("importer").cumcount() + 1
    return best[[c for c in _TOP_COLUMNS if c in best]].reset_index(drop=True)


def calc_heat_map(frame: pd.DataFrame, importer: str, value: str = DAMAGE) -> pd.DataFrame:
    """Commodity × exporter: the largest ``value`` over the stages, kinds, severities and durations screened
    (NaN where no disruption of that pair was screened for a modelled importer). Rows and columns are ordered
    from the most damaging down."""
    rows = frame[(frame["importer"] == importer) & frame["modelled"]]
    if rows.empty:
        return pd.DataFrame(dtype=float)
    matrix = rows.pivot_table(index="commodity", columns="exporter", values=value, aggfunc="max")
    matrix = matrix.loc[matrix.max(axis=1).sort_values(ascending=False, kind="stable").index]
    return matrix[matrix.max(axis=0).sort_values(ascending=False, kind="stable").index]


def calc_expected_loss(frame: pd.DataFrame) -> pd.DataFrame:
    """Per importer and disruption (commodity, kind, stage, exporter): the chance it happens (sum of its
    scenarios' probabilities) and the probability-weighted sums of mean shortfall share, tonnes and value at
    risk (NaN where a scenario's value is not attested). Rows without probabilities are left out."""
    rows = frame[frame["modelled"] & frame["probability"].notna()].copy()
    if rows.empty:
        return pd.DataFrame(
            columns=[*_CELL, "chance", "expected_shortfall_share", "expected_shortfall_t", "unit", "expected_var_usd"]
        )
    for column, source in (
        ("expected_shortfall_share", DAMAGE),
        ("expected_shortfall_t", "shortfall_t_mean"),
        ("expected_var_usd", "value_at_risk_usd_mean"),
    ):
        rows[column] = rows["probability"] * rows[source]
    grouped = rows.groupby(_CELL, sort=False)
    loss = grouped.agg(
        chance=("probability", "sum"),
        expected_shortfall_share=("expected_shortfall_share", "sum"),
        expected_shortfall_t=("expected_shortfall_t", "sum"),
        unit=("unit", "first"),
    )
    # a sum over values of which any is not attested is not attested either
    loss["expected_var_usd"] = (
        grouped["expected_var_usd"].sum(min_count=1).where(grouped["expected_var_usd"].count() == grouped.size())
    )
    loss = loss.reset_index().sort_values(["importer", "expected_shortfall_share"], ascending=[True, False])
    return loss.round({"chance": 12, "expected_shortfall_share": 12}).reset_index(drop=True)


def _importer_label(tax: Taxonomy, name: str, studied: list[str]) -> str:
    try:
        label = tax.importer(name).label
    except OresightError as exc:
        raise SweepError(str(exc), field="importer") from None
    if label not in studied:
        raise SweepError(f"the sweep did not study {label}", field="importer", expected=f"one of {', '.join(studied)}")
    return label


def _not_modelled(frame: pd.DataFrame, importer: str) -> dict[str, str]:
    """Commodities the importer is not modelled for, each with the reason."""
    rows = frame[frame["importer"] == importer]
    never = rows.groupby("commodity")["modelled"].any()
    reasons = rows[~rows["modelled"]].groupby("commodity")["note"].first()
    return {str(c): str(reasons.get(c, "")) for c in never[~never].index}


def _records(frame: pd.DataFrame) -> list[dict]:
    def plain(value):
        if isinstance(value, np.generic):
            value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value

    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def screen(out: str | Path, tax: Taxonomy, *, importer: str | None = None, top: int = 10) -> dict:
    """The screen of a sweep folder: per importer the ``top`` disruptions, the heat map, the expected loss (when
    the grid gives probabilities) and the commodities it is not modelled for; JSON-ready (NaN as None)."""
    if top < 1:
        raise SweepError("must be 1 or more", field="top")
    manifest = read_manifest(out)
    frame = read_results(out)
    studied = list(manifest["importers"])
    chosen = [_importer_label(tax, importer, studied)] if importer else studied
    top_rows = calc_top_disruptions(frame[frame["importer"].isin(chosen)], top)
    loss = calc_expected_loss(frame[frame["importer"].isin(chosen)])
    importers = {}
    for label in chosen:
        matrix = calc_heat_map(frame, label)
        importers[label] = {
            "top": _records(top_rows[top_rows["importer"] == label].drop(columns="importer")),
            "expected_loss": _records(loss[loss["importer"] == label].drop(columns="importer").head(top))
            if not loss.empty
            else None,
            "heat_map": {
                "value": DAMAGE,
                "commodities": [str(c) for c in matrix.index],
                "exporters": [str(c) for c in matrix.columns],
                "values": [[None if math.isnan(v) else round(float(v), 6) for v in row] for row in matrix.to_numpy()],
            },
            "not_modelled": _not_modelled(frame, label),
        }
    finished = frame["scenario"].nunique()
    return {
        "sweep": manifest["name"],
        "description": manifest.get("description", ""),
        "data_version": manifest["data_version"],
        "scenarios": manifest["scenarios"],
        "scenarios_finished": int(finished),
        "rows": len(frame),
        "ranked_by": DAMAGE,
        "importers": importers,
        "notes": manifest.get("notes", []),
    }


def heat_map_frame(heat: dict) -> pd.DataFrame:
    """A screen's heat map (its JSON form) as a commodity × exporter frame."""
    values = [[math.nan if v is None else v for v in row] for row in heat["values"]]
    return pd.DataFrame(values, index=heat["commodities"], columns=heat["exporters"], dtype=float)


def screen_of_run(run_id: str, tax: Taxonomy, store=None, *, importers: list[str] | None = None, top: int = 10):
    """The screen of a recorded run, with the run's row under ``run``; ``importers`` (labels) limits it to those
    the sweep studied. A run whose results folder is gone is an error that says so."""
    from oresight.errors import UnknownNameError
    from oresight.sweep.record import sweep_run

    row = sweep_run(run_id, store)
    if row is None:
        raise UnknownNameError("sweep run", run_id)
    if not (Path(row["out_dir"]) / MANIFEST).is_file():
        raise SweepError(f"the results of sweep run {run_id} are no longer at {row['out_dir']}")
    found = screen(row["out_dir"], tax, top=top)
    if importers:
        kept = {k: v for k, v in found["importers"].items() if k in importers}
        found["importers"] = kept or found["importers"]
    run = {k: row[k] for k in ("id", "name", "scenarios", "rows", "seconds", "workers", "scheduler", "data_version")}
    return {**found, "run": {**run, "created": str(row["created"])}}


def latest_screen(tax: Taxonomy, store=None, *, importers: list[str] | None = None, top: int = 5) -> dict | None:
    """The screen of the most recent recorded sweep whose results are still there, or None."""
    from oresight.sweep.record import list_sweep_runs

    runs = list_sweep_runs(store)
    for row in runs.iloc[::-1].itertuples():
        if (Path(row.out_dir) / MANIFEST).is_file():
            return screen_of_run(row.id, tax, store, importers=importers, top=top)
    return None

"""A sweep's results on disk: partitioned Parquet under one folder, and a manifest that says what made them.

Layout of the folder::

    sweep.json                              the sweep as run, its fingerprint, the data version, each run's record
    commodity=<id>/part-<batch id>.parquet  one file per batch: a row per scenario × importer

The partitioning is Hive's (``commodity=…``), so DuckDB, pyarrow or Spark read the folder as one table. A batch's
file is written whole or not at all (written beside, then renamed), so a file that exists is finished: a rerun of
the same sweep skips it. The fingerprint (a hash of the sweep file's values and the data version) keeps results
of different sweeps from mixing in one folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from oresight.sweep.grid import Batch, Expansion
from oresight.sweep.spec import Sweep, SweepError

__all__ = [
    "COLUMNS",
    "FIGURES",
    "MANIFEST",
    "fingerprint",
    "open_folder",
    "read_manifest",
    "read_results",
    "write_partition",
]

MANIFEST = "sweep.json"
LAYOUT_VERSION = 1
#: P5, P50, P95 and mean over samples of each headline quantity
FIGURES = ("shortfall_t", "shortfall_share", "value_at_risk_usd")
_FIGURES = {f"{quantity}_{stat}": "float64" for quantity in FIGURES for stat in ("p5", "p50", "p95", "mean")}
#: the columns of every partition file and their types (``commodity`` comes from the folder name)
COLUMNS: dict[str, str] = {
    "scenario": "string",
    "kind": "string",
    "stage": "string",
    "exporter": "string",
    "severity": "float64",
    "duration_months": "float64",
    "start_month": "float64",
    "targets": "string",
    "probability": "float64",
    "importer": "string",
    "modelled": "bool",
    "unit": "string",
    "basis": "string",
    "demand_t": "float64",
    **_FIGURES,
    "samples": "int64",
    "horizon_months": "int64",
    "seed": "int64",
    "note": "string",
}


_ORDER = ("commodity", "kind", "stage", "exporter", "severity", "duration_months", "start_month", "targets", "scenario")


def fingerprint(sweep: Sweep, data_version: str) -> str:
    """What the results depend on: every value of the sweep file, the data version and the folder layout."""
    text = json.dumps(
        {"sweep": sweep.model_dump(mode="json"), "data": data_version, "layout": LAYOUT_VERSION}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def partition_path(out: Path, batch: Batch) -> Path:
    return out / f"commodity={batch.commodity}" / f"part-{batch.id}.parquet"


def read_manifest(out: str | Path) -> dict:
    path = Path(out) / MANIFEST
    if not path.is_file():
        raise SweepError(f"no sweep results here (no {MANIFEST}); `oresight sweep FILE --out DIR` makes them", path=out)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SweepError(f"the manifest is damaged: {exc}", path=path) from None


def open_folder(out: Path, sweep: Sweep, expansion: Expansion, data_version: str) -> tuple[dict, list[Batch]]:
    """Prepare ``out`` for a sweep: the manifest (new, or the folder's own if it holds this very sweep) and the
    batches still to run. A folder holding another sweep's results (or results made from other data) is refused."""
    stamp = fingerprint(sweep, data_version)
    if out.exists() and not out.is_dir():
        raise SweepError("is a file, not a folder", path=out, expected="a new or empty folder for the results")
    if (out / MANIFEST).is_file():
        manifest = read_manifest(out)
        if manifest.get("fingerprint") != stamp:
            raise SweepError(
                f"holds results of another sweep ({manifest.get('name')!r}, data {manifest.get('data_version')}); "
                "the sweep file or the data differ",
                path=out,
                expected="a new --out folder, or the same sweep file on the same data to resume",
            )
    elif out.exists() and any(out.iterdir()):
        raise SweepError("is not empty and holds no sweep results", path=out, expected="a new or empty folder")
    else:
        manifest = {
            "layout": LAYOUT_VERSION,
            "name": sweep.name,
            "description": sweep.description,
            "fingerprint": stamp,
            "data_version": data_version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "sweep": sweep.model_dump(mode="json", exclude_none=True),
            "importers": [imp.label for imp in expansion.importers],
            "scenarios": len(expansion.disruptions),
            "batches": len(expansion.batches),
            "notes": expansion.notes,
            "runs": [],
        }
        write_manifest(out, manifest)
    pending = [batch for batch in expansion.batches if not partition_path(out, batch).is_file()]
    return manifest, pending


def write_manifest(out: Path, manifest: dict) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SweepError(f"cannot make the results folder: {exc.strerror}", path=out) from None
    _replace(out / MANIFEST, lambda tmp: tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8"))


def frame_of(rows: list[dict]) -> pd.DataFrame:
    """Result rows as a frame with the partition files' columns and types."""
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(COLUMNS)


def write_partition(out: Path, batch: Batch, rows: list[dict]) -> int:
    """Write one batch's rows whole (beside, then renamed); returns the number of rows."""
    frame = frame_of(rows)
    path = partition_path(out, batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace(path, lambda tmp: frame.to_parquet(tmp, index=False))
    return len(frame)


def _replace(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_results(out: str | Path) -> pd.DataFrame:
    """Every finished row of a sweep folder, in the order of the grid's values."""
    out = Path(out)
    read_manifest(out)
    files = sorted(out.glob("commodity=*/part-*.parquet"))
    columns = ["commodity", *COLUMNS]
    if not files:
        return pd.DataFrame(columns=columns).astype({"commodity": "string", **COLUMNS})
    frames = [pd.read_parquet(f).assign(commodity=f.parent.name.removeprefix("commodity=")) for f in files]
    frame = pd.concat(frames, ignore_index=True)[columns].astype({"commodity": "string"})
    return frame.sort_values([*_ORDER, "importer"], ignore_index=True)

"""The store's record of sweep runs: one row per run (what ran, on which data, where its results are, how long
it took). The store is opened only to write a finished run's row or to read the rows, never while a sweep runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from oresight.store import Store

__all__ = ["list_sweep_runs", "record_sweep_run", "sweep_run"]

_TABLE = """CREATE TABLE IF NOT EXISTS sweep_runs (
    id VARCHAR PRIMARY KEY, created TIMESTAMP, name VARCHAR, out_dir VARCHAR, fingerprint VARCHAR,
    data_version VARCHAR, oresight_version VARCHAR, scenarios INTEGER, rows INTEGER, batches INTEGER,
    batches_resumed INTEGER, seconds DOUBLE, workers INTEGER, scheduler VARCHAR, sweep_json VARCHAR,
    notes_json VARCHAR)"""
_COLUMNS = [
    *("id", "created", "name", "out_dir", "fingerprint", "data_version", "oresight_version", "scenarios", "rows"),
    *("batches", "batches_resumed", "seconds", "workers", "scheduler", "sweep_json", "notes_json"),
]


def record_sweep_run(row: dict, store: str | Path | None = None) -> None:
    """Add a finished run's row (keys as the table's columns; ``sweep`` and ``notes`` are stored as JSON)."""
    values = {**row, "sweep_json": json.dumps(row["sweep"]), "notes_json": json.dumps(row["notes"])}
    opened = Store.open(store)
    assert opened is not None
    with opened:
        opened.con.execute(_TABLE)
        opened.con.execute(
            f"INSERT INTO sweep_runs VALUES ({', '.join('?' * len(_COLUMNS))})", [values[c] for c in _COLUMNS]
        )


def list_sweep_runs(store: str | Path | None = None) -> pd.DataFrame:
    """Recorded sweep runs, oldest first (empty when there are none)."""
    opened = Store.open(store, create=False, read_only=True)
    if opened is None:
        return pd.DataFrame(columns=_COLUMNS)
    with opened:
        exists = opened.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sweep_runs'"
        ).fetchone()[0]
        if not exists:
            return pd.DataFrame(columns=_COLUMNS)
        return opened.con.execute("SELECT * FROM sweep_runs ORDER BY created").df()


def sweep_run(run_id: str, store: str | Path | None = None) -> dict | None:
    """One recorded run's row (``sweep`` and ``notes`` parsed), or None."""
    runs = list_sweep_runs(store)
    found = runs[runs["id"] == run_id]
    if found.empty:
        return None
    row = found.iloc[0].to_dict()
    row["sweep"], row["notes"] = json.loads(row.pop("sweep_json")), json.loads(row.pop("notes_json"))
    return row

"""The user's local store: a DuckDB database under ``$ORESIGHT_HOME`` (default ``~/.oresight``).

It holds what the user imported with ``oresight data import`` (facts and their sources, with a log of every
import) and, later, saved simulation runs and news. The bundled data are never written to; imported facts
are merged over them when the World loads, later imports taking precedence over earlier ones for the same
table of the same publication and edition.

Every import runs in one transaction: a failing import leaves the store as it was.

**Access.** DuckDB lets one process write a database file, or several processes read it, never both at once.
So connections are short-lived: open, do one transaction, close. A reader opens read-only
(``Store.open(read_only=True)``), a writer read-write; while another process holds the file either waits and
tries again (backing off up to :data:`STORE_WAIT_SECONDS`) and then fails with :class:`StoreBusyError`.
Nobody holds the store during long work (a simulation, a news extraction, a solve): read the inputs, close,
compute, open again to save. Within one process, readers share a connection's database and a writer waits for
them (and they for it) on an in-process lock, since DuckDB refuses a read-write and a read-only connection to
one file in one process.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "oresight.duckdb"
>>> with Store.open(path) as store:          # a writer: creates the file and the tables
...     store.has("runs")
True
>>> with Store.open(path, read_only=True) as store:
...     store.read_only, len(store.runs())
(True, 0)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from oresight.errors import OresightError
from oresight.facts import FACT_COLUMNS, SOURCE_COLUMNS, normalise_facts

if TYPE_CHECKING:
    from oresight.sources import Source

__all__ = ["STORE_WAIT_SECONDS", "Store", "StoreBusyError", "default_home"]

#: how long opening the store waits for another process to let go of it, by default (``ORESIGHT_STORE_WAIT``)
STORE_WAIT_SECONDS = 15.0

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS imports (
        id INTEGER PRIMARY KEY, path VARCHAR, format VARCHAR, sha256 VARCHAR, imported_at TIMESTAMP,
        facts INTEGER, skipped INTEGER)""",
    "CREATE TABLE IF NOT EXISTS facts (import_id INTEGER, "
    + ", ".join(
        f'"{c}" {"DOUBLE" if c in ("value", "low", "high") else "INTEGER" if c == "year" else "VARCHAR"}'
        for c in FACT_COLUMNS
    )
    + ")",
    # stores made before facts had a flag column get it (empty for their facts until they are imported again)
    "ALTER TABLE facts ADD COLUMN IF NOT EXISTS flag VARCHAR",
    "CREATE TABLE IF NOT EXISTS sources (import_id INTEGER, "
    + ", ".join(f'"{c}" {"INTEGER" if c == "year" else "VARCHAR"}' for c in SOURCE_COLUMNS)
    + ")",
    """CREATE TABLE IF NOT EXISTS runs (
        id VARCHAR PRIMARY KEY, created TIMESTAMP, scenario VARCHAR, seed BIGINT, samples INTEGER,
        horizon INTEGER, importers VARCHAR, data_version VARCHAR, oresight_version VARCHAR,
        scenario_yaml VARCHAR, summary_json VARCHAR, results_path VARCHAR)""",
]

#: what DuckDB says when another process holds the file, or this process holds it in the other mode
_CONFLICT = re.compile(r"Conflicting lock|Could not set lock|different configuration", re.IGNORECASE)
_HOLDER = re.compile(r"\(PID (\d+)\)")


class StoreBusyError(OresightError):
    """Another process kept the store for longer than oresight waits; trying again later will succeed."""


def _refuse_impossible(facts: pd.DataFrame, path: Path) -> None:
    from oresight.errors import InputError
    from oresight.io.validate import calc_value_problems

    reasons = calc_value_problems(facts)
    bad = reasons[reasons != ""]
    if len(bad):
        raise InputError(f"{len(bad)} facts with numbers that cannot be true, e.g. {bad.iat[0]}", path=path)


def default_home() -> Path:
    return Path(os.environ.get("ORESIGHT_HOME") or Path.home() / ".oresight")


def wait_seconds() -> float:
    """How long opening the store waits for another process: ``$ORESIGHT_STORE_WAIT`` or the default."""
    try:
        return max(0.0, float(os.environ.get("ORESIGHT_STORE_WAIT", STORE_WAIT_SECONDS)))
    except ValueError:
        return STORE_WAIT_SECONDS


class _ReadersWriter:
    """Many readers or one writer of a file within this process. A waiting writer goes before new readers,
    except a thread that already reads (so that nested reads never wait for a writer that waits for them)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._mine = threading.local()  # reads held by the current thread

    def acquire(self, write: bool, deadline: float) -> bool:
        with self._cond:
            if write:
                self._writers_waiting += 1
            try:
                while not self._may_enter(write):
                    if not self._cond.wait(timeout=max(0.0, deadline - time.monotonic())):
                        return False
                if write:
                    self._writing = True
                else:
                    self._readers += 1
                    self._mine.reads = getattr(self._mine, "reads", 0) + 1
                return True
            finally:
                if write:
                    self._writers_waiting -= 1

    def _may_enter(self, write: bool) -> bool:
        if self._writing:
            return False
        if write:
            return self._readers == 0
        return not self._writers_waiting or getattr(self._mine, "reads", 0) > 0

    def release(self, write: bool) -> None:
        with self._cond:
            if write:
                self._writing = False
            else:
                self._readers -= 1
                self._mine.reads -= 1
            self._cond.notify_all()


_LOCKS: dict[Path, _ReadersWriter] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_of(path: Path) -> _ReadersWriter:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path.resolve(), _ReadersWriter())


class _Gate:
    """Writers' turn across processes. DuckDB's own lock lets a writer in only when no process has the file
    open, so a busy reader process (a web app answering many requests) could keep writers out for good. A
    writer therefore first takes the *gate*, a lock file beside the store, for as long as it writes; a reader
    only passes through it (takes and drops it shared) before opening. While a writer waits at or holds the
    gate, new readers wait; the readers already in finish, the writer gets the file, then readers go on.
    (POSIX advisory locks; where they are missing, as on Windows, there is no gate and writers only retry.)"""

    def __init__(self, store_path: Path) -> None:
        self.path = store_path.with_name(store_path.name + ".lock")

    def enter(self, exclusive: bool, deadline: float):
        """Take the gate (a writer: returns the open lock file, held until :meth:`leave`) or pass it (a
        reader: returns None once no writer holds it)."""
        try:
            import fcntl
        except ImportError:  # no advisory locks here
            return None
        handle = open(self.path, "a+b")  # noqa: SIM115 - held open for as long as the writer writes
        mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        pause = 0.005
        while True:
            try:
                fcntl.flock(handle, mode)
                break
            except BlockingIOError:
                if time.monotonic() + pause > deadline:
                    handle.close()
                    raise StoreBusyError(
                        f"the store {self.path.with_suffix('')} is busy: another process has been writing to it "
                        "for longer than oresight waits; try again when it has finished"
                    ) from None
                time.sleep(pause * random.uniform(0.5, 1.0))
                pause = min(pause * 2, 0.1)
        if exclusive:
            return handle
        handle.close()  # a reader only passes: closing drops its shared lock
        return None

    @staticmethod
    def leave(handle) -> None:
        if handle is not None:
            handle.close()


def _connect(path: Path, read_only: bool, deadline: float):
    """A DuckDB connection, trying again with growing pauses while another process holds the file."""
    import duckdb

    pause = 0.01
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if not _CONFLICT.search(str(exc)):
                raise OresightError(f"cannot open the store {path}: {exc}") from None
            if time.monotonic() + pause > deadline:
                holder = _HOLDER.search(str(exc))
                who = f"process {holder.group(1)}" if holder else "another oresight process"
                raise StoreBusyError(
                    f"the store {path} is busy: {who} kept it for longer than oresight waits; try again when it "
                    "has finished (or set ORESIGHT_STORE_WAIT to wait longer)"
                ) from None
            time.sleep(pause * random.uniform(0.5, 1.0))  # jitter: waiting readers do not retry in lockstep
            pause = min(pause * 2, 0.25)


class Store:
    """A DuckDB file with oresight's tables. Use as a context manager."""

    def __init__(
        self, path: Path, connection, *, read_only: bool = False, lock: _ReadersWriter | None = None, gate=None
    ) -> None:
        self.path = path
        self.con = connection
        self.read_only = read_only
        self._lock = lock
        self._gate = gate  # the writer's lock file, held until close

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        create: bool = True,
        read_only: bool = False,
        wait: float | None = None,
    ) -> Store | None:
        """Open the store at ``path`` (default ``$ORESIGHT_HOME/oresight.duckdb``) for one short transaction.

        ``read_only``: a reader (never creates the file; None if it is absent). Otherwise a writer, which
        creates the file and the tables unless ``create`` is False (then None if absent). While another process
        holds the file, opening waits up to ``wait`` seconds (default :func:`wait_seconds`) and then raises
        :class:`StoreBusyError`.
        """
        path = Path(path) if path else default_home() / "oresight.duckdb"
        if not path.exists() and (read_only or not create):
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + (wait_seconds() if wait is None else wait)
        lock = _lock_of(path)
        writing = not read_only
        if not lock.acquire(writing, deadline):
            raise StoreBusyError(f"the store {path} is busy in this process; try again when it has finished")
        gate = None
        try:
            gate = _Gate(path).enter(writing, deadline)
            store = cls(path, _connect(path, read_only, deadline), read_only=read_only, lock=lock, gate=gate)
        except BaseException:
            _Gate.leave(gate)
            lock.release(writing)
            raise
        if writing:
            try:
                for statement in _SCHEMA:
                    store.con.execute(statement)
            except BaseException:
                store.close()
                raise
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and let other readers and writers in (closing twice does nothing)."""
        lock, self._lock = self._lock, None
        gate, self._gate = self._gate, None
        try:
            self.con.close()
        finally:
            _Gate.leave(gate)
            if lock is not None:
                lock.release(not self.read_only)

    def has(self, table: str) -> bool:
        """Whether the store has this table (a reader cannot create tables, so it asks first)."""
        return bool(
            self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()[
                0
            ]
        )

    # -- imported data ---------------------------------------------------------------------------------------
    def add_import(self, path: str | Path, fmt: str, facts: pd.DataFrame, sources: list[Source], skipped: int) -> int:
        """Store one import atomically; returns its id (the load order of its facts). Facts whose numbers
        cannot be true are refused before anything is written (the importers take them out already)."""
        path = Path(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        facts = normalise_facts(facts)
        _refuse_impossible(facts, path)
        frame_sources = pd.DataFrame([s.model_dump() for s in sources], columns=list(SOURCE_COLUMNS))
        self.con.execute("BEGIN TRANSACTION")
        try:
            import_id = self.con.execute("SELECT coalesce(max(id), 0) + 1 FROM imports").fetchone()[0]
            self.con.execute(
                "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    import_id,
                    str(path.resolve()),
                    fmt,
                    digest,
                    datetime.now(UTC).replace(tzinfo=None),
                    len(facts),
                    skipped,
                ],
            )
            rows = facts.assign(import_id=import_id)[["import_id", *FACT_COLUMNS]]
            rows["year"] = rows["year"].astype("float64")  # nullable ints travel as floats, stored as INTEGER
            self._insert("facts", rows)
            self._insert("sources", frame_sources.assign(import_id=import_id)[["import_id", *SOURCE_COLUMNS]])
            self.con.execute("COMMIT")
        except Exception:
            self._rollback()
            raise
        return int(import_id)

    def _rollback(self) -> None:
        """Roll back the open transaction; an error of the rollback itself must not hide the one that caused it."""
        import duckdb

        with contextlib.suppress(duckdb.Error):
            self.con.execute("ROLLBACK")

    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        self.con.register("incoming", frame)
        try:
            self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
        finally:
            self.con.unregister("incoming")

    def imports(self) -> pd.DataFrame:
        """The import log, one row per import: id, path, format, sha256, imported_at, facts, skipped, and how many
        of its facts the plausibility rules flagged."""
        if not self.has("imports"):
            return pd.DataFrame()
        # a reader of a store written before facts had a flag column sees none flagged (a writer adds the column)
        flag = "f.flag" if self._has_column("facts", "flag") else "NULL"
        return self.con.execute(
            f"""SELECT i.*, count(f.import_id) FILTER (WHERE coalesce({flag}, '') <> '') AS flagged
               FROM imports i LEFT JOIN facts f ON f.import_id = i.id GROUP BY ALL ORDER BY i.id"""
        ).df()

    def _has_column(self, table: str, column: str) -> bool:
        found = self.con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?", [table, column]
        ).fetchone()
        return bool(found and found[0])

    def remove_import(self, import_id: int) -> dict:
        """Take one import back: its facts, its sources and its log row, in one transaction, so the store is as it
        was before that import. Returns the log row; an unknown id is an error naming the ids there are."""
        known = self.imports()
        row = known[known["id"] == import_id] if not known.empty else known
        if row.empty:
            ids = ", ".join(str(i) for i in known.get("id", [])) or "none"
            raise OresightError(f"no import {import_id} in {self.path} (imports: {ids})")
        self.con.execute("BEGIN TRANSACTION")
        try:
            for table in ("facts", "sources"):
                self.con.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id])
            self.con.execute("DELETE FROM imports WHERE id = ?", [import_id])
            self.con.execute("COMMIT")
        except Exception:
            self._rollback()
            raise
        return row.iloc[0].to_dict()

    # -- simulation runs ---------------------------------------------------------------------------------------
    def add_run(self, row: dict, results: pd.DataFrame) -> Path:
        """Store a run: its row in ``runs`` and its results as Parquet beside the database. The Parquet file is
        written first and removed again if the row cannot be stored, so a failed save leaves nothing behind."""
        folder = self.path.parent / "runs"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{row['id']}.parquet"
        results.to_parquet(target, index=False)
        try:
            self.con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    row["id"],
                    row["created"],
                    row["scenario"],
                    row["seed"],
                    row["samples"],
                    row["horizon"],
                    row["importers"],
                    row["data_version"],
                    row["oresight_version"],
                    row["scenario_yaml"],
                    row["summary_json"],
                    str(target),
                ],
            )
        except Exception:
            target.unlink(missing_ok=True)
            raise
        return target

    def runs(self) -> pd.DataFrame:
        if not self.has("runs"):
            return pd.DataFrame()
        return self.con.execute("SELECT * EXCLUDE (scenario_yaml, summary_json) FROM runs ORDER BY created").df()

    def run(self, run_id: str) -> dict | None:
        if not self.has("runs"):
            return None
        frame = self.con.execute("SELECT * FROM runs WHERE id = ?", [run_id]).df()
        return None if frame.empty else frame.iloc[0].to_dict()

    def facts_and_sources(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Imported facts and sources, each with ``load_order`` = import id (later imports rank higher)."""
        if not self.has("facts"):
            return pd.DataFrame(columns=[*FACT_COLUMNS, "load_order"]), pd.DataFrame(
                columns=[*SOURCE_COLUMNS, "load_order"]
            )
        facts = self.con.execute("SELECT * FROM facts").df().rename(columns={"import_id": "load_order"})
        sources = self.con.execute("SELECT * FROM sources").df().rename(columns={"import_id": "load_order"})
        sources["year"] = sources["year"].astype(str)
        return normalise_facts(facts).assign(load_order=facts["load_order"].to_numpy()), sources.astype(
            {c: str for c in SOURCE_COLUMNS}
        )

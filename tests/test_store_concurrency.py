"""The store shared by processes: readers never fail while a writer works, writers wait for each other, and a
store kept too long gives a clean error. Writers here are real processes (``python -c`` and the CLI)."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from oresight.simulate.runs import list_runs
from oresight.store import Store, StoreBusyError


def _writer(path, *, transactions: int, hold: float, tag: str = "w") -> subprocess.Popen:
    """A process that saves ``transactions`` runs, each in its own transaction kept open ``hold`` seconds
    (as long as a large run's save), and prints 'started' once it first holds the store."""
    script = textwrap.dedent(
        f"""
        import time, pandas as pd
        from oresight.store import Store
        for number in range({transactions}):
            with Store.open({str(path)!r}) as store:
                store.con.execute("BEGIN TRANSACTION")
                store.con.execute(
                    "INSERT INTO runs (id, created, scenario) VALUES (?, now(), 'writer')", [f"{tag}-{{number}}"]
                )
                if number == 0:
                    print("started", flush=True)
                time.sleep({hold})
                store.con.execute("COMMIT")
            time.sleep(0.02)
        """
    )
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _started(process: subprocess.Popen) -> None:
    line = process.stdout.readline()
    assert line.strip() == "started", process.stderr.read()


def test_a_reader_waits_for_a_writer_process_and_never_fails(tmp_path):
    path = tmp_path / "oresight.duckdb"
    Store.open(path).close()
    writer = _writer(path, transactions=6, hold=0.3)
    _started(writer)
    seen = []
    while writer.poll() is None:
        seen.append(len(list_runs(path)))  # read-only; waits while the writer holds the file
    assert writer.wait() == 0, writer.stderr.read()
    assert len(seen) >= 3 and seen == sorted(seen)  # reads went on during the writes and saw them commit
    assert len(list_runs(path)) == 6


def test_two_writer_processes_wait_for_each_other(tmp_path):
    path = tmp_path / "oresight.duckdb"
    Store.open(path).close()
    writers = [_writer(path, transactions=3, hold=0.1, tag=tag) for tag in ("a", "b")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    assert len(list_runs(path)) == 6


def test_a_store_kept_too_long_is_a_clean_busy_error(tmp_path):
    path = tmp_path / "oresight.duckdb"
    Store.open(path).close()
    writer = _writer(path, transactions=1, hold=1.5)
    _started(writer)
    with pytest.raises(StoreBusyError, match=r"oresight.duckdb is busy: another process has been writing"):
        Store.open(path, read_only=True, wait=0.3)
    writer.wait()


def test_readers_and_a_writer_in_one_process_take_turns(tmp_path):
    """DuckDB refuses a read-only and a read-write connection to one file in one process: the in-process lock
    makes them take turns instead of failing (the web app reads on many threads and saves on another)."""
    path = tmp_path / "oresight.duckdb"
    Store.open(path).close()
    failures: list[BaseException] = []

    def read() -> None:
        for _ in range(6):
            try:
                with Store.open(path, read_only=True) as store:
                    store.runs()
                    with Store.open(path, read_only=True) as nested:  # a nested read never waits on a writer
                        nested.runs()
            except BaseException as exc:
                failures.append(exc)

    def write() -> None:
        for number in range(6):
            with Store.open(path) as store:
                store.con.execute("INSERT INTO runs (id, created) VALUES (?, now())", [f"w{number}"])

    threads = [threading.Thread(target=read) for _ in range(3)] + [threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(list_runs(path)) == 6


def test_reading_a_missing_store_creates_nothing(tmp_path):
    assert Store.open(tmp_path / "absent.duckdb", read_only=True) is None
    assert not (tmp_path / "absent.duckdb").exists()


def test_runs_list_never_fails_while_a_simulation_saves(tmp_path):
    """The issue's case: `oresight runs list` while `oresight simulate` runs and saves."""
    home = tmp_path / "home"
    env = {"ORESIGHT_HOME": str(home), "PATH": ""}
    cli = [sys.executable, "-m", "oresight"]
    Store.open(home / "oresight.duckdb").close()
    simulation = subprocess.Popen(
        [*cli, "simulate", "n-minus-1", "--set", "commodity=gallium", "--set", "stage=refining", "--samples", "300",
         "--format", "json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    listings = []
    while simulation.poll() is None or not listings:
        listings.append(subprocess.run([*cli, "runs", "list", "--format", "json"], env=env, capture_output=True))
    _, err = simulation.communicate()
    assert simulation.returncode == 0, err
    assert all(listing.returncode == 0 for listing in listings), [x.stderr for x in listings if x.returncode]
    assert len(list_runs(home / "oresight.duckdb")) == 1


def test_many_threads_read_while_a_process_writes(tmp_path):
    path = tmp_path / "oresight.duckdb"
    Store.open(path).close()
    writer = _writer(path, transactions=5, hold=0.2)
    _started(writer)

    def read(_):
        return len(list_runs(path))

    counts = []
    with ThreadPoolExecutor(8) as pool:
        while writer.poll() is None:
            counts += list(pool.map(read, range(16)))
    assert writer.wait() == 0
    assert counts and all(0 <= c <= 5 for c in counts)
    time.sleep(0)  # the readers' connections are all closed: the file opens for writing at once
    Store.open(path, wait=0).close()


def test_twenty_concurrent_web_reads_during_a_cli_ingest_all_answer_200(world, tmp_path, fixtures, monkeypatch):
    """The issue's case: while `oresight news ingest` writes, the running web app's reads of the store (runs,
    events) all answer 200 — and the ingests, writing against the running server, all succeed."""
    import httpx
    import uvicorn

    from oresight.web import create_app, service

    monkeypatch.setattr(service, "STORE_REFRESH_SECONDS", 1e-9)  # every read goes to the store, none to a cache
    home = tmp_path / "home"
    Store.open(home / "oresight.duckdb").close()
    app = create_app(world, home / "oresight.duckdb")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    env = {"ORESIGHT_HOME": str(home), "PATH": ""}
    files = [fixtures / "news" / "reports.jsonl"]
    ingests: list[subprocess.Popen] = []

    def next_ingest() -> bool:
        """Start the next ingest once the one before has finished; False when all have finished."""
        if ingests and ingests[-1].poll() is None:
            return True
        if len(ingests) == len(files):
            return False
        command = [sys.executable, "-m", "oresight", "news", "ingest", str(files[len(ingests)])]
        ingests.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        return True

    url = f"http://127.0.0.1:{port}"
    statuses = []
    try:
        with ThreadPoolExecutor(20) as pool:
            while next_ingest() or not statuses:
                paths = ["/api/events", "/api/runs"] * 10
                statuses += list(pool.map(lambda p: httpx.get(url + p, timeout=120).status_code, paths))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    for ingest in ingests:
        assert ingest.wait() == 0, ingest.stderr.read()
    assert len(statuses) >= 20 and set(statuses) == {200}
    events = Store.open(home / "oresight.duckdb", read_only=True)
    with events:
        assert events.con.execute("SELECT count(*) FROM news_articles").fetchone()[0] > 0

"""Sweeps on real Dask clusters: a local cluster of one and of two worker processes, a `dask scheduler` with two
`dask worker` processes on loopback, and that cluster losing a worker mid-sweep. Each must write the very rows a
run in this process writes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest

from oresight.sweep import list_sweep_runs, parse_sweep, read_results, run_sweep
from oresight.sweep.worker import AllocatorPlugin, tune_allocator

SWEEP = {
    "name": "cluster",
    "samples": 60,
    "horizon_months": 6,
    "seed": 11,
    "importers": ["USA", "JPN"],
    "batch_size": 2,
    "grid": {
        "kind": "export_restriction",
        "commodities": ["gallium", "cobalt", "graphite"],
        "exporters": "top2",
        "stages": ["refining", "mining"],
        "blocked": [0.5, 1.0],
        "duration_months": [4],
    },
    "responses": {"rerouting": {"spare_capacity": {"dist": "uniform", "low": 0.0, "high": 0.2}}},
}


@pytest.fixture(scope="module")
def sweep():
    return parse_sweep(SWEEP)


@pytest.fixture(scope="module")
def one_process(world, sweep, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "out"
    run_sweep(sweep, out, world, workers=0, store=False)
    frame = read_results(out)
    assert len(frame) == 2 * frame["scenario"].nunique() >= 24
    return frame


def test_a_local_cluster_of_one_worker_writes_the_rows_of_a_one_process_run(world, sweep, one_process, tmp_path):
    seen = []
    run = run_sweep(sweep, tmp_path / "out", world, workers=1, store=False, progress=lambda d, t: seen.append((d, t)))
    assert run.workers == 1 and run.scheduler == "local" and run.rows_written == len(one_process)
    assert seen[0] == (0, run.scenarios) and seen[-1] == (run.scenarios, run.scenarios)
    pd.testing.assert_frame_equal(read_results(tmp_path / "out"), one_process)


def test_oresight_sweep_on_two_local_workers_prints_a_json_summary(oresight_process, one_process, tmp_path):
    path = tmp_path / "cluster.yaml"
    path.write_text(json.dumps(SWEEP))  # JSON is YAML
    done = oresight_process("sweep", path, "--out", tmp_path / "out", "--workers", "2", "--format", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["workers"] == 2 and summary["scenarios"] == one_process["scenario"].nunique()
    assert summary["rows"] == len(one_process) and summary["seconds"] > 0 and summary["run_id"]
    pd.testing.assert_frame_equal(read_results(tmp_path / "out"), one_process)
    recorded = list_sweep_runs(tmp_path / "process-home" / "oresight.duckdb")
    assert recorded["id"].tolist() == [summary["run_id"]] and recorded.loc[0, "workers"] == 2


# -- a cluster of separate processes on loopback --------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(args: list[str], env: dict, log) -> subprocess.Popen:
    """A Dask process in a session of its own, so that killing its group takes the nanny and its worker."""
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *args], env=env, stdout=log, stderr=log, start_new_session=True
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with_group = os.getpgid(process.pid)
        os.killpg(with_group, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(with_group, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def loopback(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, started as docs/sweeps.md says."""
    from dask.distributed import Client

    folder = tmp_path_factory.mktemp("cluster")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ORESIGHT_HOME": str(folder / "home"),
    }
    log = (folder / "dask.log").open("w")
    processes = []
    try:
        processes.append(_start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], env, log))
        for name in ("one", "two"):
            worker = ["worker", address, "--nthreads", "1", "--name", name, "--no-dashboard"]
            processes.append(_start([*worker, "--local-directory", str(folder / name)], env, log))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address, processes
    finally:
        for process in reversed(processes):
            _stop(process)
        log.close()


def _has_allocator(dask_worker) -> bool:
    return AllocatorPlugin.name in dask_worker.plugins


def test_a_scheduler_with_two_worker_processes_writes_the_rows_of_a_one_process_run(
    world, sweep, one_process, loopback, tmp_path
):
    from dask.distributed import Client

    address, _ = loopback
    run = run_sweep(sweep, tmp_path / "out", world, scheduler=address, store=False)
    assert run.workers == 2 and run.scheduler == address
    tuned = Client(address, timeout="30s")
    try:
        assert set(tuned.run(_has_allocator).values()) == {True}
        assert set(tuned.run(tune_allocator).values()) == {True}  # the nannies set MALLOC_TRIM_THRESHOLD_
    finally:
        tuned.close()
    pd.testing.assert_frame_equal(read_results(tmp_path / "out"), one_process)


def test_a_sweep_that_loses_a_worker_midway_still_completes_with_the_same_rows(
    world, sweep, one_process, loopback, tmp_path
):
    """Runs last in this module: it kills worker "two" (nanny and worker, as when a machine goes down) once the
    first batch is written; Dask computes that worker's tasks and lost results again on worker "one"."""
    from dask.distributed import Client

    address, processes = loopback
    victim = processes[2]

    def kill_after_first_batch(done: int, total: int) -> None:
        if 0 < done < total and victim.poll() is None:
            os.killpg(os.getpgid(victim.pid), signal.SIGKILL)
            victim.wait(timeout=10)

    run = run_sweep(sweep, tmp_path / "out", world, scheduler=address, store=False, progress=kill_after_first_batch)
    assert victim.returncode is not None and run.rows_written == len(one_process)
    pd.testing.assert_frame_equal(read_results(tmp_path / "out"), one_process)
    with Client(address, timeout="30s") as client:
        deadline = time.monotonic() + 60
        while len(client.scheduler_info()["workers"]) != 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert [w["name"] for w in client.scheduler_info()["workers"].values()] == ["one"]

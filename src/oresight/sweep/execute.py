"""Running a sweep on Dask: a local cluster of this machine's cores, or any cluster a scheduler address names.

The World goes to every worker once (scattered with ``broadcast``); each commodity's baseline is calibrated
once, by a task whose result stays on the cluster and reaches each worker that needs it once (Dask keeps a
task's result where it was made and copies it to a worker on its first use there). Tasks are batches of one
commodity's scenarios; their rows come back to this process, which writes each batch's partition file as it
arrives (so the cluster needs no shared file system) and reports progress. Every number a scenario draws comes
from its own seed (a hash of its id), so the results are the same on one worker, many, or a remote cluster,
whatever order the batches finish in. If a worker dies, Dask runs its tasks again elsewhere. Each worker gets an
allocator suited to the engine (:mod:`oresight.sweep.worker`).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from oresight.errors import OresightError
from oresight.sweep.grid import Batch, Expansion, expand
from oresight.sweep.record import record_sweep_run
from oresight.sweep.results import open_folder, write_manifest, write_partition
from oresight.sweep.simulator import calibrate_chain, check_responses, run_disruptions
from oresight.sweep.spec import Sweep
from oresight.world import World

__all__ = ["SweepRun", "local_cluster", "run_sweep"]

Progress = Callable[[int, int], None]


@dataclass
class SweepRun:
    """What a finished run did; :meth:`summary` is the shape of ``oresight sweep --format json``."""

    id: str
    name: str
    out: Path
    scenarios: int
    #: rows of the results (scenarios × importers) and those this run wrote (fewer when it resumed)
    rows: int
    rows_written: int
    batches: int
    resumed: int
    seconds: float
    workers: int
    scheduler: str
    data_version: str
    notes: list[str]

    def summary(self) -> dict:
        return {
            "run_id": self.id,
            "sweep": self.name,
            "out": str(self.out),
            "scenarios": self.scenarios,
            "rows": self.rows,
            "rows_written": self.rows_written,
            "batches": self.batches,
            "batches_resumed": self.resumed,
            "seconds": round(self.seconds, 3),
            "workers": self.workers,
            "scheduler": self.scheduler,
            "data_version": self.data_version,
            "notes": self.notes,
        }


@contextlib.contextmanager
def _client(workers: int | None, scheduler: str | None) -> Iterator:
    """A Dask client: of a new local cluster (processes, one thread each) or of the scheduler named."""
    from dask.distributed import Client

    if scheduler:
        # a scheduler file (``dask scheduler --scheduler-file``, as on Slurm) names the address on a shared disk
        where = {"scheduler_file": scheduler} if Path(scheduler).is_file() else {"address": scheduler}
        try:
            client = Client(**where, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise OresightError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            client.close()
            raise OresightError(f"the Dask scheduler {scheduler} has no workers (waited 60 s)") from None
        with client:
            yield client
        return
    with local_cluster(workers) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def local_cluster(workers: int | None = None) -> Iterator:
    """A Dask LocalCluster as ``oresight sweep`` starts one: ``workers`` processes (default: this machine's
    cores) of one thread each, no dashboard, quiet logs."""
    import dask
    from dask.distributed import LocalCluster

    with (
        # without a dashboard nobody reads the workers' statistical profiler: it would cost ~1.6% of a core
        dask.config.set({"distributed.worker.profile.enabled": False}),
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
    ):
        yield cluster


def _compute_on_dask(
    client, world: World, sweep: Sweep, expansion: Expansion, pending: list[Batch], write: Callable
) -> None:
    from dask.distributed import as_completed

    from oresight.sweep.worker import AllocatorPlugin

    client.register_plugin(AllocatorPlugin())
    world_on_cluster = client.scatter(world, broadcast=True, hash=False)
    importers = list(sweep.importers)
    chains = {
        commodity: client.submit(
            calibrate_chain,
            world_on_cluster,
            commodity,
            importers,
            sweep.base_year,
            expansion.nodes[commodity],
            key=f"calibrate-{commodity}-{uuid.uuid4().hex[:8]}",
        )
        for commodity in dict.fromkeys(b.commodity for b in pending)
    }
    futures = {
        client.submit(
            run_disruptions,
            world_on_cluster,
            chains[batch.commodity],
            sweep,
            batch.disruptions,
            key=f"batch-{batch.id}-{uuid.uuid4().hex[:8]}",
        ): batch
        for batch in pending
    }
    try:
        for future in as_completed(futures):
            write(futures[future], future.result())
            future.release()
    finally:
        client.cancel([*futures, *chains.values()])


def _compute_here(world: World, sweep: Sweep, expansion: Expansion, pending: list[Batch], write: Callable) -> None:
    """The same work in this process, one batch after another (``workers=0``): the reference the cluster's results
    are compared with, and a way to debug."""
    chains: dict = {}
    for batch in pending:
        if batch.commodity not in chains:
            chains[batch.commodity] = calibrate_chain(
                world, batch.commodity, list(sweep.importers), sweep.base_year, expansion.nodes[batch.commodity]
            )
        write(batch, run_disruptions(world, chains[batch.commodity], sweep, batch.disruptions))


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    world: World | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    store: str | Path | bool | None = None,
) -> SweepRun:
    """Run every scenario of a sweep and write the results under ``out`` (see :mod:`oresight.sweep.results`).

    ``workers``: processes of a local cluster (default: this machine's cores; 0 = in this process, no cluster);
    ``scheduler``: the address of an existing Dask cluster (``tcp://host:8786``) or its scheduler file, to use
    instead.
    ``progress(done, total)`` is called with scenario counts as batches finish. Batches already written by an
    earlier run of the same sweep are skipped. ``store``: where to record the run (default: the user's store;
    False: not recorded).
    """
    started = time.perf_counter()
    if world is None:
        from oresight.world import load

        world = load()
    if workers is not None and workers < 0:
        raise OresightError("workers must be 0 (this process) or more")
    check_responses(sweep, world)
    expansion = expand(sweep, world)
    out = Path(out)
    manifest, pending = open_folder(out, sweep, expansion, world.data_version)
    total = len(expansion.disruptions)
    done = total - sum(len(b.disruptions) for b in pending)
    rows = 0
    if progress is not None:
        progress(done, total)

    def write(batch: Batch, found: list[dict]) -> None:
        nonlocal done, rows
        rows += write_partition(out, batch, found)
        done += len(batch.disruptions)
        if progress is not None:
            progress(done, total)

    if not pending:
        used, address = 0, "none (every batch was finished)"
    elif workers == 0 and not scheduler:
        used, address = 0, "this process"
        _compute_here(world, sweep, expansion, pending, write)
    else:
        with _client(workers, scheduler) as client:
            used, address = len(client.scheduler_info()["workers"]), scheduler or "local"
            _compute_on_dask(client, world, sweep, expansion, pending, write)
    run = SweepRun(
        id=f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}",
        name=sweep.name,
        out=out.resolve(),
        scenarios=total,
        rows=total * len(expansion.importers),
        rows_written=rows,
        batches=len(expansion.batches),
        resumed=len(expansion.batches) - len(pending),
        seconds=time.perf_counter() - started,
        workers=used,
        scheduler=address,
        data_version=world.data_version,
        notes=expansion.notes,
    )
    manifest["runs"].append(run.summary())
    write_manifest(out, manifest)
    if store is not False:
        _record(run, manifest, None if store is True else store)
    return run


def _record(run: SweepRun, manifest: dict, store) -> None:
    try:
        version = importlib.metadata.version("oresight")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    record_sweep_run(
        {
            **run.summary(),
            "id": run.id,
            "created": datetime.now(UTC).replace(tzinfo=None),
            "name": run.name,
            "out_dir": str(run.out),
            "fingerprint": manifest["fingerprint"],
            "oresight_version": version,
            "sweep": manifest["sweep"],
        },
        store,
    )

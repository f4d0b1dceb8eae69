"""Simulations run off the request thread: a small queue of jobs that a page or client polls."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from oresight.errors import OresightError

__all__ = ["Job", "JobQueue", "QueueFullError"]


class QueueFullError(OresightError):
    """Too many simulations are waiting; the client should try again later."""


@dataclass
class Job:
    """One simulation request and how far it has got."""

    id: str
    scenario: str
    status: str = "queued"  # queued → running → done | failed
    done: int = 0
    total: int = 0
    run_id: str | None = None
    error: str | None = None
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def as_dict(self) -> dict:
        progress = self.done / self.total if self.total else (1.0 if self.status == "done" else 0.0)
        return {
            "id": self.id,
            "scenario": self.scenario,
            "status": self.status,
            "progress": round(progress, 4),
            "run_id": self.run_id,
            "error": self.error,
            "created": self.created,
        }


class JobQueue:
    """Runs jobs one at a time on a worker thread (a simulation already uses the machine's cores through
    numpy); keeps the most recent jobs for polling and refuses new ones when too many wait."""

    def __init__(self, max_waiting: int = 8, keep: int = 200) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oresight-sim")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self.max_waiting = max_waiting
        self.keep = keep

    def submit(self, scenario: str, work: Callable[[Callable[[int, int], None]], str]) -> Job:
        """Queue ``work(progress)``, which runs the simulation, saves it and returns the run id."""
        with self._lock:
            waiting = sum(job.status in ("queued", "running") for job in self._jobs.values())
            if waiting >= self.max_waiting:
                raise QueueFullError(f"{waiting} simulations are waiting; try again when one has finished")
            job = Job(id=uuid.uuid4().hex[:12], scenario=scenario)
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work) -> None:
        job.status = "running"

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            job.run_id = work(progress)
            job.status = "done"
        except OresightError as exc:
            job.error, job.status = str(exc), "failed"
        except Exception as exc:  # a bug must not kill the worker; the job reports it
            job.error, job.status = f"internal error: {type(exc).__name__}: {exc}", "failed"

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

"""Solved plans kept on disk, so the web app and the HTML brief show a plan without solving it again.

A *plan bundle* is what those surfaces show: the plan's JSON (:meth:`PlanResult.to_dict`) with each member's
plan made alone beside it (the joint plan's saving) and the cost–risk frontier over budgets, each budget's plan
validated out of sample. Bundles are files ``$ORESIGHT_HOME/plans/<key>.json``; the key is a digest of the plan
as run (the resolved plan file), the data version, the oresight version and the bundle's options, so a bundle is
found again only for the same question on the same data.

>>> key = plan_key({"members": ["USA"]}, "data-1", {"frontier": [0.0]})
>>> len(key), key == plan_key({"members": ["USA"]}, "data-2", {"frontier": [0.0]})
(16, False)
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from oresight.plan.spec import PlanSpec

__all__ = [
    "FRONTIER_BUDGETS",
    "brief_bundle",
    "bundle_key",
    "bundle_path",
    "cached_bundle",
    "plan_bundle",
    "plan_key",
]

#: budgets of the frontier the web page and the brief draw (issue 11's acceptance budgets)
FRONTIER_BUDGETS = (0.0, 1e9, 5e9, 20e9)
#: out-of-sample validation of a bundle: fresh timelines x samples each (small: a bundle solves five plans)
VALIDATION = (4, 10)


def plan_key(spec: dict, data_version: str, options: dict) -> str:
    """A digest of what a bundle answers: the plan as run, the data, the code and the bundle's options."""
    try:
        version = importlib.metadata.version("oresight")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    text = json.dumps({"plan": spec, "data": data_version, "oresight": version, **options}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def bundle_path(home: Path, key: str) -> Path:
    return Path(home) / "plans" / f"{key}.json"


def bundle_key(spec: PlanSpec, world, frontier_budgets=FRONTIER_BUDGETS) -> str:
    """The key of ``spec``'s bundle on this World's data."""
    options = {"frontier": [float(b) for b in frontier_budgets], "validation": list(VALIDATION), "separate": True}
    return plan_key(spec.model_dump(mode="json"), world.data_version, options)


def cached_bundle(spec: PlanSpec, world, home: Path, frontier_budgets=FRONTIER_BUDGETS) -> dict | None:
    """The bundle of ``spec`` on this World's data if one was solved before, else None (never solves)."""
    path = bundle_path(home, bundle_key(spec, world, frontier_budgets))
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):  # a damaged file is solved again, not shown
        return None


def plan_bundle(
    spec: PlanSpec,
    world,
    home: Path,
    *,
    frontier_budgets=FRONTIER_BUDGETS,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """The bundle of ``spec``: read from ``home`` if it was solved on this data before, else solved (the plan
    with each member alone beside it, then the frontier) and saved."""
    found = cached_bundle(spec, world, home, frontier_budgets)
    if found is not None:
        return found
    from oresight.cli.render import records
    from oresight.plan import frontier, plan

    steps = 6 + len(frontier_budgets)

    def step(done: int) -> None:
        if progress is not None:
            progress(done, steps)

    timelines, samples = VALIDATION
    validation = {"validation_timelines": timelines, "validation_samples": samples}
    result = plan(spec, world, separate=True, progress=lambda _, done, total: step(done), **validation)
    bundle = result.to_dict()
    table = frontier(
        list(frontier_budgets),
        spec,
        world,
        marginals=False,
        progress=lambda _, done, total: step(6 + done),
        **validation,
    )
    bundle["frontier"] = records(table)
    bundle["key"] = bundle_key(spec, world, frontier_budgets)
    _write(bundle_path(home, bundle["key"]), bundle)
    step(steps)
    return bundle


def _write(path: Path, bundle: dict) -> None:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(bundle, out, ensure_ascii=False, default=str)
    os.replace(temporary, path)


def brief_bundle(world, importer: str, home: Path, solve: bool | None, progress=None) -> dict | bool | None:
    """The plan the brief shows for an importer ("US+JP": the default plan of those members): solved if need be
    (``solve`` True), only if solved before (None: else None, and the brief says how to solve it), or none
    (False)."""
    if solve is False:
        return False
    from oresight.plan.spec import load_plan_spec

    spec = load_plan_spec("default", {"members": [m for m in importer.replace(",", "+").split("+") if m.strip()]})
    if solve:
        return plan_bundle(spec, world, home, progress=progress)
    return cached_bundle(spec, world, home)

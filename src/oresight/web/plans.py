"""The Plan page and its API: the default plan (or one for other members, horizon, risk target or commodities)
with the cost–risk frontier, the project timeline, the stockpiles by holder and the portfolio as CSV or Parquet.

A plan takes from seconds to minutes to solve, so a page never solves: it shows a plan bundle solved before
(kept in memory and as a file beside the store, :mod:`oresight.plan.cache`) or starts a job on the app's worker
thread (:mod:`oresight.web.jobs`; HiGHS releases the interpreter while it solves) and polls it, reloading
itself when the bundle is ready.
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from oresight.web.api import COMMON_ANSWERS, NAME_PATTERN, ServiceDep, checked_importer, invalid, table_download
from oresight.web.service import Service

__all__ = ["WEB_MAX_PLAN_SAMPLES", "router"]

#: limits of a plan asked for from the web (the command line has none): a shared server must stay responsive
WEB_MAX_PLAN_SAMPLES = 60
WEB_LAST_PLAN_YEAR = 2040

router = APIRouter(responses=COMMON_ANSWERS)  # the answers every API route may give (404, 503)

MEMBERS = Annotated[
    str,
    Query(alias="for", pattern=f"^{NAME_PATTERN}$", description="Members, e.g. US+JP, USA, EU"),
]
UNTIL = Annotated[int | None, Query(ge=2027, le=WEB_LAST_PLAN_YEAR, description="Last planned year")]
RISK = Annotated[float | None, Query(gt=0, le=0.5, description="p95 of annual shortfall, share of demand")]
COMMODITIES = Annotated[
    str | None,
    Query(pattern=r"^[^\W\d_][\w .,'()-]{0,199}$", description="Planned commodities, comma-separated (default all)"),
]
SAMPLES = Annotated[int | None, Query(ge=2, le=WEB_MAX_PLAN_SAMPLES, description="In-sample futures")]


def plan_query(
    members: MEMBERS = "US+JP",
    until: UNTIL = None,
    risk_target: RISK = None,
    commodities: COMMODITIES = None,
    samples: SAMPLES = None,
) -> dict:
    """The plan a request asks for: the default plan with these changes (validated by FastAPI)."""
    return {"members": members, "until": until, "risk": risk_target, "commodities": commodities, "samples": samples}


PlanQuery = Annotated[dict, Depends(plan_query)]


class _Plans:
    """The bundles this app has solved or read, their pages, and the job solving each one (one job per bundle).
    A bundle is a few hundred kB: at most :data:`KEPT` are held (the files stay on disk)."""

    KEPT = 32

    def __init__(self) -> None:
        self.bundles: dict[str, dict] = {}
        self.pages: dict[str, str] = {}
        self.jobs: dict[str, str] = {}
        self.lock = threading.Lock()


def _plans(request: Request) -> _Plans:
    state = request.app.state
    with _STATE_LOCK:
        if not hasattr(state, "plans"):
            state.plans = _Plans()
    return state.plans


_STATE_LOCK = threading.Lock()


def _spec(svc: Service, members: str, until, risk, commodities, samples):
    """The library's default plan with the request's changes, every name resolved through the taxonomy."""
    from oresight.errors import OresightError
    from oresight.plan.projects import PLAN_COMMODITIES
    from oresight.plan.spec import load_plan_spec

    names = [m.strip() for m in members.replace(",", "+").split("+") if m.strip()]
    for name in names:
        checked_importer(svc, name)
    settings: dict = {"members": names}
    if until is not None:
        settings["until"] = until
    if risk is not None:
        settings["risk_target"], settings["budget_usd"] = risk, None
    if samples is not None:
        settings["samples"] = samples
    if commodities:
        chosen = []
        for name in (c.strip() for c in commodities.split(",") if c.strip()):
            try:
                cid = "ndpr" if name.lower() in ("ndpr", "nd-pr") else svc.commodity_id(name)
            except OresightError as exc:
                raise invalid("query", "commodities", str(exc)) from None
            if cid not in PLAN_COMMODITIES:
                raise invalid("query", "commodities", f"{name} is not planned (one of: {', '.join(PLAN_COMMODITIES)})")
            chosen.append(cid)
        settings["commodities"] = list(dict.fromkeys(chosen))
    return load_plan_spec("default", settings)


def _bundle(svc: Service, plans: _Plans, spec) -> tuple[str, dict | None]:
    """The bundle of a plan if this app holds it or finds it on disk; never solves."""
    from oresight.plan.cache import bundle_key, cached_bundle

    key = bundle_key(spec, svc.world)
    if key not in plans.bundles:
        found = cached_bundle(spec, svc.world, svc.store.parent)
        if found is None:
            return key, None
        if len(plans.bundles) >= plans.KEPT:
            plans.bundles.clear()
            plans.pages.clear()
        plans.bundles[key] = found
    return key, plans.bundles[key]


def _start(svc: Service, plans: _Plans, spec, key: str) -> dict:
    """The job solving a bundle: the running one if there is one, else a new one on the worker thread."""
    from oresight.plan.cache import plan_bundle

    with plans.lock:
        running = svc.jobs.get(plans.jobs.get(key, ""))
        if running is not None and running.status in ("queued", "running", "done"):
            return running.as_dict()

        def work(progress) -> str:
            plans.bundles[key] = plan_bundle(spec, svc.world, svc.store.parent, progress=progress)
            return key

        job = svc.jobs.submit(f"plan {'+'.join(spec.members)}", work)
        plans.jobs[key] = job.id
    return job.as_dict()


@router.get("/plan", response_class=HTMLResponse, include_in_schema=False)
async def plan_page(request: Request, svc: ServiceDep, query: PlanQuery):
    plans = _plans(request)
    spec = _spec(svc, **query)
    key, bundle = await run_in_threadpool(_bundle, svc, plans, spec)
    if bundle is not None and key in plans.pages:
        return HTMLResponse(plans.pages[key])
    page = await run_in_threadpool(_render, request, spec, key, bundle)
    if bundle is not None:
        plans.pages[key] = page
    return HTMLResponse(page)


def _render(request: Request, spec, key: str, bundle: dict | None) -> str:
    from oresight.plan.figures import plan_charts
    from oresight.web.pages import render

    query = str(request.url.query)
    context = {"title": "Plan", "spec": spec, "key": key, "bundle": bundle, "query": query}
    if bundle is not None:
        context["charts"] = plan_charts(bundle)
    return bytes(render(request, "plan.html.j2", **context).body).decode("utf-8")


# Not in the API schema: one call starts minutes of solving on the app's single worker (the Plan page calls it;
# a program may too, with the page's query), which a client exploring the schema should not set off by chance.
@router.post("/api/plan/jobs", status_code=202, include_in_schema=False)
def start_plan(request: Request, svc: ServiceDep, query: PlanQuery) -> dict:
    """Solve a plan bundle on the worker thread; poll ``/api/jobs/{id}``, then read ``/api/plan``."""
    plans = _plans(request)
    spec = _spec(svc, **query)
    key, bundle = _bundle(svc, plans, spec)
    if bundle is not None:
        return {"id": None, "status": "done", "progress": 1.0, "run_id": key, "error": None}
    return _start(svc, plans, spec, key)


@router.get("/api/plan", summary="A solved plan bundle: the plan, each member alone, the frontier (JSON)")
def plan_json(request: Request, svc: ServiceDep, query: PlanQuery) -> dict:
    return _solved(svc, _plans(request), _spec(svc, **query))


def _solved(svc: Service, plans: _Plans, spec) -> dict:
    _, bundle = _bundle(svc, plans, spec)
    if bundle is None:
        raise HTTPException(404, detail="this plan is not solved yet: open /plan or POST /api/plan/jobs")
    return bundle


@router.get(
    "/api/plan/portfolio.{fmt}",
    summary="A solved plan's portfolio (projects and stockpiles, one row each) as CSV or Parquet",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def portfolio(request: Request, svc: ServiceDep, fmt: Literal["csv", "parquet"], query: PlanQuery) -> Response:
    spec = _spec(svc, **query)
    frame = portfolio_table(_solved(svc, _plans(request), spec))
    return table_download(frame, f"oresight-plan-{'-'.join(spec.members)}-{spec.until}", fmt)


def portfolio_table(bundle: dict):
    """Projects and stockpiles of a plan as one table: what is bought, from whom, for how much, with sources.

    >>> portfolio_table({"projects": [{"project": "p", "name": "P", "country": "USA", "stage": "magnet",
    ...     "commodities": "ndpr", "capacity_t": 10.0, "basis": "t", "start_year": 2027, "support_usd": 5.0,
    ...     "financed_by": {"dod": 5.0}, "source": "s"}], "stockpiles": [], "price_floors": []})[["kind", "item"]]
          kind item
    0  project    p
    """
    import pandas as pd

    rows = []
    for p in bundle.get("projects", []):
        rows.append(
            {
                "kind": "project",
                "item": p["project"],
                "name": p["name"],
                "holder_or_country": p["country"],
                "stage": p["stage"],
                "commodities": p["commodities"],
                "quantity": p["capacity_t"],
                "unit": f"{p['basis']} per year",
                "first_year": p["start_year"],
                "cost_usd": p["support_usd"],
                "paid_by": ", ".join(sorted(p.get("financed_by") or {})),
                "source": p["source"],
            }
        )
    for s in bundle.get("stockpiles", []):
        rows.append(
            {
                "kind": "stockpile",
                "item": f"{s['holder']} {s['commodity']} {s['stage']}",
                "name": "",
                "holder_or_country": s["holder"],
                "stage": s["stage"],
                "commodities": s["commodity"],
                "quantity": s["tonnes"],
                "unit": s["basis"],
                "first_year": s["first_year"],
                "cost_usd": s["cost_usd"],
                "paid_by": s["holder"],
                "source": "",
            }
        )
    for f in bundle.get("price_floors", []):
        rows.append(
            {
                "kind": "price floor",
                "item": f["project"],
                "name": f"{f['floor_usd_per_kg']:g} USD/kg for {f['years']} years",
                "holder_or_country": "",
                "stage": "",
                "commodities": f["commodity"],
                "quantity": f["share"],
                "unit": "share of the project's output",
                "first_year": None,
                "cost_usd": f["expected_payout_usd"],
                "paid_by": ", ".join(sorted(f.get("paid_by") or {})),
                "source": "",
            }
        )
    return pd.DataFrame(rows, columns=PORTFOLIO_TABLE)


PORTFOLIO_TABLE = [
    "kind",
    "item",
    "name",
    "holder_or_country",
    "stage",
    "commodities",
    "quantity",
    "unit",
    "first_year",
    "cost_usd",
    "paid_by",
    "source",
]

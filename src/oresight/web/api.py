"""The JSON API under ``/api/``: what the pages show, for programs. Its schema is at ``/openapi.json``."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from oresight.news.lexicon import load_lexicon
from oresight.web.caching import cached_json
from oresight.web.service import WEB_MAX_HORIZON, WEB_MAX_SAMPLES, Service, plain

__all__ = ["MAX_UPLOAD_BYTES", "NO_SUPPLY_NOTE", "router"]

#: largest scenario file accepted by upload; the library's largest scenario is under 4 kB
MAX_UPLOAD_BYTES = 64 * 1024

#: a commodity or country as users name it, in any language the taxonomy knows (Kobalt, Molybdän, Südkorea,
#: Zeolithe (natürlich)); the taxonomy then resolves it or answers "did you mean". Lists and blocs add "," and "+".
NAME_PATTERN = r"[^\W\d_][\w .,'()+-]{0,59}"
COMMODITY = Annotated[
    str,
    Path(
        pattern=f"^{NAME_PATTERN}$",
        description="A commodity id or name, English or German: rare-earths, Seltene Erden, Kobalt",
    ),
]
#: what a commodity's page and API say where no source gives its supply by country at any stage
NO_SUPPLY_NOTE = (
    "no source gives this commodity's supply by country at any stage, so concentration and risk scores are not "
    "computed; the facts below are what the data hold"
)
COUNTRY = Annotated[
    str,
    Path(pattern=f"^{NAME_PATTERN}$", description="ISO 3166 alpha-3 code or a name: CHN, China, Japan"),
]
SCENARIO = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$", description="A library scenario name")]
RUN_ID_PATTERN = r"^\d{8}-\d{6}-[0-9a-f]{6}$"
RUN_ID = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="A saved run's id")]
JOB_ID = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]
IMPORTER = Annotated[
    str,
    Query(pattern=f"^{NAME_PATTERN}$", description="A country or bloc: USA, JPN, US+JP, EU, G7, Südkorea …"),
]
YEAR = Annotated[int | None, Query(ge=1990, le=2100, description="Data year (default: latest)")]
#: the event types are data (the news lexicon); the schema lists them
EVENT_TYPES = Literal[tuple(load_lexicon().event_types)]  # type: ignore[valid-type]


class Problem(BaseModel):
    """Why a request was not answered: a message, or FastAPI's list of the fields at fault."""

    detail: str | list[dict]


def _documented(status: int, description: str) -> dict:
    return {status: {"model": Problem, "description": description}}


#: answers every API route can give besides its own
COMMON_ANSWERS = {
    **_documented(404, "Not found: no commodity, country, scenario, run or job of that name, or no source gives it"),
    **_documented(503, "The local store is held by another process for longer than the app waits (see Retry-After)"),
}
#: answers of the routes that start a simulation
QUEUE_FULL = _documented(429, "Too many simulations are waiting; try again when one has finished")

router = APIRouter(prefix="/api", tags=["api"], responses=COMMON_ANSWERS)


async def service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(service)]


def invalid(where: str, name: str, message: str) -> HTTPException:
    """A 422 in FastAPI's own shape, for a value that is well-formed but names nothing oresight knows."""
    return HTTPException(422, detail=[{"loc": [where, name], "msg": message, "type": "value_error"}])


def checked_commodity(svc: Service, commodity: str | None) -> str | None:
    """A commodity filter resolved by the taxonomy (English, German, aliases); an unknown name is a 422 with
    "did you mean", never an empty answer."""
    from oresight.errors import OresightError

    if not commodity:
        return None
    try:
        return svc.world.tax.commodity(commodity).id
    except OresightError as exc:
        raise invalid("query", "commodity", str(exc)) from None


def checked_importer(svc: Service, importer: str) -> str:
    from oresight.errors import OresightError

    try:
        return svc.importer(importer).label
    except OresightError as exc:
        raise invalid("query", "importer", str(exc)) from None


# -- map and measure -----------------------------------------------------------------------------------------
@router.get("/commodities", summary="Commodities with data: names, stages, years, sources")
@cached_json()
def commodities(svc: ServiceDep) -> list[dict]:
    return plain(svc.commodities())


@router.get("/commodities/{commodity}", summary="One commodity: its stages with metrics and method scores")
@cached_json()
def commodity(svc: ServiceDep, commodity: COMMODITY, importer: IMPORTER = "US+JP", year: YEAR = None) -> dict:
    cid = svc.commodity_id(commodity)
    stages = svc.commodity_stages(cid, checked_importer(svc, importer), year)
    facts = svc.commodity_facts(cid)
    spec = svc.world.tax.commodities[cid]
    return {
        "commodity": cid,
        "name": spec.en,
        "name_de": spec.de,
        "stages": plain(stages),
        "note": None if len(stages) else NO_SUPPLY_NOTE,
        "facts": plain(facts),
        "sources": svc.sources([*stages["source"].dropna(), *facts["source"].dropna()]),
    }


@router.get("/commodities/{commodity}/chain", summary="Who supplies whom at each stage (Sankey links)")
@cached_json()
def chain(svc: ServiceDep, commodity: COMMODITY, importer: IMPORTER = "US+JP", year: YEAR = None) -> dict:
    links, sources = svc.chain(svc.commodity_id(commodity), checked_importer(svc, importer), year)
    return {"links": plain(links), "unit": "t of first-stage content per year", "sources": sources}


@router.get("/commodities/{commodity}/explain", summary="Factor breakdown of every method, with sources")
@cached_json()
def explain(svc: ServiceDep, commodity: COMMODITY, importer: IMPORTER = "US+JP", year: YEAR = None) -> dict:
    return svc.explanation(svc.commodity_id(commodity), checked_importer(svc, importer), year)


@router.get("/assessments", summary="Ranked assessment of every commodity and stage for an importer")
@cached_json()
def assessments(
    svc: ServiceDep,
    importer: IMPORTER = "US+JP",
    year: YEAR = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict]:
    return plain(svc.assessment(checked_importer(svc, importer), year).head(limit))


@router.get("/countries/{country}", summary="What a country supplies and what it depends on")
@cached_json()
def country(svc: ServiceDep, country: COUNTRY, year: YEAR = None) -> dict:
    code = svc.country(country)
    return {
        "country": code,
        "name": svc.world.tax.countries.name(code),
        "supplies": plain(svc.supplies(code, year)),
        "depends_on": plain(svc.assessment(code, year).head(20)),
    }


@router.get("/sources", summary="The sources registry")
@cached_json()
def sources(svc: ServiceDep) -> list[dict]:
    return plain(svc.world.sources.reset_index(drop=True))


# -- scenarios and runs --------------------------------------------------------------------------------------
@router.get("/scenarios", summary="The scenario library")
@cached_json()
def scenarios(svc: ServiceDep) -> list[dict]:
    return svc.scenarios()


@router.get("/scenarios/{name}", summary="One library scenario as YAML")
@cached_json()
def scenario(svc: ServiceDep, name: SCENARIO) -> dict:
    return {"name": name, "yaml": svc.scenario_yaml(name)}


class RunOverrides(BaseModel):
    samples: int | None = Field(default=None, ge=1, le=WEB_MAX_SAMPLES)
    horizon_months: int | None = Field(default=None, ge=1, le=WEB_MAX_HORIZON)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    importers: list[Annotated[str, Field(pattern=f"^{NAME_PATTERN}$")]] | None = Field(
        default=None, min_length=1, max_length=8
    )


class RunRequest(RunOverrides):
    scenario: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$", description="A library scenario name")
    parameters: dict[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,39}$")], str | float | int] = Field(
        default_factory=dict, max_length=20, description="Values of the scenario's ${parameters}"
    )


@router.post("/runs", status_code=202, summary="Start a library scenario; poll /api/jobs/{id}", responses=QUEUE_FULL)
def start_run(svc: ServiceDep, request: RunRequest) -> dict:
    overrides = request.model_dump(include=set(RunOverrides.model_fields))
    return svc.start_library_run(request.scenario, overrides, request.parameters).as_dict()


@router.post(
    "/runs/upload",
    status_code=202,
    summary="Start an uploaded scenario (YAML); poll /api/jobs/{id}",
    responses={**QUEUE_FULL, **_documented(413, f"The request is larger than {MAX_UPLOAD_BYTES} bytes and a form")},
)
async def upload_run(
    svc: ServiceDep,
    file: Annotated[UploadFile, File(description=f"A scenario YAML file, at most {MAX_UPLOAD_BYTES} bytes")],
    samples: Annotated[int | None, Form(ge=1, le=WEB_MAX_SAMPLES)] = None,
    horizon_months: Annotated[int | None, Form(ge=1, le=WEB_MAX_HORIZON)] = None,
) -> dict:
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, detail=f"the scenario file is larger than {MAX_UPLOAD_BYTES} bytes")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("body", "file", "the scenario file is not UTF-8 text") from None
    name = (file.filename or "scenario.yaml")[-80:]
    overrides = {"samples": samples, "horizon_months": horizon_months}
    # parsing and checking the file runs on a worker thread: however slow a hostile file, other requests go on
    job = await run_in_threadpool(svc.start_uploaded_run, text, name, overrides)
    return job.as_dict()


@router.get("/jobs/{job_id}", summary="A simulation job: status, progress, run id when done")
def job(svc: ServiceDep, job_id: JOB_ID) -> dict:
    found = svc.jobs.get(job_id)
    if found is None:
        raise HTTPException(404, detail=f"no job {job_id}")
    return found.as_dict()


@router.get("/runs", summary="Saved runs")
@cached_json(stored=True)
def runs(svc: ServiceDep) -> list[dict]:
    return plain(svc.runs())


@router.get("/runs/{run_id}", summary="A saved run: scenario, seed, data version and summary")
@cached_json()
def run(svc: ServiceDep, run_id: RUN_ID) -> dict:
    row = svc.run(run_id)
    return {k: (str(v) if k == "created" else v) for k, v in row.items() if k != "results_path"}


@router.get("/runs/{run_id}/fan", summary="Monthly shortfall percentiles (fan chart data)")
@cached_json()
def run_fan(svc: ServiceDep, run_id: RUN_ID) -> list[dict]:
    return plain(svc.run_fan(run_id))


@router.get(
    "/runs/{run_id}/results.{fmt}",
    summary="A run's results (shortfall and price index per month and sample) as CSV or Parquet",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def run_results(svc: ServiceDep, run_id: RUN_ID, fmt: Literal["csv", "parquet"]) -> Response:
    return table_download(svc.run_results(run_id), f"oresight-run-{run_id}", fmt)


def table_download(frame, name: str, fmt: Literal["csv", "parquet"]) -> Response:
    """A table as a CSV or Parquet attachment named ``name.fmt``."""
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return Response(frame.to_csv(index=False), media_type="text/csv", headers=headers)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet", headers=headers)


# -- sweeps --------------------------------------------------------------------------------------------------
@router.get("/sweeps", summary="Recorded sweep runs (`oresight sweep FILE --out DIR`)")
@cached_json(stored=True)
def sweeps(svc: ServiceDep) -> list[dict]:
    return plain(svc.sweeps())


@router.get(
    "/sweeps/{run_id}", summary="A sweep's screen: most damaging disruptions per importer, heat map, expected loss"
)
@cached_json()
def sweep(svc: ServiceDep, run_id: RUN_ID, top: Annotated[int, Query(ge=1, le=100)] = 10) -> dict:
    return svc.sweep_screen(run_id, top)


# -- news ----------------------------------------------------------------------------------------------------
@router.get("/events", summary="News events, newest first, with their articles and evidence")
@cached_json(stored=True)
def events(
    svc: ServiceDep,
    since: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")] = None,
    kind: Annotated[EVENT_TYPES | None, Query(description="Event type")] = None,
    commodity: Annotated[str | None, Query(pattern=f"^{NAME_PATTERN}$", description="Any name: Kobalt, REE")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict]:
    return svc.events(since, kind, checked_commodity(svc, commodity))[:limit]

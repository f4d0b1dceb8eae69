"""The FastAPI application: pages, the JSON API, static files and error handling."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from oresight.errors import DataNotAttestedError, InputError, OresightError, UnknownNameError
from oresight.store import StoreBusyError
from oresight.web import api, pages, plans
from oresight.web.jobs import JobQueue, QueueFullError
from oresight.web.limits import MULTIPART_OVERHEAD_BYTES, BodyLimit
from oresight.web.service import Service

__all__ = ["create_app"]

#: static files, by the only names a request may ask for: no request path reaches the file system
_STATIC = {
    "plotly.min.js": ("plotly", "package_data/plotly.min.js", "text/javascript"),
    "app.js": ("oresight", "web/static/app.js", "text/javascript"),
}


def create_app(world=None, store: str | Path | None = None) -> FastAPI:
    """The web app on a World (default: the bundled data with the store's imports) and a store file."""
    import oresight
    from oresight.store import default_home

    store_path = Path(store) if store else default_home() / "oresight.duckdb"
    world = world if world is not None else oresight.load(store=store_path if store_path.exists() else None)
    jobs = JobQueue()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        jobs.shutdown()

    app = FastAPI(
        title="oresight",
        version=_version(),
        summary="Critical-mineral supply security: supply chains, dependence, stress tests, news events.",
        lifespan=lifespan,
        # the interactive docs pages load their scripts from a CDN; oresight works offline, the schema is enough
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = Service(world, store_path, jobs)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(plans.router)
    app.add_api_route("/static/{name}", _static, include_in_schema=False)
    _add_error_handlers(app)
    app.add_middleware(BodyLimit, limits={"/api/runs/upload": api.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES})
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("oresight")
    except PackageNotFoundError:
        return "unknown"


def _static(name: str) -> Response:
    if name not in _STATIC:
        return JSONResponse({"detail": "not found"}, status_code=404)
    package, relative, media_type = _STATIC[name]
    with resources.as_file(resources.files(package).joinpath(relative)) as path:
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def _error(request: Request, status: int, detail, headers: dict | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    message = (
        detail if isinstance(detail, str) else "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)
    )
    response = pages.error_page(request, status, message)
    response.headers.update(headers or {})
    return response


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the API schema gives a path (its templates' ``{parameters}`` match any one segment)."""
    methods: set[str] = set()
    for template, operations in app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return _error(request, 422, errors)

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException):
        headers = exc.headers
        allowed = _allowed_methods(app, request.url.path) if exc.status_code == 405 else []
        if allowed:  # every method some route of this path allows, not only the first matching route's
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        return _error(request, exc.status_code, exc.detail, headers)

    @app.exception_handler(OresightError)
    async def oresight_error(request: Request, exc: OresightError):
        if isinstance(exc, UnknownNameError | DataNotAttestedError):
            return _error(request, 404, str(exc))
        if isinstance(exc, QueueFullError):
            return _error(request, 429, str(exc))
        if isinstance(exc, StoreBusyError):  # another process kept the store longer than the app waits
            response = _error(request, 503, str(exc))
            response.headers["Retry-After"] = "5"
            return response
        if isinstance(exc, InputError):
            loc = ["body", *(exc.field.replace("[", ".").replace("]", "").split(".") if exc.field else [])]
            return _error(request, 422, [{"loc": loc, "msg": str(exc), "type": "value_error"}])
        return _error(request, 400, str(exc))

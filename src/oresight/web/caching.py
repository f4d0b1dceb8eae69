"""Whole responses kept for repeated requests: the World is fixed while the app runs, so a page or an API read
with the same arguments gives the same bytes (values read from the store are refreshed, see ``Service.memo``).

A kept response is answered on the event loop at once; only a response not yet kept is computed on a worker
thread, so that slow first views never hold up the others.
"""

from __future__ import annotations

import functools

from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from oresight.jsonable import json_safe

__all__ = ["cached_html", "cached_json"]


def _cached(response_class: type[Response], *, stored: bool):
    def decorate(endpoint):
        @functools.wraps(endpoint)  # FastAPI reads the parameters and the response schema of the endpoint
        async def wrapper(**kwargs):
            service = kwargs["svc"]
            arguments = sorted((k, repr(v)) for k, v in kwargs.items() if k not in ("svc", "request"))
            key = ("response", endpoint.__module__, endpoint.__name__, *arguments)
            body = service.peek(key, stored=stored)
            if body is None:
                build = functools.partial(_body, endpoint, kwargs, response_class)
                body = await run_in_threadpool(service.memo, key, build, stored=stored)
            return Response(body, media_type=response_class.media_type)

        return wrapper

    return decorate


def _body(endpoint, kwargs: dict, response_class: type[Response]) -> bytes:
    result = endpoint(**kwargs)
    if isinstance(result, Response):
        return bytes(result.body)
    # a value no source gives (NaN) is null: JSON has no NaN, and a bare one would make the answer a 500
    return bytes(response_class(jsonable_encoder(json_safe(result))).body)


def cached_json(*, stored: bool = False):
    """Cache a JSON endpoint's response by its arguments; ``stored`` if it reads the store."""
    return _cached(JSONResponse, stored=stored)


def cached_html(*, stored: bool = False):
    """Cache a page by its arguments; ``stored`` if it reads the store."""
    return _cached(HTMLResponse, stored=stored)

"""Request bodies are bounded before anything reads them: a body larger than its route allows is refused with
413 as soon as its declared length or its first bytes over the limit arrive, never spooled to disk first.

An ASGI middleware (it sees the bytes as they come, before FastAPI's form parsing spools an upload).
"""

from __future__ import annotations

import json

__all__ = ["MAX_BODY_BYTES", "BodyLimit"]

#: largest body of any request but an upload (a run request is a few hundred bytes of JSON)
MAX_BODY_BYTES = 16 * 1024
#: what a multipart upload may add around the file: boundaries, part headers, the form's other fields
MULTIPART_OVERHEAD_BYTES = 8 * 1024


class BodyLimit:
    """Refuse request bodies over ``limits[path]`` (else :data:`MAX_BODY_BYTES`) with 413."""

    def __init__(self, app, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], MAX_BODY_BYTES)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        state = {"received": 0, "refused": False}

        async def counted() -> dict:
            message = await receive()
            if message["type"] == "http.request" and not state["refused"]:
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:  # a body sent without its length (chunked) that goes on too long
                    state["refused"] = True
                    await _too_large(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def unless_refused(message) -> None:
            if not state["refused"]:
                await send(message)

        try:
            await self.app(scope, counted, unless_refused)
        except Exception:
            if not state["refused"]:  # the app gave up reading a body it was told had gone: nothing to report
                raise


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"detail": f"the request body is larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""``oresight serve``: the web app on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from .render import err_console


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Serve the web app: overview, commodities, countries, scenarios (run them from the browser), news, and a
    JSON API under /api/ (schema at /openapi.json)."""
    import uvicorn

    from oresight.web import create_app

    with err_console.status("Loading the data…"):
        app = create_app()
    err_console.print(f"oresight is serving on http://{host}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="warning")

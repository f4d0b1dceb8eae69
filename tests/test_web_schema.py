"""Property-based tests of the JSON API from its own OpenAPI schema (schemathesis): whatever a client sends
within or outside the schema, the server never answers with a server error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

import oresight
from oresight.web import create_app

_STORE = Path(tempfile.mkdtemp(prefix="oresight-schema-")) / "store.duckdb"
app = create_app(oresight.load(store=False), _STORE)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_answers_with_a_server_error(case):
    case.call_and_validate(checks=[not_a_server_error])

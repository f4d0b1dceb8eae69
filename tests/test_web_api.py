"""The web app through its HTTP interface: pages, JSON API, validation, uploads, simulations off-thread."""

from __future__ import annotations

import io
import time
import warnings

import pandas as pd
import pytest

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402

from oresight.web import create_app  # noqa: E402
from oresight.web.api import MAX_UPLOAD_BYTES  # noqa: E402

PAGES = ["/", "/commodity/rare-earths", "/commodity/gallium", "/country/CHN", "/country/JPN", "/scenarios", "/news"]
API_READS = [
    "/api/commodities",
    "/api/commodities/rare-earths",
    "/api/commodities/rare-earths/chain",
    "/api/commodities/gallium/explain",
    "/api/assessments?importer=JPN&limit=5",
    "/api/countries/CHN",
    "/api/scenarios",
    "/api/scenarios/cn-2025-10-ree-controls",
    "/api/runs",
    "/api/events",
    "/api/sources",
]
SMALL_SCENARIO = b"""name: my-gallium-test
description: a test of a gallium ban written for the tests
horizon_months: 6
samples: 40
importers: [USA]
shocks:
  - kind: export_restriction
    exporter: CHN
    commodity: gallium
    stages: [refining]
    targets: all
    blocked: {dist: uniform, low: 0.4, high: 0.8}
    start_month: 1
    duration_months: 3
"""


@pytest.fixture(scope="module")
def client(world, tmp_path_factory):
    app = create_app(world, tmp_path_factory.mktemp("web") / "store.duckdb")
    with TestClient(app) as test_client:
        yield test_client


def wait_for(client, job: dict, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the simulation did not finish"
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_with_html(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for link in ('href="/"', 'href="/scenarios"', 'href="/news"'):
        assert link in response.text
    assert '<script src="/static/plotly.min.js"></script>' in response.text


@pytest.mark.parametrize("path", API_READS)
def test_api_reads_answer_with_json(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"


def test_openapi_schema_covers_the_api(client):
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    for path in ("/api/commodities", "/api/assessments", "/api/scenarios", "/api/runs", "/api/runs/upload",
                 "/api/jobs/{job_id}", "/api/runs/{run_id}/results.{fmt}", "/api/events"):  # fmt: skip
        assert path in paths
    assert not any(p.startswith("/static") or p == "/" for p in paths), "pages are not part of the API"


def test_assessment_rows_carry_metrics_and_method_scores(client):
    rows = client.get("/api/assessments", params={"importer": "US+JP"}).json()
    first = rows[0]
    for key in ("commodity", "stage", "year", "hhi", "top_country", "top_share", "n_minus_1", "geopolrisk", "eu"):
        assert key in first
    assert [r["vulnerability"] for r in rows] == sorted((r["vulnerability"] for r in rows), reverse=True)


def test_chain_links_name_countries_and_stages(client):
    chain = client.get("/api/commodities/rare-earths/chain").json()
    sources = {(link["source_node"], link["source_stage"]) for link in chain["links"]}
    assert ("CHN", "mining") in sources and ("CHN", "magnet") in sources
    assert chain["sources"]


def test_country_page_data_says_what_china_supplies(client):
    china = client.get("/api/countries/CHN").json()
    supplied = {(row["commodity"], row["stage"]) for row in china["supplies"]}
    assert ("rare-earths", "refining") in supplied and ("gallium", "refining") in supplied


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/api/commodities/%24%7Bx%7D", ["path", "commodity"]),
        ("/api/assessments?importer=Narnia", ["query", "importer"]),
        ("/api/assessments?year=1800", ["query", "year"]),
        ("/api/assessments?limit=0", ["query", "limit"]),
        ("/api/countries/%3Cscript%3E", ["path", "country"]),
        ("/api/events?since=yesterday", ["query", "since"]),
        ("/api/events?kind=rumour", ["query", "kind"]),
        ("/api/runs/not-a-run", ["path", "run_id"]),
        ("/api/runs/20250101-000000-abcdef/results.xlsx", ["path", "fmt"]),
    ],
)
def test_bad_input_is_422_with_the_field(client, path, where):
    response = client.get(path)
    assert response.status_code == 422
    assert any(error["loc"] == where for error in response.json()["detail"]), response.json()


@pytest.mark.parametrize(
    "path",
    ["/api/commodities/unobtanium", "/api/countries/XXX", "/api/scenarios/no-such-scenario",
     "/api/runs/20250101-000000-abcdef", "/api/jobs/0123456789ab", "/commodity/unobtanium", "/country/XXX"],
)  # fmt: skip
def test_unknown_names_are_404_with_a_message(client, path):
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json()["detail"]
    else:
        assert 'id="error-message"' in response.text


def test_no_request_path_reaches_the_file_system(client):
    for path in ("/static/../../pyproject.toml", "/static/%2e%2e%2fpyproject.toml", "/static/style.css"):
        assert client.get(path).status_code == 404
    response = client.post("/api/runs", json={"scenario": "../../etc/passwd"})
    assert response.status_code == 422
    upload = client.post("/api/runs/upload", files={"file": ("x.yaml", b"name: x\nextends: /etc/hostname\n")})
    assert upload.status_code == 404 and "unknown scenario" in upload.json()["detail"]


def test_uploads_are_size_limited_and_parsed_safely(client):
    too_big = client.post("/api/runs/upload", files={"file": ("big.yaml", b"#" * (MAX_UPLOAD_BYTES + 1))})
    assert too_big.status_code == 413
    binary = client.post("/api/runs/upload", files={"file": ("b.yaml", b"\xff\xfe\x00")})
    assert binary.status_code == 422 and binary.json()["detail"][0]["loc"] == ["body", "file"]
    unsafe = client.post(
        "/api/runs/upload", files={"file": ("u.yaml", b"name: !!python/object/apply:os.system [ls]\n")}
    )
    assert unsafe.status_code == 422
    invalid = client.post(
        "/api/runs/upload", files={"file": ("i.yaml", SMALL_SCENARIO.replace(b"gallium", b"unobtanium"))}
    )
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "shocks", "0", "commodity"]


def test_web_runs_are_limited_in_size(client):
    response = client.post("/api/runs", json={"scenario": "cn-2025-10-ree-controls", "samples": 1_000_000})
    assert response.status_code == 422
    big = SMALL_SCENARIO.replace(b"samples: 40", b"samples: 900000")
    assert client.post("/api/runs/upload", files={"file": ("big.yaml", big)}).status_code == 422


def test_a_library_run_goes_off_thread_and_its_results_download(client):
    started = client.post("/api/runs", json={"scenario": "cn-2024-12-ga-ge-sb-us-ban", "samples": 50})
    assert started.status_code == 202
    job = wait_for(client, started.json())
    assert job["status"] == "done" and job["progress"] == 1.0, job
    run = client.get(f"/api/runs/{job['run_id']}").json()
    assert run["scenario"] == "cn-2024-12-ga-ge-sb-us-ban" and run["samples"] == 50
    csv = client.get(f"/api/runs/{job['run_id']}/results.csv")
    parquet = client.get(f"/api/runs/{job['run_id']}/results.parquet")
    assert csv.headers["content-disposition"].startswith("attachment")
    from_csv, from_parquet = pd.read_csv(io.StringIO(csv.text)), pd.read_parquet(io.BytesIO(parquet.content))
    assert len(from_csv) == len(from_parquet) > 0
    assert set(from_parquet["sample"]) == set(range(50))
    fan = client.get(f"/api/runs/{job['run_id']}/fan").json()
    assert fan and all(row["p5"] <= row["p50"] <= row["p95"] for row in fan)
    page = client.get(f"/scenarios/runs/{job['run_id']}")
    assert page.status_code == 200 and 'id="chart-fan"' in page.text


def test_an_uploaded_scenario_runs(client):
    started = client.post("/api/runs/upload", files={"file": ("mine.yaml", SMALL_SCENARIO)}, data={"samples": "20"})
    assert started.status_code == 202, started.text
    job = wait_for(client, started.json())
    assert job["status"] == "done", job
    assert client.get(f"/api/runs/{job['run_id']}").json()["samples"] == 20


def test_a_run_that_fails_reports_why(client):
    unknown = client.post("/api/runs", json={"scenario": "n-minus-1", "parameters": {"commodity": "sand"}})
    assert unknown.status_code == 422 and "did you mean" in unknown.json()["detail"][0]["msg"]
    # a commodity oresight knows but no source gives supply for: the job starts, then fails with the reason
    started = client.post("/api/runs", json={"scenario": "n-minus-1", "parameters": {"commodity": "thallium"}})
    assert started.status_code == 202
    job = wait_for(client, started.json())
    assert job["status"] == "failed" and "thallium" in job["error"] and job["run_id"] is None


def test_news_events_show_their_evidence_highlighted(client, fixtures):
    from oresight.news.reader import read_articles
    from oresight.news.store import ingest
    from oresight.store import Store

    articles, _ = read_articles([fixtures / "news" / "reports.jsonl"])
    service = client.app.state.service
    with Store.open(service.store) as store:
        ingest(articles, store)
    service.store_changed()  # else the app notices the terminal's write at its next refresh (5 s)
    events = client.get("/api/events").json()
    assert events and all("articles" in e for e in events)
    page = client.get("/news")
    assert page.status_code == 200 and "<mark>" in page.text and 'id="chart-timeline"' in page.text
    kind = events[0]["type"]
    filtered = client.get("/api/events", params={"kind": kind}).json()
    assert filtered and all(e["type"] == kind for e in filtered)
    # one rule for names in every filter: German and English the same, an unknown name a 422 with "did you mean"
    graphite = client.get("/api/events", params={"commodity": "graphite"}).json()
    assert graphite and client.get("/api/events", params={"commodity": "Graphit"}).json() == graphite
    typo = client.get("/api/events", params={"commodity": "Grafitt"})
    assert typo.status_code == 422 and "did you mean" in str(typo.json()["detail"])
    assert client.get("/news", params={"commodity": "Grafitt"}).status_code == 422


@pytest.mark.parametrize(
    "path",
    ["/api/events?commodity=Molybd%C3%A4n", "/api/assessments?importer=S%C3%BCdkorea&limit=3",
     "/api/assessments?importer=%C3%96sterreich&limit=3", "/news?commodity=Zeolithe%20(nat%C3%BCrlich)"],
)  # fmt: skip
def test_german_names_with_umlauts_pass_every_filter(client, path):
    """The web filters took ASCII names only: Südkorea, Österreich and Molybdän were refused by pattern."""
    response = client.get(path)
    assert response.status_code == 200, response.text


def test_news_page_shows_an_events_impact(client, fixtures):
    from oresight.news.reader import read_articles
    from oresight.news.store import events, ingest, set_impact
    from oresight.store import Store

    articles, _ = read_articles([fixtures / "news" / "reports-ml.jsonl"])
    service = client.app.state.service
    with Store.open(service.store) as store:
        ingest(articles, store)
        gallium = next(e for e in events(store) if "gallium" in e["commodities"])
        impact = {
            "scenario": "cn-2024-12-ga-ge-sb-us-ban",
            "samples": 40,
            "importers": {"USA": {"shortfall_t": {"p50": 12.5, "p95": 20.25}}, "JPN": {"modelled": False}},
        }
        set_impact(store, gallium["event"], impact)
    service.store_changed()
    listed = {e["event"]: e for e in client.get("/api/events").json()}
    assert listed[gallium["event"]]["impact"] == impact
    page = client.get("/news").text
    assert "Impact (cn-2024-12-ga-ge-sb-us-ban, 40 samples)" in page and "20.2" in page and "not modelled" in page

"""The web app's Plan page and API: a solved plan bundle shown from the cache beside the store, the portfolio as
CSV and Parquet, jobs that never solve twice, clean errors for bad parameters. (The browser test that opens the
page, lets it solve and sees the charts is in test_web_browser.py.)"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from oresight.plan.cache import bundle_path, cached_bundle, plan_bundle
from oresight.plan.spec import load_plan_spec
from oresight.web import create_app

QUERY = "for=USA&until=2027&commodities=gallium&samples=2"


@pytest.fixture(scope="module")
def solved(world, tmp_path_factory):
    """A small plan bundle solved into a home folder, and an app whose store lives there."""
    home = tmp_path_factory.mktemp("plan-home")
    spec = load_plan_spec("default", {"members": ["USA"], "until": 2027, "commodities": ["gallium"], "samples": 2})
    steps: list[tuple[int, int]] = []
    bundle = plan_bundle(spec, world, home, progress=lambda done, total: steps.append((done, total)))
    client = TestClient(create_app(world, home / "oresight.duckdb"))
    return {"home": home, "spec": spec, "bundle": bundle, "steps": steps, "client": client}


def test_a_bundle_is_solved_once_and_found_again(solved, world):
    spec, home, bundle = solved["spec"], solved["home"], solved["bundle"]
    assert bundle_path(home, bundle["key"]).is_file()
    assert cached_bundle(spec, world, home) == bundle
    assert solved["steps"][-1][0] == solved["steps"][-1][1]  # progress reaches the end
    assert sorted({row["budget_usd"] for row in bundle["frontier"]}) == [0.0, 1e9, 5e9, 20e9]
    other = spec.model_copy(update={"risk_target": 0.1})
    assert cached_bundle(other, world, home) is None  # another question is not answered from the cache


def test_the_plan_page_shows_the_solved_plan_with_its_charts(solved):
    page = solved["client"].get("/plan?" + QUERY)
    assert page.status_code == 200
    for part in ('id="chart-frontier"', 'id="frontier"', 'id="stockpiles"', 'id="download-parquet"', "USD"):
        assert part in page.text
    assert 'href="/plan"' in page.text  # in the navigation
    job = solved["client"].post("/api/plan/jobs?" + QUERY)
    assert job.status_code == 202 and job.json()["status"] == "done"  # solved before: nothing to do
    assert solved["client"].get("/api/plan?" + QUERY).json()["key"] == solved["bundle"]["key"]


def test_the_portfolio_downloads_as_csv_and_parquet(solved):
    client, bundle = solved["client"], solved["bundle"]
    csv = client.get("/api/plan/portfolio.csv?" + QUERY)
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    table = pd.read_csv(io.StringIO(csv.text))
    parquet = pd.read_parquet(io.BytesIO(client.get("/api/plan/portfolio.parquet?" + QUERY).content))
    assert (
        len(table) == len(parquet) == len(bundle["projects"]) + len(bundle["stockpiles"]) + len(bundle["price_floors"])
    )
    assert set(parquet["kind"]) <= {"project", "stockpile", "price floor"}
    projects = parquet[parquet["kind"] == "project"]
    assert projects["source"].notna().all() and (projects["source"] != "").all()


def test_an_unsolved_plan_is_not_there_and_bad_parameters_are_refused(solved):
    client = solved["client"]
    missing = client.get("/api/plan/portfolio.csv?for=USA&until=2028&commodities=gallium&samples=2")
    assert missing.status_code == 404 and "not solved" in missing.json()["detail"]
    waiting = client.get("/plan?for=USA&until=2028&commodities=gallium&samples=2")
    assert waiting.status_code == 200 and 'id="job-progress"' in waiting.text  # the page would start the job
    assert client.get("/api/plan?for=Atlantis").status_code == 422
    bad = client.get("/api/plan?for=USA&commodities=cobalt")
    assert bad.status_code == 422 and "not planned" in str(bad.json()["detail"])
    assert client.get("/api/plan?for=USA&samples=5000").status_code == 422
    assert client.get("/api/plan?for=USA&risk_target=nan").status_code == 422

"""End-to-end tests in headless Chromium (Debian's package at /usr/bin/chromium, driven by playwright; no
browser download): every page renders its charts, a scenario runs from the browser, the HTML brief opens
offline. Screenshots go to test-artifacts/ (or $ORESIGHT_ARTIFACTS)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("ORESIGHT_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
# CI sets ORESIGHT_REQUIRE_BROWSER=1 after installing Chromium: there a missing browser is a failure, not a skip
if not Path(CHROMIUM).exists():
    if os.environ.get("ORESIGHT_REQUIRE_BROWSER"):
        pytest.fail(f"Chromium is required but not found at {CHROMIUM}", pytrace=False)
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

# the flags this machine's closed network needs: no background connections, no sandbox as root
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip


def screenshot_and_download(page, name: str) -> None:
    """A page with a result: its screenshot, and its Parquet download arrives as a .parquet file."""
    expect(page.locator("#download-csv")).to_be_visible()
    page.screenshot(path=ARTIFACTS / name, full_page=True)
    with page.expect_download() as download:
        page.click("#download-parquet")
    assert download.value.suggested_filename.endswith(".parquet")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(world, tmp_path_factory):
    import uvicorn

    from oresight.web import create_app

    app = create_app(world, tmp_path_factory.mktemp("browser") / "store.duckdb")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    import httpx

    for path in ("/", "/commodity/rare-earths", "/scenarios"):  # first views compute; on a busy machine for long
        httpx.get(f"http://127.0.0.1:{port}{path}", timeout=300)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def charts_rendered(page, count: int) -> None:
    """Plotly turned each chart <div> into SVG."""
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=15_000)
    assert page.locator(".js-plotly-plot").count() >= count


@pytest.mark.parametrize(
    ("path", "charts", "shot"),
    [
        ("/", 1, "overview"),
        ("/commodity/rare-earths", 1, "commodity-rare-earths"),
        ("/commodity/gallium?importer=JPN", 1, "commodity-gallium"),
        ("/country/CHN", 0, "country-china"),
        ("/commodity/Samarium", 0, "commodity-samarium"),  # by its name; no world supply: the note, the facts
        ("/scenarios", 0, "scenarios"),
        ("/news", 0, "news"),
    ],
)
def test_every_page_renders(server, page, path, charts, shot):
    response = page.goto(server + path)
    assert response.status == 200
    expect(page.locator("h1")).to_be_visible()
    if charts:
        charts_rendered(page, charts)
    page.screenshot(path=ARTIFACTS / f"page-{shot}.png", full_page=True)


def test_a_scenario_runs_from_the_browser(server, page):
    page.goto(server + "/scenarios")
    page.select_option("#scenario-select", "cn-2025-04-heavy-ree-controls")
    page.fill("#library-form input[name=samples]", "100")
    page.click("#run-button")
    expect(page.locator("#job")).to_be_visible()
    page.wait_for_url("**/scenarios/runs/**", timeout=120_000)
    charts_rendered(page, 1)
    # the run page shows what caused the shortfall, the stockpiles and the prices, in the data's units
    expect(page.locator("#causes table")).to_contain_text("CHN")
    expect(page.locator("#prices table")).to_contain_text("rare-earths/")
    expect(page.locator("#stockpiles")).to_be_visible()
    expect(page.locator("#summary")).to_contain_text(" t")
    screenshot_and_download(page, "page-run.png")


def test_a_scenario_with_parameters_runs_from_the_browser(server, page):
    page.goto(server + "/scenarios")
    page.select_option("#scenario-select", "n-minus-1")
    page.fill("#library-form input[name=samples]", "50")
    page.fill("#library-form input[name=parameters]", "commodity=gallium")
    page.click("#run-button")
    page.wait_for_url("**/scenarios/runs/**", timeout=120_000)
    expect(page.locator("text=Scenario n-minus-1")).to_be_visible()
    expect(page.locator("#summary")).to_contain_text("gallium")  # the parameter reached the scenario
    page.goto(server + "/scenarios")
    page.fill("#library-form input[name=parameters]", "commodity")
    page.click("#run-button")
    expect(page.locator("#job-error")).to_contain_text("name=value")


def test_a_bad_upload_shows_the_error_in_the_page(server, page, tmp_path):
    scenario = tmp_path / "broken.yaml"
    scenario.write_text("name: broken\nshocks: [{kind: export_restriction, exporter: CHN}]\n", encoding="utf-8")
    page.goto(server + "/scenarios")
    page.set_input_files("#upload-form input[type=file]", scenario)
    page.click("#upload-button")
    expect(page.locator("#job-error")).to_contain_text("shocks")


def test_the_html_brief_opens_offline(browser, world, tmp_path):
    from oresight.report.html import write_brief_html

    path = write_brief_html(world, tmp_path / "brief.html")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(path.as_uri())
    charts_rendered(page, 3)
    for chart in ("chart-sankey", "chart-heatmap", "chart-fan"):
        expect(page.locator(f"#{chart} .main-svg").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "brief.png", full_page=True)
    context.close()
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requested), requested


def test_the_plan_page_solves_on_the_worker_and_shows_its_charts(server, page):
    # a small plan: the page starts its job, polls it and reloads itself with the charts when it is solved
    page.goto(server + "/plan?for=USA&until=2027&commodities=gallium&samples=2")
    expect(page.locator("#job-progress")).to_be_visible()
    expect(page.locator("#chart-frontier .main-svg").first).to_be_visible(timeout=180_000)
    charts_rendered(page, 2)
    screenshot_and_download(page, "page-plan.png")

"""A recorded sweep in the web app (page and JSON API), in the HTML brief and in `oresight sweep report`."""

from __future__ import annotations

import json
import warnings

import pytest
from typer.testing import CliRunner

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402

from oresight.cli import app as cli  # noqa: E402
from oresight.sweep import parse_sweep, run_sweep  # noqa: E402
from oresight.web import create_app  # noqa: E402

SWEEP = {
    "name": "web-screen",
    "description": "Restrictions by the top two producers",
    "samples": 30,
    "horizon_months": 6,
    "importers": ["USA", "JPN", "MNG"],
    "grid": {
        "kind": "export_restriction",
        "commodities": ["gallium", "rare-earths"],
        "stages": ["refining", "magnet"],
        "exporters": "top2",
        "blocked": [0.5, 1.0],
        "duration_months": [3],
        "probabilities": {"exporters": {"CHN": 0.25, "default": 0.05}, "blocked": [0.6, 0.4]},
    },
}


@pytest.fixture(scope="module")
def recorded(world, tmp_path_factory):
    """A store with one recorded sweep run, and the run."""
    folder = tmp_path_factory.mktemp("sweep-web")
    store = folder / "store.duckdb"
    run = run_sweep(parse_sweep(SWEEP), folder / "screen", world, workers=0, store=store)
    return store, run


@pytest.fixture(scope="module")
def client(world, recorded):
    store, _ = recorded
    with TestClient(create_app(world, store)) as test_client:
        yield test_client


def test_the_sweeps_page_shows_the_latest_screen_with_a_heat_map_per_importer(client, recorded):
    _, run = recorded
    page = client.get("/sweeps")
    assert page.status_code == 200
    for text in ("web-screen", run.id, "chart-sweep-USA", "chart-sweep-JPN", "Expected loss", 'href="/sweeps"'):
        assert text in page.text
    # Japan's gallium use is derived from its trade; Mongolia has neither consumption nor trade data for gallium
    assert "Not modelled (no demand data): gallium" in page.text
    assert client.get(f"/sweeps?run={run.id}").text.count("chart-sweep-") >= 2


def test_the_sweep_api_lists_runs_and_gives_each_screen(client, recorded):
    _, run = recorded
    runs = client.get("/api/sweeps").json()
    assert [r["id"] for r in runs] == [run.id] and runs[0]["scenarios"] == run.scenarios
    screen = client.get(f"/api/sweeps/{run.id}?top=2").json()
    assert screen["run"]["id"] == run.id and screen["sweep"] == "web-screen"
    usa = screen["importers"]["USA"]
    assert len(usa["top"]) == 2 and usa["top"][0]["shortfall_share_mean"] >= usa["top"][1]["shortfall_share_mean"]
    assert usa["expected_loss"][0]["chance"] in (0.25, 0.05) and usa["top"][0]["value_at_risk_usd_p50"] > 0
    assert client.get("/api/sweeps/20000101-000000-abcdef").status_code == 404
    assert client.get("/api/sweeps/not-a-run").status_code == 422


def test_without_a_recorded_sweep_the_page_says_how_to_run_one(world, tmp_path):
    with TestClient(create_app(world, tmp_path / "empty.duckdb")) as empty:
        page = empty.get("/sweeps")
    assert page.status_code == 200 and "No sweep recorded yet" in page.text


def test_the_html_brief_has_a_section_on_the_latest_sweep(world, recorded, tmp_path, monkeypatch):
    import oresight.briefing
    from oresight.report.html import write_brief_html

    monkeypatch.setattr(oresight.briefing, "stress_test", lambda *args, **kwargs: None)  # tested elsewhere; slow
    store, run = recorded
    html = write_brief_html(world, tmp_path / "brief.html", "US+JP", store=store).read_text()
    assert 'id="sweep"' in html and "web-screen" in html and run.id in html and "chart-sweep-USA" in html
    bare = write_brief_html(world, tmp_path / "bare.html", "US+JP", store=tmp_path / "none.duckdb").read_text()
    assert 'id="sweep"' not in bare


def test_oresight_sweep_report_ranks_the_screen_for_the_us_and_japan(recorded):
    _, run = recorded
    runner = CliRunner()
    for importer, label in (("United States", "USA"), ("Japan", "JPN")):
        result = runner.invoke(cli, ["sweep", "report", str(run.out), "--importer", importer, "--format", "json"])
        assert result.exit_code == 0, result.output
        found = json.loads(result.stdout)
        assert list(found["importers"]) == [label] and found["importers"][label]["top"]
    table = runner.invoke(cli, ["sweep", "report", str(run.out), "--top", "3"])
    assert table.exit_code == 0, table.output
    for text in ("USA: most damaging disruptions", "JPN: most damaging disruptions", "commodity × exporter",
                 "expected loss"):  # fmt: skip
        assert text in table.stdout


def test_a_bad_sweep_file_is_one_error_line_without_a_traceback(oresight_process, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nimporters: [USA]\ngrid: {kind: export_restriction, blocked: [2], duration_months: [3]}\n"
    )
    done = oresight_process("sweep", bad, "--out", tmp_path / "out")
    assert done.returncode == 1 and "grid.blocked[0] (line 3)" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_a_folder_without_results_is_refused_by_the_report(world, tmp_path):
    from oresight.sweep import SweepError
    from oresight.sweep.screen import screen

    with pytest.raises(SweepError, match="no sweep results here"):
        screen(tmp_path, world.tax)

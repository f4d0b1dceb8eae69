"""The README's two set-up commands are what CI runs and what the project supports; its tour runs."""

import re
import shlex
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = text.split("## Set-up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", setup, flags=re.S)


def test_readme_has_exactly_two_setup_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "oresight brief" in commands[0]
    assert "pytest" in commands[1] and ".[test]" in commands[1]


def test_ci_runs_the_readme_test_command():
    assert readme_commands()[1] in (ROOT / ".ci/run").read_text(encoding="utf-8")


# -- the newcomer tour --------------------------------------------------------------------------------------------
#: tour lines this test does not run, each with the test that runs the same command: they take long (a server,
#: the full brief with its 1,000-sample stress test, a 2,000-sample simulation, the planner's solves, a sweep on
#: Dask workers) or reach the network (watching a feed)
COVERED_ELSEWHERE = {
    "oresight brief": "tests/test_cli.py::test_brief_shows_chain_and_concentration_with_sources",
    "oresight brief --html brief.html": "tests/test_cli.py::test_brief_html_writes_one_self_contained_file",
    "oresight serve": "tests/test_web_*.py (the app, served by uvicorn)",
    "oresight simulate cn-2025-04-heavy-ree-controls --importer USA,JPN --samples 2000": "tests/test_simulate_cli.py",
    "oresight plan --for US+JP --risk-target p95=0.05": "tests/test_plan.py",
    "oresight plan --for US+JP --budget 5e9 --format json": "tests/test_plan.py",
    "oresight sweep screen.yaml --out screen/ --workers 2": "tests/test_sweep_cluster.py (two local workers)",
    "oresight sweep report screen/ --importer Japan --top 10": "tests/test_sweep_web.py (the report of a run)",
    "oresight news ingest reports.jsonl --alerts rules.yaml": (
        "tests/test_news_cli.py::test_ingest_runs_the_alert_rules_on_the_events_it_adds (runs a linked scenario)"
    ),
    "oresight news watch https://example.org/feed.xml --every 15m --alerts rules.yaml": (
        "tests/test_news_watch.py (a long-lived service polling feeds, here served locally)"
    ),
}


def tour_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = text.split("## A short tour", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```bash\n(.+?)\n```", tour, flags=re.S)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def tour_folder(tmp_path_factory, fixtures):
    """The files the tour names, where a newcomer would have them: a newer MCS release, their own scenario,
    news reports."""
    folder = tmp_path_factory.mktemp("tour")
    (folder / "my-scenario.yaml").write_text("extends: cn-2024-12-ga-ge-sb-us-ban\nname: my-scenario\nsamples: 200\n")
    for fixture, as_name in TOUR_FILES.items():
        shutil.copy(fixtures / fixture, folder / as_name)
    return folder


#: the files the tour names, from the test fixtures (tiny copies of the publishers' formats)
TOUR_FILES = {
    "usgs/MCS2026_Commodities_Data_demo.csv": "MCS2027_Commodities_Data.csv",
    "trade/BACI_HS92_Y2018_V202601.csv": "BACI_HS92_Y2024_V202601.csv",
    "trade/country_codes_V202601.csv": "country_codes_V202601.csv",
    "trade/my_suppliers.csv": "my_suppliers.csv",
    "news/reports.jsonl": "reports.jsonl",
    "news/article.html": "page.html",
    "news/feed.xml": "feed.xml",
}


def test_the_tour_lists_what_it_skips():
    assert set(COVERED_ELSEWHERE) <= set(tour_lines())


def test_every_tour_line_runs_without_a_traceback(tour_folder, monkeypatch):
    """Each line as a newcomer types it, in one folder with the files it names: exit 0, no traceback."""
    from typer.testing import CliRunner

    from oresight.cli import app

    monkeypatch.chdir(tour_folder)
    failed = {}
    for line in tour_lines():
        if line in COVERED_ELSEWHERE:
            continue
        result = CliRunner().invoke(app, shlex.split(line)[1:])
        if result.exit_code != 0 or (result.exception is not None and not isinstance(result.exception, SystemExit)):
            failed[line] = (result.exit_code, repr(result.exception), result.output[-400:])
    assert not failed, failed

"""End-to-end tests of the command line, through typer's runner and once through the installed script."""

import json

import pytest
from typer.testing import CliRunner

from oresight.cli import app

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result


def run_json(*args):
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_data_show_latest_edition_json():
    rows = run_json("data", "show", "rare-earths", "--stage", "mining", "--year", "2024")
    assert "bgs-wms" in {r["series"] for r in rows if r["role"] == "compared"}  # shown beside USGS
    rows = [r for r in rows if r["role"] == "preferred"]
    by_country = {r["country"]: r for r in rows}
    assert by_country["CHN"]["value"] == 270000 and by_country["USA"]["value"] == 45500
    assert by_country["MMR"]["value"] == 27000 and by_country["WLD"]["value"] == 380000
    for row in rows:
        assert {"country", "value", "unit", "basis", "status", "source"} <= set(row)
        assert row["source"] == "usgs-mcs-2026-world" and row["basis"] == "t REO"


def test_data_show_edition_2025():
    rows = run_json("data", "show", "rare-earths", "--stage", "mining", "--year", "2024", "--edition", "2025")
    rows = [r for r in rows if r["role"] == "preferred"]
    by_country = {r["country"]: r for r in rows}
    assert by_country["USA"]["value"] == 45000 and by_country["MMR"]["value"] == 31000
    assert by_country["WLD"]["value"] == 390000
    assert {r["source"] for r in rows} == {"usgs-mcs-2025-world"}


def test_data_show_refining_shows_china_share_with_iea_source():
    rows = run_json("data", "show", "Seltene Erden", "--stage", "refining", "--year", "2024")
    china = next(r for r in rows if r["country"] == "CHN")
    assert china["share"] == pytest.approx(0.913, abs=0.005) and china["source"] == "iea-cmde-2025"


def test_data_show_all_stages_table_and_csv():
    result = run("data", "show", "rare-earths")
    assert result.exit_code == 0 and "magnet" in result.stdout and "refining" in result.stdout
    csv_out = run("data", "show", "cobalt", "--stage", "mining", "--format", "csv")
    assert csv_out.stdout.splitlines()[0].startswith("commodity,stage,year,country")


def test_data_sources_json_lists_publisher_title_year_licence():
    sources = run_json("data", "sources")
    assert len(sources) >= 30
    for entry in sources:
        assert entry["publisher"] and entry["title"] and entry["year"] and entry["licence"]


def test_data_list():
    rows = run_json("data", "list")
    ids = {r["commodity"] for r in rows}
    assert {"rare-earths", "gallium", "graphite", "cobalt", "lithium"} <= ids


def test_unknown_commodity_gets_suggestions_and_no_traceback():
    result = runner.invoke(app, ["data", "show", "cobalts"])
    assert result.exit_code != 0
    assert "did you mean" in str(result.exception)


def test_brief_shows_chain_and_concentration_with_sources():
    result = run("brief")
    assert result.exit_code == 0
    for text in ("Rare-earth chain by stage", "refining", "magnet", "Most concentrated", "Sources", "iea-cmde-2025"):
        assert text in result.stdout
    content = run_json("brief")
    assert [row["stage"] for row in content["chain"]] == ["mining", "refining", "metal", "magnet"]
    assert all(row["source"] for row in content["chain"])
    assert {s["id"] for s in content["sources"]} >= {"iea-cmde-2025"}


def test_brief_html_writes_one_self_contained_file(tmp_path):
    path = tmp_path / "brief.html"
    result = run("brief", "--html", str(path), "--importer", "JPN")
    assert result.exit_code == 0, result.output
    html = path.read_text(encoding="utf-8")
    assert "importer JPN" in html and 'id="chart-sankey"' in html and "Plotly.newPlot" in html
    assert str(path) in result.stdout


def test_brief_html_into_a_missing_folder_is_a_clear_error(tmp_path, oresight_process):
    result = oresight_process("brief", "--html", tmp_path / "no" / "such" / "brief.html")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "does not exist" in message and "Traceback" not in message


def test_serve_is_a_command():
    result = run("serve", "--help")
    assert result.exit_code == 0
    assert "--port" in result.stdout and "--host" in result.stdout


def test_data_import_into_store(fixtures, isolated_home):
    result = run("data", "import", str(fixtures / "usgs/MCS2026_Commodities_Data_demo.csv"), "--output", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == "usgs-mcs" and report["facts"] > 0
    assert (isolated_home / "oresight.duckdb").exists()
    rows = run_json("data", "show", "rare-earths", "--stage", "mining", "--year", "2024")
    assert next(r for r in rows if r["country"] == "CHN")["value"] == 260000


def test_console_script_errors_are_one_message_without_traceback(tmp_path, oresight_process):
    bad = tmp_path / "bad.csv"
    bad.write_text("SOURCE,COMMODITY\nMCS2025,Cobalt\n")
    proc = oresight_process("data", "import", bad, "--format", "usgs-mcs-world")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "bad.csv" in proc.stderr and "line 1" in proc.stderr and "missing column" in proc.stderr

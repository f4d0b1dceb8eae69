"""``oresight simulate``, ``scenarios`` and ``runs`` end to end on the bundled data."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from oresight.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def run_json(*args):
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def april():
    return run_json("simulate", "cn-2025-04-heavy-ree-controls", "--importer", "USA,JPN", "--samples", "2000")


def test_april_2025_controls_leave_both_importers_short(april):
    assert april["scenario"] == "cn-2025-04-heavy-ree-controls" and april["samples"] == 2000
    for importer in ("USA", "JPN"):
        entry = april["importers"][importer]
        assert entry["shortfall_t"]["p5"] <= entry["shortfall_t"]["p50"] <= entry["shortfall_t"]["p95"]
        assert entry["shortfall_t"]["p50"] > 0 and 0 < entry["shortfall_share"]["p50"] < 1
        assert entry["stockpile_empty_month"] is None
        assert entry["causes"][0]["country"] == "CHN"
    assert april["run_id"]


def test_a_stockpile_added_in_a_yaml_file_lowers_the_shortfall(april, tmp_path):
    path = tmp_path / "with-stockpile.yaml"
    path.write_text(
        "extends: cn-2025-04-heavy-ree-controls\n"
        "name: april-with-stockpiles\n"
        "responses:\n"
        "  stockpiles:\n"
        "    - {holder: JPN, commodity: rare-earths, stage: magnet, tonnes: 500}\n"
        "    - {holder: USA, commodity: rare-earths, stage: magnet, tonnes: 500}\n"
    )
    stocked = run_json("simulate", str(path), "--importer", "USA,JPN", "--samples", "2000")
    for importer in ("USA", "JPN"):
        assert stocked["importers"][importer]["shortfall_t"]["p50"] < april["importers"][importer]["shortfall_t"]["p50"]
    assert {s["holder"] for s in stocked["stockpiles"]} == {"JPN", "USA"}
    # the US runs physically short once its own stocks are drawn, and the stockpile fills it; Japan's shortfall
    # here is demand the price drove out (substitution), which a stockpile does not release into
    released = {s["holder"]: s["released_t"]["p50"] for s in stocked["stockpiles"]}
    assert released["USA"] > 0


def test_table_output_shows_shortfall_causes_and_run_id():
    result = run("simulate", "cn-2025-04-heavy-ree-controls", "--samples", "200")
    assert result.exit_code == 0, result.output
    for text in ("Shortfall by importer", "What caused it", "Price index", "saved as run", "magnet"):
        assert text in result.stdout


def test_parquet_output(tmp_path):
    target = tmp_path / "out.parquet"
    result = run(
        "simulate",
        "mm-2024-kachin-ree-outage",
        "--samples",
        "50",
        "--format",
        "parquet",
        "-o",
        str(target),
        "--no-save",
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(target)
    assert {"variable", "commodity", "importer", "stage", "month", "sample", "value"} <= set(frame.columns)
    assert set(frame["variable"]) == {"shortfall", "price_index"}


def test_n_minus_1_takes_its_commodity_from_the_command_line():
    out = run_json("simulate", "n-minus-1", "--set", "commodity=gallium", "--importer", "USA", "--samples", "100")
    usa = out["importers"]["USA"]
    assert usa["commodities"]["gallium"]["shortfall_t"]["p50"] > 0
    assert usa["causes"][0]["country"] == "CHN"


def test_invalid_scenario_names_the_field_and_allowed_values(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nshocks:\n  - {kind: export_ban, exporter: CHN, commodity: gallium, blocked: 0.5}\n")
    result = run("simulate", str(path))
    assert result.exit_code != 0
    message = str(result.exception)
    assert "bad.yaml" in message and "shocks[0]" in message and "'export_restriction'" in message


def test_unknown_stage_gets_the_allowed_stages():
    result = run("simulate", "n-minus-1", "--set", "stage=smelting", "--samples", "10")
    assert result.exit_code != 0 and "shocks[0].stages[0]" in str(result.exception)


def test_error_is_one_message_without_traceback(oresight_process):
    proc = oresight_process("simulate", "n-minus-1", "--set", "commodity=unobtainium")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "shocks[0].commodity" in proc.stderr and "unobtainium" in proc.stderr


def test_scenarios_list_and_show():
    result = run("scenarios", "list")
    assert result.exit_code == 0 and "cn-2010-ree-quota" in result.stdout and "2025-04-04" in result.stdout
    shown = run("scenarios", "show", "cd-2025-cobalt-export-suspension")
    assert shown.exit_code == 0 and "ARECOMS" in shown.stdout and "kind: export_restriction" in shown.stdout


def test_runs_are_saved_listed_shown_and_reproduced():
    out = run_json("simulate", "n-minus-1", "--samples", "30", "--horizon", "6")
    run_id = out["run_id"]
    listed = run_json("runs", "list")
    assert [r["id"] for r in listed] == [run_id] and listed[0]["data_version"] == out["data_version"]
    assert run("runs", "list").exit_code == 0
    shown = run_json("runs", "show", run_id)
    assert shown["importers"] == out["importers"] and "name: n-minus-1" in shown["scenario_yaml"]
    again = run("runs", "reproduce", run_id)
    assert again.exit_code == 0, again.output
    assert "identical" in again.stdout
    missing = run("runs", "show", "no-such-run")
    assert missing.exit_code != 0 and "no saved run" in str(missing.exception)


def test_brief_includes_the_latest_export_control_stress_test():
    content = run_json("brief")
    stress = content["stress_test"]
    # the most recent export control in the library: China's ban on dual-use exports to Japan (January 2026)
    assert stress["scenario"] == "cn-2026-01-japan-dual-use-ban" and stress["event_sources"]
    rows = {row["importer"]: row for row in stress["table"]}
    assert set(rows) == {"USA", "JPN"} and rows["JPN"]["shortfall_p50"] > 0


def test_joint_stockpile_counts_for_both_members_and_defence_is_served_first(tmp_path):
    path = tmp_path / "april.yaml"
    path.write_text(
        "extends: cn-2025-04-heavy-ree-controls\n"
        "name: april-2025-with-stockpiles\n"
        "responses:\n"
        "  stockpiles:\n"
        "    - holder: US+JP\n"
        "      commodity: rare-earths\n"
        "      stage: magnet\n"
        "      months_of_cover: {dist: uniform, low: 0.1, high: 0.2}\n"
        "  priority_sectors: [defence]\n"
    )
    out = run_json("simulate", str(path), "--samples", "300", "--no-save")
    for importer in ("USA", "JPN"):
        entry = out["importers"][importer]
        assert entry["stockpile_empty_month"]["share_of_samples_empty"] > 0
        sectors = entry["commodities"]["rare-earths"]["by_sector_p50"]
        assert sectors["ev-traction"] > 0
    assert out["importers"]["USA"]["commodities"]["rare-earths"]["by_sector_p50"]["defence"] == 0
    # no source gives Japan's defence share: not attested (absent), never a shortfall of 0
    assert "defence" not in out["importers"]["JPN"]["commodities"]["rare-earths"]["by_sector_p50"]


def test_a_scenario_with_two_commodities_and_a_stockpile_runs(tmp_path):
    path = tmp_path / "ga-ge-with-stock.yaml"
    path.write_text(
        "extends: cn-2024-12-ga-ge-sb-us-ban\n"
        "name: ga-ge-with-stock\n"
        "responses:\n"
        "  stockpiles:\n"
        "    - {holder: USA, commodity: germanium, stage: refining, tonnes: 2}\n"
    )
    out = run_json("simulate", str(path), "--samples", "40", "--no-save", "--no-explain")
    (stockpile,) = out["stockpiles"]
    assert stockpile["commodity"] == "germanium" and 0 < stockpile["released_t"]["p50"] <= 2.0
    assert out["importers"]["USA"]["stockpile_empty_month"] is not None

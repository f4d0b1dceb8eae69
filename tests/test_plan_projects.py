"""The project pipeline: cited, converted to the chain's basis, validated with clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from oresight.cli import app
from oresight.errors import InputError
from oresight.plan.projects import PLAN_COMMODITIES, load_projects, read_pipeline

CURATED = Path(__file__).resolve().parent.parent / "data/curated/projects"


def test_every_candidate_has_a_capacity_a_source_and_a_start(world):
    table = load_projects(candidates_only=True)
    assert len(table) > 40
    assert set(table["commodity"]) <= set(PLAN_COMMODITIES)
    assert (table["capacity_t"] > 0).all()
    assert (table["capacity_low"] <= table["capacity_t"]).all() and (
        table["capacity_t"] <= table["capacity_high"]
    ).all()
    assert table["start_year"].notna().all()
    registry = set(world.sources["id"])
    assert set(table["source"]) <= registry and set(table["capacity_source"]) <= registry


def test_conversions_follow_the_stated_factors():
    table = load_projects()
    row = table[(table["project"] == "mp-10x") & (table["commodity"] == "ndpr")].iloc[0]
    assert row["capacity_t"] == pytest.approx(8000 * 0.3294)  # 8,000 t magnets x 0.28 t NdPr / 0.850
    lynas = table[(table["project"] == "lynas-malaysia-hree-2") & (table["commodity"] == "terbium")].iloc[0]
    assert lynas["capacity_t"] == pytest.approx(50.0) and "share 0.01" in lynas["conversion"]
    # the magnet stage holds every element of a magnet, so a magnet plant has NdPr, Dy and Tb rows
    assert set(table.loc[table["project"] == "vulcan-magnets", "commodity"]) == {"ndpr", "dysprosium", "terbium"}


def test_missing_figures_stay_missing():
    table = load_projects()
    ucore = table[table["project"] == "ucore-louisiana"].iloc[0]
    assert pd.isna(ucore["capex_usd"])  # not given by the source: not zero
    assert table[table["project"] == "mp-mountain-pass-hree"]["commodity"].tolist() == [""]


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "projects"
    shutil.copytree(CURATED, folder)
    return folder


def test_a_bad_number_names_file_line_and_field(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "capacity.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",4440,", ",nan,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"capacity\.csv, line 4, field 'published'"):
        read_pipeline(folder)


def test_an_unknown_source_or_project_is_refused(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "capacity.csv"
    path.write_text(path.read_text(encoding="utf-8") + "nowhere,ndpr,oxide,10,,,t,,proj-mining-2025-aclara,\n")
    with pytest.raises(InputError, match="unknown project 'nowhere'"):
        read_pipeline(folder)
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "nowhere,ndpr,oxide,10,,,t,,proj-mining-2025-aclara,", "aclara-louisiana,ndpr,oxide,10,,,t,,proj-unknown,"
        )
    )
    with pytest.raises(InputError, match="source 'proj-unknown' is not defined"):
        read_pipeline(folder)


def test_cli_lists_projects_as_json_with_german_and_symbol_names():
    runner = CliRunner()
    result = runner.invoke(app, ["data", "projects", "--commodity", "Dy", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and {r["commodity"] for r in rows} == {"dysprosium"}
    assert all(r["source"] for r in rows)
    assert any(r["capex_usd"] is None for r in rows)  # not attested, not 0
    bad = runner.invoke(app, ["data", "projects", "--commodity", "cobalt"])
    assert bad.exit_code == 1 or "not a planned commodity" in str(bad.exception)


def test_the_world_delegates_to_the_pipeline(world):
    assert world.projects().equals(load_projects())

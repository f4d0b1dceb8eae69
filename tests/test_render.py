"""What the terminal shows: one --format mechanism for listing commands, tables that never break identifiers,
missing values that read as missing, JSON that is always valid, and the brief for an importer the stress test
cannot model."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from oresight.cli import app
from oresight.cli.render import MISSING_CELL, emit_json, rich_table

runner = CliRunner()

SCENARIO_NAMES = ["cn-2025-04-heavy-ree-controls", "cd-2025-cobalt-export-suspension", "n-minus-1"]


def rendered(table, width: int) -> str:
    out = Console(width=width, record=True, file=io.StringIO())
    out.print(table)
    return out.export_text()


def scenario_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": SCENARIO_NAMES,
            "event": ["2025-04-04", "2025-02-22", ""],
            "description": ["China adds seven heavy rare earths to its export licensing list " * 2] * 3,
            "shortfall": [1234.5, math.nan, 0.0],
        }
    )


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_identifiers_are_never_broken_at_any_width(width):
    text = rendered(rich_table(scenario_table(), width=width), width)
    for name in SCENARIO_NAMES:
        assert name in text  # whole, on one line
    assert max(len(line) for line in text.splitlines()) <= width


def test_columns_that_cannot_fit_are_named_in_the_caption():
    text = rendered(rich_table(scenario_table(), width=40), 40)
    assert "not shown at this width" in " ".join(text.split()) and "shortfall" in text


def test_a_missing_number_reads_as_missing_never_as_zero():
    text = rendered(rich_table(scenario_table(), columns=["name", "shortfall"], width=120), 120)
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in text.splitlines() if "│" in line}
    assert rows["cd-2025-cobalt-export-suspension"] == MISSING_CELL and rows["n-minus-1"] == "0"
    assert rows["cn-2025-04-heavy-ree-controls"] == "1,234"
    assert "not attested" in text


@settings(max_examples=25, deadline=None)
@given(st.recursive(st.floats() | st.integers() | st.text(max_size=5) | st.none(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=12))  # fmt: skip
def test_json_output_is_always_valid_json(data):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        emit_json(data)
    parsed = json.loads(out.getvalue(), parse_constant=lambda c: pytest.fail(f"bare {c} in the output"))
    assert parsed is None or isinstance(parsed, dict | list | float | int | str)


@pytest.mark.parametrize(
    "command",
    [["scenarios", "list"], ["runs", "list"], ["data", "list"], ["data", "sources"],
     ["data", "show", "kaolin"], ["data", "imports"], ["data", "problems"], ["data", "projects"],
     ["news", "events"], ["sweep", "list"]],
)  # fmt: skip
def test_every_listing_command_speaks_table_json_and_csv(command):
    as_json = runner.invoke(app, [*command, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    as_csv = runner.invoke(app, [*command, "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    frame = pd.read_csv(io.StringIO(as_csv.stdout))
    assert len(frame) == len(rows)
    if rows:
        assert set(frame.columns) == set(rows[0])
    if command[:2] == ["data", "show"]:  # kaolin is kaolin (it resolved to its group, clays, which has no output)
        assert {row["commodity"] for row in rows} == {"kaolin"} and frame["value"].notna().any()


@pytest.mark.parametrize(
    ("command", "refused"),
    [
        (["brief"], "csv"),
        (["plan"], "csv"),
        (["scenarios", "backtest"], "csv"),
        (["runs", "show", "no-such-run"], "parquet"),
        (["sweep", "report", "no-such-sweep"], "csv"),
    ],
)
def test_results_of_several_tables_offer_table_or_json_only(command, refused):
    """`plan --format csv` was offered in the help and then refused; `runs show --format parquet` printed a table."""
    result = runner.invoke(app, [*command, "--format", refused])
    message = re.sub(r"[\s│]+", " ", result.output)  # the error box wraps at the terminal's width
    assert result.exit_code == 2 and f"'{refused}' is not one of 'table', 'json'" in message


def test_stress_test_of_an_importer_the_simulator_cannot_model(world):
    """`brief --importer DE` crashed with KeyError 'shortfall_p5': the table now says why there are no figures."""
    from oresight.briefing import stress_test
    from oresight.cli import brief

    # Germany's use is now derived from its trade (apparent consumption); Liechtenstein has neither use nor trade
    test = stress_test(world, "LI+JP", samples=30)
    rows = test["table"].set_index("importer")
    assert rows.loc["LIE", "note"].startswith("not modelled") and math.isnan(rows.loc["LIE", "shortfall_p50"])
    assert rows.loc["JPN", "shortfall_p50"] > 0 and rows.loc["JPN", "note"] == ""
    with brief.console.capture() as shown:
        brief._render_stress(test)
    assert "not modelled" in shown.get() and "JPN" in shown.get()


def test_notes_and_explanations_never_print_an_exponent(world):
    """Large and small numbers in the simulator's notes and an assessment's explanation read as people write
    them (16,940 t/yr; 0.0000426), never 1.694e+04 or 4.26e-05."""
    from oresight.simulate.baseline import calibrate

    baseline = calibrate(world, "rare-earths", [world.tax.importer("JPN")], 2024)
    explained = CliRunner().invoke(app, ["assess", "rare-earths", "--importer", "JP", "--explain"])
    assert explained.exit_code == 0 and "largest contributions" in explained.output
    exponent = re.compile(r"\d[eE][+-]\d")
    assert [n for n in baseline.notes if exponent.search(n)] == []
    assert not exponent.search(explained.output)


def test_a_spaced_header_wraps_and_never_hides_its_column():
    """A header with spaces counted as one unbreakable word: at 80 columns `oresight simulate` left out the
    shortfall itself ("shortfall over horizon, P50 (P5 – P95)"), the one figure the table is for."""
    frame = pd.DataFrame(
        {
            "importer": ["USA", "JPN"],
            "commodity": ["rare-earths"] * 2,
            "stage": ["magnet"] * 2,
            "demand / month": ["786 t", "1,412 t"],
            "shortfall over horizon, P50 (P5 – P95)": ["312  (76.1 – 1,000) t", "255  (91.9 – 462) t"],
        }
    )
    text = rendered(rich_table(frame, width=80), 80)
    assert "not shown" not in text and "76.1 – 1,000" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_table_as_of_a_year_says_where_later_data_stand_in():
    """`assess --year 2022` listed 2023 and 2024 rows with no word (the as-of rule takes the earliest later year
    where nothing is older): the table's caption says so; JSON and CSV carry `year_note` per row."""
    result = runner.invoke(app, ["assess", "graphite", "--importer", "US", "--year", "2022"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "year 2024: later data stand in where no source gives 2022 or earlier" in " ".join(result.stdout.split())
    latest = runner.invoke(app, ["assess", "graphite", "--importer", "US"], env={"COLUMNS": "120"})
    assert "later data stand in" not in latest.stdout


def test_the_sweep_screen_reads_tonnes_and_dollars_without_an_exponent():
    """`sweep report` printed a shortfall of 29,080 t as "2.908e+04 t" (format ``,.4g``)."""
    from oresight.cli import sweep

    row = {
        "rank": 1, "commodity": "antimony", "kind": "export_restriction", "exporter": "CHN", "stage": "mining",
        "severity": 1.0, "duration_months": 12.0, "shortfall_share_mean": 0.5, "shortfall_share_p50": 0.5,
        "shortfall_share_p5": 0.4, "shortfall_share_p95": 0.6, "shortfall_t_p50": 29080.4, "unit": "t",
        "value_at_risk_usd_p50": None,
    }  # fmt: skip
    heat = {"commodities": [], "exporters": [], "values": []}
    found = {
        "sweep": "screen", "scenarios_finished": 1, "scenarios": 1, "notes": [],
        "importers": {"USA": {"top": [row], "expected_loss": [], "heat_map": heat, "not_modelled": []}},
    }  # fmt: skip
    with sweep.console.capture() as shown:
        sweep._render_screen(found)
    text = shown.get()
    assert "29,080 t" in text and "not attested" in text and not re.search(r"\de[+-]\d", text)

"""Sweeps in one process: sweep files, grid expansion, the simulator adapter, results on disk and the screen."""

from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from oresight.cli import app
from oresight.simulate import parse_scenario, simulate
from oresight.sweep import (
    SweepError,
    expand,
    list_sweep_runs,
    load_sweep,
    parse_sweep,
    read_results,
    run_sweep,
    sweep_from_text,
)
from oresight.sweep.grid import ID_FIELDS, calc_scenario_id
from oresight.sweep.screen import calc_heat_map, calc_top_disruptions, screen
from oresight.sweep.simulator import calibrate_chain, responses_for, run_disruptions, scenario_of

ISSUE_EXAMPLE = """\
name: screen
samples: 1000
horizon_months: 12
seed: 7
importers: [USA, JPN, EU]
grid:
  kind: export_restriction        # or production_outage
  commodities: all                # or a list
  exporters: top3                 # the top-k producers of each stage
  stages: all
  blocked: [0.25, 0.5, 1.0]
  duration_months: [3, 12]
"""


def small(**changes) -> dict:
    """A small sweep of two commodities: cheap enough to run in every test."""
    sweep = {
        "name": "small",
        "samples": 40,
        "horizon_months": 6,
        "seed": 3,
        "importers": ["USA", "JPN"],
        "batch_size": 3,
        "grid": {
            "kind": "export_restriction",
            "commodities": ["gallium", "rare-earths"],
            "exporters": "top2",
            "stages": ["refining", "magnet"],
            "blocked": [0.5, 1.0],
            "duration_months": [3],
        },
        "responses": {"rerouting": {"spare_capacity": {"dist": "triangular", "low": 0, "mode": 0.1, "high": 0.2}}},
    }
    sweep.update(changes)
    return sweep


@pytest.fixture(scope="module")
def reference(world, tmp_path_factory):
    """The small sweep run in this process: the results every other way of running it must reproduce."""
    out = tmp_path_factory.mktemp("sweep") / "small"
    run = run_sweep(parse_sweep(small()), out, world, workers=0, store=False)
    return out, run, read_results(out)


# -- sweep files ---------------------------------------------------------------------------------------------------
def test_the_issue_example_parses_and_expands_over_every_commodity_with_data(world, tmp_path):
    path = tmp_path / "screen.yaml"
    path.write_text(ISSUE_EXAMPLE)
    sweep = load_sweep(path)
    assert sweep.grid[0].top == 3 and sweep.grid[0].severities == [0.25, 0.5, 1.0]
    expansion = expand(sweep, world)
    cells = {(d.commodity, d.stage, d.exporter) for d in expansion.disruptions}
    assert len(expansion.disruptions) == len(cells) * 3 * 2
    assert len({c for c, _, _ in cells}) > 60
    assert ("gallium", "refining", "CHN") in cells and ("cobalt", "mining", "COD") in cells
    assert all(
        len(b.disruptions) <= sweep.batch_size and len({d.commodity for d in b.disruptions}) == 1
        for b in expansion.batches
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("grid: {kind: export_restriction, blocked: [0.5, 1.5], duration_months: [3]}",
         "grid.blocked[1] (line 3): Input should be less than or equal to 1"),
        ("grid: {kind: export_restriction, blocked: [.nan], duration_months: [3]}",
         "not a finite number: grid.blocked[0] (line 3)"),
        ("grid: {kind: production_outage, blocked: [0.5], duration_months: [3]}",
         "a production_outage grid gives 'lost', not 'blocked'"),
        ("grid: {kind: export_restriction, blocked: [0.5, 1], duration_months: [3], "
         "probabilities: {blocked: [0.5, 0.6]}}", "probabilities must sum to 1"),
        ("grid: {kind: export_restriction, blocked: [0.5, 1], duration_months: [3], probabilities: {}}",
         "probabilities.blocked: give one probability per value (2)"),
        ("grid: {kind: export_restriction, exporters: [], blocked: [1], duration_months: [3]}",
         "name at least one exporter"),
        ("grid: {kind: export_restriction, blocked: [1], duration_months: [3]}\nsamplez: 3",
         "samplez (line 4): unknown key"),
        ("grid: {kind: export_restriction, blocked: [1], duration_months: [3]}\nresponses: {rerouting: "
         "{spare_capacity: 2}}", "responses.rerouting[0].spare_capacity (line 4): must be a fraction"),
    ],
)  # fmt: skip
def test_bad_sweep_files_are_refused_naming_file_field_and_line(text, expected):
    with pytest.raises(SweepError) as caught:
        sweep_from_text("name: bad\nimporters: [USA]\n" + text, "bad.yaml")
    assert str(caught.value).startswith("bad.yaml: ")
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("grid", "field"),
    [
        ({"commodities": ["unobtainium"]}, "grid.commodities[0]"),
        ({"stages": ["smelting-ish"]}, "grid.stages[0]"),
        ({"exporters": ["Atlantis"]}, "grid.exporters[0]"),
        ({"exporters": ["EU"]}, "grid.exporters[0]"),
        ({"targets": ["Atlantis"]}, "grid.targets[0]"),
    ],
)
def test_names_the_world_does_not_know_are_refused_naming_the_field(world, grid, field):
    data = small()
    data["grid"] = {**data["grid"], **grid}
    with pytest.raises(SweepError, match=field.replace("[", r"\[").replace("]", r"\]")):
        expand(parse_sweep(data), world)


def test_german_names_and_aliases_resolve_like_english_ones(world):
    english = expand(parse_sweep(small()), world)
    data = small(importers=["Vereinigte Staaten", "Japan"])
    data["grid"] = {
        **data["grid"],
        "commodities": ["Gallium", "Seltene Erden"],
        "stages": ["Raffination und Verarbeitung", "Magnetherstellung"],
    }
    german = expand(parse_sweep(data), world)
    assert [d.id for d in german.disruptions] == [d.id for d in english.disruptions]
    assert [imp.label for imp in german.importers] == ["USA", "JPN"]


# -- grid expansion ---------------------------------------------------------------------------------------------------
def test_exporters_are_the_top_producers_of_each_stage(world):
    expansion = expand(parse_sweep(small()), world)
    for commodity, stage in {(d.commodity, d.stage) for d in expansion.disruptions}:
        top = [c for c, _ in world.chain(commodity).stage(stage).top(2)]
        assert sorted({d.exporter for d in expansion.disruptions if (d.commodity, d.stage) == (commodity, stage)}) == (
            sorted(top)
        )


def test_listed_exporters_are_screened_only_at_stages_where_they_produce(world):
    data = small()
    data["grid"] = {**data["grid"], "exporters": ["China", "Japan"], "stages": "all"}
    expansion = expand(parse_sweep(data), world)
    for commodity in ("gallium", "rare-earths"):
        for view in world.chain(commodity).stages:
            expected = {c for c in ("CHN", "JPN") if view.share_of(c) > 0}
            found = {d.exporter for d in expansion.disruptions if (d.commodity, d.stage) == (commodity, view.stage)}
            assert found == expected
    assert {d.exporter for d in expansion.disruptions} == {"CHN", "JPN"}


def test_ids_name_the_disruption_alone_and_seeds_follow_the_sweep_seed(world):
    first = expand(parse_sweep(small()), world)
    data = small(samples=900, seed=3, importers=["USA"])
    data["grid"] = {**data["grid"], "commodities": ["rare-earths", "gallium", "cobalt"]}
    wider = expand(parse_sweep(data), world)
    by_id = {d.id: d for d in wider.disruptions}
    assert all(d.id in by_id and by_id[d.id].seed == d.seed for d in first.disruptions)
    reseeded = expand(parse_sweep(small(seed=4)), world)
    assert [d.id for d in reseeded.disruptions] == [d.id for d in first.disruptions]
    assert not {d.seed for d in reseeded.disruptions} & {d.seed for d in first.disruptions}
    one = first.disruptions[0]
    assert one.id == calc_scenario_id({field: getattr(one, field) for field in ID_FIELDS})


def test_a_disruption_in_two_grids_is_screened_once(world):
    data = small()
    data["grid"] = [data["grid"], {**data["grid"], "blocked": [1.0, 0.75]}]
    expansion = expand(parse_sweep(data), world)
    ids = [d.id for d in expansion.disruptions]
    assert len(ids) == len(set(ids)) == len(expand(parse_sweep(small()), world).disruptions) * 3 // 2


def test_probabilities_multiply_event_chance_severity_and_duration(world):
    data = small()
    data["grid"] = {
        **data["grid"],
        "duration_months": [3, 12],
        "probabilities": {
            "exporters": {"China": 0.3, "default": 0.1},
            "blocked": [0.75, 0.25],
            "duration_months": [0.6, 0.4],
        },
    }
    for d in expand(parse_sweep(data), world).disruptions:
        chance = 0.3 if d.exporter == "CHN" else 0.1
        weight = (0.75 if d.severity == 0.5 else 0.25) * (0.6 if d.duration_months == 3 else 0.4)
        assert math.isclose(d.probability, chance * weight)
    assert all(math.isnan(d.probability) for d in expand(parse_sweep(small()), world).disruptions)


# -- the simulator adapter ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("commodity", ["gallium", "rare-earths", "cobalt"])
def test_a_sweep_row_is_what_oresight_simulate_reports_for_that_scenario(world, commodity):
    data = small(importers=["USA", "JPN", "EU"])
    data["grid"] = {**data["grid"], "commodities": [commodity], "stages": "all", "exporters": "top1"}
    sweep = parse_sweep(data)
    expansion = expand(sweep, world)
    baseline = calibrate_chain(world, commodity, sweep.importers, None, expansion.nodes[commodity])
    disruption = expansion.disruptions[-1]
    rows = run_disruptions(world, baseline, sweep, (disruption,))
    scenario = parse_scenario(scenario_of(sweep, disruption, responses_for(sweep, world, commodity)))
    summary = simulate(scenario, world).summary()
    for row in rows:
        entry = summary["importers"][row["importer"]]["commodities"][commodity]
        if entry.get("modelled") is False:
            assert not row["modelled"] and math.isnan(row["shortfall_share_p50"])
            continue
        assert row["modelled"] and row["unit"] == entry["unit"] and row["basis"] == entry["basis"]
        for stat in ("p5", "p50", "p95"):
            assert row[f"shortfall_t_{stat}"] == entry["shortfall_t"][stat]
            assert row[f"shortfall_share_{stat}"] == entry["shortfall_share"][stat]
            value = entry["value_at_risk_usd"]
            assert (
                math.isnan(row[f"value_at_risk_usd_{stat}"])
                if value is None
                else math.isclose(row[f"value_at_risk_usd_{stat}"], value[stat], rel_tol=1e-6, abs_tol=1e-3)
            )
        assert row["shortfall_t_p5"] <= row["shortfall_t_mean"] <= row["shortfall_t_p95"] or math.isclose(
            row["shortfall_t_p5"], row["shortfall_t_p95"]
        )
    assert any(row["modelled"] for row in rows)


def test_importers_without_demand_data_are_not_modelled_never_zero(world, tmp_path):
    # Mongolia has neither consumption nor gallium trade in the data (Japan's use is derived from its trade)
    data = small(importers=["USA", "MNG"])
    data["grid"] = {**data["grid"], "commodities": ["gallium"]}
    run_sweep(parse_sweep(data), tmp_path / "out", world, workers=0, store=False)
    frame = read_results(tmp_path / "out")
    mongolia = frame[(frame["importer"] == "MNG") & (frame["commodity"] == "gallium")]
    assert not mongolia.empty and not mongolia["modelled"].any()
    assert mongolia[["shortfall_t_p50", "shortfall_share_mean", "demand_t"]].isna().all().all()
    assert (mongolia["note"] == "no demand data for this importer").all()
    assert mongolia["value_at_risk_usd_p50"].isna().all()
    priced = frame[frame["modelled"] & (frame["commodity"] == "gallium")]  # gallium refining has a sourced price
    assert not priced.empty and (priced["value_at_risk_usd_p50"] >= 0).all()
    assert ((priced["value_at_risk_usd_p50"] > 0) == (priced["shortfall_t_p50"] > 0)).all()


FAST = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(
    commodity=st.sampled_from(["gallium", "cobalt", "graphite"]),
    severities=st.lists(st.sampled_from([0.1, 0.3, 0.6, 1.0]), min_size=2, max_size=2, unique=True).map(sorted),
    durations=st.lists(st.sampled_from([1, 3, 6]), min_size=2, max_size=2, unique=True).map(sorted),
)
def test_more_blocked_for_longer_never_means_less_shortfall(world, commodity, severities, durations):
    data = small(importers=["USA"], responses={"rerouting": {"spare_capacity": 0.1}})
    data["grid"] = {
        **data["grid"],
        "commodities": [commodity],
        "stages": "all",
        "exporters": "top1",
        "blocked": severities,
        "duration_months": durations,
    }
    sweep = parse_sweep(data)
    expansion = expand(sweep, world)
    baseline = calibrate_chain(world, commodity, sweep.importers, None, expansion.nodes[commodity])
    rows = pd.DataFrame(run_disruptions(world, baseline, sweep, tuple(expansion.disruptions)))
    for _, cell in rows.groupby(["stage", "exporter"]):
        grid = cell.pivot_table(index="severity", columns="duration_months", values="shortfall_share_mean")
        values = grid.to_numpy()
        assert (np.diff(values, axis=0) >= -1e-12).all() and (np.diff(values, axis=1) >= -1e-12).all()
        assert ((values >= 0) & (values <= 1 + 1e-12)).all()


# -- results on disk ------------------------------------------------------------------------------------------------
def test_results_are_hive_partitioned_parquet_one_row_per_scenario_and_importer(reference):
    out, run, frame = reference
    assert run.rows == len(frame) == run.scenarios * 2 and run.rows_written == run.rows
    assert sorted(p.name for p in out.iterdir()) == ["commodity=gallium", "commodity=rare-earths", "sweep.json"]
    rare_earths = frame[frame["commodity"] == "rare-earths"]
    query = (
        f"SELECT count(*), count(DISTINCT scenario) FROM read_parquet('{out}/*/*.parquet', hive_partitioning = true) "
        "WHERE commodity = 'rare-earths'"
    )
    assert duckdb.connect().execute(query).fetchone() == (len(rare_earths), rare_earths["scenario"].nunique())
    wanted = {"scenario", "kind", "stage", "exporter", "severity", "duration_months", "importer", "shortfall_share_p50"}
    assert wanted | {f"shortfall_t_{q}" for q in ("p5", "p50", "p95")} | {"value_at_risk_usd_p50"} <= set(frame)


def test_a_rerun_skips_finished_partitions_and_gives_the_same_results(reference, world, tmp_path):
    out, _, frame = reference
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in out.rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(out)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    removed = sorted(copy.glob("commodity=rare-earths/part-*.parquet"))[0]
    removed_rows = len(pd.read_parquet(removed))
    removed.unlink()
    seen = []
    resumed = run_sweep(parse_sweep(small()), copy, world, workers=0, store=False, progress=lambda d, t: seen.append(d))
    assert resumed.rows_written == removed_rows and resumed.resumed == resumed.batches - 1
    assert seen[0] == resumed.scenarios - removed_rows // 2 and seen[-1] == resumed.scenarios
    pd.testing.assert_frame_equal(read_results(copy), frame)
    again = run_sweep(parse_sweep(small()), copy, world, workers=0, store=False)
    assert again.rows_written == 0 and again.resumed == again.batches


def test_a_folder_of_another_sweep_or_of_other_files_is_refused(reference, world, tmp_path):
    out, _, frame = reference
    with pytest.raises(SweepError, match="holds results of another sweep"):
        run_sweep(parse_sweep(small(samples=41)), out, world, workers=0, store=False)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="is not empty and holds no sweep results"):
        run_sweep(parse_sweep(small()), tmp_path, world, workers=0, store=False)
    with pytest.raises(SweepError, match="is a file, not a folder"):
        run_sweep(parse_sweep(small()), tmp_path / "notes.txt", world, workers=0, store=False)
    with pytest.raises(SweepError, match="cannot make the results folder"):
        run_sweep(parse_sweep(small()), tmp_path / "notes.txt" / "out", world, workers=0, store=False)
    pd.testing.assert_frame_equal(read_results(out), frame)


def test_each_run_is_recorded_in_the_store(world, tmp_path, isolated_home):
    sweep = parse_sweep(small(grid={**small()["grid"], "commodities": ["gallium"]}))
    run = run_sweep(sweep, tmp_path / "out", world, workers=0)
    runs = list_sweep_runs()
    assert runs["id"].tolist() == [run.id]
    assert runs.loc[0, "scenarios"] == run.scenarios and runs.loc[0, "rows"] == run.rows
    assert runs.loc[0, "data_version"] == world.data_version and runs.loc[0, "out_dir"] == str(run.out)
    listed = CliRunner().invoke(app, ["sweep", "list", "--format", "json"])
    assert listed.exit_code == 0 and [r["id"] for r in json.loads(listed.stdout)] == [run.id]
    table = CliRunner().invoke(app, ["sweep", "list"])
    assert table.exit_code == 0 and run.id in table.stdout


# -- the screen ----------------------------------------------------------------------------------------------------
def test_the_screen_ranks_each_importers_most_damaging_disruptions(reference, world):
    out, _, frame = reference
    found = screen(out, world.tax, top=3)
    usa = found["importers"]["USA"]["top"]
    shares = [row["shortfall_share_mean"] for row in usa]
    assert len(usa) == 3 and shares == sorted(shares, reverse=True) and [r["rank"] for r in usa] == [1, 2, 3]
    best = frame[(frame["importer"] == "USA") & frame["modelled"]]["shortfall_share_mean"].max()
    assert math.isclose(shares[0], best)
    japan = screen(out, world.tax, importer="Japan")["importers"]
    # Japan's gallium demand is derived from its trade (apparent consumption): it is modelled for both
    assert list(japan) == ["JPN"] and japan["JPN"]["top"] and not japan["JPN"]["not_modelled"]
    assert {row["commodity"] for row in japan["JPN"]["top"]} <= {"gallium", "rare-earths"}
    with pytest.raises(SweepError, match="did not study DEU"):
        screen(out, world.tax, importer="Germany")


def test_the_heat_map_holds_the_worst_disruption_of_each_commodity_and_exporter(reference):
    _, _, frame = reference
    matrix = calc_heat_map(frame, "USA")
    usa = frame[(frame["importer"] == "USA") & frame["modelled"]]
    for (commodity, exporter), cell in usa.groupby(["commodity", "exporter"]):
        assert math.isclose(matrix.loc[commodity, exporter], cell["shortfall_share_mean"].max())
    assert matrix.max(axis=1).is_monotonic_decreasing
    assert sorted(calc_heat_map(frame, "JPN").index) == ["gallium", "rare-earths"]


def test_expected_loss_appears_where_probabilities_are_given(world, tmp_path):
    data = small()
    data["grid"] = {
        **data["grid"],
        "probabilities": {"exporters": {"CHN": 0.2, "default": 0.05}, "blocked": [0.7, 0.3]},
    }
    out = tmp_path / "weighted"
    run_sweep(parse_sweep(data), out, world, workers=0, store=False)
    frame = read_results(out)
    loss = screen(out, world.tax)["importers"]["USA"]["expected_loss"]
    assert loss and all(row["chance"] == (0.2 if row["exporter"] == "CHN" else 0.05) for row in loss)
    first = loss[0]
    cell = frame[
        (frame["importer"] == "USA")
        & (frame["commodity"] == first["commodity"])
        & (frame["stage"] == first["stage"])
        & (frame["exporter"] == first["exporter"])
    ]
    assert math.isclose(first["expected_shortfall_share"], (cell["probability"] * cell["shortfall_share_mean"]).sum())
    assert math.isclose(first["expected_var_usd"], (cell["probability"] * cell["value_at_risk_usd_mean"]).sum())
    assert calc_top_disruptions(frame, 1)["importer"].tolist() == ["JPN", "USA"]

"""oresight.assess and oresight assess: the rankings, the scores and their explanation."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import oresight
from oresight.cli import app
from oresight.errors import UnknownNameError

runner = CliRunner()


@pytest.fixture(scope="module")
def us_2024(world):
    return oresight.assess(world, importer="US", year=2024)


def test_rare_earth_mining_hhi_and_downstream_more_concentrated(us_2024):
    ree = us_2024[us_2024["commodity"] == "rare-earths"].set_index("stage")
    assert 0.50 <= ree.loc["mining", "hhi"] <= 0.54
    assert ree.loc["refining", "hhi"] > ree.loc["mining", "hhi"]
    assert ree.loc["magnet", "hhi"] > ree.loc["mining", "hhi"]
    assert ree.loc["mining", "top_country"] == "CHN"
    assert bool(ree.loc["refining", "bottleneck"])


def test_every_row_has_metrics_in_range_and_a_source(us_2024):
    assert us_2024["hhi"].between(0, 1).all()
    assert us_2024["n_minus_1"].between(0, 1).all()
    assert (us_2024["top_share"] <= us_2024["top3_share"] + 1e-12).all()
    assert (us_2024["source"].astype(str).str.len() > 0).all()
    scored = us_2024.dropna(subset=["eu"])
    assert (scored["eu_low"] <= scored["eu"] + 1e-12).all() and (scored["eu"] <= scored["eu_high"] + 1e-12).all()


def test_ranges_give_score_intervals(us_2024):
    magnet = us_2024[(us_2024["commodity"] == "rare-earths") & (us_2024["stage"] == "magnet")].iloc[0]
    assert magnet["eu_low"] < magnet["eu_high"]  # the published magnet shares are a range
    refining = us_2024[(us_2024["commodity"] == "rare-earths") & (us_2024["stage"] == "refining")].iloc[0]
    assert refining["import_reliance"] == pytest.approx(0.53)  # MCS 2026: 2024 NIR of compounds and metals


def test_us_net_exporter_of_concentrates_has_zero_usgs_trade_exposure(us_2024):
    mining = us_2024[(us_2024["commodity"] == "rare-earths") & (us_2024["stage"] == "mining")].iloc[0]
    assert mining["import_reliance"] == 0.0 and mining["usgs"] == 0.0


def test_bloc_importer_members_share_and_third_country(world):
    table = oresight.assess(world, importer="US+JP", year=2025, commodities=["rare-earths"])
    magnet = table.set_index("stage").loc["magnet"]
    assert magnet["top_third_country"] == "CHN"
    assert magnet["importer_share"] > 0.05  # Japan makes magnets (about 10% in 2025, UBS)
    earlier = oresight.assess(world, importer="US+JP", year=2024, commodities=["rare-earths"]).set_index("stage")
    assert np.isnan(earlier.loc["magnet", "importer_share"])  # 2021-24 sources only bound Japan (< 9%): not 0
    assert np.isnan(magnet["import_reliance"])  # Japan's import reliance is not attested: no invented number


def test_eu_importer_uses_the_eu_import_reliance(world):
    gallium = oresight.assess(world, importer="EU", year=2024, commodities=["gallium"]).iloc[0]
    assert gallium["import_reliance"] == pytest.approx(0.98)


def test_unknown_method_and_commodity(world):
    with pytest.raises(UnknownNameError):
        oresight.assess(world, importer="US", methods=["magic"])
    with pytest.raises(UnknownNameError, match="did you mean"):
        oresight.assess(world, importer="US", commodities=["rare eaths"])


def test_explain_has_factors_contributions_and_sources(world):
    detail = oresight.explain(world, "graphite", importer="US", year=2022, stage="mining")
    stage = detail["stages"][0]
    geopolrisk = stage["methods"]["geopolrisk"]
    assert geopolrisk["score"] == pytest.approx(0.274974, abs=1e-6)
    assert "CHN" in geopolrisk["contributions"]
    assert sum(geopolrisk["contributions"].values()) == pytest.approx(geopolrisk["score"], rel=1e-6)
    assert geopolrisk["version"].startswith("geopolrisk")
    ids = {s["id"] for s in detail["sources"]}
    assert {"wmd-2024", "geopolrisk-testcase-usa-2022"} <= ids
    eu = stage["methods"]["eu"]  # factors are numbers (the web formats them); the supply basis is a note
    assert all(v is None or isinstance(v, int | float) for v in eu["factors"].values())
    assert "supply basis: GS+EU" in eu["notes"]


def test_cli_geopolrisk_reproduction_json():
    result = runner.invoke(
        app,
        [
            "assess",
            "--method",
            "geopolrisk",
            "--importer",
            "US",
            "--year",
            "2022",
            "nickel",
            "manganese",
            "graphite",
            "--format",
            "json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rows = {(r["commodity"], r["stage"]): r for r in json.loads(result.stdout)}
    assert rows[("graphite", "mining")]["hhi"] == pytest.approx(0.470663, abs=1e-6)
    assert rows[("graphite", "mining")]["geopolrisk"] == pytest.approx(0.274974, abs=1e-6)
    assert rows[("manganese", "mining")]["geopolrisk"] == pytest.approx(0.110956, abs=1e-6)
    assert rows[("nickel", "mining")]["geopolrisk"] == pytest.approx(0.000323, abs=1e-6)
    for row in rows.values():
        assert {"commodity", "stage", "year", "hhi", "top_country", "top_share", "n_minus_1", "geopolrisk"} <= set(row)


def test_cli_all_methods_json_keys_and_ree():
    result = runner.invoke(
        app, ["assess", "--importer", "US", "--year", "2024", "--format", "json"], catch_exceptions=False
    )
    rows = json.loads(result.stdout)
    assert {"geopolrisk", "eu", "usgs"} <= set(rows[0])
    ree = {r["stage"]: r for r in rows if r["commodity"] == "rare-earths"}
    assert 0.50 <= ree["mining"]["hhi"] <= 0.54
    assert ree["refining"]["hhi"] > ree["mining"]["hhi"] and ree["magnet"]["hhi"] > ree["mining"]["hhi"]


def test_cli_explain_table_and_parquet(tmp_path):
    result = runner.invoke(app, ["assess", "rare-earths", "--importer", "US", "--explain"], catch_exceptions=False)
    assert result.exit_code == 0 and "Sources" in result.stdout and "EU supply risk" in result.stdout
    out = tmp_path / "a.parquet"
    result = runner.invoke(app, ["assess", "cobalt", "--format", "parquet", "--output", str(out)])
    assert result.exit_code == 0 and out.exists()
    import pandas as pd

    assert set(pd.read_parquet(out)["commodity"]) == {"cobalt"}


def test_cli_parquet_without_output_is_a_clear_error():
    result = runner.invoke(app, ["assess", "cobalt", "--format", "parquet"])
    assert result.exit_code != 0 and "--output" in str(result.exception)

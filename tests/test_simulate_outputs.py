"""What a simulation reports: missing stays missing, units and totals per commodity, the summary's keys, value at
risk, first short months, paired comparisons, the baseline command, inventories and prices by region."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from oresight.cli import app
from oresight.simulate import parse_scenario, simulate
from oresight.simulate.runs import results_frame

runner = CliRunner()


def toy(shocks=None, responses=None, **extra):
    shocks = shocks or [
        {
            "kind": "export_restriction",
            "exporter": "CHN",
            "commodity": "cobalt",
            "stages": ["refining"],
            "targets": ["USA"],
            "blocked": 1.0,
            "duration_months": 6,
        }
    ]
    data = {"name": "toy", "importers": ["USA", "JPN"], "samples": 6, "horizon_months": 8, "seed": 3}
    return parse_scenario({**data, "shocks": shocks, "responses": responses or {}, **extra})


def test_an_importer_the_data_cannot_model_is_missing_and_changes_nobody_else(toy_world):
    plain = simulate(toy(), toy_world)
    with_eu = simulate(toy(importers=["USA", "JPN", "EU"]), toy_world)
    usa = plain.dataset["shortfall"].sel(importer="USA")
    assert usa.equals(with_eu.dataset["shortfall"].sel(importer="USA"))
    assert bool(with_eu.dataset["shortfall"].sel(importer="EU").isnull().all())
    entry = with_eu.summary()["importers"]["EU"]
    assert entry["modelled"] is False and "no consumption or trade data" in entry["commodities"]["cobalt"]["note"]
    frame = results_frame(with_eu.dataset)
    assert "EU" not in set(frame["importer"])
    # Japan has demand only at refining: no zero rows at mining either
    assert set(frame[frame["importer"] == "JPN"]["stage"]) == {"refining"}


def test_summary_has_the_keys_of_the_issue(toy_world):
    summary = simulate(toy(), toy_world).summary()
    usa = summary["importers"]["USA"]
    cobalt = usa["commodities"]["cobalt"]
    assert set(cobalt["demand_t"]) == {"p5", "p50", "p95"} and cobalt["demand_t"]["p50"] == pytest.approx(8 * 15 / 12)
    assert cobalt["first_short_month"] == {"p5": 1.0, "p50": 1.0, "p95": 1.0}
    assert usa["commodities"]["cobalt"]["value_at_risk_usd"] is None  # the toy World has no price: not attested
    assert summary["importers"]["JPN"]["first_short_month"] is None  # never short: null, not a month
    peaks = summary["price_index_peak"]
    assert {"cobalt/refining", "cobalt/refining/china", "cobalt/refining/outside-china"} <= set(peaks)
    assert peaks["cobalt/refining/outside-china"]["p50"] > 1 >= peaks["cobalt/refining/china"]["p50"]


def test_inventories_delay_the_first_short_month(toy_world):
    stocks = [{"commodity": "cobalt", "stages": ["refining"], "holder": "USA", "weeks_of_cover": 3}]
    sim = simulate(toy(inventories=stocks), toy_world)
    usa = sim.summary()["importers"]["USA"]
    assert usa["first_short_month"]["p50"] == 3  # 3 weeks of all its use cover 2.3 months of the Chinese share
    short = sim.dataset["shortfall"].sel(commodity="cobalt", importer="USA", stage="refining").values[:, 0]
    stock = 3 / (52 / 12) * 15 / 12
    assert short[:2].max() == 0 and short[2] == pytest.approx(3 * 4.5 / 12 - stock)
    assert short[3:6] == pytest.approx([4.5 / 12] * 3)
    sim.check_mass_balance()


def test_a_restriction_reaches_buyers_after_the_transit_time(toy_world):
    transit = [{"commodity": "cobalt", "stages": ["refining"], "transit_weeks": 52 / 12}]
    sim = simulate(toy(inventories=transit), toy_world)
    short = sim.dataset["shortfall"].sel(commodity="cobalt", importer="USA", stage="refining").values[:, 0]
    assert short[0] == 0 and short[1] == pytest.approx(4.5 / 12) and short[6] == pytest.approx(4.5 / 12)


def test_bloc_demand_is_its_members_demand(world):
    from oresight.simulate.baseline import calibrate

    tax = world.tax
    apart = calibrate(world, "rare-earths", [tax.importer("USA"), tax.importer("JPN")], 2024)
    bloc = calibrate(world, "rare-earths", [tax.importer("US+JP")], 2024)
    k = bloc.stage_index("magnet")
    members = apart.final_demand[k, apart.index("USA")] + apart.final_demand[k, apart.index("JPN")]
    assert bloc.final_demand[k, bloc.index("US+JP")] == pytest.approx(members, rel=0.02)


def test_a_sector_no_source_gives_for_an_importer_is_not_attested(world):
    from oresight.simulate.baseline import calibrate

    baseline = calibrate(world, "rare-earths", [world.tax.importer("USA"), world.tax.importer("JPN")], 2024)
    k, g = baseline.stage_index("magnet"), baseline.sectors.index("defence")
    usa, jpn = baseline.importers.index("USA"), baseline.importers.index("JPN")
    assert baseline.sector_share[k, usa, g] > 0  # CRS gives the US defence share
    assert np.isnan(baseline.sector_share[k, jpn, g])  # nobody gives Japan's: its use stays in "other"
    assert np.nansum(baseline.sector_share[k, jpn]) == pytest.approx(1.0)


def test_units_and_basis_match_after_conversion(world):
    from oresight.simulate.baseline import calibrate

    baseline = calibrate(world, "gallium", [world.tax.importer("USA")], 2024)
    assert baseline.units == ("t",) and baseline.bases[0].startswith("t Ga")
    assert not any("e+0" in note for note in baseline.notes)


def test_us_gallium_imports_follow_the_published_import_shares(world):
    """December 2024: China supplied about a fifth of US gallium imports; the rest came through other countries."""
    from oresight.simulate.baseline import calibrate

    baseline = calibrate(world, "gallium", [world.tax.importer("USA")], 2024)
    usa = baseline.index("USA")
    supplied = baseline.imports[0, usa] + baseline.reexports[0, usa]
    assert supplied[baseline.index("CHN")] / supplied.sum() == pytest.approx(0.18, abs=0.02)


def test_variants_are_paired_on_the_same_draws(toy_world):
    stock = {"stockpiles": [{"holder": "USA", "commodity": "cobalt", "stage": "refining", "tonnes": 1.0}]}
    blocked = {"dist": "uniform", "low": 0.3, "high": 1.0}
    shocks = [{**toy().shocks[0].model_dump(mode="json", exclude_none=True), "blocked": blocked}]
    scenario = toy(shocks, variants={"stock": {"responses": {**stock}}})
    scenario.variants["stock"]["responses"]["stockpiles"][0]["cost_usd"] = 1000.0
    sim = simulate(scenario, toy_world)
    (comparison,) = sim.summary()["comparisons"]
    usa = comparison["importers"]["USA"]["cobalt"]
    assert usa["share_of_samples_worse"] == 0 and usa["avoided_t"]["p5"] == pytest.approx(1.0)
    assert usa["cost_per_tonne_avoided_usd"]["p50"] == pytest.approx(1000.0)
    assert comparison["variant"] == "toy-stock"


def test_a_stockpile_that_covers_the_shortage_shows_what_it_released(tmp_path):
    path = tmp_path / "covered.yaml"
    path.write_text(
        "extends: cn-2024-12-ga-ge-sb-us-ban\nname: covered\n"
        "shocks:\n  - {kind: export_restriction, exporter: CHN, commodity: gallium, targets: [USA], blocked: 0.85,"
        " duration_months: 6}\n"
        "responses:\n  stockpiles:\n    - {holder: USA, commodity: gallium, stage: refining, tonnes: 10}\n"
        # without users' own stocks, which would otherwise cover this shortage before the stockpile is drawn
        "inventories: []\n"
    )
    result = runner.invoke(app, ["simulate", str(path), "--samples", "20", "--no-save", "--no-explain"])
    assert result.exit_code == 0, result.output
    assert "released" in result.stdout and "never" in result.stdout
    out = json.loads(
        runner.invoke(
            app, ["simulate", str(path), "--samples", "20", "--no-save", "--no-explain", "--format", "json"]
        ).stdout
    )
    (stockpile,) = out["stockpiles"]
    usa = out["importers"]["USA"]["commodities"]["gallium"]
    assert usa["shortfall_t"]["p50"] == 0 and stockpile["released_t"]["p50"] > 0.5
    # Japan's gallium use is derived from its trade (apparent consumption), so it is modelled
    assert out["importers"]["JPN"]["modelled"] is True


def test_baseline_command_shows_stages_importers_and_sources():
    result = runner.invoke(app, ["simulate", "baseline", "gallium", "--importer", "US", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["commodity"] == "gallium" and out["sources"]
    usa = next(row for row in out["stages"] if row["node"] == "USA")
    assert usa["final_demand_t"] > 0 and "CHN" in usa["suppliers"]
    missing = runner.invoke(app, ["simulate", "baseline"])
    assert missing.exit_code != 0 and "name a commodity" in str(missing.exception)


def test_value_at_risk_is_shortfall_times_the_published_price(world):
    scenario = parse_scenario(
        {
            "name": "ga",
            "importers": ["USA"],
            "samples": 20,
            "horizon_months": 6,
            "base_year": 2024,
            "shocks": [
                {
                    "kind": "export_restriction",
                    "exporter": "CHN",
                    "commodity": "gallium",
                    "targets": ["USA"],
                    "blocked": 1,
                }
            ],
        }
    )
    sim = simulate(scenario, world)
    gallium = sim.summary()["importers"]["USA"]["commodities"]["gallium"]
    price = float(sim.dataset["price_usd_per_t"].sel(commodity="gallium", stage="refining"))
    assert price == pytest.approx(439_000)  # USGS MCS 2026: average unit value of US imports, 2024
    assert gallium["value_at_risk_usd"]["p50"] == pytest.approx(gallium["shortfall_t"]["p50"] * price, rel=1e-6)
    assert np.isfinite(sim.summary()["importers"]["USA"]["value_at_risk_usd"]["p50"])

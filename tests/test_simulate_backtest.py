"""Backtests of the library against what happened, and the rare-earth chain by element they rest on."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from oresight.cli import app
from oresight.simulate import parse_scenario, simulate
from oresight.simulate.backtest import (
    Indicator,
    backtest_names,
    indicator_row,
    load_backtest,
    not_attested,
    simulated_value,
)
from oresight.simulate.scenario import library_names, load_scenario

runner = CliRunner()


def test_every_backtest_names_a_library_event_and_cites_each_observation():
    names = backtest_names()
    assert len(names) >= 6 and set(names) <= set(library_names())
    indicators = [i for name in names for i in load_backtest(name).indicators]
    assert len(indicators) >= 15
    for name in names:
        spec = load_backtest(name)
        assert spec.scenario == name and load_scenario(name).event is not None
        for indicator in spec.indicators:
            assert indicator.low <= indicator.observed <= indicator.high, indicator.name
            assert indicator.source.url.startswith("http") and indicator.source.publisher


def toy_run(toy_world, **extra):
    shock = {
        "kind": "export_restriction",
        "exporter": "CHN",
        "commodity": "cobalt",
        "stages": ["refining"],
        "targets": ["USA"],
        "blocked": 1.0,
        "duration_months": 3,
    }
    data = {"name": "toy", "importers": ["USA", "JPN"], "samples": 4, "horizon_months": 6, "seed": 1}
    return simulate(parse_scenario({**data, "shocks": [shock], **extra}), toy_world)


def indicator(**fields):
    base = {"name": "x", "commodity": "cobalt", "observed": 0, "low": -1, "high": 1}
    source = {"publisher": "p", "title": "t", "url": "https://example.org/a"}
    return Indicator.model_validate({**base, "source": source, **fields})


def test_indicators_are_computed_from_the_simulation(toy_world):
    ds = toy_run(toy_world).dataset
    # China ships 100 t a year, 4.5 of them to the US: the US part is withheld for three months
    exports = indicator(metric="export_change", stage="refining", exporter="CHN", month=2)
    assert simulated_value(ds, exports) == pytest.approx(-4.5 / 100)
    first = indicator(metric="first_short_month", importer="USA")
    assert simulated_value(ds, first) == 1
    never = indicator(metric="first_short_month", importer="JPN")
    assert simulated_value(ds, never) == 99  # never short counts as month 99
    share = indicator(metric="shortfall_share", importer="USA", months=[1, 3])
    assert simulated_value(ds, share) == pytest.approx(4.5 / 15)
    outside = indicator(metric="price_peak", stage="refining", region="outside-china")
    inside = indicator(metric="price_peak", stage="refining", region="china")
    assert simulated_value(ds, outside) > 1 >= simulated_value(ds, inside)
    assert np.isnan(simulated_value(ds, indicator(metric="price_peak", stage="refining", region="mars")))
    assert np.isnan(simulated_value(ds, indicator(metric="price_peak", commodity="nickel", stage="refining")))


def test_an_indicator_set_against_a_flow_the_baseline_lacks_is_not_attested_not_nan(toy_world):
    ds = toy_run(toy_world).dataset
    flowing = indicator(metric="import_change", stage="refining", importer="JPN", exporter="CHN", month=2)
    assert not_attested(ds, flowing) == "" and indicator_row("toy", flowing, ds)["attested"]
    # a baseline in which Japan buys no refined cobalt from China: a change against nothing means nothing
    lacking = ds.copy()
    lacking["baseline_exports_to"] = ds["baseline_exports_to"].where(ds["importer"] != "JPN", 0.0)
    assert "the baseline has no imports of JPN from CHN at stage refining" in not_attested(lacking, flowing)
    assert np.isnan(simulated_value(lacking, flowing))
    row = indicator_row("toy", flowing, lacking)
    assert row["simulated"] is None and row["pass"] is False and row["attested"] is False
    assert row["note"].startswith("not attested: the baseline has no imports of JPN from CHN")
    assert "no commodity nickel" in not_attested(ds, indicator(metric="price_peak", commodity="nickel", stage="x"))


def test_backtest_command_prints_the_indicators_as_json():
    result = runner.invoke(
        app, ["scenarios", "backtest", "cn-2026-01-japan-dual-use-ban", "--samples", "20", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(
        list(row) == ["scenario", "indicator", "observed", "low", "high", "simulated", "pass", "source"] for row in rows
    )
    assert all(isinstance(row["pass"], bool) and "http" in row["source"] for row in rows)
    table = runner.invoke(app, ["scenarios", "backtest", "cn-2026-01-japan-dual-use-ban", "--samples", "20"])
    assert table.exit_code == 0 and "within their bands" in table.stdout


# -- the chain by element -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def elements(world):
    from oresight.simulate.elements import calibrate_elements

    tax = world.tax
    return calibrate_elements(world, [tax.importer("USA"), tax.importer("JPN")], 2024)


def test_the_rare_earth_chain_by_element_joins_three_lanes_at_the_magnet(elements):
    elements.check_balance()
    keys = [elements.key(k) for k in range(len(elements.stages))]
    assert keys[-1] == "rare-earths/magnet" and "dysprosium/refining" in keys and "ndpr/metal" in keys
    magnet = len(keys) - 1
    lanes = np.flatnonzero(elements.inputs[magnet])
    assert [elements.materials[k] for k in lanes] == ["ndpr", "dysprosium", "terbium"]
    # Dy separated: China's 2,580 t a year (SMM); a tonne of magnet takes far less Dy metal than the 4-8% grades
    dy = keys.index("dysprosium/refining")
    assert elements.production[dy].sum() * 12 == pytest.approx(2580)
    assert 0 < elements.inputs[magnet, keys.index("dysprosium/metal")] < 0.04
    # Myanmar mines about half the heavy rare earths, China separates all of the dysprosium
    mining = keys.index("dysprosium/mining")
    assert elements.production[mining, elements.index("MMR")] / elements.production[mining].sum() == pytest.approx(0.4)
    assert elements.production[dy, elements.index("CHN")] / elements.production[dy].sum() == pytest.approx(1.0)


def test_a_heavy_rare_earth_shock_hits_dysprosium_and_terbium_not_ndpr(world):
    scenario = parse_scenario(
        {
            "name": "heavy",
            "importers": ["USA", "JPN"],
            "samples": 20,
            "horizon_months": 8,
            "base_year": 2024,
            "shocks": [
                {
                    "kind": "export_restriction",
                    "exporter": "CHN",
                    "commodity": "heavy-rare-earths",
                    "stages": ["refining", "metal"],
                    "blocked": 0.9,
                    "duration_months": 6,
                }
            ],
        }
    )
    sim = simulate(scenario, world)
    sim.check_mass_balance()
    peaks = sim.summary()["price_index_peak"]
    assert peaks["dysprosium/metal/outside-china"]["p50"] > 1.5 and peaks["terbium/metal/outside-china"]["p50"] > 1.5
    assert peaks["ndpr/metal"]["p50"] == pytest.approx(1.0)
    # magnets outside China lack Dy and Tb, so the magnet makers there (Japan's among them) make fewer; Japan
    # exports most of its own and buys most of what it uses, so what it lacks China's spare capacity can fill
    magnets = sim.dataset["production"].sel(commodity="rare-earths", stage="magnet").median("sample")
    assert float(magnets.sel(month=[4, 5, 6]).mean()) < 0.95 * float(magnets.sel(month=1))


def test_simulate_takes_an_element_as_the_commodity():
    args = ["n-minus-1", "--set", "commodity=dysprosium", "--set", "stage=refining", "--samples", "20"]
    result = runner.invoke(app, ["simulate", *args, "--no-save", "--no-explain", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["price_index_peak"]["dysprosium/refining"]["p50"] > 1

"""Calibration of the simulator's baseline from the World: volumes, coefficients, demand, flows, notes."""

import numpy as np
import pytest

from oresight.errors import DataNotAttestedError
from oresight.simulate.baseline import calc_ras, calibrate


@pytest.fixture(scope="module")
def toy(toy_world):
    tax = toy_world.tax
    return calibrate(toy_world, "cobalt", [tax.importer("USA"), tax.importer("JPN")], 2024)


def yearly(baseline, array, stage, node):
    return array[baseline.stage_index(stage), baseline.index(node)] * 12


def test_production_is_share_times_world_output_with_row_as_the_rest(toy):
    assert yearly(toy, toy.production, "mining", "COD") == pytest.approx(180)
    assert yearly(toy, toy.production, "mining", "ROW") == pytest.approx(10)
    assert yearly(toy, toy.production, "refining", "ROW") == pytest.approx(20)
    assert toy.production.sum(axis=1) * 12 == pytest.approx([240, 220])


def test_without_stated_coefficients_all_mine_output_feeds_refining(toy):
    assert toy.coefficient[1] == pytest.approx(240 / 220)
    assert toy.intermediate[0].sum() * 12 == pytest.approx(240)
    assert toy.content.tolist() == pytest.approx([1.0, 240 / 220])


def test_final_demand_from_consumption_exports_and_residual(toy):
    assert yearly(toy, toy.final_demand, "refining", "USA") == pytest.approx(15)  # stage-less consumption
    assert yearly(toy, toy.final_demand, "refining", "JPN") == pytest.approx(30)
    assert yearly(toy, toy.final_demand, "refining", "CHN") == pytest.approx(70)  # 170 made, 100 exported
    assert yearly(toy, toy.final_demand, "refining", "ROW") == pytest.approx(220 - 15 - 30 - 70)


def test_published_import_shares_are_honoured(toy):
    k = toy.stage_index("refining")
    usa = toy.imports[k, toy.index("USA")] * 12
    assert usa[toy.index("FIN")] == pytest.approx(7.5) and usa[toy.index("JPN")] == pytest.approx(3.0)
    assert usa[toy.index("CHN")] == pytest.approx(4.5)


def test_flows_balance_production_and_use(toy):
    toy.check_balance()
    supplied = toy.own + toy.imports.sum(axis=2)
    assert np.allclose(supplied, toy.use)


def test_notes_say_where_demand_came_from(toy):
    assert any("USA refining: demand 15 t/yr from consumption" in n for n in toy.notes)
    assert any("CHN refining: uses its output less reported exports" in n for n in toy.notes)


def test_importer_without_data_is_left_unmodelled_with_a_note(toy_world, toy):
    tax = toy_world.tax
    baseline = calibrate(toy_world, "cobalt", [tax.importer("DEU")], 2024)
    assert "DEU" not in baseline.nodes and baseline.importers == ()
    assert baseline.not_modelled == {"DEU": "no consumption or trade data for cobalt"}
    assert any("DEU: no consumption or trade data" in n for n in baseline.notes)
    # studying an importer the data cannot model changes nobody else's baseline
    with_eu = calibrate(toy_world, "cobalt", [tax.importer("USA"), tax.importer("JPN"), tax.importer("EU")], 2024)
    assert with_eu.nodes == toy.nodes and np.allclose(with_eu.imports, toy.imports)


def test_commodity_without_data_is_not_attested(toy_world):
    with pytest.raises(DataNotAttestedError):
        calibrate(toy_world, "gallium", [toy_world.tax.importer("USA")], 2024)


def test_ras_reaches_row_and_column_totals():
    prior = np.array([[1.0, 2.0, 0.0], [3.0, 1.0, 1.0]])
    matrix, converged = calc_ras(prior, np.array([4.0, 6.0]), np.array([5.0, 3.0, 2.0]))
    assert converged
    assert matrix.sum(axis=1) == pytest.approx([4, 6]) and matrix.sum(axis=0) == pytest.approx([5, 3, 2])
    assert matrix[0, 2] == 0  # zeros of the prior stay zero


def test_rare_earth_baseline_from_bundled_data(world):
    tax = world.tax
    baseline = calibrate(world, "rare-earths", [tax.importer("USA"), tax.importer("JPN")], 2024)
    baseline.check_balance()
    assert baseline.stages == ("mining", "refining", "metal", "magnet")
    # US magnet demand: China's reported exports to the US / China's share of US magnet imports, less US exports
    shares = world.import_shares("USA", "rare-earths", 2024, stage="magnet")
    exports = world.dependence("USA", "rare-earths", "magnet", 2024).exports_t
    expected = 7100 / float(shares["share"].sel(partner="CHN")) - exports
    assert yearly(baseline, baseline.final_demand, "magnet", "USA") == pytest.approx(expected)
    # Japan makes magnets from metal that mostly comes from China (its import shares), so it needs metal
    k = baseline.stage_index("metal")
    japan = baseline.imports[k, baseline.index("JPN")]
    assert japan[baseline.index("CHN")] / japan.sum() == pytest.approx(0.7, abs=0.05)
    # the magnet coefficient is lowered to what the metal stage makes, and a note says so
    assert baseline.coefficient[3] < 0.3 and any("the lower figure is used" in n for n in baseline.notes)


def _exporting_japan(toy_world, exports: float):
    """The toy chain with Japan's refined-cobalt use unpublished: China reports shipping it 12 t a year, Japan
    reports exporting ``exports`` t (it refines 10)."""
    import pandas as pd

    from oresight.world import World

    keys = ["commodity", "stage", "country", "partner", "year", "measure", "value", "unit", "basis", "status", "source"]
    facts = toy_world.facts[keys]
    facts = facts[~((facts["country"] == "JPN") & (facts["measure"] == "consumption"))]
    shipped = {"commodity": "cobalt", "stage": "refining", "year": 2024, "measure": "export_quantity", "unit": "t"}
    shipped |= {"basis": "t exported", "status": "reported", "source": "toy-survey"}
    added = [{**shipped, "country": "CHN", "partner": "JPN", "value": 12.0}]
    added += [{**shipped, "country": "JPN", "partner": "WLD", "value": exports}]
    world = World(pd.concat([facts, pd.DataFrame(added)]), toy_world.sources.reset_index(drop=True))
    return calibrate(world, "cobalt", [world.tax.importer("USA"), world.tax.importer("JPN")], 2024)


def test_an_importer_that_exports_gets_demand_net_of_its_exports_and_keeps_its_reported_imports(toy_world):
    baseline = _exporting_japan(toy_world, exports=8.0)
    # apparent consumption: 10 refined + 12 from China − 8 exported
    assert yearly(baseline, baseline.final_demand, "refining", "JPN") == pytest.approx(14)
    k, n = baseline.stage_index("refining"), baseline.index("JPN")
    # China's reported 12 t still arrive: Japan supplies itself only from the output it does not export
    assert baseline.imports[k, n, baseline.index("CHN")] * 12 == pytest.approx(12)
    assert baseline.own[k, n] * 12 == pytest.approx(2)
    note = next(note for note in baseline.notes if note.startswith("JPN refining: demand 14"))
    assert "less its reported exports (8 t)" in note
    baseline.check_balance()


def test_exports_beyond_output_and_imports_leave_demand_not_attested_not_zero(toy_world):
    baseline = _exporting_japan(toy_world, exports=30.0)
    assert "JPN/refining" not in baseline.demand_basis
    assert any(note.startswith("JPN refining: no demand:") and "not attested" in note for note in baseline.notes)

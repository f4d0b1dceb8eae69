"""The price model's expectations and the licensing of exports, on the toy World."""

import numpy as np
import pytest

from oresight.simulate import load_scenario, parse_scenario, simulate
from oresight.simulate.backtest import Indicator, simulated_value
from oresight.simulate.markets import calc_window_sum

STOCKS = [{"commodity": "cobalt", "stages": ["refining"], "holder": "all", "weeks_of_cover": 26}]


def run(toy_world, shock, inventories=STOCKS, horizon=8):
    data = {
        "name": "toy",
        "importers": ["USA", "JPN"],
        "samples": 4,
        "horizon_months": horizon,
        "seed": 1,
        "shocks": [shock],
        "inventories": inventories,
    }
    return simulate(parse_scenario(data), toy_world)


def licensing(**extra):
    shock = {
        "kind": "export_restriction",
        "exporter": "CHN",
        "commodity": "cobalt",
        "stages": ["refining"],
        "targets": "all",
        "blocked": 0.6,
        "start_month": 5,
    }
    return {**shock, **extra}


def refined(sim, name):
    return sim.dataset[name].sel(commodity="cobalt", stage="refining")


def outside_price(sim):
    return refined(sim, "price_index_region").isel(region=0).values  # [month, sample]


def test_an_announced_shock_raises_the_price_before_any_supply_is_missing(toy_world):
    announced = run(toy_world, licensing(announced_month=1))
    unannounced = run(toy_world, licensing())
    before = slice(0, 3)  # months 1-3: nothing withheld yet, nobody short
    assert np.all(refined(announced, "withheld").values[before] == 0)
    assert np.all(announced.dataset["shortfall"].fillna(0).values[:, :, :, before] == 0)
    assert np.all(outside_price(announced)[before] > 1.0)
    assert np.allclose(outside_price(unannounced)[before], 1.0)
    # the nearer the shock, the more of the stocks' window it fills
    assert np.all(np.diff(outside_price(announced)[before], axis=0) >= 0)
    # once the shock acts, prices are never below those of the market that did not see it coming
    assert np.all(outside_price(announced) >= outside_price(unannounced) - 1e-12)
    announced.check_mass_balance()


def test_without_stocks_the_market_does_not_price_a_later_shock(toy_world):
    # the theory of storage: only stocks carry a future scarcity into today's price
    sim = run(toy_world, licensing(announced_month=1), inventories=[])
    assert np.allclose(outside_price(sim)[:4], 1.0)
    assert np.all(outside_price(sim)[4] > 1.0)


def test_an_outage_is_not_anticipated_unless_announced(toy_world):
    outage = {"kind": "production_outage", "country": "CHN", "commodity": "cobalt", "lost": 0.5}
    sudden = run(toy_world, {**outage, "stages": ["refining"], "start_month": 4})
    planned = run(toy_world, {**outage, "stages": ["refining"], "start_month": 4, "announced_month": 1})
    price = refined(sudden, "price_index").values
    assert np.allclose(price[:3], 1.0)
    assert np.all(refined(planned, "price_index").values[:3] > 1.0)


def test_a_licensing_shock_lowers_chinas_exports_to_the_stated_share(toy_world):
    sim = run(toy_world, licensing(start_month=1), inventories=[])
    cobalt = sim.dataset.sel(commodity="cobalt", stage="refining", exporter="CHN")
    assert cobalt["exports"].values / float(cobalt["baseline_exports"]) == pytest.approx(0.4)


def test_a_price_outside_the_exporter_is_the_one_price_where_the_market_is_not_split(toy_world):
    # a world demand shock restricts no exports: one price region, named ""
    sim = run(toy_world, {"kind": "demand_shock", "commodity": "cobalt", "change": 0.5}, inventories=[])
    ds = sim.dataset
    source = {"publisher": "p", "title": "t", "url": "https://example.org/a"}
    base = {"name": "x", "commodity": "cobalt", "stage": "refining", "metric": "price_peak", "source": source}
    base |= {"observed": 1, "low": 0, "high": 9}
    one = simulated_value(ds, Indicator.model_validate(base))
    outside = simulated_value(ds, Indicator.model_validate({**base, "region": "outside-china"}))
    assert one > 1 and outside == one
    assert np.isnan(simulated_value(ds, Indicator.model_validate({**base, "region": "china"})))


def test_window_sums_take_fractional_months_and_hold_the_last_value():
    series = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    assert calc_window_sum(series, np.array([2.5, 0.5]))[:, 0].tolist() == [1.5, 0.5]
    assert calc_window_sum(series, np.array([5.0, 0.0])).tolist() == [[4.0, 5.0, 5.0], [0.0, 0.0, 0.0]]


def test_the_market_looks_ahead_as_far_as_its_stocks_reach(toy_world):
    # eight weeks of cover: a shock from month 5 enters the window in month 4, not before
    short = [{**STOCKS[0], "weeks_of_cover": 8}]
    sim = run(toy_world, licensing(announced_month=1), inventories=short)
    price = outside_price(sim)
    assert np.allclose(price[:2], 1.0)
    assert np.all(price[3] > 1.0)


def test_a_loss_upstream_arrives_downstream_once_the_producers_input_stocks_are_gone():
    from types import SimpleNamespace

    from oresight.simulate.markets import calc_feed_cover, loss_shares

    # node 0 mines and ships it all to node 1, which refines it for node 2 and holds three months of ore
    b = SimpleNamespace(
        stages=("mining", "refining"),
        inputs=np.array([[0.0, 0.0], [1.0, 0.0]]),
        imports=np.array([[[0, 0, 0], [4.0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 4.0, 0]]]),
        own=np.zeros((2, 3)),
        use=np.array([[0, 4.0, 0], [0, 0, 4.0]]),
        production=np.array([[4.0, 0, 0], [0, 4.0, 0]]),
    )
    cover = np.array([[0, 3.0, 0], [0, 0, 1.0]])
    outage = SimpleNamespace(kind="production_outage", stage=0, node=0)
    shares, delays = loss_shares(b, outage, np.zeros((2, 3), dtype=int), calc_feed_cover(b, cover))
    assert shares[:, 0].tolist() == [1.0, 1.0]
    assert delays.tolist() == [0.0, 3.0]


def test_a_shock_left_out_for_attribution_is_not_anticipated_either(toy_world):
    from oresight.simulate.engine import run as run_engine

    sim = run(toy_world, licensing(announced_month=1))
    one = sim.runs[0]
    without = run_engine(one.baseline, one.draws, disabled=frozenset(range(len(one.draws.pieces))))
    assert np.allclose(without.price, 1.0)
    refining = one.baseline.stages.index("refining")
    assert np.all(one.raw.price[refining, :3] > 1.0)  # [stage, month, sample]: it anticipates the shock


def test_chinas_licensing_of_gallium_and_germanium_withholds_exports_and_raises_the_price_outside(world):
    # the December 2024 scenario with and without the licensing of 2025 (from China's customs, month by month)
    scenario = load_scenario("cn-2024-12-ga-ge-sb-us-ban", {"samples": 40})
    data = scenario.model_dump(mode="json", exclude_none=True)
    licensing = [
        s for s in data["shocks"] if s.get("label", "").startswith(("licensing of gallium", "licensing of germanium"))
    ]
    assert len(licensing) == 8
    data["shocks"] = [s for s in data["shocks"] if s not in licensing]
    licensed, unlicensed = (simulate(s, world, explain=False) for s in (scenario, parse_scenario(data)))

    def median(sim, commodity, name, **where):
        return sim.dataset[name].sel(commodity=commodity, stage="refining", **where).median("sample").values

    def outside(sim, commodity, region=0):  # the price index outside China (region 0) or inside (1), per month
        price = sim.dataset["price_index_region"].sel(commodity=commodity, stage="refining").isel(region=region)
        return price.median("sample").values

    year_2025 = slice(1, 13)  # months 2-13
    may = 5  # month 6: China shipped no gallium
    to_japan = {"exporter": "CHN", "importer": "JPN"}
    ga_with, ga_without = (median(s, "gallium", "exports_to", **to_japan) for s in (licensed, unlicensed))
    assert ga_with[may] < 0.9 * ga_without[may]
    assert outside(licensed, "gallium")[may] > outside(unlicensed, "gallium")[may]
    assert outside(licensed, "gallium")[year_2025].mean() > outside(unlicensed, "gallium")[year_2025].mean()
    ge_with, ge_without = (median(s, "germanium", "exports_to", **to_japan) for s in (licensed, unlicensed))
    assert np.all(ge_with[year_2025] < 0.9 * ge_without[year_2025])
    assert np.all(outside(licensed, "germanium")[year_2025] > outside(unlicensed, "germanium")[year_2025])
    # what the licences withhold stays with China's users: no scarcity inside China
    assert np.all(outside(licensed, "germanium", region=1)[year_2025] <= 1.0)
    licensed.check_mass_balance()

"""Scenario files: validation with field paths and allowed values, settings, parameters, extends, safe YAML."""

import textwrap

import pytest

from oresight.errors import UnknownNameError
from oresight.simulate.distributions import Lognormal, Normal, Triangular, draw
from oresight.simulate.scenario import (
    ScenarioError,
    apply_settings,
    library_names,
    load_scenario,
    parse_scenario,
    scenario_yaml,
)

MINIMAL = {
    "name": "demo",
    "importers": ["USA"],
    "shocks": [{"kind": "export_restriction", "exporter": "CHN", "commodity": "gallium", "blocked": 0.8}],
}


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_defaults_fill_what_the_issue_leaves_open():
    scenario = parse_scenario(MINIMAL)
    shock = scenario.shocks[0]
    assert (shock.targets, shock.coverage, shock.start_month, shock.duration_months) == ("all", 1.0, 1, None)
    assert (scenario.horizon_months, scenario.samples, scenario.seed) == (24, 1000, 1)
    assert scenario.commodities == ["gallium"]


def test_the_issue_example_parses(tmp_path):
    path = write(
        tmp_path,
        """
        name: cn-heavy-ree-controls-example
        description: China licenses exports of heavy rare earths and magnets
        horizon_months: 24
        seed: 1
        samples: 1000
        importers: [USA, JPN]
        shocks:
          - kind: export_restriction
            exporter: CHN
            commodity: rare-earths
            stages: [refining, metal, magnet]
            targets: all
            blocked: {dist: triangular, low: 0.5, mode: 0.75, high: 0.95}
            start_month: 1
            duration_months: 6
        responses:
          stockpiles:
            - {holder: JPN, commodity: rare-earths, stage: magnet, tonnes: 500}
        """,
    )
    scenario = load_scenario(path)
    assert isinstance(scenario.shocks[0].blocked, Triangular)
    assert scenario.responses.stockpiles[0].tonnes == 500


@pytest.mark.parametrize(
    ("change", "path", "expected"),
    [
        ({"kind": "export_restrict"}, "shocks[0]", "'export_restriction', 'production_outage', 'demand_shock'"),
        ({"blocked": 1.5}, "shocks[0].blocked", "a fraction between 0 and 1"),
        ({"blocked": {"dist": "beta", "low": 0}}, "shocks[0].blocked", "'uniform', 'triangular', 'normal'"),
        ({"blocked": {"dist": "triangular", "low": 0.5, "mode": 0.4, "high": 0.9}}, "shocks[0].blocked", "low <= mode"),
        ({"blocked": {"dist": "normal", "mean": 0.5, "sd": 0.1}}, "shocks[0].blocked", "low/high bounds"),
        ({"blocked": "lots"}, "shocks[0].blocked", "a number or a distribution"),
        ({"targets": "some"}, "shocks[0].targets", "'all'"),
        ({"surprise": 1}, "shocks[0].surprise", "unknown key"),
    ],
)
def test_invalid_shock_names_field_path_and_allowed_values(change, path, expected):
    data = {**MINIMAL, "shocks": [{**MINIMAL["shocks"][0], **change}]}
    with pytest.raises(ScenarioError) as error:
        parse_scenario(data, "my.yaml")
    message = str(error.value)
    assert message.startswith("my.yaml") and f"{path}:" in message and expected in message


def test_stockpile_needs_exactly_one_size():
    data = {**MINIMAL, "responses": {"stockpiles": [{"holder": "JPN", "commodity": "gallium", "stage": "refining"}]}}
    with pytest.raises(ScenarioError, match=r"responses\.stockpiles\[0\]: give exactly one of tonnes"):
        parse_scenario(data)


def test_yaml_is_loaded_safely(tmp_path):
    path = write(tmp_path, "name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(path)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "name: x\nshocks: [\n  {kind: export_restriction\n")
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert str(path) in str(error.value) and "line" in str(error.value)


def test_unknown_library_name_gets_suggestions():
    with pytest.raises(UnknownNameError) as error:
        load_scenario("cn-2025-04-heavy-ree-control")
    assert "cn-2025-04-heavy-ree-controls" in str(error.value)


def test_settings_override_paths_and_parameters():
    scenario = load_scenario(
        "n-minus-1",
        [
            "commodity=gallium",
            "samples=50",
            "shocks.0.duration_months=3",
            "shocks.0.lost={dist: uniform, low: 0.5, high: 1}",
        ],
    )
    shock = scenario.shocks[0]
    assert scenario.parameters["commodity"] == "gallium" and shock.commodity == "gallium"
    assert scenario.samples == 50 and shock.duration_months == 3 and shock.lost.dist == "uniform"


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("shocks.5.lost=1", "an index below 1"), ("responses.nothing.x=1", "one of:"), ("samples", "key=value")],
)
def test_bad_settings_are_explained(setting, expected):
    with pytest.raises(ScenarioError, match=expected):
        load_scenario("n-minus-1", [setting])


def test_placeholder_without_value_is_an_error():
    data = {**MINIMAL, "shocks": [{**MINIMAL["shocks"][0], "commodity": "${metal}"}]}
    with pytest.raises(ScenarioError, match="placeholders without a value: metal"):
        parse_scenario(data)


def test_extends_merges_mappings_and_replaces_lists(tmp_path):
    path = write(
        tmp_path,
        """
        extends: cn-2025-04-heavy-ree-controls
        name: with-stockpile
        samples: 10
        responses:
          stockpiles: [{holder: JPN, commodity: rare-earths, stage: magnet, tonnes: 500}]
        """,
    )
    scenario = load_scenario(path)
    base = load_scenario("cn-2025-04-heavy-ree-controls")
    assert scenario.name == "with-stockpile" and scenario.samples == 10
    assert scenario.shocks == base.shocks and scenario.event == base.event
    assert scenario.responses.rerouting == base.responses.rerouting and len(scenario.responses.stockpiles) == 1


def test_every_library_scenario_validates_and_cites_its_event():
    names = library_names()
    assert {
        "cn-2025-04-heavy-ree-controls",
        "cn-2025-10-ree-controls",
        "cn-2010-ree-quota",
        "cn-2024-12-ga-ge-sb-us-ban",
        "cd-2025-cobalt-export-suspension",
        "mm-2024-kachin-ree-outage",
        "n-minus-1",
    } <= set(names)
    for name in names:
        scenario = load_scenario(name)
        assert scenario.name == name
        if name != "n-minus-1":
            assert scenario.event is not None and scenario.event.sources, name
            assert all(s.url.startswith("http") for s in scenario.event.sources)


def test_scenario_yaml_round_trips():
    scenario = load_scenario("cn-2025-04-heavy-ree-controls", ["samples=7"])
    import yaml

    assert parse_scenario(yaml.safe_load(scenario_yaml(scenario))) == scenario


def test_draws_are_reproducible_per_path_and_nested_by_sample_count():
    dist = Triangular(dist="triangular", low=0.0, mode=0.5, high=1.0)
    first = draw(dist, 100, seed=3, path="a")
    assert (draw(dist, 100, seed=3, path="a") == first).all()
    assert (draw(dist, 10, seed=3, path="a") == first[:10]).all()
    assert not (draw(dist, 100, seed=3, path="b") == first).all()
    assert not (draw(dist, 100, seed=4, path="a") == first).all()


def test_normal_and_lognormal_respect_bounds():
    normal = draw(Normal(dist="normal", mean=0.5, sd=1.0, low=0.0, high=1.0), 1000, seed=1, path="x")
    assert normal.min() >= 0 and normal.max() <= 1
    lognormal = draw(Lognormal(dist="lognormal", median=2.0, sigma=0.5, high=5.0), 1000, seed=1, path="y")
    assert lognormal.min() > 0 and lognormal.max() <= 5 and 1.7 < float(sorted(lognormal)[500]) < 2.3


def test_apply_settings_leaves_the_input_untouched():
    data = {"name": "x", "parameters": {"commodity": "cobalt"}}
    changed = apply_settings(data, ["commodity=nickel"])
    assert data["parameters"]["commodity"] == "cobalt" and changed["parameters"]["commodity"] == "nickel"


def test_seed_beyond_64_bits_and_too_many_shocks_are_clean_errors():
    with pytest.raises(ScenarioError, match=r"seed: Input should be less than or equal to 9223372036854775807"):
        parse_scenario({**MINIMAL, "seed": 2**63})
    assert parse_scenario({**MINIMAL, "seed": 2**63 - 1}).seed == 2**63 - 1
    with pytest.raises(ScenarioError, match=r"shocks: List should have at most 50 items"):
        parse_scenario({**MINIMAL, "shocks": MINIMAL["shocks"] * 600})


@pytest.mark.parametrize(
    ("importers", "expected"),
    [(["US", "USA"], r"importers\[1\].*'USA' is the same importer as importers\[0\]"), (["US+JP", "JP"], "overlaps")],
)
def test_an_importer_named_twice_is_a_clean_error(toy_world, importers, expected):
    from oresight.simulate import check_scenario

    with pytest.raises(ScenarioError, match=expected):
        check_scenario(parse_scenario({**MINIMAL, "importers": importers}), toy_world)

"""The planner: budgets, risk targets, joint plans, out-of-sample validation, plan files and the CLI.

Plans here are small (few futures, short horizons, some commodities) so the suite stays fast; the default plan
is benchmarked in benchmarks/plan.py."""

from __future__ import annotations

import itertools
import json

import pytest
from typer.testing import CliRunner

import oresight
from oresight.cli import app
from oresight.errors import InputError
from oresight.plan import frontier, load_plan_spec, load_projects, plan

SMALL_GA = ["until=2028", "samples=5", "commodities=[gallium, germanium]"]
SMALL_REE = ["until=2029", "samples=5", "commodities=[dysprosium]"]
QUICK = {"validation_timelines": 2, "validation_samples": 4, "marginals": False}


def test_a_zero_budget_chooses_nothing(world):
    result = plan(world=world, members="USA", budget_usd=0.0, settings=SMALL_GA, validate=False, marginals=False)
    assert result.portfolio.empty and result.stockpiles.empty
    assert result.cost_usd == pytest.approx(0.0, abs=1.0)
    assert result.risk_in_sample == result.no_plan_in_sample


def test_out_of_sample_shortfall_never_rises_with_the_budget(world):
    table = frontier([0.0, 1e9, 5e9, 20e9], world=world, members="USA", settings=SMALL_GA, **QUICK)
    for commodity, rows in table.groupby("commodity"):
        if rows["out_of_sample_expected_t"].isna().all():
            continue
        expected = rows.sort_values("budget_usd")["out_of_sample_expected_t"].to_numpy()
        assert all(b <= a + 1e-6 for a, b in itertools.pairwise(expected)), commodity
        assert expected[2] < expected[0], f"a 5 bn plan lowers {commodity} shortfall out of sample"
    costs = table.drop_duplicates("budget_usd").sort_values("budget_usd")["cost_usd"].to_numpy()
    assert costs[0] == pytest.approx(0.0, abs=1.0) and all(costs[1:] >= costs[:-1] - 1.0)


def test_a_joint_plan_meets_its_risk_target_in_sample(world):
    # The "joint costs no more than separate plans" is not yet guaranteed by this model (docs/methods.md,
    # limits: a member planning alone counts its partner's exports as outside supply); what holds is the target.
    joint = plan(world=world, members="US+JP", risk_target=0.05, settings=SMALL_REE, validate=False, marginals=False)
    assert max(joint.target_slack.values()) < 1e-6
    assert sum(joint.cost_by_member.values()) == pytest.approx(joint.cost_usd)
    # CVaR bounds the 95th percentile: the target holds in sample
    chain = joint.inputs.chains["dysprosium"]
    demand = chain.final_demand.sum() * joint.inputs.growth["dysprosium"]
    assert joint.risk_in_sample["dysprosium"]["p95_shortfall_t"] <= 0.05 * demand.max() + 1e-6
    assert (
        joint.risk_in_sample["dysprosium"]["p95_shortfall_t"] < joint.no_plan_in_sample["dysprosium"]["p95_shortfall_t"]
    )


def test_every_chosen_project_is_in_the_pipeline_with_a_source(world):
    result = plan(world=world, members="USA", budget_usd=5e9, settings=SMALL_REE, validate=False)
    pipeline = load_projects()
    data = result.to_dict()
    assert {"cost_usd", "cost_by_member", "projects", "stockpiles", "risk"} <= set(data)
    for project in data["projects"]:
        assert {"name", "country", "stage", "commodity", "start_year", "support_usd", "source"} <= set(project)
        assert project["source"] and project["project"] in set(pipeline["project"])
    for stock in data["stockpiles"]:
        assert {"holder", "commodity", "stage", "tonnes", "cost_usd"} <= set(stock)
    assert set(data["risk"]) >= {"in_sample", "out_of_sample", "no_plan"}
    assert set(data["risk"]["in_sample"]) == {"expected_shortfall_t", "p95_shortfall_t"}


def test_oresight_plan_is_callable_and_the_package_importable():
    assert callable(oresight.plan) and oresight.plan.frontier is frontier


def test_plan_files_extend_the_library_and_refuse_bad_numbers(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("extends: default\nmembers: [JPN]\nuntil: 2031\n", encoding="utf-8")
    spec = load_plan_spec(path, ["disruptions.0.probability=0.3"])
    assert spec.members == ["JPN"] and spec.until == 2031 and spec.disruptions[0].probability == 0.3
    assert spec.financiers  # merged from the library plan
    path.write_text("extends: default\nrisk_target: .nan\n", encoding="utf-8")
    with pytest.raises(InputError, match="risk_target"):
        load_plan_spec(path)
    path.write_text("extends: default\nbudjet: 5\n", encoding="utf-8")
    with pytest.raises(InputError, match="budjet: unknown key"):
        load_plan_spec(path)
    with pytest.raises(InputError, match="no key 'nowhere'"):
        load_plan_spec("default", ["nowhere.x=1"])


def test_cli_plan_json_and_clean_errors():
    runner = CliRunner()
    args = ["plan", "--for", "USA", "--budget", "0", "--format", "json", "--no-validate"]
    result = runner.invoke(app, args + [f"--set={s}" for s in SMALL_GA])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["members"] == ["USA"] and data["budget_usd"] == 0 and data["projects"] == []
    bad = runner.invoke(app, ["plan", "--risk-target", "p99=0.1"])
    assert bad.exit_code != 0 and "p95=SHARE" in str(bad.exception)


def test_a_plan_file_with_a_control_character_is_a_clean_error(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text("extends: default\nname: a\x1fb\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        load_plan_spec(path)

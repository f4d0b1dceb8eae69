"""``oresight plan``: projects and complementary stockpiles that close the supply gaps, at what cost."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .render import NestedFormat, console, emit_json, err_console, rich_table


def _risk_target(text: str | None) -> float | None:
    """``p95=0.05`` (or ``0.05``): the 95th percentile of annual shortfall at most this share of demand."""
    if text is None:
        return None
    from oresight.errors import InputError

    key, sep, value = text.partition("=")
    raw = value if sep else key
    if sep and key.strip().lower() != "p95":
        raise InputError(f"unknown risk measure {key!r}", field="--risk-target", expected="p95=SHARE, e.g. p95=0.05")
    try:
        share = float(raw)
    except ValueError:
        raise InputError(f"not a share: {raw!r}", field="--risk-target", expected="p95=0.05") from None
    if not 0 < share <= 1:
        raise InputError(f"{share} is not a share of demand", field="--risk-target", expected="0 < share <= 1")
    return share


def plan(
    source: Annotated[str, typer.Argument(help="A library plan (default) or a plan YAML file.")] = "default",
    members: Annotated[str | None, typer.Option("--for", help="Country or alliance, e.g. US+JP, USA, Japan.")] = None,
    budget: Annotated[float | None, typer.Option("--budget", help="Budget in USD (e.g. 5e9).")] = None,
    risk_target: Annotated[
        str | None, typer.Option("--risk-target", help="p95=SHARE: 95th percentile of annual shortfall.")
    ] = None,
    until: Annotated[int | None, typer.Option("--until", help="Last planned year.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed of the sampled futures.")] = None,
    settings: Annotated[
        list[str] | None, typer.Option("--set", help="KEY=VALUE override of the plan file (repeatable).")
    ] = None,
    validate: Annotated[bool, typer.Option(help="Run the out-of-sample validation with the simulator.")] = True,
    separate: Annotated[
        bool, typer.Option("--separate", help="Also plan each member alone and show what planning together saves.")
    ] = False,
    fmt: Annotated[NestedFormat, typer.Option("--format", "-f", help="table or json.")] = NestedFormat.table,
) -> None:
    """Which projects to support and which stockpiles each member holds, at what cost, with the shortfall risk
    in sample and out of sample (the Monte Carlo engine on fresh futures) beside the no-plan risk."""
    import oresight
    from oresight.errors import InputError

    if budget is not None and risk_target is not None:
        raise InputError("give --budget or --risk-target, not both", field="--budget")
    if budget is not None and budget < 0:
        raise InputError("a budget cannot be negative", field="--budget", expected="USD >= 0")
    source_path = Path(source)
    if source.endswith((".yaml", ".yml")) and not source_path.is_file():
        raise InputError("no such plan file", path=source_path)
    from rich.progress import Progress

    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("planning", total=5)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=step)

        result = oresight.plan(
            source,
            members=members.replace(",", "+") if members else None,
            budget_usd=budget,
            risk_target=_risk_target(risk_target),
            until=until,
            seed=seed,
            settings=settings or [],
            validate=validate,
            separate=separate,
            progress=progress,
        )
    data = result.to_dict()
    if fmt == NestedFormat.json:
        emit_json(data)
        return
    _render(result, data)


def _usd(value) -> str:
    return "" if value is None else f"{value / 1e6:,.0f}m"


def _render(result, data: dict) -> None:
    members = "+".join(data["members"])
    mode = (
        f"budget USD {_usd(data['budget_usd'])}"
        if data["mode"] == "budget"
        else f"risk target p95 ≤ {100 * data['risk_target']:.0f}% of demand"
    )
    console.print(
        f"[bold]Plan for {members}, {data['years'][0]}–{data['years'][1]}[/] ({mode}): "
        f"cost USD {_usd(data['cost_usd'])} — " + ", ".join(f"{m} {_usd(v)}" for m, v in data["cost_by_member"].items())
    )
    if not result.portfolio.empty:
        console.print(
            rich_table(
                result.portfolio,
                title="Projects supported",
                columns=["project", "country", "stage", "commodities", "start_year", "support_usd", "source"],
                formatters={"support_usd": _usd, "start_year": str},
            )
        )
    else:
        console.print("No project supported.")
    if not result.stockpiles.empty:
        console.print(
            rich_table(
                result.stockpiles,
                title="Stockpiles by holder",
                columns=["holder", "commodity", "stage", "tonnes", "basis", "cost_usd", "first_year"],
                formatters={"cost_usd": _usd, "first_year": str},
            )
        )
    import pandas as pd

    risk = data["risk"]
    rows = []
    for commodity in risk["in_sample"]["expected_shortfall_t"]:
        get = lambda block, key, c=commodity: (block.get(key) or {}).get(c)  # noqa: E731
        rows.append(
            {
                "commodity": commodity,
                "basis": risk["basis"].get(commodity, ""),
                "no plan E": get(risk["no_plan"]["in_sample"], "expected_shortfall_t"),
                "plan E": get(risk["in_sample"], "expected_shortfall_t"),
                "no plan P95": get(risk["no_plan"]["in_sample"], "p95_shortfall_t"),
                "plan P95": get(risk["in_sample"], "p95_shortfall_t"),
                "out of sample: no plan E": get(risk["no_plan"]["out_of_sample"], "expected_shortfall_t"),
                "plan E ": get(risk["out_of_sample"], "expected_shortfall_t"),
                "plan P95 ": get(risk["out_of_sample"], "p95_shortfall_t"),
            }
        )
    console.print(
        rich_table(
            pd.DataFrame(rows),
            title="Annual shortfall of the members (t/yr): in sample and out of sample (simulator, fresh futures)",
            caption="E = expected, P95 = 95th percentile over sampled years; empty = not simulated",
        )
    )
    if not result.floors.empty:
        console.print(
            rich_table(
                result.floors,
                title="Price floors offered (contracts for difference)",
                columns=["project", "commodity", "share", "floor_usd_per_kg", "years", "expected_payout_usd"],
                formatters={"expected_payout_usd": _usd, "share": lambda v: f"{100 * v:.0f}%"},
            )
        )
    _render_comparison(data.get("joint_vs_separate"))
    slack = [(m, c, v) for m, by in data["target_slack"].items() for c, v in by.items() if v > 1e-6]
    if slack:
        err_console.print(
            "risk target not reachable for: "
            + ", ".join(f"{m} {c} (CVaR above target by {v:.3f})" for m, c, v in slack)
        )


def _render_comparison(comparison: dict | None) -> None:
    """Joint against separate plans: what planning together saves."""
    if not comparison:
        return
    parts = ", ".join(f"{m} {_usd(s['cost_usd'])}" for m, s in comparison["separate"].items())
    share = comparison["saving_share"]
    reached = comparison.get("at_risk_reached_alone") or {}
    if reached:
        missed = ", ".join(f"{m} {c} {100 * v:.1f}%" for m, by in reached.items() for c, v in by.items())
        console.print(
            f"Alone, members miss the risk target (95% CVaR of shortfall reached: {missed}); the joint plan is "
            f"compared at that risk (to the target it costs USD {_usd(comparison['joint_to_target_cost_usd'])})."
        )
    console.print(
        f"Planned separately on the same network: USD {_usd(comparison['separate_cost_usd'])} ({parts}); "
        f"jointly USD {_usd(comparison['joint_cost_usd'])}: planning together saves "
        f"USD {_usd(comparison['saving_usd'])}" + (f" ({100 * share:.1f}%)." if share is not None else ".")
    )
    split = ", ".join(f"{m} {_usd(v)}" for m, v in comparison["proportional_share_usd"].items())
    console.print(f"Shared in proportion to what each would spend alone: {split}.")

"""``oresight simulate``, ``oresight scenarios`` and ``oresight runs``: stress tests and their saved runs."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from .render import FormatOption, OutputFormat, console, emit_frame, emit_json, err_console, number, pct, rich_table


class SimulateFormat(enum.StrEnum):
    table = "table"
    json = "json"
    parquet = "parquet"


scenarios_app = typer.Typer(help="The scenario library: list and show scenarios.", no_args_is_help=True)
runs_app = typer.Typer(help="Saved simulation runs: list, show, reproduce.", no_args_is_help=True)


def _progress():
    """A progress bar on stderr; the library reports (done, total) after each simulated month."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} months"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def simulate(
    scenario: Annotated[
        str, typer.Argument(help="A library scenario name (see `oresight scenarios list`) or a YAML file.")
    ],
    importer: Annotated[
        str | None, typer.Option("--importer", "-i", help="Importers, comma-separated: USA,JPN or US+JP (one bloc).")
    ] = None,
    samples: Annotated[int | None, typer.Option("--samples", "-n", help="Monte Carlo samples.", min=1)] = None,
    horizon: Annotated[int | None, typer.Option("--horizon", help="Months to simulate.", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.", min=0)] = None,
    settings: Annotated[
        list[str] | None, typer.Option("--set", help="Override a scenario value: key=value (repeatable).")
    ] = None,
    fmt: Annotated[SimulateFormat, typer.Option("--format", "-f", help="Output format.")] = SimulateFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File for --format parquet.")] = None,
    explain: Annotated[bool, typer.Option("--explain/--no-explain", help="Attribute shortfalls to shocks.")] = True,
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save the run in the local store.")] = True,
) -> None:
    """Simulate a disruption month by month along the chain, with stockpiles, rerouting, substitution and prices,
    over Monte Carlo samples; report shortfalls (P5/P50/P95), stockpile depletion and what caused the shortfall."""
    import oresight
    from oresight.simulate import simulate as run_simulation
    from oresight.simulate.runs import results_frame, save_run

    importers = [part.strip() for part in importer.split(",") if part.strip()] if importer else None
    world = oresight.load()
    with _progress() as bar:
        task = bar.add_task("simulate", total=None)
        sim = run_simulation(
            scenario,
            world,
            importers=importers,
            samples=samples,
            horizon=horizon,
            seed=seed,
            settings=settings or [],
            explain=explain,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    run_id = save_run(sim) if save else None
    if fmt == SimulateFormat.json:
        emit_json({**sim.summary(), "run_id": run_id})
    elif fmt == SimulateFormat.parquet:
        target = output or Path(f"{sim.scenario.name}.parquet")
        results_frame(sim.dataset).to_parquet(target, index=False)
        console.print(f"wrote {target}" + (f" (run {run_id})" if run_id else ""))
    else:
        _render(sim.summary(), run_id)


def _range(values: dict | None, fmt=number) -> str:
    if not values or values.get("p50") is None:
        return "—" if values is None else "never"
    low, mid, high = (fmt(values[k]) if values.get(k) is not None else "never" for k in ("p5", "p50", "p95"))
    return f"{mid}  ({low} – {high})"


def _render(summary: dict, run_id: str | None) -> None:
    console.rule(
        f"[bold]{summary['scenario']}[/] — {summary['samples']:,} samples × {summary['horizon_months']} months"
    )
    if summary.get("description"):
        console.print(summary["description"], style="dim")
    rows = []
    for importer, entry in summary["importers"].items():
        for commodity, detail in entry["commodities"].items():
            if detail.get("modelled") is False:
                rows.append({"importer": importer, "commodity": commodity, "shortfall": "not modelled: no demand data"})
                continue
            for stage, figures in detail["by_stage"].items():
                rows.append(
                    {
                        "importer": importer,
                        "commodity": commodity,
                        "stage": stage,
                        "demand / month": number(figures["demand_per_month"]) + f" {figures['unit']}",
                        "shortfall over horizon, P50 (P5 – P95)": _range(figures["shortfall_t"])
                        + f" {figures['unit']}",
                        "share of demand": _range(detail["shortfall_share"], pct)
                        if len(detail["by_stage"]) == 1
                        else "",
                        "worst month": _range(figures["peak_monthly_share"], pct),
                        "stockpile empty in month": _range(entry.get("stockpile_empty_month"), lambda v: f"{v:.0f}"),
                    }
                )
    console.print(rich_table(pd.DataFrame(rows), title="Shortfall by importer (final demand not met)"))
    causes = [
        {"importer": imp, "cause": c["label"], "share": c["share"], "commodity": c["commodity"]}
        for imp, entry in summary["importers"].items()
        for c in entry.get("causes", [])[:4]
    ]
    if causes:
        console.print(
            rich_table(
                pd.DataFrame(causes),
                title="What caused it (share of mean shortfall)",
                columns=["importer", "commodity", "cause", "share"],
                formatters={"share": pct},
            )
        )
    if summary["stockpiles"]:
        stock = pd.DataFrame(
            [
                {
                    "stockpile": s["name"],
                    "stage": s["stage"],
                    "tonnes": _range(s["tonnes"]),
                    "months of cover": _range(s["months_of_cover"], lambda v: f"{v:.1f}"),
                    "empty in month": _range(s["empty_month"], lambda v: f"{v:.0f}"),
                    "samples emptied": pct(s["empty_month"]["share_of_samples_empty"]),
                }
                for s in summary["stockpiles"]
            ]
        )
        console.print(rich_table(stock, title="Stockpiles"))
    prices = pd.DataFrame(
        [
            {"commodity / stage": key, "peak price index": _range(value, lambda v: f"{v:.2f}")}
            for key, value in summary["price_index_peak"].items()
        ]
    )
    console.print(rich_table(prices, title="Price index (1 = normal), peak over the horizon"))
    if summary["notes"]:
        console.print("[dim]Baseline notes:[/]")
        for note in summary["notes"]:
            console.print(f"[dim]  {note}[/]", highlight=False)
    if run_id:
        console.print(f"[dim]saved as run {run_id} (data {summary['data_version']}); `oresight runs show {run_id}`[/]")


# -- scenarios --------------------------------------------------------------------------------------------------
@scenarios_app.command("list")
def scenarios_list(fmt: FormatOption = OutputFormat.table) -> None:
    """The scenarios that ship with oresight, each modelling a real event."""
    from oresight.simulate import library_names, load_scenario

    rows = []
    for name in library_names():
        scenario = load_scenario(name)
        rows.append(
            {
                "name": name,
                "event": str(scenario.event.date) if scenario.event else "",
                "commodities": ", ".join(scenario.commodities),
                "description": scenario.description,
            }
        )
    emit_frame(pd.DataFrame(rows), fmt, title="Scenario library")


@scenarios_app.command("show")
def scenarios_show(name: Annotated[str, typer.Argument(help="Library name or YAML file.")]) -> None:
    """A scenario as YAML, with its event and sources."""
    from oresight.simulate.scenario import load_scenario, scenario_yaml

    sys.stdout.write(scenario_yaml(load_scenario(name)))


# -- runs -------------------------------------------------------------------------------------------------------
@runs_app.command("list")
def runs_list(fmt: FormatOption = OutputFormat.table) -> None:
    """Saved runs, oldest first."""
    from oresight.simulate.runs import list_runs

    frame = list_runs()
    if frame.empty:
        if fmt == OutputFormat.table:
            console.print("no saved runs yet; `oresight simulate` saves each run")
            return
        frame = pd.DataFrame(columns=["id", "created", "scenario", "seed", "samples", "horizon", "importers"])
    else:
        frame = frame.assign(created=frame["created"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    emit_frame(frame, fmt, title="Saved runs", columns=["id", "created", "scenario", "samples", "importers"])


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id from `oresight runs list`.")],
    fmt: Annotated[SimulateFormat, typer.Option("--format", "-f", help="table or json.")] = SimulateFormat.table,
) -> None:
    """The summary of a saved run."""
    from oresight.simulate.runs import load_run

    row = load_run(run_id)
    if fmt == SimulateFormat.json:
        emit_json({**row["summary"], "run_id": run_id, "scenario_yaml": row["scenario_yaml"]})
    else:
        _render(row["summary"], run_id)


@runs_app.command("reproduce")
def runs_reproduce(run_id: Annotated[str, typer.Argument(help="Run id from `oresight runs list`.")]) -> None:
    """Run a saved run again from its stored scenario, seed and samples; check the results are identical."""
    from oresight.errors import OresightError
    from oresight.simulate.runs import reproduce

    _, identical = reproduce(run_id)
    if not identical:
        raise OresightError(f"run {run_id} came out different: the code changed since it was saved")
    console.print(f"run {run_id} reproduced: identical results")

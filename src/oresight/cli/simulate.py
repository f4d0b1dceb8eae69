"""``oresight simulate``, ``oresight scenarios`` and ``oresight runs``: stress tests and their saved runs."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from .render import (
    FormatOption,
    NestedFormat,
    OutputFormat,
    console,
    emit_frame,
    emit_json,
    err_console,
    number,
    pct,
    records,
    rich_table,
)


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
        str,
        typer.Argument(
            help="A library scenario name (see `oresight scenarios list`) or a YAML file; or `baseline` to see the "
            "baseline of COMMODITY."
        ),
    ],
    commodity: Annotated[
        str | None, typer.Argument(help="With `baseline`: the commodity whose baseline to show.", show_default=False)
    ] = None,
    importer: Annotated[
        str | None, typer.Option("--importer", "-i", help="Importers, comma-separated: USA,JPN or US+JP (one bloc).")
    ] = None,
    samples: Annotated[int | None, typer.Option("--samples", "-n", help="Monte Carlo samples.", min=1)] = None,
    horizon: Annotated[int | None, typer.Option("--horizon", help="Months to simulate.", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.", min=0)] = None,
    settings: Annotated[
        list[str] | None, typer.Option("--set", help="Override a scenario value: key=value (repeatable).")
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare", help="Another scenario (name or file) to run on the same draws and compare with this one."
        ),
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="With `baseline`: the base year.")] = None,
    fmt: Annotated[SimulateFormat, typer.Option("--format", "-f", help="Output format.")] = SimulateFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File for --format parquet.")] = None,
    explain: Annotated[bool, typer.Option("--explain/--no-explain", help="Attribute shortfalls to shocks.")] = True,
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save the run in the local store.")] = True,
) -> None:
    """Simulate a disruption month by month along the chain, with stocks, stockpiles, rerouting, substitution and
    prices, over Monte Carlo samples; report shortfalls (P5/P50/P95), the first month short, value at risk,
    stockpile depletion and what caused the shortfall. `oresight simulate baseline COMMODITY` shows the normal
    state a simulation starts from."""
    import oresight

    importers = [part.strip() for part in importer.split(",") if part.strip()] if importer else None
    world = oresight.load()
    if scenario == "baseline":
        _show_baseline(world, commodity, importers, year, fmt)
        return
    if commodity is not None:
        raise typer.BadParameter(f"unexpected argument {commodity!r} (only `baseline` takes a commodity)")
    sim = _run(world, scenario, importers, samples, horizon, seed, settings or [], explain)
    summary = sim.summary()
    if compare:
        other = _run(
            world,
            compare,
            [str(i) for i in sim.dataset.importer.values],
            sim.scenario.samples,
            sim.scenario.horizon_months,
            sim.scenario.seed,
            [],
            False,
        )
        summary.setdefault("comparisons", []).append(sim.compare(other))
    from oresight.simulate.runs import results_frame, save_run

    run_id = save_run(sim) if save else None
    if fmt == SimulateFormat.json:
        emit_json({**summary, "run_id": run_id})
    elif fmt == SimulateFormat.parquet:
        target = output or Path(f"{sim.scenario.name}.parquet")
        results_frame(sim.dataset).to_parquet(target, index=False)
        console.print(f"wrote {target}" + (f" (run {run_id})" if run_id else ""))
    else:
        _render(summary, run_id)


def _run(world, scenario, importers, samples, horizon, seed, settings, explain):
    from oresight.allocator import raise_malloc_thresholds
    from oresight.simulate import simulate as run_simulation

    raise_malloc_thresholds()
    with _progress() as bar:
        task = bar.add_task("simulate", total=None)
        return run_simulation(
            scenario,
            world,
            importers=importers,
            samples=samples,
            horizon=horizon,
            seed=seed,
            settings=settings,
            explain=explain,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def _show_baseline(world, commodity: str | None, importers: list[str] | None, year, fmt: SimulateFormat) -> None:
    """``oresight simulate baseline COMMODITY``: the calibrated baseline, per stage and importer, with notes."""
    from oresight.errors import OresightError
    from oresight.simulate.baseline import calibrate, describe

    if commodity is None:
        raise OresightError("name a commodity: oresight simulate baseline COMMODITY [--importer US,JP]")
    commodity_id, _ = world.resolve(commodity)
    resolved = [world.tax.importer(name) for name in (importers or ["USA", "JPN"])]
    baseline = calibrate(world, commodity_id, resolved, year)
    table = describe(baseline)
    if fmt == SimulateFormat.json:
        emit_json(
            {
                "commodity": commodity_id,
                "base_year": baseline.year,
                "stages": records(table),
                "not_modelled": baseline.not_modelled,
                "notes": baseline.notes,
                "sources": baseline.sources,
            }
        )
        return
    console.rule(f"[bold]Baseline of {commodity_id}[/] — base year {baseline.year}, tonnes a year")
    console.print(
        rich_table(
            table,
            columns=[
                "stage",
                "node",
                "production_t",
                "final_demand_t",
                "demand_basis",
                "intermediate_t",
                "imports_t",
                "suppliers",
            ],
            keep_whole=["stage", "node"],
        )
    )
    for note in baseline.notes:
        console.print(f"[dim]  {note}[/]", highlight=False)
    console.print(f"[dim]sources: {', '.join(baseline.sources)}[/]", highlight=False)


def _range(values: dict | None, fmt=number) -> str:
    if not values or values.get("p50") is None:
        return "—" if values is None else "never"
    low, mid, high = (fmt(values[k]) if values.get(k) is not None else "never" for k in ("p5", "p50", "p95"))
    return f"{mid}  ({low} – {high})"


def _month(values: dict | None) -> str:
    """A first-short or empty month as P50 (P5 – P95); 'never' where no sample gets there."""
    return "never" if not values else _range(values, lambda v: f"{v:.0f}")


def _usd(value: float) -> str:
    for size, word in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= size:
            return f"${value / size:,.1f} {word}"
    return f"${value:,.0f}"


def _shortfall_rows(summary: dict) -> tuple[list[dict], list[str]]:
    rows, missing = [], []
    for importer, entry in summary["importers"].items():
        for commodity, detail in entry["commodities"].items():
            if detail.get("modelled") is False:
                missing.append(f"{importer} {commodity}: not modelled ({detail.get('note', 'no demand data')})")
                continue
            one_stage = len(detail["by_stage"]) == 1
            for stage, figures in detail["by_stage"].items():
                value = detail.get("value_at_risk_usd") if one_stage else None
                rows.append(
                    {
                        "importer": importer,
                        "commodity": commodity,
                        "stage": stage,
                        "demand / month": number(figures["demand_per_month"]) + f" {figures['unit']}",
                        "shortfall over horizon, P50 (P5 – P95)": _range(figures["shortfall_t"])
                        + f" {figures['unit']}",
                        "share of demand": _range(detail["shortfall_share"], pct) if one_stage else "",
                        "worst month": _range(figures["peak_monthly_share"], pct),
                        "first short in month": _month(detail.get("first_short_month")),
                        "value at risk, P50": _usd(value["p50"]) if value else "not attested",
                    }
                )
    return rows, missing


def _render(summary: dict, run_id: str | None) -> None:
    console.rule(
        f"[bold]{summary['scenario']}[/] — {summary['samples']:,} samples × {summary['horizon_months']} months"
    )
    if summary.get("description"):
        console.print(summary["description"], style="dim")
    rows, missing = _shortfall_rows(summary)
    keep = ["importer", "commodity", "stage"]
    if rows:
        table = rich_table(pd.DataFrame(rows), title="Shortfall by importer (final demand not met)", keep_whole=keep)
        console.print(table)
    for line in missing:
        console.print(f"[dim]{line}[/]", highlight=False)
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
                keep_whole=["importer", "commodity"],
            )
        )
    if summary["stockpiles"]:
        stock = pd.DataFrame(
            [
                {
                    "stockpile": s["name"],
                    "stage": s["stage"],
                    "tonnes": _range(s["tonnes"]),
                    "released": _range(s["released_t"]),
                    "months of cover": _range(s["months_of_cover"], lambda v: f"{v:.1f}"),
                    "empty in month": _month(s["empty_month"] if s["empty_month"]["p50"] is not None else None),
                    "samples emptied": pct(s["empty_month"]["share_of_samples_empty"]),
                }
                for s in summary["stockpiles"]
            ]
        )
        console.print(rich_table(stock, title="Stockpiles (tonnes released over the horizon)"))
    prices = pd.DataFrame(
        [
            {"commodity / stage / region": key, "peak price index": _range(value, lambda v: f"{v:.2f}")}
            for key, value in summary["price_index_peak"].items()
        ]
    )
    console.print(
        rich_table(
            prices, title="Price index (1 = normal), peak over the horizon", keep_whole=["commodity / stage / region"]
        )
    )
    for comparison in summary.get("comparisons", []):
        _render_comparison(comparison)
    if summary["notes"]:
        console.print("[dim]Baseline notes:[/]")
        for note in summary["notes"]:
            console.print(f"[dim]  {note}[/]", highlight=False)
    if run_id:
        console.print(f"[dim]saved as run {run_id} (data {summary['data_version']}); `oresight runs show {run_id}`[/]")


def _render_comparison(comparison: dict) -> None:
    rows = [
        {
            "importer": importer,
            "commodity": commodity,
            "shortfall, P50": number(entry["shortfall_t"]["p50"]) + f" {entry['unit']}",
            "with variant, P50": number(entry["variant_shortfall_t"]["p50"]) + f" {entry['unit']}",
            "avoided, P50 (P5 – P95)": _range(entry["avoided_t"]) + f" {entry['unit']}",
            "samples better / worse": " / ".join(
                pct(entry[key]) for key in ("share_of_samples_better", "share_of_samples_worse")
            ),
            "cost per t avoided, P50": _usd(entry["cost_per_tonne_avoided_usd"]["p50"])
            if entry.get("cost_per_tonne_avoided_usd")
            else "",
        }
        for importer, commodities in comparison["importers"].items()
        for commodity, entry in commodities.items()
    ]
    if rows:
        title = f"{comparison['variant']} against {comparison['scenario']}, paired on the same draws"
        console.print(rich_table(pd.DataFrame(rows), title=title, keep_whole=["importer", "commodity"]))


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


@scenarios_app.command("backtest")
def scenarios_backtest(
    name: Annotated[
        str | None,
        typer.Argument(help="A library scenario with a backtest (default: all of them).", show_default=False),
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", "-n", help="Monte Carlo samples (default: each backtest's).", min=10)
    ] = None,
    fmt: Annotated[NestedFormat, typer.Option("--format", "-f", help="table or json.")] = NestedFormat.table,
) -> None:
    """Run library scenarios side by side with what happened: observed indicators with their bands and
    sources, the simulated value (median over samples) and pass or fail."""
    import oresight
    from oresight.allocator import raise_malloc_thresholds
    from oresight.simulate.backtest import backtest, backtest_names

    names = [name] if name else backtest_names()
    world = oresight.load()
    raise_malloc_thresholds()
    with _progress() as bar:
        task = bar.add_task("backtest", total=len(names))
        rows = []
        for one in names:
            rows.extend(backtest(world, [one], samples=samples))
            bar.advance(task)
    if fmt == NestedFormat.json:
        emit_json([{k: row[k] for k in BACKTEST_KEYS} for row in rows])
        return
    frame = pd.DataFrame(rows)
    frame["band"] = [f"{lo:g} – {hi:g}" for lo, hi in zip(frame["low"], frame["high"], strict=True)]
    frame["result"] = [
        "pass" if ok else "FAIL" if attested else "FAIL (not attested)"
        for ok, attested in zip(frame["pass"], frame["attested"], strict=True)
    ]
    passed = int(frame["pass"].sum())
    console.print(
        rich_table(
            frame,
            title=f"Backtests: {passed} of {len(frame)} indicators within their bands",
            columns=["scenario", "indicator", "observed", "band", "simulated", "result"],
            keep_whole=["scenario"],
        )
    )
    for row in rows:
        if not row["attested"]:
            console.print(f"[dim]{row['scenario']}: {row['indicator']}: {row['note'].split('; ')[0]}[/]")
    console.print(
        "[dim]sources: `oresight scenarios backtest --format json`; docs/backtests.md explains each failure[/]"
    )


#: the keys of each indicator in ``oresight scenarios backtest --format json``
BACKTEST_KEYS = ("scenario", "indicator", "observed", "low", "high", "simulated", "pass", "source")


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
    fmt: Annotated[NestedFormat, typer.Option("--format", "-f", help="table or json.")] = NestedFormat.table,
) -> None:
    """The summary of a saved run (a saved run keeps its summary, not the samples: `runs reproduce` remakes them)."""
    from oresight.simulate.runs import load_run

    row = load_run(run_id)
    if fmt == NestedFormat.json:
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

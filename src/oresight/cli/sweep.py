"""``oresight sweep``: run a sweep file on Dask (``oresight sweep FILE --out DIR``), read its screen
(``oresight sweep report DIR``) and list the recorded runs (``oresight sweep list``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from typer.core import TyperGroup

from oresight.formatting import format_quantity

from .render import (
    FormatOption,
    NestedFormat,
    OutputFormat,
    console,
    emit_frame,
    emit_json,
    err_console,
    pct,
    rich_table,
)


class _RunByDefault(TyperGroup):
    """``oresight sweep FILE …`` means ``oresight sweep run FILE …``."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_RunByDefault,
    help="Sweeps: thousands of disruption scenarios across commodities, exporters and importers, on Dask. "
    "`oresight sweep FILE --out DIR` runs one; `oresight sweep report DIR` ranks it.",
    no_args_is_help=True,
)


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("sweeping"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("scenarios"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


@app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="A sweep YAML file (see docs/sweeps.md).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the results (partitioned Parquet).")],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-w", min=0, help="Worker processes of the local cluster (default: all cores; 0: no cluster)."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="An existing Dask scheduler: its address (tcp://host:8786) or its scheduler file."
        ),
    ] = None,
    fmt: Annotated[NestedFormat, typer.Option("--format", "-f", help="table or json.")] = NestedFormat.table,
) -> None:
    """Run every scenario of a sweep file on a Dask cluster; results stream to OUT, a rerun resumes."""
    import oresight
    from oresight.errors import OresightError
    from oresight.sweep import load_sweep, run_sweep

    if scheduler and workers is not None:
        raise OresightError("--workers sizes a local cluster; with --scheduler the cluster's own workers run")
    sweep = load_sweep(file)
    world = oresight.load()
    with _progress() as bar:
        task = bar.add_task("sweep", total=None)
        result = run_sweep(
            sweep,
            out,
            world,
            workers=workers,
            scheduler=scheduler,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    summary = result.summary()
    if fmt == NestedFormat.json:
        emit_json(summary)
        return
    resumed = f", {summary['batches_resumed']} of {summary['batches']} batches already done" if result.resumed else ""
    console.print(
        f"[bold]{summary['sweep']}[/]: {summary['scenarios']:,} scenarios, {summary['rows']:,} rows in "
        f"{summary['seconds']:.1f} s on {summary['workers']} worker(s) ({summary['scheduler']}){resumed}",
        highlight=False,
    )
    for note in summary["notes"]:
        console.print(f"[dim]  {note}[/]", highlight=False)
    console.print(f"[dim]results in {summary['out']}; `oresight sweep report {out}` ranks them[/]", highlight=False)


@app.command("report")
def report(
    folder: Annotated[Path, typer.Argument(help="A folder of sweep results (`oresight sweep FILE --out DIR`).")],
    importer: Annotated[
        str | None, typer.Option("--importer", "-i", help="One importer of the sweep (default: all).")
    ] = None,
    top: Annotated[int, typer.Option("--top", "-n", min=1, help="Disruptions listed per importer.")] = 10,
    fmt: Annotated[NestedFormat, typer.Option("--format", "-f", help="table or json.")] = NestedFormat.table,
) -> None:
    """The screen: the most damaging disruptions per importer, a heat map of commodity × exporter and, where the
    grid gives probabilities, the expected loss."""
    from oresight.sweep.screen import screen
    from oresight.taxonomy import load_taxonomy

    found = screen(folder, load_taxonomy(), importer=importer, top=top)
    if fmt == NestedFormat.json:
        emit_json(found)
        return
    _render_screen(found)


_SHORT = {"export_restriction": "restriction", "production_outage": "outage"}


def _disruption(row: dict) -> str:
    return (
        f"{_SHORT.get(row['kind'], row['kind'])} {row['exporter']} {row['stage']} "
        f"{row['severity']:.0%} × {row['duration_months']:g} mo"
    )


def _render_screen(found: dict) -> None:
    console.rule(
        f"[bold]{found['sweep']}[/] — {found['scenarios_finished']:,} of {found['scenarios']:,} scenarios, "
        f"ranked by mean shortfall share of demand"
    )
    for importer, entry in found["importers"].items():
        rows = [
            {
                "#": r["rank"],
                "commodity": r["commodity"],
                "disruption": _disruption(r),
                "shortfall share, mean": pct(r["shortfall_share_mean"]),
                "P50 (P5 – P95)": f"{pct(r['shortfall_share_p50'])} ({pct(r['shortfall_share_p5'])} – "
                f"{pct(r['shortfall_share_p95'])})",
                "shortfall P50": format_quantity(r["shortfall_t_p50"], r["unit"]),
                "value at risk P50": format_quantity(r["value_at_risk_usd_p50"], "USD"),
            }
            for r in entry["top"]
        ]
        if rows:
            console.print(rich_table(pd.DataFrame(rows), title=f"{importer}: most damaging disruptions"))
        else:
            console.print(f"{importer}: not modelled for any commodity screened (no demand data)")
        if entry["expected_loss"]:
            loss = pd.DataFrame(entry["expected_loss"]).assign(
                disruption=lambda f: f["kind"].map(_SHORT) + " " + f["exporter"] + " " + f["stage"]
            )
            console.print(
                rich_table(
                    loss,
                    title=f"{importer}: expected loss (probability-weighted)",
                    columns=["commodity", "disruption", "chance", "expected_shortfall_share"],
                    formatters={"chance": pct, "expected_shortfall_share": pct},
                )
            )
        _render_heat_map(importer, entry["heat_map"])
        if entry["not_modelled"]:
            names = sorted(entry["not_modelled"])
            shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
            console.print(f"[dim]{importer} not modelled (no demand data): {shown}[/]", highlight=False)
    for note in found["notes"]:
        console.print(f"[dim]{note}[/]", highlight=False)


def _render_heat_map(importer: str, heat: dict, rows: int = 12, columns: int = 8) -> None:
    """The heat map's most damaging corner: worst mean shortfall share per commodity and exporter."""
    if not heat["commodities"]:
        return
    exporters = heat["exporters"][:columns]
    frame = pd.DataFrame(
        [dict(zip(exporters, values[:columns], strict=True)) for values in heat["values"][:rows]],
        index=heat["commodities"][:rows],
    )
    frame.insert(0, "commodity", frame.index)
    console.print(
        rich_table(
            frame,
            title=f"{importer}: worst shortfall share by commodity × exporter",
            formatters={e: _shade for e in exporters},
            caption="blank: no disruption of that pair screened",
        )
    )


def _shade(value) -> str:
    style = "bold red" if value >= 0.5 else "red" if value >= 0.2 else "yellow" if value >= 0.05 else "dim"
    return f"[{style}]{pct(value)}[/]"


@app.command("list")
def list_runs(fmt: FormatOption = OutputFormat.table):
    """Recorded sweep runs, oldest first."""
    from oresight.sweep import list_sweep_runs

    frame = list_sweep_runs().drop(columns=["sweep_json", "notes_json"], errors="ignore")
    if fmt != OutputFormat.table:
        emit_frame(frame.assign(created=frame["created"].astype(str)) if not frame.empty else frame, fmt)
        return
    if frame.empty:
        console.print("no sweep runs yet; `oresight sweep FILE --out DIR` records each run")
        return
    frame = frame.assign(created=frame["created"].dt.strftime("%Y-%m-%d %H:%M"))
    console.print(
        rich_table(
            frame,
            title="Sweep runs",
            columns=["id", "created", "name", "scenarios", "rows", "seconds", "workers", "out_dir"],
            keep_whole=["id"],
        )
    )

"""The ``oresight`` command: parse, call the library, render. Errors become one clear message and exit 1."""

from __future__ import annotations

import sys

import typer

from oresight.errors import OresightError

from .render import err_console

app = typer.Typer(
    name="oresight",
    help="Critical-mineral supply security: map supply chains, measure dependence, stress-test disruptions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _register() -> None:
    from . import assess, brief, data, news, plan, serve, simulate, sweep

    app.add_typer(data.app, name="data")
    app.command("brief")(brief.brief)
    app.command("assess")(assess.assess)
    app.command("simulate")(simulate.simulate)
    app.add_typer(simulate.scenarios_app, name="scenarios")
    app.add_typer(simulate.runs_app, name="runs")
    app.add_typer(news.app, name="news")
    app.add_typer(sweep.app, name="sweep")
    app.command("serve")(serve.serve)
    app.command("plan")(plan.plan)


_register()


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except OresightError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)

"""The ``oresight`` command: parse, call the library, render. Errors become one clear message and exit 1.

Each command's module is imported only when that command runs (``oresight data show`` never imports the
simulator, the news intake, the planner or the web app): :data:`COMMANDS` names where each one lives.
"""

from __future__ import annotations

import importlib
import sys

import typer
from typer.core import TyperGroup

from oresight.errors import OresightError

from . import render

#: command name -> (module of oresight.cli, attribute): a typer app (a group of commands) or a command function
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("data", "app"),
    "brief": ("brief", "brief"),
    "assess": ("assess", "assess"),
    "simulate": ("simulate", "simulate"),
    "scenarios": ("simulate", "scenarios_app"),
    "runs": ("simulate", "runs_app"),
    "news": ("news", "app"),
    "sweep": ("sweep", "app"),
    "serve": ("serve", "serve"),
    "plan": ("plan", "plan"),
}


class LazyCommands(TyperGroup):
    """The top-level group: a command is built from its module when it is first asked for."""

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = _load(cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except Exception:
            for name in COMMANDS:  # a mistyped name: suggest among all commands
                self.get_command(ctx, name)
            return super().resolve_command(ctx, args)


def _load(name: str):
    module, attribute = COMMANDS[name]
    target = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    if not isinstance(target, typer.Typer):
        single = typer.Typer(add_completion=False, rich_markup_mode="rich")
        single.command(name)(target)
        target = single
    command = typer.main.get_command(target)
    command.name = name
    return command


app = typer.Typer(
    name="oresight",
    cls=LazyCommands,
    help="Critical-mineral supply security: map supply chains, measure dependence, stress-test disruptions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root() -> None:
    """Critical-mineral supply security: map supply chains, measure dependence, stress-test disruptions."""


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except OresightError as exc:
        render.err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        render.err_console.print("interrupted")
        sys.exit(130)

"""The ``oresight`` command: parse, call the library, render. Errors become one clear message and exit 1.

Each command's module is imported only when that command runs (``oresight data show`` never imports the
simulator, the news intake, the planner or the web app): :data:`COMMANDS` names where each one lives.

Start-up runs without Python's cyclic garbage collector: importing the libraries and building the command make
some 150,000 objects that live as long as the process, and collecting them while they are made cost about 0.1 s
of every command (measured in docs/benchmarks.md). When the command starts its work they are frozen
(``gc.freeze``: no later collection looks at them again) and the collector is back on
(:func:`_collecting_when_run`), so the work collects its garbage as always.
"""

from __future__ import annotations

import functools
import gc
import importlib
import sys

import typer
from typer.core import TyperGroup

from oresight.errors import OresightError

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
    _collecting_when_run(command)
    return command


def _collecting_when_run(command) -> None:
    """Turn the garbage collector back on when ``command`` (each command of a group) starts its work."""
    subcommands = getattr(command, "commands", None)
    if isinstance(subcommands, dict):  # a group
        for sub in subcommands.values():
            _collecting_when_run(sub)
        return
    work = command.callback
    if work is None or getattr(work, "_collects", False):
        return

    @functools.wraps(work)
    def collecting(*args, **kwargs):
        if not gc.isenabled():
            gc.freeze()  # what start-up made lives on: later collections need not look at it again
            gc.enable()
        return work(*args, **kwargs)

    collecting._collects = True
    command.callback = collecting


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
    gc.disable()  # start-up only: each command turns it back on (see the module's docstring)
    try:
        app()
    except OresightError as exc:
        from .render import err_console

        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        from .render import err_console

        err_console.print("interrupted")
        sys.exit(130)
    finally:
        gc.enable()

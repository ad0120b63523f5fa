"""The root of the ``cofail`` command: which module registers each command, ``--version``, and
the run that turns every mistake into one line on stderr."""

from __future__ import annotations

import copy
import errno
import os
import sys
from importlib import import_module
from typing import Annotated

import typer
import typer.main
import typer.models

from cofail.cli._common import app
from cofail.errors import InputError

__all__ = ["app", "register", "run"]

# Importing a module registers its commands; this order is the order of `cofail --help`.
_MODULES = (
    "_structure",
    "_risk",
    "_sequences",
    "_decide",
    "_empirical",
    "_scores",
    "_fit",
    "_raters",
    "_report",
    "_case",
    "_files",
    "_app",
)
_COMMANDS = {
    **dict.fromkeys(("show", "explain", "overlap", "audit", "claims"), "_structure"),
    **dict.fromkeys(("risk", "export", "mef", "uncertainty"), "_risk"),
    "sequences": "_sequences",
    **dict.fromkeys(("recommend", "next", "frontier", "robustness"), "_decide"),
    **dict.fromkeys(("empirical", "simulate"), "_empirical"),
    "scores": "_scores",
    "fit": "_fit",
    **dict.fromkeys(("elicit", "agreement", "merge"), "_raters"),
    "report": "_report",
    "case": "_case",
    **dict.fromkeys(("validate", "init", "convert", "catalogs"), "_files"),
    "app": "_app",
}


def _print_version(value: bool) -> None:
    if value:
        from cofail import __version__

        print(f"cofail {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Print cofail's version and exit.",
        ),
    ] = False,
) -> None:
    """Do your AI safety layers add up, or fail together?"""


def register(argv: list[str] | None = None) -> None:
    """Register the commands ``argv`` needs: only its command's module when it names one
    (typer would otherwise build all 19 commands on every run), else all of them."""
    name = _command_name(sys.argv[1:] if argv is None else argv)
    for module in [_COMMANDS[name]] if name in _COMMANDS else _MODULES:
        import_module(f"cofail.cli.{module}")


def _command_name(args: list[str]) -> str | None:
    # The root takes no option with a value, so its first other word names the command.
    return next((a for a in args if not a.startswith("-")), None)


def _app_for(args: list[str]) -> typer.Typer:
    """Return the app with only the command ``args`` names, when it names one, else the app.

    typer turns every registered command into a click command on each run, reading each
    function's signature and evaluating its annotations (2 ms a command); a run needs only its
    own. The copy shares everything else with :data:`app`, so the command's help, errors and
    the root's ``--version`` are the same; ``cofail --help`` and unknown names get every command.
    """
    name = _command_name(args)
    if name not in _COMMANDS:
        return app
    only = copy.copy(app)
    only.registered_commands = [c for c in app.registered_commands if _registered_name(c) == name]
    return only


def _registered_name(command: typer.models.CommandInfo) -> str | None:
    if command.name or command.callback is None:
        return command.name
    return typer.main.get_command_name(command.callback.__name__)  # as typer names it


def run(args: list[str]) -> int:
    """Run the CLI on ``args`` and return its exit status (see :func:`cofail.cli.main`)."""
    try:
        register(args)
        # standalone_mode=False: usage errors come back as exceptions, so they are printed as
        # one line here instead of click's three-line usage block.
        result = _app_for(args)(args=args, prog_name="cofail", standalone_mode=False)
    except typer.TyperException as exc:  # click's usage errors and bad parameters
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `cofail`: the help, as before
            print(exc.format_message())
            return 0
        ctx = getattr(exc, "ctx", None)
        where = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
        _error(f"{_one_line(exc.format_message())}{where}")
        return getattr(exc, "exit_code", 2) or 2
    except InputError as exc:
        _error(_one_line(str(exc)))
        return 2
    except (KeyboardInterrupt, typer.Abort):
        print("cofail: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except OSError as exc:
        if exc.errno == errno.ENOSPC and _is_stdout(exc):
            _quiet_stdout()
            _error("standard output is full (no space left on device)")
            return 2
        raise
    try:
        sys.stdout.flush()  # a full /dev/full shows only here, after the command wrote
    except BrokenPipeError:
        _quiet_stdout()
    except OSError as exc:
        _quiet_stdout()
        _error(f"cannot write to standard output: {exc.strerror or exc}")
        return 2
    return result if isinstance(result, int) else 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _error(message: str) -> None:
    print(f"cofail: error: {message}", file=sys.stderr)


def _is_stdout(exc: OSError) -> bool:
    return exc.filename is None


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass

"""The ``cofail`` command: parse options, call the library, render. No analysis lives here."""

from __future__ import annotations

import errno
import os
import sys
from importlib import import_module
from typing import Annotated

import typer

from cofail.cli._common import app
from cofail.errors import InputError

__all__ = ["app", "main", "register"]

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
    args = sys.argv[1:] if argv is None else argv
    name = next((a for a in args if not a.startswith("-")), None)
    for module in [_COMMANDS[name]] if name in _COMMANDS else _MODULES:
        import_module(f"cofail.cli.{module}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status; every mistake is one line on stderr.

    0 success; 2 a user mistake (bad option, bad file: ``cofail: error: ...``); 130 Ctrl-C
    (``cofail: interrupted``), like a shell; a full or closed standard output is one line too.
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        register(args)
        # standalone_mode=False: usage errors come back as exceptions, so they are printed as
        # one line here instead of click's three-line usage block.
        result = app(args=args, prog_name="cofail", standalone_mode=False)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

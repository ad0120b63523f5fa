"""Shared CLI pieces: the typer app, common options, matrix loading and output."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cofail.errors import InputError
from cofail.report.tabular import OutputFormat, Table, print_tables, render
from cofail.report.views import name_matrix

if TYPE_CHECKING:  # the matrix model (pydantic, NumPy) loads only for commands that read one
    from cofail.model import Matrix, Stack, UncertainPolicy
    from cofail.probability import Scenario
    from cofail.report.section import Section

__all__ = [
    "Fmt",
    "FormatOpt",
    "MatrixOpt",
    "SeedOpt",
    "StackOpt",
    "Uncertain",
    "UncertainOpt",
    "app",
    "emit",
    "fmt_value",
    "load_matrix",
    "name_matrix",
    "parse_scenario",
    "parse_stack",
    "policy",
    "print_summary",
    "say",
    "tell",
    "written",
]

app = typer.Typer(
    name="cofail",
    help="Do your AI safety layers add up, or fail together?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Fmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    md = "md"


class Uncertain(StrEnum):
    pessimistic = "pessimistic"
    optimistic = "optimistic"


MatrixOpt = Annotated[
    str | None,
    typer.Option(
        "--matrix",
        "-m",
        help="Matrix file (.yaml/.csv/.json) or built-in catalog id.",
        show_default="the built-in dung-mai-2025 catalog",
    ),
]
StackOpt = Annotated[
    str, typer.Option("--stack", "-s", help="Comma-separated layer ids, or 'all'.")
]
FormatOpt = Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")]
UncertainOpt = Annotated[
    Uncertain,
    typer.Option("--uncertain", "-u", help="Read U cells as N (optimistic) or V (pessimistic)."),
]


POpt = Annotated[
    list[str] | None,
    typer.Option("--p", help="P(failure mode present): '0.1' for all, 'MODE=0.3' for one. Repeat."),
]
ResidualOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--residual", help="Residual P(layer fails alone): '0.01' or 'LAYER=0.1'. Repeat."
    ),
]
UncertainValueOpt = Annotated[
    str,
    typer.Option(
        "--uncertain",
        "-u",
        help="U cells: optimistic (q 0), pessimistic (q 1), a value of q, or a distribution "
        "each U cell follows on its own (beta:a,b, uniform:low,high, lognormal:mean,EF; risk "
        "and export use its mean, which gives the expected P); or own[,READING]: each U cell "
        "by the distribution it carries (a consensus's split cells), the others by READING "
        "(default pessimistic).",
    ),
]
SeedOpt = Annotated[
    int,
    typer.Option(
        "--seed", min=0, help="Seed of the random draws: the same seed gives the same numbers."
    ),
]
KOpt = Annotated[
    int | None, typer.Option("--k", min=1, help="The stack fails when k of its layers fail.")
]


def parse_stack(text: str, matrix: Matrix, k: int | None = None) -> Stack:
    """Return the stack named by ``--stack`` (and ``--k``): :meth:`Stack.parse`, loaded late."""
    from cofail.model import Stack

    return Stack.parse(text, matrix, k)


def parse_scenario(p: list[str] | None, residual: list[str] | None, uncertain: str) -> Scenario:
    """Return the scenario of ``--p``, ``--residual`` and ``--uncertain``."""
    from cofail.probability import Scenario

    return Scenario.parse(p, residual, uncertain)


def load_matrix(spec: str | None) -> Matrix:
    """Return the matrix named by ``--matrix``: a file path or a built-in catalog id."""
    from cofail import catalog
    from cofail.io import read_matrix

    if spec is None:
        return catalog.load()
    if not Path(spec).exists():
        if spec in catalog.names():
            return catalog.load(spec)
        if Path(spec).suffix or "/" in spec:  # meant as a file
            raise InputError("no such file", source=spec)
        raise InputError(
            f"no such file, and no built-in catalog of that id (built in: "
            f"{', '.join(catalog.names())})",
            source=spec,
        )
    return read_matrix(spec)


def import_meanwhile(module: str) -> None:
    """Start importing ``module`` on a background thread, for a command that will need it
    after work that leaves the interpreter idle (a log read by pyarrow's threads): a later
    ``import`` of it waits for this one, and an error is raised there again, not lost. The
    thread is not a daemon: a command that stops early waits for the import before the
    interpreter exits, rather than tearing down a half-imported extension.

    >>> import_meanwhile("json")
    """
    import contextlib
    import importlib
    import threading

    def load() -> None:
        with contextlib.suppress(Exception):  # the command's own import raises it again
            importlib.import_module(module)

    threading.Thread(target=load, name=f"import {module}").start()


def emit(tables: list[Table], fmt: Fmt, data: dict[str, Any]) -> None:
    """Print a command's result: coloured tables on a terminal, else the chosen format."""
    if fmt is Fmt.table:
        from rich.console import Console

        console = Console(highlight=False)
        if not console.is_terminal:
            console.width = max(console.width, 120)
        print_tables(tables, console)
    else:
        sys.stdout.write(render(tables, fmt_value(fmt), data))


def written(fmt: Fmt, data: dict[str, Any], message: str) -> None:
    """Report files a command wrote: ``message`` on stderr, or ``data`` in ``fmt`` on stdout.

    The message is printed as plain text, so a file name is never read as rich markup.
    """
    if fmt is Fmt.table:
        print(message, file=sys.stderr)
    else:
        print_summary(fmt, data)


def print_summary(fmt: Fmt, data: dict[str, Any]) -> None:
    """Print a flat summary in ``fmt`` (not ``table``): JSON, or a one-row CSV/Markdown table."""
    sys.stdout.write(render([Table("", list(data), [list(data.values())])], fmt_value(fmt), data))


def fmt_value(fmt: Fmt) -> OutputFormat:
    value: OutputFormat = fmt.value
    return value


def policy(u: Uncertain) -> UncertainPolicy:
    value: UncertainPolicy = u.value
    return value


def say(message: str, *, err: bool = True) -> None:
    """Print a rich-markup message (to stderr by default); rich is imported only here.

    Only for cofail's own fixed text: anything that holds a name, a file name or other user
    text goes through :func:`tell`, which never reads markup (``[/x]`` would raise, ``[bold]``
    would vanish).
    """
    from rich.console import Console

    Console(stderr=err, highlight=False, soft_wrap=True).print(message)


def tell(text: str, *, label: str = "", style: str = "", err: bool = True) -> None:
    """Print ``label`` in ``style`` then ``text`` verbatim (no markup), to stderr by default.

    >>> tell("[bold]x[/bold] [/y]", label="note: ", err=False)
    note: [bold]x[/bold] [/y]
    """
    from rich.console import Console
    from rich.text import Text

    line = Text(label, style=style) + Text(text)
    Console(stderr=err, highlight=False, soft_wrap=True).print(line)


def write_sections(report: Path, title: str, about: str, sections: list[Section]) -> None:
    """Write ``sections`` as a report under ``report`` (HTML, Markdown, SVG figures, all at
    once) headed by cofail's version and ``about``, and say where on stderr."""
    from cofail import __version__
    from cofail.report.document import write_document

    paths = write_document(title, f"cofail {__version__} · {about}", sections, report)
    tell(f"report: {paths.html.resolve()}")

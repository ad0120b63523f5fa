"""The ``cofail`` command: parse options, call the library, render. No analysis lives here."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cofail import catalog
from cofail.claims import check_claims
from cofail.errors import InputError
from cofail.io import dumps_matrix, format_of, read_matrix, write_atomic
from cofail.io.template import TEMPLATE
from cofail.model import Matrix, Stack, UncertainPolicy
from cofail.report.tabular import OutputFormat, Table, print_tables, render, to_json
from cofail.report.views import (
    assumption_note,
    audit_tables,
    claims_table,
    matrix_table,
    overlap_tables,
    ranking_table,
)
from cofail.structure import audit, overlap, rank_stacks

__all__ = ["app", "main"]

app = typer.Typer(
    name="cofail",
    help="Do your AI safety layers add up, or fail together?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
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


def load_matrix(spec: str | None) -> Matrix:
    """Return the matrix named by ``--matrix``: a file path or a built-in catalog id."""
    if spec is None:
        return catalog.load()
    if spec in catalog.names() and not Path(spec).exists():
        return catalog.load(spec)
    return read_matrix(spec)


def emit(tables: list[Table], fmt: Fmt, data: dict[str, Any]) -> None:
    """Print a command's result: coloured tables on a terminal, else the chosen format."""
    if fmt is Fmt.table:
        console = Console(highlight=False)
        if not console.is_terminal:
            console.width = max(console.width, 120)
        print_tables(tables, console)
    else:
        sys.stdout.write(render(tables, _fmt(fmt), data))


def _fmt(fmt: Fmt) -> OutputFormat:
    value: OutputFormat = fmt.value
    return value


def _policy(u: Uncertain) -> UncertainPolicy:
    value: UncertainPolicy = u.value
    return value


@app.command()
def show(matrix: MatrixOpt = None, fmt: FormatOpt = Fmt.table) -> None:
    """Show the matrix: every layer's vulnerability to every failure mode."""
    m = load_matrix(matrix)
    table = matrix_table(m)
    data = {
        "matrix": m.id,
        "version": m.version,
        "layers": list(m.layer_ids),
        "failure_modes": list(m.mode_ids),
        "cells": {lid: {mid: m.cell(lid, mid).level for mid in m.mode_ids} for lid in m.layer_ids},
        "uncertain_cells": [list(c) for c in m.uncertain_cells()],
        "uncertain": "shown as U (no policy applied)",
    }
    emit([table], fmt, data)


@app.command("overlap")
def overlap_cmd(
    matrix: MatrixOpt = None,
    stack: StackOpt = "all",
    uncertain: UncertainOpt = Uncertain.pessimistic,
    cut: Annotated[float, typer.Option(help="Dendrogram cut (Jaccard distance) for groups.")] = 0.5,
    method: Annotated[
        str, typer.Option(help="Linkage: average, complete, single, weighted.")
    ] = "average",
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Pairwise overlap of layers' failure profiles, and groups of similar layers."""
    if method not in ("average", "complete", "single", "weighted"):
        raise InputError(
            f"--method: expected average, complete, single or weighted, got {method!r}"
        )
    if not 0.0 <= cut <= 1.0:
        raise InputError(f"--cut: expected a Jaccard distance in [0, 1], got {cut:g}")
    m = load_matrix(matrix)
    policy = _policy(uncertain)
    result = overlap(m, Stack.parse(stack, m), uncertain=policy, method=method, cut=cut)
    note = assumption_note(m, policy)
    emit(overlap_tables(result, note), fmt, {**result.to_dict(), "assumptions": note})


@app.command("audit")
def audit_cmd(
    matrix: MatrixOpt = None,
    stack: StackOpt = "all",
    size: Annotated[
        int | None, typer.Option(help="Rank every stack of this many layers instead.")
    ] = None,
    max_order: Annotated[
        int | None, typer.Option("--max-order", min=1, help="Only cut sets up to this order.")
    ] = None,
    k: Annotated[
        int | None, typer.Option("--k", min=1, help="The stack fails when k layers fail.")
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="With --size: how many stacks to list.")] = 10,
    uncertain: UncertainOpt = Uncertain.pessimistic,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """What breaks a stack: uncovered and fragile modes, minimal cut sets, depth."""
    m = load_matrix(matrix)
    policy = _policy(uncertain)
    note = assumption_note(m, policy)
    if size is not None:
        ranked = rank_stacks(m, size, uncertain=policy, top=top)
        emit(
            [ranking_table(ranked, size, note)],
            fmt,
            {
                "size": size,
                "uncertain": policy,
                "assumptions": note,
                "stacks": [r.to_dict() for r in ranked],
            },
        )
        return
    parsed = Stack.parse(stack, m)
    if k is not None:
        if k > len(parsed.layers):
            raise InputError(f"--k {k} exceeds the stack's {len(parsed.layers)} layers")
        parsed = Stack(layers=parsed.layers, k=k)
    result = audit(m, parsed, max_order=max_order, uncertain=policy)
    emit(audit_tables(result, note), fmt, {**result.to_dict(), "assumptions": note})


@app.command()
def claims(
    matrix: MatrixOpt = None,
    uncertain: UncertainOpt = Uncertain.pessimistic,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Check the paper's claims against the matrix, with the computed evidence."""
    m = load_matrix(matrix)
    policy = _policy(uncertain)
    results = check_claims(m, policy)
    note = assumption_note(m, policy)
    emit(
        [claims_table(results, note)],
        fmt,
        {"uncertain": policy, "assumptions": note, "claims": [c.to_dict() for c in results]},
    )


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Matrix file to check.")],
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Check a matrix file; exit 0 if valid, 2 with the first mistake otherwise."""
    m = read_matrix(file)
    data = {
        "file": str(file),
        "valid": True,
        "layers": len(m.layers),
        "failure_modes": len(m.failure_modes),
        "uncertain_cells": len(m.uncertain_cells()),
    }
    if fmt is Fmt.table:
        Console(highlight=False, soft_wrap=True).print(
            f"[green]ok[/green] {file}: {len(m.layers)} layers × {len(m.failure_modes)} "
            f"failure modes, {len(m.uncertain_cells())} uncertain cells"
        )
    else:
        sys.stdout.write(
            to_json(data)
            if fmt is Fmt.json
            else render([Table("", list(data), [list(data.values())])], _fmt(fmt), data)
        )


@app.command()
def init(
    file: Annotated[Path, typer.Argument(help="Where to write the template (.yaml).")] = Path(
        "matrix.yaml"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented YAML matrix template to start your own."""
    if file.exists() and not force:
        raise InputError("file exists; pass --force to overwrite it", source=str(file))
    if format_of(file) != "yaml":
        raise InputError("the template is YAML; use a .yaml file name", source=str(file))
    write_atomic(file, TEMPLATE)
    Console(stderr=True).print(f"wrote {file}; check it with: cofail validate {file}")


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Matrix file to read.")],
    target: Annotated[Path, typer.Argument(help="File to write; format from its suffix.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Convert a matrix between YAML, JSON and CSV (CSV keeps levels only, and says so)."""
    m = read_matrix(source)
    if target.exists() and not force:
        raise InputError("file exists; pass --force to overwrite it", source=str(target))
    fmt = format_of(target)
    write_atomic(target, dumps_matrix(m, fmt))
    err = Console(stderr=True)
    if fmt == "csv":
        err.print(
            "note: CSV keeps ids and levels only; names, safety tax, rationales and sources "
            f"stay in {source}"
        )
    err.print(f"wrote {target}")


@app.command("catalogs")
def catalogs_cmd(fmt: FormatOpt = Fmt.table) -> None:
    """List the built-in catalogs."""
    rows = []
    for name in catalog.names():
        m = catalog.load(name)
        rows.append([name, m.version, len(m.layers), len(m.failure_modes), m.title])
    table = Table("Built-in catalogs", ["id", "version", "layers", "modes", "title"], rows)
    emit([table], fmt, {"catalogs": [dict(zip(table.columns, r, strict=True)) for r in rows]})


@app.command()
def report(
    matrix: MatrixOpt = None,
    out: Annotated[
        Path, typer.Option(help="Folder for report.html, report.md and figures.")
    ] = Path("cofail-report"),
    uncertain: UncertainOpt = Uncertain.pessimistic,
) -> None:
    """Write the HTML report (self-contained) and its Markdown twin."""
    from cofail.report.document import write_report

    m = load_matrix(matrix)
    paths = write_report(m, out, uncertain=_policy(uncertain))
    Console(highlight=False).print(
        f"report: {paths.html.resolve()}\nmarkdown: {paths.markdown.resolve()}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a user mistake prints one line on stderr and returns 2."""
    try:
        app(args=argv, prog_name="cofail")
    except SystemExit as exc:  # typer exits after every command; usage errors exit 2
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except InputError as exc:
        print(f"cofail: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

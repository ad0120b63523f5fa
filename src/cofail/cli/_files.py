"""File commands: validate, init, convert, catalogs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cofail import catalog
from cofail.cli._common import (
    Fmt,
    FormatOpt,
    app,
    emit,
    fmt_value,
    say,
)
from cofail.errors import InputError
from cofail.io import dumps_matrix, format_of, read_matrix, write_atomic
from cofail.io.template import TEMPLATE
from cofail.report.tabular import Table, render, to_json


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
        say(
            f"[green]ok[/green] {file}: {len(m.layers)} layers × {len(m.failure_modes)} "
            f"failure modes, {len(m.uncertain_cells())} uncertain cells",
            err=False,
        )
    else:
        sys.stdout.write(
            to_json(data)
            if fmt is Fmt.json
            else render([Table("", list(data), [list(data.values())])], fmt_value(fmt), data)
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
    say(f"wrote {file}; check it with: cofail validate {file}")


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
    from rich.console import Console

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

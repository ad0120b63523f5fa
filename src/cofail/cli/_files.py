"""File commands: validate, init, convert, catalogs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cofail.cli._common import (
    Fmt,
    FormatOpt,
    app,
    emit,
    load_matrix,
    print_summary,
    tell,
    written,
)
from cofail.errors import InputError
from cofail.report.tabular import Table


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Matrix file to check.")],
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Check a matrix file; exit 0 if valid, 2 with the first mistake otherwise."""
    from cofail.io import read_matrix

    m = read_matrix(file)
    data = {
        "file": str(file),
        "valid": True,
        "layers": len(m.layers),
        "failure_modes": len(m.failure_modes),
        "uncertain_cells": len(m.uncertain_cells()),
    }
    if fmt is Fmt.table:
        tell(
            f"{file}: {len(m.layers)} layers × {len(m.failure_modes)} "
            f"failure modes, {len(m.uncertain_cells())} uncertain cells",
            label="ok ",
            style="green",
            err=False,
        )
    else:
        print_summary(fmt, data)


@app.command()
def init(
    file: Annotated[Path, typer.Argument(help="Where to write the template (.yaml).")] = Path(
        "matrix.yaml"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Start from a built-in catalog (e.g. dung-mai-2025) or a matrix file instead "
            "of the template: every cell, rationale and source copied.",
        ),
    ] = None,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Write a commented YAML matrix template (or a copy of a catalog) to start your own."""
    from cofail.io import dumps_matrix, format_of, write_atomic
    from cofail.io.template import TEMPLATE

    if file.exists() and not force:
        raise InputError("file exists; pass --force to overwrite it", source=str(file))
    if format_of(file) != "yaml":
        raise InputError("the template is YAML; use a .yaml file name", source=str(file))
    if start is None:
        write_atomic(file, TEMPLATE)
        origin = "template"
    else:
        write_atomic(file, dumps_matrix(load_matrix(start), "yaml"))
        origin = start
    written(
        fmt,
        {"wrote": str(file), "from": origin},
        f"wrote {file} (from {origin}); check it with: cofail validate {file}",
    )


@app.command()
def convert(
    source: Annotated[str, typer.Argument(help="Matrix file to read, or a built-in catalog id.")],
    target: Annotated[Path, typer.Argument(help="File to write; format from its suffix.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="navigator: write ATT&CK Navigator layers (format 4.5, one per layer) to the "
            ".json target. Default: the format of the target's suffix.",
        ),
    ] = None,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Convert a matrix between YAML, JSON, CSV and Navigator layers (CSV keeps levels only,
    and says so). A Navigator layer file as the source is read as a starting matrix."""
    from cofail.io import dumps_matrix, format_of, write_atomic

    if to not in (None, "navigator"):
        raise InputError(f"--to: expected navigator (or no --to), got {to!r}")
    from cofail.io.navigator import read_navigator

    m = read_navigator(source) or load_matrix(source)
    if target.exists() and not force:
        raise InputError("file exists; pass --force to overwrite it", source=str(target))
    if to == "navigator":
        from cofail.io.navigator import dumps_navigator, matrix_layers

        if target.suffix.lower() != ".json":
            raise InputError("a Navigator layer file is JSON; use a .json name", source=str(target))
        write_atomic(target, dumps_navigator(matrix_layers(m)))
        written(
            fmt,
            {"wrote": str(target), "from": source, "format": "navigator"},
            f"wrote {target} (Navigator layer format 4.5, {len(m.layers)} layers)",
        )
        return
    kind = format_of(target)
    write_atomic(target, dumps_matrix(m, kind))
    lost = ""
    if kind == "csv":
        lost = "CSV keeps ids and levels only; names, safety tax, rationales and sources stay in "
        lost += source
        if fmt is Fmt.table:
            print(f"note: {lost}", file=sys.stderr)
    data: dict[str, object] = {"wrote": str(target), "from": source, "format": kind}
    if lost:
        data["note"] = lost
    written(fmt, data, f"wrote {target}")


@app.command("catalogs")
def catalogs_cmd(fmt: FormatOpt = Fmt.table) -> None:
    """List the built-in catalogs."""
    from cofail import catalog

    rows = []
    for name in catalog.names():
        m = catalog.load(name)
        rows.append([name, m.version, len(m.layers), len(m.failure_modes), m.title])
    table = Table("Built-in catalogs", ["id", "version", "layers", "modes", "title"], rows)
    emit([table], fmt, {"catalogs": [dict(zip(table.columns, r, strict=True)) for r in rows]})
